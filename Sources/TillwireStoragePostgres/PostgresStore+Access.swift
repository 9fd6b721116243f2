import Foundation
import PostgresNIO
import TillwireDomain
import TillwireStorage

/// API keys, the audit log and idempotency keys.
extension PostgresStore {
    public func apiKey(_ id: String) async throws -> ApiKeyRecord? {
        try await fetch("SELECT * FROM api_keys WHERE id = \(id)", Self.apiKey(from:)).first
    }

    public func apiKeys() async throws -> [ApiKeyRecord] {
        try await fetch("SELECT * FROM api_keys ORDER BY created_at, id", Self.apiKey(from:))
    }

    public func auditLog(after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await fetch("SELECT * FROM audit_log WHERE sequence > \(sequence) ORDER BY sequence LIMIT \(limit)") { row in
            AuditEntry(
                sequence: try row.decode("sequence", as: Int64.self), at: Date(milliseconds: try row.decode("at", as: Int64.self)),
                actor: try row.decode("actor", as: String.self), action: try row.decode("action", as: String.self),
                target: try row.decode("target", as: String?.self), requestID: try row.decode("request_id", as: String?.self),
                outcome: try row.decode("outcome", as: String.self), detail: try row.decode("detail", as: String?.self))
        }
    }

    static func apiKey(from row: PostgresRandomAccessRow) throws -> ApiKeyRecord {
        ApiKeyRecord(
            id: try row.decode("id", as: String.self), client: try row.decode("client", as: String.self),
            scopes: try row.decode("scopes", as: String.self).split(separator: " ").map(String.init),
            locations: try row.decode("locations", as: String?.self).map { $0.split(separator: "\n").map { LocationID(trusted: String($0)) } },
            secretHash: try row.decode("secret_hash", as: String.self),
            ratePerSecond: try row.decode("rate_per_second", as: Double?.self), burst: try row.decode("burst", as: Int?.self),
            createdAt: Date(milliseconds: try row.decode("created_at", as: Int64.self)),
            expiresAt: try row.decode("expires_at", as: Int64?.self).map(Date.init(milliseconds:)),
            revokedAt: try row.decode("revoked_at", as: Int64?.self).map(Date.init(milliseconds:)))
    }

    // MARK: Idempotency

    public func claimIdempotencyKey(client: String, key: String, requestHash: String, now: Date, staleAfter: Duration) async throws -> IdempotencyClaim {
        let nowMs = now.millisecondsSince1970
        let staleMs = (now - staleAfter.timeInterval).millisecondsSince1970
        return try await transaction { session in
            let inserted = try await session.rows("""
                INSERT INTO idempotency_keys (client, key, request_hash, created_at) VALUES (\(client), \(key), \(requestHash), \(nowMs))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            if !inserted.isEmpty { return .started }
            guard let row = try await session.rows("""
                SELECT request_hash, status, content_type, body, created_at FROM idempotency_keys
                WHERE client = \(client) AND key = \(key) FOR UPDATE
                """).first else { return .inProgress }
            guard try row.decode("request_hash", as: String.self) == requestHash else { return .mismatch }
            if let status = try row.decode("status", as: Int?.self) {
                return .replay(IdempotentResponse(
                    status: status, contentType: try row.decode("content_type", as: String?.self),
                    body: try row.decode("body", as: Data?.self) ?? Data()))
            }
            guard try row.decode("created_at", as: Int64.self) < staleMs else { return .inProgress }
            try await session.execute("UPDATE idempotency_keys SET created_at = \(nowMs) WHERE client = \(client) AND key = \(key)")
            return .started
        }
    }

    public func finishIdempotencyKey(client: String, key: String, response: IdempotentResponse) async throws {
        try await transaction { session in
            try await session.execute("""
                UPDATE idempotency_keys SET status = \(response.status), content_type = \(response.contentType), body = \(response.body)
                WHERE client = \(client) AND key = \(key)
                """)
        }
    }

    public func releaseIdempotencyKey(client: String, key: String) async throws {
        try await transaction { session in
            try await session.execute("DELETE FROM idempotency_keys WHERE client = \(client) AND key = \(key) AND status IS NULL")
        }
    }

    public func purgeIdempotencyKeys(before: Date, limit: Int) async throws -> Int {
        try await transaction { session in
            try await session.rows("""
                DELETE FROM idempotency_keys WHERE (client, key) IN (
                    SELECT client, key FROM idempotency_keys WHERE created_at < \(before.millisecondsSince1970) LIMIT \(limit))
                RETURNING 1
                """).count
        }
    }
}
