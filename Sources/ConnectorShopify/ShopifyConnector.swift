import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The shop as the hub wires it: webhooks and the reconciliation poll in; availability, fulfilment and refunds out.
/// One Admin API client (and so one cost budget) serves every call to the shop from this process.
public struct ShopifyConnector: ChannelConnector {
    let configuration: ShopifyConfiguration
    let admin: ShopifyAdmin
    let binder: ExternalBinder
    public var system: SystemID { configuration.system }
    public var channel: ChannelID { configuration.channel }
    public var capabilities: ConnectorCapabilities { [.webhooks, .orderPoll, .availability, .orderStatus, .refunds] }

    public init(configuration: ShopifyConfiguration, store: any Store) {
        self.configuration = configuration
        self.admin = ShopifyAdmin(configuration: configuration)
        self.binder = ExternalBinder(store: store, system: configuration.system)
    }

    public func webhookReceiver(store: any Store) -> (any WebhookReceiver)? { ShopifyWebhookReceiver(configuration: configuration, store: store) }

    public func intakeHandlers(orders: OrderService, store: any Store, logger: Logger) -> [any JobHandler] {
        [ShopifyWebhookJob(configuration: configuration, orders: orders, admin: admin, binder: binder, logger: logger),
         ShopifyOrderSource.poll(configuration: configuration, admin: admin, store: store, logger: logger)]
    }

    public func availabilityPublisher() -> (any AvailabilityPublisher)? {
        ShopifyInventoryPublisher(configuration: configuration, admin: admin, binder: binder)
    }

    public func orderClient(logger: Logger) -> (any ChannelOrderClient & ChannelRefundClient)? {
        ShopifyOrderClient(configuration: configuration, admin: admin, logger: logger)
    }
}
