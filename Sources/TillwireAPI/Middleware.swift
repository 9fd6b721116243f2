import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into a problem+json response; unexpected errors are logged with their cause, which the
/// client never sees.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Problem(error)
            if let error = error as? HTTPError, error.status == .notFound, error.body == nil {
                problem = .notFound("no route for \(request.method) \(request.uri.path)")
            }
            if problem.statusCode >= 500, !(error is Problem) {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            return try problem.response(from: request, context: context)
        }
    }
}

/// Gives each request an id, echoed in `X-Request-Id` and set on every log line of the request.
/// A caller's own `X-Request-Id` (1-128 visible ASCII characters) is kept, so a flow can be followed across systems.
public struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var id = context.id
        if let given = request.headers[.requestID], (1...128).contains(given.count),
           given.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) {
            id = given
        }
        // Hummingbird's own key, so that `context.id` and every log line carry the same id.
        context.logger[metadataKey: "hb.request.id"] = "\(id)"
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// One debug line per request: method, path, status and duration, never headers or bodies (they carry keys).
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func log(_ status: Int) {
            let elapsed = ContinuousClock.now - start
            context.logger.debug("request", metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(status)",
                "ms": "\(String(format: "%.1f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000))",
            ])
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch {
            log(Problem(error).statusCode)
            throw error
        }
    }
}
