import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Turns every error into a problem+json response; unexpected errors are logged with their cause, which the
/// client never sees.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    public init(routes: RouteTable = RouteTable()) {
        self.routes = routes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Problem(error)
            if let error = error as? HTTPError, error.status == .notFound, error.body == nil {
                let allowed = routes.methods(for: request.uri.path)
                if allowed.isEmpty {
                    problem = .notFound("no route for \(request.method) \(request.uri.path)")
                } else {
                    problem = Problem(kind: "method-not-allowed", title: "Method not allowed", status: .methodNotAllowed,
                                      detail: "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method)")
                    problem.headers["Allow"] = allowed.joined(separator: ", ")
                }
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

/// The routes a router has, filled in once it is built, so that a known path asked with another method is a 405
/// with `Allow` rather than a 404.
public final class RouteTable: Sendable {
    private let templates = Mutex<[(segments: [Substring], method: String)]>([])

    public init() {}

    /// Records the router's routes; `{name}` and `:name` segments match any value.
    public func record(_ routes: [(path: String, method: String)]) {
        templates.withLock { $0 = routes.map { ($0.path.split(separator: "/"), $0.method) } }
    }

    /// The methods `path` answers to, sorted; empty for an unknown path.
    public func methods(for path: String) -> [String] {
        let segments = path.split(separator: "/")
        let matching = templates.withLock { $0 }.filter { template in
            template.segments.count == segments.count && zip(template.segments, segments).allSatisfy { pattern, value in
                pattern == value || pattern.hasPrefix(":") || pattern.hasPrefix("{")
            }
        }
        // As the router does: a literal segment beats a capture (`/dead-letters/replay` is not `/dead-letters/{id}`).
        let captures = { (template: (segments: [Substring], method: String)) in
            template.segments.filter { $0.hasPrefix(":") || $0.hasPrefix("{") }.count
        }
        guard let fewest = matching.map(captures).min() else { return [] }
        return Set(matching.filter { captures($0) == fewest }.map(\.method)).sorted()
    }
}
