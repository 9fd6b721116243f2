import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The store's webhook deliveries: verified by `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the raw body with
/// the webhook's secret) before anything is stored, and deduplicated by what it is about: the resource, its
/// modification time and the body (`order/<id>/<date_modified_gmt>/<digest>`: WooCommerce fires `order.updated`
/// several times for one save, each with a new `X-WC-Webhook-Delivery-ID`), and, for a body without a modification
/// time, the resource, the topic, the body and the delivery id. The ping
/// WooCommerce sends when a webhook is saved (`webhook_id=<n>`, unsigned) is acknowledged and stored nowhere.
public struct WooCommerceWebhookReceiver: WebhookReceiver {
    let configuration: WooCommerceConfiguration
    let store: any Store
    public var system: SystemID { configuration.system }

    public init(configuration: WooCommerceConfiguration, store: any Store) {
        self.configuration = configuration
        self.store = store
    }

    struct Subject: Decodable {
        let id: WooID?
        let date_modified_gmt: String?
    }

    public func receive(_ delivery: WebhookDelivery) async throws -> WebhookReceipt {
        if delivery.headers["x-wc-webhook-topic"] == nil, delivery.body.count < 40,
           String(decoding: delivery.body, as: UTF8.self).wholeMatch(of: /webhook_id=[0-9]+/) != nil {
            return .ignored
        }
        guard WebhookSignature.isValid(base64: delivery.headers["x-wc-webhook-signature"], body: delivery.body, secret: configuration.webhookSecret) else {
            throw WebhookRefused("X-WC-Webhook-Signature does not match the body with the configured secret (woocommerce.webhook_secret)")
        }
        let topic = delivery.headers["x-wc-webhook-topic"] ?? "unknown"
        let resource = delivery.headers["x-wc-webhook-resource"] ?? String(topic.prefix { $0 != "." })
        let subject = try? JSONDecoder().decode(Subject.self, from: delivery.body)
        // The same save fired again carries the same body; two saves in one second differ in their bodies. A body
        // without a modification time (an `order.deleted`) is told apart by its resource and topic as well as its
        // delivery id: WooCommerce derives that id from the webhook and the second, so deletions of several orders
        // in one second share it.
        let digest = WebhookSignature.digest(delivery.body)
        let key: String
        if let id = subject?.id, let modified = subject?.date_modified_gmt, !modified.isEmpty {
            key = "\(resource)/\(id.rawValue)/\(modified)/\(digest)"
        } else if let id = subject?.id {
            key = "\(resource)/\(id.rawValue)/\(topic)/\(digest)/\(delivery.headers["x-wc-webhook-delivery-id"] ?? "")"
        } else if let delivery = delivery.headers["x-wc-webhook-delivery-id"], !delivery.isEmpty {
            key = "delivery/\(delivery)/\(digest)"
        } else {
            throw WebhookRefused("the delivery has no X-WC-Webhook-Delivery-ID and its body no id")
        }
        guard key.utf8.count <= 200 else { throw WebhookRefused("the delivery's id is too long") }
        let partition = if resource == "order", let id = subject?.id {
            Self.orderPartition(system, id.rawValue)
        } else {
            "webhook/\(system.rawValue)/\(resource)/\(subject?.id?.rawValue ?? key)"
        }
        return try await WebhookInbox.store(StoredDelivery(topic: topic, deliveryID: key, receivedAt: delivery.receivedAt, body: delivery.body),
                                            system: system, partition: partition, in: store)
    }

    static func orderPartition(_ system: SystemID, _ order: String) -> String { "webhook/\(system.rawValue)/order/\(order)" }
}

/// Processes a stored delivery (webhook or reconciliation poll): an order's state through `ChannelOrderIntake`
/// (the variations its lines name are bound to their SKUs on the way, for the stock pushes); a deleted order is
/// cancelled; other topics are acknowledged and logged. A body that does not parse is a dead letter with the reason,
/// keeping the raw body.
public struct WooCommerceWebhookJob: JobHandler {
    let configuration: WooCommerceConfiguration
    let orders: OrderService
    let intake: ChannelOrderIntake
    let binder: ExternalBinder
    let logger: Logger
    public var kind: String { WebhookInbox.jobKind(configuration.system) }

    public init(configuration: WooCommerceConfiguration, orders: OrderService, binder: ExternalBinder, logger: Logger) {
        self.configuration = configuration
        self.orders = orders
        self.intake = ChannelOrderIntake(orders: orders, system: configuration.system, logger: logger)
        self.binder = binder
        self.logger = logger
    }

    public func handle(_ job: Job) async throws -> Commit {
        let delivery: StoredDelivery
        do { delivery = try StoredDelivery.decode(job) } catch { throw JobError.terminal("not a stored webhook delivery: \(error)") }
        let event: WooEvent
        do { event = try WooMapping.parse(topic: delivery.topic, body: delivery.body) } catch { throw JobError.terminal("\(error)") }
        let cause = "woocommerce \(delivery.topic) \(delivery.deliveryID)"
        switch event {
        case .order(let order):
            let meaning: ChannelStatusMeaning
            let canonical: Order
            do {
                meaning = try WooMapping.meaning(order)
                canonical = try WooMapping.canonical(order, channel: configuration.channel)
            } catch { throw JobError.terminal("\(error)") }
            let variations = order.line_items.compactMap { line -> (external: String, canonical: String)? in
                guard let variation = line.variation_id, !variation.isNone, let product = line.product_id, let sku = line.sku, !sku.isEmpty else { return nil }
                return ("\(product.rawValue)/\(variation.rawValue)", sku)
            }
            try await binder.record(WooCommerceStockPublisher.variationKind, variations)
            try await intake.apply(canonical, status: meaning.status, cause: "\(cause), status \(order.status)")
        case .orderDeleted(let id):
            try await intake.cancel(.derived(channel: configuration.channel, channelOrderID: id.rawValue), reason: "deleted in WooCommerce", cause: cause)
        case .other(let topic):
            logger.info("woocommerce delivery acknowledged (no action for its topic)", metadata: ["topic": "\(topic)", "delivery": "\(delivery.deliveryID)"])
        }
        return Commit()
    }
}
