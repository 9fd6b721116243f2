import Foundation
import TillwireDomain
import TillwireEngine

/// A product as the ERP (the system of record for the product master) keeps it.
public struct ERPProduct: Sendable, Hashable {
    public let sku: SKU
    public let name: String
    public let listPrice: Money?
    public let cost: Money?

    public init(sku: SKU, name: String, listPrice: Money?, cost: Money?) {
        self.sku = sku
        self.name = name
        self.listPrice = listPrice
        self.cost = cost
    }
}

/// The ERP's stock on hand at one of its locations, as of a moment.
public struct ERPStockSnapshot: Sendable, Hashable {
    public let location: String
    public let asOf: Date
    public let onHand: [SKU: Int64]

    public init(location: String, asOf: Date, onHand: [SKU: Int64]) {
        self.location = location
        self.asOf = asOf
        self.onHand = onHand
    }
}

/// A shipment the ERP has done for a document the hub released to it.
public struct ERPShipment: Sendable, Hashable {
    /// The ERP's id of the shipment: the hub's shipment id.
    public let id: String
    /// The released order's lines it carried (the hub's line ids).
    public let lines: [String]
    public let tracking: Tracking?

    public init(id: String, lines: [String], tracking: Tracking?) {
        self.id = id
        self.lines = lines
        self.tracking = tracking
    }
}

/// What the hub needs from any ERP: the product master and costs, stock snapshots, orders released to fulfilment
/// (and cancelled), and the shipments it did. Only the hub calls the ERP: channel connectors never do, so replacing
/// the ERP touches no channel.
///
/// Semantics every ERP connector keeps: a release with a key the ERP has seen returns the document it created then
/// (an ERP that timed out after accepting is not posted to twice); a document is only reported as accepted once the
/// ERP has processed it (a confirmation that did not take is an error, not a document); answers that cannot get
/// better by waiting are terminal `JobError`s.
public protocol ERPConnector: FulfilmentClient {
    var system: SystemID { get }
    /// The ERP's products, with list prices and costs where it has them.
    func products() async throws -> [ERPProduct]
    /// The stock on hand at the configured location, now.
    func stockSnapshot() async throws -> ERPStockSnapshot
    /// The shipments done for a released document.
    func shipments(of document: String, order: Order) async throws -> [ERPShipment]
}
