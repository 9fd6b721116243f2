import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import TillwireEngine
import TillwireStorage

/// How the API treats callers. Set from `api.*` in the configuration.
public struct APIPolicy: Sendable, Hashable {
    /// Requests per second per API key, unless the key or one of its scopes has its own rate. Default 50.
    public var ratePerSecond: Double
    /// Requests a key may make at once after a quiet spell. Default 100.
    public var burst: Int
    /// Default rates per scope: a key without its own rate gets the most generous rate among its scopes that have
    /// one, and the general rate when none has. Defaults in `defaultScopeRates`.
    public var scopeRates: [String: RateLimit]
    /// Larger request bodies are refused with 413. Default 1 MiB.
    public var maxBodyBytes: Int
    /// A request that takes longer is cancelled and answered 503. Default 30 s.
    public var requestTimeout: Duration

    /// A store POS estate and an ERP send stock in bulk, so `inventory:write` gets more room than the general rate;
    /// a metrics scraper needs little.
    public static let defaultScopeRates: [String: RateLimit] = [
        "inventory:write": RateLimit(perSecond: 200, burst: 400),
        "metrics:read": RateLimit(perSecond: 5, burst: 10),
    ]

    public init(
        ratePerSecond: Double = 50, burst: Int = 100, scopeRates: [String: RateLimit] = APIPolicy.defaultScopeRates,
        maxBodyBytes: Int = 1 << 20, requestTimeout: Duration = .seconds(30)
    ) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.scopeRates = scopeRates
        self.maxBodyBytes = maxBodyBytes
        self.requestTimeout = requestTimeout
    }

    /// The rate a key gets: its own, else the most generous of its scopes' defaults, else the general one.
    public func rate(for key: ApiKeyRecord) -> RateLimit {
        let general = RateLimit(perSecond: ratePerSecond, burst: burst)
        let byScope = key.scopes.compactMap { scopeRates[$0] }.max { ($0.perSecond, $0.burst) < ($1.perSecond, $1.burst) }
        let fallback = byScope ?? general
        return RateLimit(perSecond: key.ratePerSecond ?? fallback.perSecond, burst: key.burst ?? fallback.burst)
    }
}

/// The one place every `/v1` request passes: body size, API key, rate limit, and the audit of every call that
/// changes something (refused ones included). Scopes are checked by `RequireScope` on each group of routes.
///
/// Keys travel as `Authorization: Bearer tw_…`; neither the header nor the key is ever logged.
public struct Gatekeeper: RouterMiddleware {
    public typealias Context = HubRequestContext
    let store: any Store
    let policy: APIPolicy
    let buckets = Buckets()
    let now: @Sendable () -> Date

    public init(store: any Store, policy: APIPolicy, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.policy = policy
        self.now = now
    }

    final class Buckets: Sendable {
        let byKey = Mutex<[String: TokenBucket]>([:])
    }

    /// Key records read in the last second, by key id: a busy client's calls skip the database read. So a revoked
    /// key is refused within a second on every hub instance; expiry is checked on every call.
    final class KeyCache: Sendable {
        static let freshFor: TimeInterval = 1
        let records = Mutex<[String: (record: ApiKeyRecord, until: Date)]>([:])

        func record(_ id: String, now: Date) -> ApiKeyRecord? {
            records.withLock { records in
                guard let entry = records[id], entry.until > now else { return nil }
                return entry.record
            }
        }

        func keep(_ record: ApiKeyRecord, now: Date) {
            records.withLock { records in
                if records.count > 10_000 { records.removeAll() }
                records[record.id] = (record, now + Self.freshFor)
            }
        }
    }
    let keys = KeyCache()

