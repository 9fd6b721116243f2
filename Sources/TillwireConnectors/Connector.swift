import Foundation
import Logging
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// What a channel connector does. The hub wires what each connector declares, and logs it at start-up.
public struct ConnectorCapabilities: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// Takes the platform's webhooks at `/hooks/<system>`.
    public static let webhooks = ConnectorCapabilities(rawValue: 1 << 0)
    /// Polls the platform's orders to make up for webhooks that never came (`OrderPoll`).
    public static let orderPoll = ConnectorCapabilities(rawValue: 1 << 1)
    /// Sends the channel's availability to the platform.
    public static let availability = ConnectorCapabilities(rawValue: 1 << 2)
    /// Tells the platform an order's fulfilment (and cancellation, where the platform takes it).
    public static let orderStatus = ConnectorCapabilities(rawValue: 1 << 3)
    /// Refunds a return's original tender through the platform.
    public static let refunds = ConnectorCapabilities(rawValue: 1 << 4)

    static let names: [(ConnectorCapabilities, String)] = [
        (.webhooks, "webhooks"), (.orderPoll, "order_poll"), (.availability, "availability"), (.orderStatus, "order_status"), (.refunds, "refunds"),
    ]

    public var description: String { Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ",") }
}

/// A sales channel's platform (a shop), as the hub connects to it: intake (webhooks, the poll) and pushes
/// (availability, order status, refunds), each offered when `capabilities` says so.
///
/// Semantics every connector keeps: intake verifies before it stores, stores before it answers, and applies in a
/// job, as state (`ChannelOrderIntake`), so repeats and reordering change nothing and a body that does not parse is
/// a dead letter keeping it; pushes read the platform first or carry a key, so a retry after a lost answer does not
/// act twice; an answer that cannot get better by waiting is a terminal `JobError` (a dead letter), any other a
/// retryable one. Channel connectors never call an ERP.
public protocol ChannelConnector: Sendable {
    /// Its route `/hooks/<system>`, its jobs `<system>.*`, its resilience settings `systems.<system>`.
    var system: SystemID { get }
    /// The hub channel the platform sells on.
    var channel: ChannelID { get }
    var capabilities: ConnectorCapabilities { get }
    /// With `.webhooks`: what takes the deliveries.
    func webhookReceiver(store: any Store) -> (any WebhookReceiver)?
    /// The jobs of its intake: its deliveries' processing and, with `.orderPoll`, the poll.
    func intakeHandlers(orders: OrderService, store: any Store, logger: Logger) -> [any JobHandler]
    /// With `.availability`: the channel's publisher.
    func availabilityPublisher() -> (any AvailabilityPublisher)?
    /// With `.orderStatus` or `.refunds`: what tells the platform about its orders.
    func orderClient(logger: Logger) -> (any ChannelOrderClient & ChannelRefundClient)?
}
