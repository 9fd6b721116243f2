import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// A django-oscar 4.2 shop with django-oscar-api and the webhook plugin of `../shared/peers/oscar` (docs/connectors/oscar.md).
public struct OscarConfiguration: Sendable, Equatable {
    /// The system name: its webhook route is `/hooks/<system>`, its jobs `<system>.*`. Default `oscar`.
    public var system: SystemID = "oscar"
    /// The hub channel the shop sells on (its orders' channel, the availability it is sent).
    public var channel: ChannelID
    /// The shop's base URL, e.g. `http://127.0.0.1:8001`.
    public var baseURL: String
    /// A staff user for the admin API (stock records): HTTP Basic.
    public var username: String
    public var password: String
    /// The key of the plugin's `X-Oscar-Hmac-Sha256`. Required: an unsigned delivery is refused.
    public var webhookSecret: String

    public init(system: SystemID = "oscar", channel: ChannelID, baseURL: String, username: String, password: String, webhookSecret: String) {
        self.system = system
        self.channel = channel
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.username = username
        self.password = password
        self.webhookSecret = webhookSecret
    }
}

/// The shop's deliveries: verified by `X-Oscar-Hmac-Sha256` over the raw body, then deduplicated by the signed
/// body's own `id` (the same on each of the plugin's retries) and stored with their processing job. The delivery id
/// and topic are read from the signed body, not from the unsigned headers, so a captured body replayed under a new
/// `X-Oscar-Delivery` is still a duplicate. Each order's deliveries are processed in order (one partition per order
/// number); a delivery that cannot be processed holds up only its own order.
public struct OscarWebhookReceiver: WebhookReceiver {
    let configuration: OscarConfiguration
    let store: any Store
    public var system: SystemID { configuration.system }

    public init(configuration: OscarConfiguration, store: any Store) {
        self.configuration = configuration
        self.store = store
    }

    struct Envelope: Decodable {
        struct Subject: Decodable {
            let number: String?
            let partner_sku: String?
        }
        let id: String
        let event: String
        let data: Subject?
    }

    public func receive(_ delivery: WebhookDelivery) async throws -> WebhookReceipt {
        guard WebhookSignature.isValid(base64: delivery.headers["x-oscar-hmac-sha256"], body: delivery.body, secret: configuration.webhookSecret) else {
            throw WebhookRefused("X-Oscar-Hmac-Sha256 does not match the body with the configured secret (oscar.webhook_secret)")
        }
        let envelope = try? JSONDecoder().decode(Envelope.self, from: delivery.body)
        // A signed body that does not parse is still stored: its job dead-letters it with the reason, keeping it.
        guard let id = envelope?.id ?? delivery.headers["x-oscar-delivery"], (1...200).contains(id.utf8.count) else {
            throw WebhookRefused("the delivery has no id (the body's \"id\", or X-Oscar-Delivery)")
        }
        let topic = envelope?.event ?? delivery.headers["x-oscar-event"] ?? "unknown"
        let partition = if let number = envelope?.data?.number {
            "webhook/\(system.rawValue)/order/\(number)"
        } else if let sku = envelope?.data?.partner_sku {
            "webhook/\(system.rawValue)/stock/\(sku)"
        } else {
            "webhook/\(system.rawValue)/delivery/\(id)"
        }
        return try await WebhookInbox.store(StoredDelivery(topic: topic, deliveryID: id, receivedAt: delivery.receivedAt, body: delivery.body),
                                            system: system, partition: partition, in: store)
    }
}

/// Applies a stored delivery: an order placed is captured (the hub's gate, reservation and fulfilment follow as for
/// any channel); an order cancelled in the shop is cancelled in the hub; stock records and other topics are
/// acknowledged. A body that does not parse, or an order that cannot be made canonical, is a dead letter with the
/// reason; its job keeps the raw body, so a replay after a fix applies it.
public struct OscarWebhookJob: JobHandler {
    let configuration: OscarConfiguration
    let orders: OrderService
    let logger: Logger
    public var kind: String { WebhookInbox.jobKind(configuration.system) }

    var intake: ChannelOrderIntake { ChannelOrderIntake(orders: orders, system: configuration.system, logger: logger) }

    public init(configuration: OscarConfiguration, orders: OrderService, logger: Logger) {
        self.configuration = configuration
        self.orders = orders
        self.logger = logger
    }

