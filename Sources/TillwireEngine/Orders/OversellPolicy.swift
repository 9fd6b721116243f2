import Foundation
import TillwireDomain
import TillwireStorage

/// What the hub does when a till sold units reserved for orders (`inventory.reserved_stock_sold`: a store that was
/// offline sold stock reserved online meanwhile, or a till overrode a reservation). Nothing is silently negative:
///
/// 1. The shortfall is measured when the policy runs (reserved − on hand at the location; a receipt since may have
///    covered it, and then nothing happens).
/// 2. The reservations at the location are taken newest first (the latest promise is the one broken) until the units of
///    the orders held cover the shortfall; each pickup order (and any order not yet released) goes on hold with
///    `stock_oversold`, the line and store named, and its channel is told. The reservations stay: the units come back
///    to the order when the store gets them. A delivery already released is not held (its fulfilling system has it):
///    it is named in the alert.
/// 3. One `inventory.oversold` (an alert) names the SKU, the store, the shortfall, the orders held and those not held;
///    a later sale of the same short SKU that holds or names no further order raises none.
///
/// An order held this way resumes with `POST /v1/orders/{id}/validate` once the store has the units again (a receipt,
/// a transfer in, a count), with the pickup window it had. A delivery not held is named once on its own stream
/// (`order.stock_short`). Left on hold, its saga's wait runs out and it is
/// cancelled with its refund, as any pickup not collected. Runs once per event (a subscription; the effects commit
/// with its checkpoint under the event's id).
public struct OversellPolicy: EventHandler {
    public static let subscriberName = "inventory.oversell"
    let orders: OrderService
    var store: any Store { orders.store }

    public init(orders: OrderService) {
        self.orders = orders
    }

    /// Most events are not oversells and change nothing: those merge into one checkpoint advance per batch. An
    /// oversell's effects carry an inbox key, so they commit on their own, in order.
    public var commitsInBatches: Bool { true }

    public func handle(_ event: EventEnvelope) async throws -> Commit {
        guard event.type == ReservedStockSold.eventType else { return Commit() }
        let sold = try event.decode(ReservedStockSold.self)
        let position = try await store.position(sku: sold.sku, location: sold.location)
        let short = position.reserved - max(position.onHand, 0)
        var commit = Commit(inbox: InboxKey(source: InventoryService.hub, messageKey: "oversell/\(event.id.rawValue)"))
        guard short > 0 else { return commit }
        // Newest promise first: the reservation that expires last was made last (holds are set per fulfilment mode).
        let reservations = try await store.activeReservations(sku: sold.sku, location: sold.location).sorted { $0.expiresAt > $1.expiresAt }
        var covered: Int64 = 0
        var held: [OrderID] = []
        var unresolved: [OrderID] = []
        var changed = false
        for reservation in reservations where covered < short {
            // Every reservation taken counts towards the shortfall, held or named; an order with two lines of the SKU
            // is dealt with once.
            covered += reservation.quantity
            if held.contains(reservation.order) || unresolved.contains(reservation.order) { continue }
            guard let record = try await orders.record(reservation.order) else { continue }
            if record.lifecycle.status == .onHold {
                held.append(reservation.order)
                continue
            }
            // A pickup is held at its store; a delivery only before release (after, its fulfilling system has it,
            // and holding it here would not stop a shipment): it is named instead, once, on its own stream too.
            let holdable = OrderStatus.holdable.contains(record.lifecycle.status)
                && (record.order.fulfilment.mode == .pickUpInStore || ![.released, .readyForPickup].contains(record.lifecycle.status))
            var change = OrderChange(record, at: event.recordedAt, source: InventoryService.hub, causation: event.id.rawValue)
            guard holdable else {
                unresolved.append(reservation.order)
                let named = try await store.readStream(OrderService.stream(reservation.order), fromVersion: 1, limit: 10_000).contains {
                    guard $0.type == OrderStockShort.eventType, let notice = try? $0.decode(OrderStockShort.self) else { return false }
                    return notice.sku == sold.sku && notice.location == sold.location
                }
                if !named {
                    try change.note(OrderStockShort(sku: sold.sku, location: sold.location, reserved: reservation.quantity, short: short),
                                    source: InventoryService.hub)
                    commit.events += change.commit.events
                    changed = true
                }
                continue
            }
            held.append(reservation.order)
            changed = true
            let reason = HoldReason(.stockOversold, "\(reservation.quantity) × \(sold.sku) reserved at \(sold.location) were sold at the till (\(sold.reason)); \(short) short there")
            try change.move(to: .onHold, cause: "oversold at \(sold.location)", holdReasons: [reason])
            change.notifyChannel(orders, status: .onHold, tracking: nil)
            let effects = change.finish()
            commit.events += effects.events
            commit.jobs += effects.jobs
            commit.orders += effects.orders
        }
        // One alert per change in how the shortage is handled: a later sale of a SKU already short that holds or names
        // no further order raises none.
        guard changed else { return commit }
        commit.events.append(EventAppend(try NewEvent(
            stream: InventoryService.stream(sold.location), correlationID: event.event.correlationID, causationID: event.id.rawValue,
            occurredAt: event.recordedAt, source: InventoryService.hub,
            payload: InventoryOversold(sku: sold.sku, location: sold.location, short: short, orders: held, notHeld: unresolved))))
        return commit
    }
}
