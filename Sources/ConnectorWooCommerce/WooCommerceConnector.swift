import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The store as the hub wires it: webhooks and the reconciliation poll in; stock, order status and notes, and
/// refunds out.
public struct WooCommerceConnector: ChannelConnector {
    let configuration: WooCommerceConfiguration
    let api: WooCommerceAPI
    let binder: ExternalBinder
    public var system: SystemID { configuration.system }
    public var channel: ChannelID { configuration.channel }
    public var capabilities: ConnectorCapabilities { [.webhooks, .orderPoll, .availability, .orderStatus, .refunds] }

    public init(configuration: WooCommerceConfiguration, store: any Store) {
        self.configuration = configuration
        self.api = WooCommerceAPI(configuration: configuration)
        self.binder = ExternalBinder(store: store, system: configuration.system)
    }

    public func webhookReceiver(store: any Store) -> (any WebhookReceiver)? { WooCommerceWebhookReceiver(configuration: configuration, store: store) }

    public func intakeHandlers(orders: OrderService, store: any Store, logger: Logger) -> [any JobHandler] {
        [WooCommerceWebhookJob(configuration: configuration, orders: orders, binder: binder, logger: logger),
         WooCommerceOrderSource.poll(configuration: configuration, api: api, store: store, logger: logger)]
    }

    public func availabilityPublisher() -> (any AvailabilityPublisher)? {
        WooCommerceStockPublisher(configuration: configuration, api: api, binder: binder)
    }

    public func orderClient(logger: Logger) -> (any ChannelOrderClient & ChannelRefundClient)? {
        WooCommerceOrderClient(configuration: configuration, api: api, logger: logger)
    }
}
