import Foundation
import TillwireConnectors
import TillwireDomain
import Logging
import TillwireEngine
import TillwireStorage

/// The shop's orders for the reconciliation poll (`OrderPoll`): REST `orders.json?updated_at_min=` in `updated_at`
/// order, 250 a page, following the `Link` header. Its JSON is the webhooks' JSON, so a polled order takes the same
/// path as an `orders/updated` delivery; Shopify calls the REST Admin API legacy but still serves it to custom apps.
public struct ShopifyOrderSource: OrderPollSource {
    let configuration: ShopifyConfiguration
    let admin: ShopifyAdmin
    public var system: SystemID { configuration.system }
    public var topic: String { "orders/updated" }

    public init(configuration: ShopifyConfiguration, admin: ShopifyAdmin) {
        self.configuration = configuration
        self.admin = admin
    }

    struct Stamp: Decodable {
        let id: ShopifyID
        let updated_at: String?
    }

    public func page(since: Date, next: String?) async throws -> OrderPage {
        let stamp = Self.timestamp(since)
        let reply = try await admin.get(next ?? "/orders.json?status=any&limit=250&order=updated_at%20asc&updated_at_min=\(stamp)",
                                        what: "orders updated since \(stamp)")
        let bodies: [Data]
        do { bodies = try JSONSlices.elements(of: "orders", in: reply.body) } catch { throw JobError.terminal("shopify orders page: \(error)") }
        let orders = try bodies.map { body in
            guard let stamp = try? JSONDecoder().decode(Stamp.self, from: body) else {
                throw JobError.terminal("shopify orders page: an order without an id: \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
            return OrderPage.Entry(id: stamp.id.rawValue, updatedAt: stamp.updated_at ?? "", body: body)
        }
        return OrderPage(orders: orders, next: ShopifyAdmin.nextPage(reply.header("Link")))
    }

    public func partition(order: String) -> String { ShopifyWebhookReceiver.orderPartition(system, ShopifyID(order)) }
    public func time(_ text: String) -> Date? { ShopifyMapping.parseTime(text) }

    /// `updated_at_min`'s format: ISO 8601 in UTC, percent-encoded for a query string.
    static func timestamp(_ date: Date) -> String {
        date.ISO8601Format().replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "+", with: "%2B")
    }

    /// The poll job of this shop.
    public static func poll(configuration: ShopifyConfiguration, admin: ShopifyAdmin, store: any Store, logger: Logger) -> OrderPoll {
        OrderPoll(source: ShopifyOrderSource(configuration: configuration, admin: admin), store: store, interval: configuration.pollInterval,
                  overlap: configuration.pollOverlap, logger: logger)
    }
}
