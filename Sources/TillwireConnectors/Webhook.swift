import Crypto
import Foundation
import TillwireDomain
import TillwireStorage

/// A webhook delivery as it arrived: the raw body (signatures are over these bytes) and the headers, with their
/// names in lower case.
public struct WebhookDelivery: Sendable {
    public let headers: [String: String]
    public let body: Data
    public let receivedAt: Date

    public init(headers: [String: String], body: Data, receivedAt: Date) {
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        self.body = body
        self.receivedAt = receivedAt
    }
}

/// Takes the webhook deliveries of one external system (the route `POST /hooks/<system>`).
///
/// Semantics every receiver keeps: the signature is verified before anything is stored (`WebhookRefused`, a 401,
/// stores nothing); a verified delivery and the job that processes it are stored in one commit, keyed by the
/// platform's delivery id, so a repeat is acknowledged and changes nothing; the answer comes at once, and the
/// processing (parsing included) happens in the job, so a body that does not parse becomes a dead letter with the
/// raw body kept for a replay after a fix.
public protocol WebhookReceiver: Sendable {
    var system: SystemID { get }
    func receive(_ delivery: WebhookDelivery) async throws -> WebhookReceipt
}

public enum WebhookReceipt: Sendable, Equatable {
    /// Stored, with its processing job.
    case stored
    /// Seen before: acknowledged, nothing changed.
    case duplicate
    /// Not a delivery to keep (a platform's ping when a webhook is saved): acknowledged, nothing stored.
    case ignored
}

/// A delivery refused before anything was stored (a 401).
public struct WebhookRefused: Error, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

public enum WebhookSignature {
    /// Whether `signature` is the base64 HMAC-SHA256 of `body` keyed with `secret`, compared in constant time (the
    /// scheme of Shopify's `X-Shopify-Hmac-Sha256`, WooCommerce's `X-WC-Webhook-Signature`, the Oscar plugin's
    /// `X-Oscar-Hmac-Sha256`).
    public static func isValid(base64 signature: String?, body: Data, secret: String) -> Bool {
        guard let signature, let mac = Data(base64Encoded: signature), !secret.isEmpty else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }

    /// The first 16 hex digits of the body's SHA-256: tells two bodies apart inside a dedupe key.
    public static func digest(_ body: Data) -> String {
        SHA256.hash(data: body).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// The signature a platform would send for `body` (for fakes and tests).
    public static func sign(_ body: Data, secret: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }
}

/// A verified delivery as its processing job carries it: whole, so that a dead letter keeps the raw body.
public struct StoredDelivery: Codable, Sendable, Hashable {
    /// The platform's name for what happened (`order.placed`, `orders/create`).
    public let topic: String
    /// The platform's id of the delivery or event: the dedupe key.
    public let deliveryID: String
    public let receivedAt: Date
    public let body: Data

    public init(topic: String, deliveryID: String, receivedAt: Date, body: Data) {
        self.topic = topic
        self.deliveryID = deliveryID
        self.receivedAt = receivedAt
        self.body = body
    }

    public static func decode(_ job: Job) throws -> StoredDelivery {
        try JSONDecoder().decode(StoredDelivery.self, from: job.payload)
    }
}

/// The durable inbox of webhook deliveries.
public enum WebhookInbox {
    /// The job that processes a system's deliveries.
    public static func jobKind(_ system: SystemID) -> String { "\(system.rawValue).webhook" }

    /// Stores a verified delivery and its processing job in one commit, once per delivery id. `partition` orders the
    /// processing (the deliveries of one order, in the order they arrived).
    public static func store(_ delivery: StoredDelivery, system: SystemID, partition: String, in store: any Store) async throws -> WebhookReceipt {
        let job = try job(delivery, system: system, partition: partition)
        switch try await store.commit(Commit(inbox: InboxKey(source: system, messageKey: "webhook/\(delivery.deliveryID)"), jobs: [job])) {
        case .committed: return .stored
        case .duplicate: return .duplicate
        }
    }

    /// The processing job of a delivery, for a caller that commits it with other changes (a poll that also moves
    /// its cursor). Its unique key keeps a second job for the same delivery id out while the first is queued.
    public static func job(_ delivery: StoredDelivery, system: SystemID, partition: String) throws -> NewJob {
        NewJob(kind: jobKind(system), payload: try JSONEncoder().encode(delivery), partitionKey: partition,
               uniqueKey: "webhook/\(system.rawValue)/\(delivery.deliveryID)", runAt: delivery.receivedAt, maxAttempts: 20)
    }
}

/// Says where a platform's body failed to decode, in the words a dead letter's reader needs: the field path and
/// what was wrong, never the values (a body may hold customer data).
public enum PayloadDecoding {
    public static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, context): "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case let .dataCorrupted(context): "not JSON, or bad at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: "\(error)"
        }
    }
}
