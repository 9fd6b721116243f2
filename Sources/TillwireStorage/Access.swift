import Foundation
import TillwireDomain

/// A stored API key: who it belongs to and what it may do. The secret itself is never stored, only its SHA-256.
public struct ApiKeyRecord: Sendable, Hashable {
    /// The public part of the key, e.g. `k7f3a9c2e41b05d88`; the full key is `tw_<id>_<secret>`.
    public let id: String
    /// The connected system or app, e.g. `pos-store-12`, `shopify-eu`.
    public let client: String
    /// Capabilities and actions, e.g. `inventory:read`, `admin`.
    public let scopes: [String]
    /// The only locations this key may act for; nil for every location.
    public let locations: [LocationID]?
    /// Lowercase hex SHA-256 of the full key.
    public let secretHash: String
    /// This key's own request rate, overriding the default; nil for the default.
    public let ratePerSecond: Double?
    public let burst: Int?
    public let createdAt: Date
    /// After this the key is refused (set when it is rotated, to end its grace period).
    public let expiresAt: Date?
    public let revokedAt: Date?

    public init(
        id: String, client: String, scopes: [String], locations: [LocationID]?, secretHash: String,
        ratePerSecond: Double? = nil, burst: Int? = nil, createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.id = id
        self.client = client
        self.scopes = scopes
        self.locations = locations
        self.secretHash = secretHash
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the key may be used at `now`.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}

/// A change to API keys, committed with its audit entry.
public enum AccessChange: Sendable {
    /// A key with an id already stored fails with `StorageError.conflict`.
    case createKey(ApiKeyRecord)
    /// Refused from `at` on; an unknown id fails with `StorageError.notFound`.
    case revokeKey(id: String, at: Date)
    /// Refused from `at` on (the end of a rotation's grace period); an unknown id fails with `StorageError.notFound`.
    case expireKey(id: String, at: Date)
}

/// One line of the audit log: who did what, when, through which request, and how it ended.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// Increasing in recording order; 0 for an entry not yet stored.
    public let sequence: Int64
    public let at: Date
    /// The API client, or `cli:<name>` for the command line.
    public let actor: String
    /// `POST /v1/dead-letters/replay`, `keys.create`, ...
    public let action: String
    /// What it acted on: a key id, job ids, a resource path.
    public let target: String?
    public let requestID: String?
    /// The HTTP status, or `ok` / the reason it was refused.
    public let outcome: String
    public let detail: String?

    public init(sequence: Int64 = 0, at: Date, actor: String, action: String, target: String? = nil,
                requestID: String? = nil, outcome: String, detail: String? = nil) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.requestID = requestID
        self.outcome = outcome
        self.detail = detail
    }
}

/// API keys and the audit log (changed through `Store.commit`).
public protocol AccessReader: Sendable {
    func apiKey(_ id: String) async throws -> ApiKeyRecord?
    /// Every key, revoked and expired ones included, oldest first.
    func apiKeys() async throws -> [ApiKeyRecord]
    /// Audit entries after a sequence number, oldest first.
    func auditLog(after sequence: Int64, limit: Int) async throws -> [AuditEntry]
}

/// A response kept for an `Idempotency-Key`, returned again for a repeat of the same request.
public struct IdempotentResponse: Sendable, Hashable {
    public let status: Int
    public let contentType: String?
    public let body: Data

    public init(status: Int, contentType: String?, body: Data) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// What claiming an idempotency key found.
public enum IdempotencyClaim: Sendable, Hashable {
    /// First use (or a first use abandoned for longer than `staleAfter`): run the request, then finish or release.
    case started
    /// The same request ran before: answer with its response.
    case replay(IdempotentResponse)
    /// The key was used with a different request.
    case mismatch
    /// The first request with this key is still running.
    case inProgress
}

/// `Idempotency-Key` records, per client.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` of `client` for a request whose content hashes to `requestHash`. See `IdempotencyClaim`.
    func claimIdempotencyKey(client: String, key: String, requestHash: String, now: Date, staleAfter: Duration) async throws -> IdempotencyClaim
    /// Keeps the response of a started request, to answer repeats with.
    func finishIdempotencyKey(client: String, key: String, response: IdempotentResponse) async throws
    /// Forgets a started request that failed on the hub's side, so that a retry runs it again.
    func releaseIdempotencyKey(client: String, key: String) async throws
    /// Deletes up to `limit` records created before `before`; returns how many.
    func purgeIdempotencyKeys(before: Date, limit: Int) async throws -> Int
}
