import Foundation

// The inventory's events, each with a versioned schema (see `VersionedPayload`). Every event that changes a
// position carries the position after the change, so a reader never has to read the store to know the figure.

/// The figures of a position after a change.
public struct PositionFigures: Hashable, Sendable, Codable {
    public let onHand: Int64
    public let reserved: Int64
    public let safetyStock: Int64
    public let availableToPromise: Int64

    public init(_ position: InventoryPosition) {
        onHand = position.onHand
        reserved = position.reserved
        safetyStock = position.safetyStock
        availableToPromise = position.availableToPromise
    }
}

/// A movement was recorded in the ledger (a sale, a receipt, a transfer, damage, a correction).
public struct InventoryAdjusted: VersionedPayload, Hashable {
    public static let eventType = "inventory.adjusted"
    public static let schemaVersion = 1
    public let movement: InventoryMovement
    public let after: PositionFigures

    public init(movement: InventoryMovement, after: InventoryPosition) {
        self.movement = movement
        self.after = PositionFigures(after)
    }
}

/// A system reported an absolute quantity as of a time; `correction` is what the ledger needed (0: it agreed).
public struct InventoryCounted: VersionedPayload, Hashable {
    public static let eventType = "inventory.counted"
    public static let schemaVersion = 1
    public let sku: SKU
    public let location: LocationID
    public let counted: Int64
    public let asOf: Date
    public let source: SystemID
    public let sourceKey: String
    public let correction: Int64
    public let after: PositionFigures

    public init(sku: SKU, location: LocationID, counted: Int64, asOf: Date, source: SystemID, sourceKey: String, correction: Int64, after: InventoryPosition) {
        self.sku = sku
        self.location = location
        self.counted = counted
        self.asOf = asOf
        self.source = source
        self.sourceKey = sourceKey
        self.correction = correction
        self.after = PositionFigures(after)
    }
}

/// A system's figure disagreed with the ledger at the same time: `difference` = reported − ledger.
/// `alert` is set when the difference reaches the configured threshold.
public struct InventoryDivergenceDetected: VersionedPayload, Hashable {
    public static let eventType = "inventory.divergence_detected"
    public static let schemaVersion = 1
    public let sku: SKU
    public let location: LocationID
    public let system: SystemID
    public let reported: Int64
    public let ledger: Int64
    public let difference: Int64
    public let asOf: Date
    public let alert: Bool

    public init(sku: SKU, location: LocationID, system: SystemID, reported: Int64, difference: Int64, asOf: Date, alert: Bool) {
        self.sku = sku
        self.location = location
        self.system = system
        self.reported = reported
        self.ledger = reported - difference
        self.difference = difference
        self.asOf = asOf
        self.alert = alert
    }
}

/// What happened to a reservation: `reservation.created`, `.consumed`, `.released`, `.expired` or `.extended`.
public struct ReservationChanged: Hashable, Sendable, Codable {
    public let reservation: Reservation
    public let after: PositionFigures

    public init(reservation: Reservation, after: InventoryPosition) {
        self.reservation = reservation
        self.after = PositionFigures(after)
    }

    public static let schemaVersion = 1

    /// The event type for a reservation that was created (state active) or reached `state`.
    public static func eventType(created: Bool, state: ReservationState) -> String {
        if created { return "reservation.created" }
        switch state {
        case .active: return "reservation.extended"
        case .consumed: return "reservation.consumed"
        case .released: return "reservation.released"
        case .expired: return "reservation.expired"
        }
    }
}

/// A position's available-to-promise (or its parts) changed; what channel publishing listens to.
public struct AvailabilityChanged: VersionedPayload, Hashable {
    public static let eventType = "availability.changed"
    public static let schemaVersion = 1
    public let sku: SKU
    public let location: LocationID
    public let figures: PositionFigures

    public init(_ position: InventoryPosition) {
        sku = position.sku
        location = position.location
        figures = PositionFigures(position)
    }
}

/// Units reserved for orders are no longer on hand (a till sold them while its store was offline, or with an override):
/// the oversell policy held the orders it names, newest reservation first, until their units cover the shortfall.
/// An alert.
public struct InventoryOversold: VersionedPayload, Hashable {
    public static let eventType = "inventory.oversold"
    public static let schemaVersion = 1
    public let sku: SKU
    public let location: LocationID
    /// Reserved units not covered by on hand when the policy ran.
    public let short: Int64
    /// The orders put on hold (or already on hold) for it.
    public let orders: [OrderID]
    /// Orders whose units are short and that were not held: deliveries already released to their fulfilling system.
    public let notHeld: [OrderID]
    public let alert: Bool

    public init(sku: SKU, location: LocationID, short: Int64, orders: [OrderID], notHeld: [OrderID] = []) {
        self.sku = sku
        self.location = location
        self.short = short
        self.orders = orders
        self.notHeld = notHeld
        alert = true
    }
}

/// Units reserved for this order at a store were sold at the till and the order was not held (a delivery already
/// released to its fulfilling system): its lineage says it may ship short. Once per order, SKU and store.
public struct OrderStockShort: VersionedPayload, Hashable {
    public static let eventType = "order.stock_short"
    public static let schemaVersion = 1
    public let sku: SKU
    public let location: LocationID
    /// The order's reserved units there.
    public let reserved: Int64
    /// The store's shortfall of the SKU when it was noticed.
    public let short: Int64

    public init(sku: SKU, location: LocationID, reserved: Int64, short: Int64) {
        self.sku = sku
        self.location = location
        self.reserved = reserved
        self.short = short
    }
}

/// A store sold units that were reserved for orders, on purpose: the till gave an override with a reason. The
/// orders whose units were taken are short until stock arrives (the figures show by how much).
public struct ReservedStockSold: VersionedPayload, Hashable {
    public static let eventType = "inventory.reserved_stock_sold"
    public static let schemaVersion = 1
    public let sku: SKU
    public let location: LocationID
    public let quantity: Int64
    /// Reserved units no longer on hand after the sale.
    public let short: Int64
    public let reason: String
    public let source: SystemID

    public init(sku: SKU, location: LocationID, quantity: Int64, short: Int64, reason: String, source: SystemID) {
        self.sku = sku
        self.location = location
        self.quantity = quantity
        self.short = short
        self.reason = reason
        self.source = source
    }
}
