import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine

/// What the hub tells the store about its orders, through the order's status and notes: a fulfilled order becomes
/// `completed` with a customer note carrying the tracking; a cancelled one `cancelled`. Each call reads the order
/// (and its notes) first, so a repeat after a lost answer changes nothing and adds no second note. A refund of a
/// return is `POST /orders/<id>/refunds` with `api_refund` (through the payment gateway); WooCommerce takes no
/// idempotency key, so the hub's key goes into the refund's reason and a repeat finds it and refunds nothing.
public struct WooCommerceOrderClient: ChannelOrderClient, ChannelRefundClient {
    let configuration: WooCommerceConfiguration
    let api: WooCommerceAPI
    let logger: Logger

    public init(configuration: WooCommerceConfiguration, api: WooCommerceAPI, logger: Logger) {
        self.configuration = configuration
        self.api = api
        self.logger = logger
    }

    struct Status: Decodable {
        let status: String
    }

    struct Note: Decodable {
        let id: WooID
        let note: String
    }

    struct Refund: Decodable {
        let id: WooID
        let reason: String?
    }

    public func notify(_ order: Order, status: OrderStatus, tracking: Tracking?, key: String) async throws {
        let target: String
        switch status {
        case .fulfilled: target = "completed"
        case .cancelled: target = "cancelled"
        default:
            logger.debug("order status not sent to WooCommerce", metadata: ["order": "\(order.id)", "status": "\(status.rawValue)"])
            return
        }
        let path = "/orders/\(order.channelOrderID)"
        let current = try api.decode(Status.self, try await api.call(.GET, path, what: "order \(order.channelOrderID)"), what: "order")
        if current.status != target {
            guard !(target == "cancelled" && ["completed", "refunded"].contains(current.status)) else {
                logger.warning("the hub cancelled an order WooCommerce has completed; its status is left", metadata: ["order": "\(order.id)", "status": "\(current.status)"])
                return
            }
            _ = try await api.call(.PUT, path, body: ["status": target], what: "order \(order.channelOrderID) status")
        }
        guard let tracking else { return }
        let note = "Shipped with \(tracking.carrier), tracking number \(tracking.number)" + (tracking.url.map { " (\($0))" } ?? "")
        let notes = try api.decode([Note].self, try await api.call(.GET, "\(path)/notes", what: "order \(order.channelOrderID) notes"), what: "notes")
        guard !notes.contains(where: { $0.note == note }) else { return }
        _ = try await api.call(.POST, "\(path)/notes", body: ["note": note, "customer_note": true], what: "order \(order.channelOrderID) note")
    }

    public func refund(_ order: Order, amount: Money, for authorization: ReturnAuthorization, key: String) async throws -> String {
        let path = "/orders/\(order.channelOrderID)/refunds"
        let marker = "[\(key)]"
        let refunds = try api.decode([Refund].self, try await api.call(.GET, path, what: "order \(order.channelOrderID) refunds"), what: "refunds")
        if let done = refunds.first(where: { $0.reason?.contains(marker) == true }) { return done.id.rawValue }
        let body: [String: Any] = ["amount": amount.decimalString, "reason": "Tillwire return \(authorization.id) \(marker)", "api_refund": true]
        let created = try api.decode(Refund.self, try await api.call(.POST, path, body: body, what: "refund of order \(order.channelOrderID)"), what: "refund")
        return created.id.rawValue
    }
}
