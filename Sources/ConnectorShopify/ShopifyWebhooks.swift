import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The shop's webhook deliveries: verified by `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the
/// app's client secret) before anything is stored, deduplicated by `X-Shopify-Event-Id` (the same on every delivery
/// of one event; `X-Shopify-Webhook-Id` changes per delivery), stored with their processing job, and answered at
/// once: Shopify counts a delivery failed after 5 s. The deliveries of one order are processed in the order they
/// arrived (one partition per order), those of one inventory item likewise.
public struct ShopifyWebhookReceiver: WebhookReceiver {
    let configuration: ShopifyConfiguration
    let store: any Store
    public var system: SystemID { configuration.system }

    public init(configuration: ShopifyConfiguration, store: any Store) {
        self.configuration = configuration
        self.store = store
    }

    struct Subject: Decodable {
        let id: ShopifyID?
        let order_id: ShopifyID?
        let inventory_item_id: ShopifyID?
    }

    public func receive(_ delivery: WebhookDelivery) async throws -> WebhookReceipt {
        guard WebhookSignature.isValid(base64: delivery.headers["x-shopify-hmac-sha256"], body: delivery.body, secret: configuration.webhookSecret) else {
            throw WebhookRefused("X-Shopify-Hmac-Sha256 does not match the body with the configured secret (shopify.webhook_secret)")
        }
        // Older API versions send no event id; then each delivery counts, and the processing (which applies the
        // order's state, not a difference) makes a repeat harmless.
        guard let id = delivery.headers["x-shopify-event-id"] ?? delivery.headers["x-shopify-webhook-id"], (1...200).contains(id.utf8.count) else {
            throw WebhookRefused("the delivery has no X-Shopify-Event-Id")
        }
        let topic = delivery.headers["x-shopify-topic"] ?? "unknown"
        let subject = try? JSONDecoder().decode(Subject.self, from: delivery.body)
        let partition = Self.partition(system: system, topic: topic, subject: subject, delivery: id)
        return try await WebhookInbox.store(StoredDelivery(topic: topic, deliveryID: id, receivedAt: delivery.receivedAt, body: delivery.body),
                                            system: system, partition: partition, in: store)
    }

    static func partition(system: SystemID, topic: String, subject: Subject?, delivery: String) -> String {
        if topic.hasPrefix("orders/"), let order = subject?.id { return orderPartition(system, order) }
        if let order = subject?.order_id { return orderPartition(system, order) }
        if let item = subject?.inventory_item_id { return "webhook/\(system.rawValue)/item/\(item.rawValue)" }
        return "webhook/\(system.rawValue)/delivery/\(delivery)"
    }

    static func orderPartition(_ system: SystemID, _ order: ShopifyID) -> String { "webhook/\(system.rawValue)/order/\(order.rawValue)" }
}

/// Applies a Shopify order's state to the hub through `ChannelOrderIntake`: each `orders/*` body is the whole order
/// at a moment, so deliveries that come late, twice or out of order change nothing a later one did not (an
/// `orders/paid` before its `orders/create` captures the paid order, and the `orders/create` after it changes
/// nothing).
public struct ShopifyOrderSync: Sendable {
    let configuration: ShopifyConfiguration
    let intake: ChannelOrderIntake

    public init(configuration: ShopifyConfiguration, orders: OrderService, logger: Logger) {
        self.configuration = configuration
        self.intake = ChannelOrderIntake(orders: orders, system: configuration.system, logger: logger)
    }

    public func apply(_ order: ShopifyOrder, cause: String) async throws {
        // A sale at a Shopify POS till is a store sale: it reaches the hub through the store's own intake.
        guard order.source_name != "pos" else { return }
        let meaning: ChannelStatusMeaning
        let canonical: Order
        do {
            meaning = try ShopifyMapping.meaning(order)
            canonical = try ShopifyMapping.canonical(order, channel: configuration.channel)
        } catch { throw JobError.terminal("\(error)") }
        try await intake.apply(canonical, status: meaning.status, cause: "\(cause), financial_status \(order.financial_status ?? "-")")
    }
}

/// Processes a stored delivery (webhook or reconciliation poll): orders through `ShopifyOrderSync`; a refund or a
/// fulfilment made in Shopify fetches the order's current state and applies it; an `inventory_levels/update` at the
/// hub's location queues the channel's figure again for that SKU (a hand edit in Shopify's admin is put back to the
/// hub's figure; the hub's own change echoes back, finds the figure right, and sends nothing). Other topics are
/// acknowledged and logged. A body that does not parse is a dead letter with the reason, keeping the raw body.
public struct ShopifyWebhookJob: JobHandler {
    let configuration: ShopifyConfiguration
    let sync: ShopifyOrderSync
    let admin: ShopifyAdmin
    let binder: ExternalBinder
    let logger: Logger
    public var kind: String { WebhookInbox.jobKind(configuration.system) }

    public init(configuration: ShopifyConfiguration, orders: OrderService, admin: ShopifyAdmin, binder: ExternalBinder, logger: Logger) {
        self.configuration = configuration
        self.sync = ShopifyOrderSync(configuration: configuration, orders: orders, logger: logger)
        self.admin = admin
        self.binder = binder
        self.logger = logger
    }

    public func handle(_ job: Job) async throws -> Commit {
        let delivery: StoredDelivery
        do { delivery = try StoredDelivery.decode(job) } catch { throw JobError.terminal("not a stored webhook delivery: \(error)") }
        let event: ShopifyEvent
        do { event = try ShopifyMapping.parse(topic: delivery.topic, body: delivery.body) } catch { throw JobError.terminal("\(error)") }
        let cause = "shopify \(delivery.topic) \(delivery.deliveryID)"
        switch event {
        case .order(let order):
            try await sync.apply(order, cause: cause)
        case let .orderActivity(id, _):
            try await sync.apply(try await admin.order(id), cause: cause)
        case let .inventoryLevel(item, location, available):
            guard location == configuration.location else { break }
            guard let text = try await binder.canonical(ShopifyInventoryPublisher.bindingKind, external: item.rawValue), let sku = try? SKU(text) else {
                logger.info("shopify inventory level of an item the hub has not published", metadata: ["item": "\(item)", "available": "\(available.map(String.init) ?? "-")"])
                break
            }
            return Commit(jobs: [ChannelAvailabilitySubscriber.publishJob(channel: configuration.channel, sku: sku, at: delivery.receivedAt)])
        case .other(let topic):
            logger.info("shopify delivery acknowledged (no action for its topic)", metadata: ["topic": "\(topic)", "delivery": "\(delivery.deliveryID)"])
        }
        return Commit()
    }
}
