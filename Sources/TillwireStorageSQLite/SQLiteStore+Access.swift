import Foundation
import GRDB
import TillwireDomain
import TillwireStorage

/// API keys, the audit log and idempotency keys.
extension SQLiteStore {
    public func apiKey(_ id: String) async throws -> ApiKeyRecord? {
        try await read { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE id = ?"), arguments: [id]).map(Self.apiKey(from:)) }
    }

    public func apiKeys() async throws -> [ApiKeyRecord] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map(Self.apiKey(from:)) }
    }

    public func auditLog(after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?", arguments: [sequence, limit]).map { row in
                AuditEntry(
                    sequence: row["sequence"], at: Date(milliseconds: row["at"]), actor: row["actor"], action: row["action"],
                    target: row["target"], requestID: row["request_id"], outcome: row["outcome"], detail: row["detail"])
            }
        }
    }

    static func apiKey(from row: Row) -> ApiKeyRecord {
        let locations: String? = row["locations"]
        return ApiKeyRecord(
            id: row["id"], client: row["client"], scopes: (row["scopes"] as String).split(separator: " ").map(String.init),
            locations: locations.map { $0.split(separator: "\n").map { LocationID(trusted: String($0)) } },
            secretHash: row["secret_hash"], ratePerSecond: row["rate_per_second"], burst: row["burst"],
            createdAt: Date(milliseconds: row["created_at"]),
            expiresAt: (row["expires_at"] as Int64?).map(Date.init(milliseconds:)),
            revokedAt: (row["revoked_at"] as Int64?).map(Date.init(milliseconds:)))
    }

    // MARK: Idempotency

    public func claimIdempotencyKey(client: String, key: String, requestHash: String, now: Date, staleAfter: Duration) async throws -> IdempotencyClaim {
        let nowMs = now.millisecondsSince1970
        let staleMs = (now - staleAfter.timeInterval).millisecondsSince1970
        return try await write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT request_hash, status, content_type, body, created_at FROM idempotency_keys WHERE client = ? AND key = ?
                """, arguments: [client, key])
            else {
                try db.execute(sql: "INSERT INTO idempotency_keys (client, key, request_hash, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [client, key, requestHash, nowMs])
                return .started
            }
            guard row["request_hash"] as String == requestHash else { return .mismatch }
            if let status: Int = row["status"] {
                return .replay(IdempotentResponse(status: status, contentType: row["content_type"], body: row["body"] ?? Data()))
            }
            guard (row["created_at"] as Int64) < staleMs else { return .inProgress }
            try db.execute(sql: "UPDATE idempotency_keys SET created_at = ? WHERE client = ? AND key = ?", arguments: [nowMs, client, key])
            return .started
        }
    }

    public func finishIdempotencyKey(client: String, key: String, response: IdempotentResponse) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE client = ? AND key = ?",
                           arguments: [response.status, response.contentType, response.body, client, key])
        }
    }

    public func releaseIdempotencyKey(client: String, key: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM idempotency_keys WHERE client = ? AND key = ? AND status IS NULL", arguments: [client, key])
        }
    }

    public func purgeIdempotencyKeys(before: Date, limit: Int) async throws -> Int {
        try await write { db in
            try db.execute(sql: """
                DELETE FROM idempotency_keys WHERE (client, key) IN (SELECT client, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)
                """, arguments: [before.millisecondsSince1970, limit])
            return db.changesCount
        }
    }
}
