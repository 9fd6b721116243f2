import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
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

/// Cancels a request that runs longer than `limit` and answers 503 (`timeout`, with `Retry-After`). Cancellation is
/// cooperative: reading a slow body, waiting for a database connection or a sleep end at once; a commit already
/// under way finishes first, and either happened or did not, so the caller repeats with the same
/// `Idempotency-Key`.
public struct DeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Duration

    public init(_ limit: Duration) {
        self.limit = limit
    }

    /// Carries the non-escaping `next` into the group's child task; the group outlives neither.
    private struct Call: @unchecked Sendable {
        let next: (Request, Context) async throws -> Response
        let request: Request
        let context: Context
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = self.limit
        return try await withoutActuallyEscaping(next) { next in
            let call = Call(next: next, request: request, context: context)
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await call.next(call.request, call.context) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                let first = try await group.next()!
                group.cancelAll()
                guard let response = first else {
                    throw Problem.timedOut("the request took longer than \(limit.timeInterval) s and was stopped; repeat it with the same Idempotency-Key")
                }
                return response
            }
        }
    }
}

/// Marks a group of routes as deprecated (RFC 9745) with the date it goes away (RFC 8594): every answer carries
/// `Deprecation: @<unix time>`, `Sunset: <HTTP date>` and, when there is one, a `Link` to the successor. Put it on
/// the group of the routes concerned; docs/api.md lists what is deprecated.
public struct DeprecationMiddleware<Context: RequestContext>: RouterMiddleware {
    let since: Date
    let sunset: Date
    let successor: String?

    public init(since: Date, sunset: Date, successor: String? = nil) {
        self.since = since
        self.sunset = sunset
        self.successor = successor
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var headers = ["Deprecation": "@\(Int(since.timeIntervalSince1970))", "Sunset": httpDate(sunset)]
        if let successor { headers["Link"] = "<\(successor)>; rel=\"successor-version\"" }
        do {
            var response = try await next(request, context)
            for (name, value) in headers { response.headers[HTTPField.Name(name)!] = value }
            return response
        } catch {
            // Refusals say it too: a client that only ever sees errors should still learn the route is going away.
            // (Unexpected errors go on unchanged, so that their cause is still logged.)
            guard var problem = error as? Problem else { throw error }
            problem.headers.merge(headers) { $1 }
            throw problem
        }
    }
}

/// An IMF-fixdate, as HTTP dates are written: `Sun, 06 Nov 1994 08:49:37 GMT`.
public func httpDate(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter.string(from: date)
}

/// Latency and outcome per API client (the key's client name, a bounded set an admin creates), beside Hummingbird's
/// per-route metrics: `tillwire_api_request_duration_seconds{client, outcome}` with outcome `ok` (below 400),
/// `client_error` or `server_error`. Runs after the gate, so only authenticated requests are counted.
struct ClientMetricsMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext

    /// The timers made so far, by client and outcome: asking the metrics factory on every request costs a locked
    /// lookup and the label names' sanitising.
    final class Timers: Sendable {
        let made = Mutex<[String: Timer]>([:])

        func timer(client: String, outcome: String) -> Timer {
            made.withLock { made in
                let key = client + "\u{0}" + outcome
                if let timer = made[key] { return timer }
                let timer = Timer(label: "tillwire_api_request_duration_seconds", dimensions: [("client", client), ("outcome", outcome)],
                                  preferredDisplayUnit: .seconds)
                made[key] = timer
                return timer
            }
        }
    }

    let timers = Timers()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(context, status: response.status.code, since: started)
            return response
        } catch {
            record(context, status: Problem(error).statusCode, since: started)
            throw error
        }
    }

    func record(_ context: Context, status: Int, since started: ContinuousClock.Instant) {
        guard let client = context.client?.client else { return }
        let outcome = status < 400 ? "ok" : status < 500 ? "client_error" : "server_error"
        timers.timer(client: client, outcome: outcome).record(duration: ContinuousClock.now - started)
    }
}
