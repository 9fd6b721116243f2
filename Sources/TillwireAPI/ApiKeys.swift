import Crypto
import Foundation
import TillwireDomain
import TillwireStorage

/// The scopes a key may hold: a capability and an action. `admin` allows everything.
public enum Scope {
    public static let known: [String] = [
        "inventory:read", "inventory:write", "orders:read", "orders:write", "returns:read", "returns:write", "finance:read",
        "prices:read", "prices:write", "catalog:write", "metrics:read", "admin",
    ]

    /// Whether `granted` scopes allow `required`.
    public static func allows(_ granted: [String], _ required: String) -> Bool {
        granted.contains(required) || granted.contains("admin")
    }
}

/// API keys: `tw_<id>_<secret>`. The id is public (it names the key in lists, logs and the audit); the secret is
/// 32 random bytes, shown once at creation. Only the SHA-256 of the whole key is stored: the secret is long and
/// random, so a fast hash is enough, and a stolen database yields no usable key.
public enum ApiKeys {
    /// A new key: the record to store and the key to show once.
    public static func generate(
        client: String, scopes: [String], locations: [LocationID]?, ratePerSecond: Double? = nil, burst: Int? = nil, now: Date
    ) -> (record: ApiKeyRecord, key: String) {
        var random = SystemRandomNumberGenerator()
        let id = "k" + hex((0..<8).map { _ in UInt8.random(in: 0...255, using: &random) })
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let key = "tw_\(id)_\(secret)"
        let record = ApiKeyRecord(
            id: id, client: client, scopes: scopes, locations: locations, secretHash: hash(key),
            ratePerSecond: ratePerSecond, burst: burst, createdAt: now)
        return (record, key)
    }

    /// The key id of a presented key, or nil when it is not shaped like one of ours.
    public static func id(of presented: String) -> String? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tw", parts[1].count == 17, parts[1].first == "k", parts[2].count == 43 else { return nil }
        return String(parts[1])
    }

    /// Lowercase hex SHA-256.
    public static func hash(_ key: String) -> String {
        hex(SHA256.hash(data: Data(key.utf8)))
    }

    /// Lowercase hex of bytes. (`String(format: "%02x")` per byte costs microseconds each on Linux, and this runs on
    /// every request.)
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `presented` is the key `record` was made from; compares in constant time.
    public static func matches(_ presented: String, _ record: ApiKeyRecord) -> Bool {
        let a = Array(hash(presented).utf8), b = Array(record.secretHash.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