    public func handle(_ job: Job) async throws -> Commit {
        let delivery: StoredDelivery
        do { delivery = try StoredDelivery.decode(job) } catch { throw JobError.terminal("not a stored webhook delivery: \(error)") }
        let event: OscarEvent
        do { event = try OscarMapping.parse(topic: delivery.topic, body: delivery.body) } catch { throw JobError.terminal("\(error)") }
        switch event {
        case .orderPlaced(let placed):
            let order: Order
            do { order = try OscarMapping.canonical(placed, channel: configuration.channel) } catch { throw JobError.terminal("\(error)") }
            do {
                _ = try await orders.capture(order, source: configuration.system, causation: "oscar delivery \(delivery.deliveryID)")
            } catch let conflict as OrderService.ConflictingCapture {
                // The same order number with other contents: retrying cannot help.
                throw JobError.terminal("\(conflict)")
            }
        case let .orderStatusChanged(changed, _, to):
            guard to == "cancelled" else { break }
            let id = OrderID.derived(channel: configuration.channel, channelOrderID: changed.number)
            // A cancellation again changes nothing; one for an order the hub never took is acknowledged.
            try await intake.cancel(id, reason: "cancelled in the shop", cause: "oscar delivery \(delivery.deliveryID)")
        case .stockRecordUpdated, .other:
            logger.debug("oscar delivery acknowledged", metadata: ["topic": "\(delivery.topic)", "delivery": "\(delivery.deliveryID)"])
        }
        return Commit()
    }
}

/// The figure the shop may sell, as Oscar keeps stock: a stock record's `num_in_stock` less its `num_allocated`
/// (the shop's own open orders). The hub's figure already leaves out those orders' reservations, so the shop is
/// sent `num_in_stock = available + num_allocated` (read just before): its net stock is then the hub's figure.
/// Sending the hub's figure as `num_in_stock` would subtract the shop's allocations twice.
public struct OscarAvailabilityPublisher: AvailabilityPublisher {
    let configuration: OscarConfiguration
    let transport: HTTPTransport

    public init(configuration: OscarConfiguration, transport: HTTPTransport = HTTPTransport()) {
        self.configuration = configuration
        self.transport = transport
    }

    struct StockRecord: Decodable {
        let id: Int64
        let partner_sku: String
        let num_in_stock: Int64?
        let num_allocated: Int64?
    }

    /// RFC 3986's unreserved characters, ASCII only: everything else in a SKU is percent-encoded.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    var authorization: (String, String) {
        ("Authorization", "Basic " + Data("\(configuration.username):\(configuration.password)".utf8).base64EncodedString())
    }

    public func publish(channel: ChannelID, sku: SKU, available: Int64) async throws {
        guard let query = sku.rawValue.addingPercentEncoding(withAllowedCharacters: Self.unreserved) else { throw JobError.terminal("SKU \(sku) cannot be sent") }
        let lookup = try await transport.send(.GET, "\(configuration.baseURL)/peer/stockrecords/?partner_sku=\(query)", headers: [authorization])
        guard lookup.isSuccess else { throw HTTPTransport.failure(lookup, "oscar stock record of \(sku)") }
        let records: [StockRecord]
        do { records = try JSONDecoder().decode([StockRecord].self, from: lookup.body) } catch { throw JobError.terminal("oscar stock records of \(sku) do not parse: \(error)") }
        guard let record = records.first else { throw JobError.terminal("the shop has no stock record with partner_sku \(sku)") }
        let onHand = max(0, available) + max(0, record.num_allocated ?? 0)
        let update = try await transport.send(.PATCH, "\(configuration.baseURL)/api/admin/stockrecords/\(record.id)/",
                                              headers: [authorization, ("Content-Type", "application/json")],
                                              body: Data(#"{"num_in_stock":\#(onHand)}"#.utf8))
        guard update.isSuccess else { throw HTTPTransport.failure(update, "oscar stock record \(record.id) of \(sku)") }
    }
}

/// The shop as the hub wires it: its webhooks and its channel's availability. Order status and refunds are not
/// sent to the shop yet.
public struct OscarConnector: ChannelConnector {
    let configuration: OscarConfiguration
    public var system: SystemID { configuration.system }
    public var channel: ChannelID { configuration.channel }
    public var capabilities: ConnectorCapabilities { [.webhooks, .availability] }

    public init(configuration: OscarConfiguration) {
        self.configuration = configuration
    }

    public func webhookReceiver(store: any Store) -> (any WebhookReceiver)? { OscarWebhookReceiver(configuration: configuration, store: store) }

    public func intakeHandlers(orders: OrderService, store: any Store, logger: Logger) -> [any JobHandler] {
        [OscarWebhookJob(configuration: configuration, orders: orders, logger: logger)]
    }

    public func availabilityPublisher() -> (any AvailabilityPublisher)? { OscarAvailabilityPublisher(configuration: configuration) }
    public func orderClient(logger: Logger) -> (any ChannelOrderClient & ChannelRefundClient)? { nil }
}