    /// Routes that are POSTs only to carry a body and change nothing: no audit entry (a checkout quote must not wait
    /// for a disk flush).
    static let readOnlyPosts: Set<String> = ["/v1/pricing/quote"]

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = policy.maxBodyBytes
        let mutating = ![.get, .head, .options].contains(request.method) && !Self.readOnlyPosts.contains(request.uri.path)
        var actor = "anonymous"
        do {
            if let length = request.headers[.contentLength].flatMap(Int.init), length > policy.maxBodyBytes {
                throw Problem.tooLarge("the body has \(length) bytes; at most \(policy.maxBodyBytes) are accepted")
            }
            let (client, record) = try await authenticate(request)
            actor = client.client
            context.client = client
            context.logger[metadataKey: "client"] = "\(client.client)"
            let limit = policy.rate(for: record)
            let (wait, remaining) = buckets.byKey.withLock { buckets -> (Duration?, Int) in
                var bucket = buckets[record.id].flatMap { $0.limit == limit ? $0 : nil } ?? TokenBucket(limit, now: now())
                let wait = bucket.take(now: now())
                buckets[record.id] = bucket
                return (wait, bucket.remaining)
            }
            if let wait {
                let seconds = max(1, Int(wait.timeInterval.rounded(.up)))
                var problem = Problem(kind: "rate-limited", title: "Too many requests", status: .tooManyRequests,
                                      detail: "this API key may make \(limit.perSecond) requests per second (burst \(limit.burst)); retry after \(seconds) s")
                problem.headers = ["Retry-After": "\(seconds)", "RateLimit-Limit": "\(limit.burst)", "RateLimit-Remaining": "0",
                                   "RateLimit-Reset": "\(seconds)"]
                throw problem
            }
            var response = try await next(request, context)
            response.headers[.rateLimitLimit] = "\(limit.burst)"
            response.headers[.rateLimitRemaining] = "\(remaining)"
            if mutating { await audit(request, context, actor: actor, outcome: "\(response.status.code)") }
            return response
        } catch {
            if mutating { await audit(request, context, actor: actor, outcome: "\(Problem(error).statusCode)") }
            throw error
        }
    }

    private func authenticate(_ request: Request) async throws -> (AuthenticatedClient, ApiKeyRecord) {
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthenticated("an API key is required: send `Authorization: Bearer tw_…` (create one with `tillwire keys create`)")
        }
        guard header.hasPrefix("Bearer "), let id = ApiKeys.id(of: String(header.dropFirst(7))) else {
            throw Problem.unauthenticated("the Authorization header must be `Bearer ` followed by a key of the form tw_<id>_<secret>")
        }
        let now = now()
        var found = keys.record(id, now: now)
        if found == nil, let stored = try await store.apiKey(id) {
            keys.keep(stored, now: now)
            found = stored
        }
        guard let record = found, ApiKeys.matches(String(header.dropFirst(7)), record) else {
            throw Problem.unauthenticated("the API key is not valid")
        }
        guard record.isActive(at: now) else {
            throw Problem.unauthenticated("the API key \(record.id) was revoked or has expired")
        }
        return (AuthenticatedClient(keyID: record.id, client: record.client, scopes: record.scopes, locations: record.locations), record)
    }

    /// Records a call that changes something. A failure to record is logged and does not fail the call: the call's
    /// own effects already committed.
    private func audit(_ request: Request, _ context: Context, actor: String, outcome: String) async {
        let entry = AuditEntry(
            at: now(), actor: actor, action: "\(request.method) \(request.uri.path)", target: context.client?.keyID,
            requestID: context.id, outcome: outcome)
        do {
            _ = try await store.commit(Commit(audit: [entry]))
        } catch {
            context.logger.error("could not record the audit entry", metadata: ["error": "\(error)"])
        }
    }
}

/// Refuses callers whose key lacks `scope` (403). Put on each group of routes.
public struct RequireScope: RouterMiddleware {
    public typealias Context = HubRequestContext
    let scope: String

    public init(_ scope: String) {
        precondition(Scope.known.contains(scope), "unknown scope \(scope)")
        self.scope = scope
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let client = context.client else { throw Problem.unauthenticated("an API key is required") }
        guard Scope.allows(client.scopes, scope) else {
            throw Problem.forbidden("the API key \(client.keyID) (\(client.client)) lacks the scope \(scope)")
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("RateLimit-Limit")!
    static let rateLimitRemaining = Self("RateLimit-Remaining")!
}
