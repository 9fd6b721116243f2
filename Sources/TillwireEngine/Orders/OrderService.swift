import Foundation
import TillwireDomain
import TillwireStorage
import Tracing

/// Orders as commands: capture a channel's order once, put it through the validation gate, and read it back with its
/// history. An order is its event stream (`order/<id>`): `order.captured`, then one `order.status_changed` per move,
/// each with its cause; the stream is the order's lineage, and every event of its flow carries the order id as
/// correlation id.
public struct OrderService: Sendable {
    public struct Policy: Sendable, Hashable {
        /// Tax rules by country (`tax.countries.<CC>` in the config).
        public var taxRules: [String: TaxRule]
        /// Channels held to the gate's stricter checks (marketplaces): capture required, the customer's email.
        public var strictChannels: Set<ChannelID>
        /// The country of the stores, whose tax applies to a pickup in store (`tax.home_country`). One country for
        /// all stores so far.
        public var homeCountry: String?

        /// The system that fulfils shipped orders (a WMS or the ERP): its jobs are `<system>.order_release` and
        /// `<system>.order_cancel` (`orders.fulfilment_system`). Default `warehouse`.
        public var fulfilmentSystem: SystemID = "warehouse"
        /// The system that stands for the stores' tills in an order's lineage (`orders.pickup_system`). Default `pos`.
        public var pickupSystem: SystemID = "pos"
        /// Where each fulfilment mode may reserve stock, best first by the inventory's location choice
        /// (`orders.ship_from.ship_from_dc`, `orders.ship_from.ship_from_store`). A pickup reserves at its store.
        public var shipFrom: [Fulfilment.Mode: [LocationID]] = [:]
        /// The system each channel's order notifications go to: a shop connector's system for its channel (`shopify.system`,
        /// `woocommerce.system`, …); default: the channel's id.
        public var channelSystems: [ChannelID: SystemID] = [:]
        /// How long the fulfilling system has to accept a release before the order is cancelled. Default 2 days.
        public var releaseTimeout: Duration = .seconds(2 * 86_400)
        /// How long a released order may take to ship completely. Default 14 days.
        public var fulfilmentTimeout: Duration = .seconds(14 * 86_400)
        /// How long a store has to pick a pickup order. Default 1 day.
        public var pickingTimeout: Duration = .seconds(86_400)
        /// How long a picked pickup order waits for its customer before it is cancelled and refunded
        /// (`orders.pickup_window_hours`). Default 3 days.
        public var pickupWindow: Duration = .seconds(3 * 86_400)
        /// Where sales are booked: with a ledger, each shipment or collection books its sale entry in the same commit
        /// and posts it to the ERP. Default none (no entries).
        public var ledger: Ledger?

        public init(taxRules: [String: TaxRule] = [:], strictChannels: Set<ChannelID> = [], homeCountry: String? = nil) {
            self.taxRules = taxRules
            self.strictChannels = strictChannels
            self.homeCountry = homeCountry
        }

        /// The system a channel's notifications go to.
        public func system(of channel: ChannelID) -> SystemID {
            channelSystems[channel] ?? SystemID(trusted: channel.rawValue)
        }
    }

    /// The same channel order captured before with other content: updates come through their own commands.
    public struct ConflictingCapture: Error, CustomStringConvertible {
        public let id: OrderID
        public var description: String {
            "order \(id) was captured before with other content; a change to an order is not a new capture"
        }
    }

    let store: any Store
    public let policy: Policy
    let now: @Sendable () -> Date

    public init(store: any Store, policy: Policy = Policy(), now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.policy = policy
        self.now = now
    }

    public static func stream(_ id: OrderID) -> StreamID {
        StreamID(trusted: "order/\(id.rawValue)")
    }

    /// Captures an order and runs the gate on it: it ends `validated` (and its fulfilment saga starts, in the same
    /// commit), or `on_hold` with the gate's reasons. The same order again (same channel and channel order id, same
    /// content) answers with the order as it stands and changes nothing; with other content it is refused
    /// (`ConflictingCapture`).
    public func capture(_ order: Order, source: SystemID, causation: String? = nil) async throws -> (record: OrderRecord, created: Bool) {
        try await withSpan("order.capture") { span in
            span.attributes["tillwire.correlation_id"] = order.id.rawValue
            span.attributes["tillwire.channel"] = order.channel.rawValue
            return try await captureTraced(order, source: source, causation: causation)
        }
    }

    private func captureTraced(_ order: Order, source: SystemID, causation: String?) async throws -> (record: OrderRecord, created: Bool) {
        if let existing = try await record(order.id) {
            guard existing.order == order else { throw ConflictingCapture(id: order.id) }
            return (existing, false)
        }
        let reasons = try await gate(order, stage: .beforeReservation)
        let at = now()
        let captured = try NewEvent(stream: Self.stream(order.id), correlationID: CorrelationID(trusted: order.id.rawValue),
                                    causationID: causation, occurredAt: at, source: source, payload: OrderCaptured(order: order))
        var change = OrderChange(OrderRecord(order: order, version: 1), at: at, source: InventoryService.hub, causation: captured.id.rawValue)
        change.commit.events.append(EventAppend(captured, expected: .noStream))
        if reasons.isEmpty {
            try change.validate(cause: "the validation gate passed at capture", flows: self)
        } else {
            try change.move(to: .onHold, cause: "the validation gate held it at capture", holdReasons: reasons)
        }
        do {
            _ = try await store.commit(change.finish())
        } catch StorageError.versionConflict {
            // Another request captured it first: answer as a repeat would.
            guard let existing = try await record(order.id) else { throw ConflictingCapture(id: order.id) }
            guard existing.order == order else { throw ConflictingCapture(id: order.id) }
            return (existing, false)
        }
        guard let stored = try await record(order.id) else { throw StorageError.notFound(kind: "order", id: order.id.rawValue) }
        return (stored, true)
    }

    /// Runs the gate again on an order that is on hold (after a fix: a product added, a tax rule configured, stock
    /// received). When it passes, the order goes back to the status it was held in, on to `validated` if it was
    /// held at capture, and a fulfilment saga starts; when it does not, the order stays on hold and its reasons are
    /// replaced by the current ones.
    public func revalidate(_ id: OrderID, cause: String) async throws -> OrderRecord {
        // A hold the oversell policy records while this runs (it handles till sales as they arrive) came first:
        // decide again on what it left (seen in a full CI run: the validate answered 409).
        try await afresh { try await revalidateOnce(id, cause: cause) }
    }

    private func revalidateOnce(_ id: OrderID, cause: String) async throws -> OrderRecord {
        let record = try await existing(id)
        guard record.lifecycle.status == .onHold else { return record }
        let held = record.lifecycle.heldFrom ?? .captured
        var change = OrderChange(record, at: now(), source: InventoryService.hub)
        if held == .released || held == .readyForPickup {
            // Held by the oversell policy: its stock is reserved, and the store must have the units again.
            let short = try await shortfalls(record)
            if short.isEmpty {
                try change.move(to: held, cause: "the store has the units again: \(cause)")
                // The window the customer was given stands (the saga's wait and the reservation run to it).
                if held == .readyForPickup, let picked = record.history.last(where: { $0.change.to == .readyForPickup }) {
                    change.pickupBy = picked.at + policy.pickupWindow.timeInterval
                }
                change.notifyChannel(self, status: held, tracking: nil)
            } else {
                guard short != record.holdReasons else { return record }
                try change.move(to: held, cause: "checked again: \(cause)")
                try change.move(to: .onHold, cause: "still short", holdReasons: short)
            }
            _ = try await store.commit(change.finish())
            return try await self.record(id) ?? record
        }
        let reasons = try await gate(record.current, stage: .beforeReservation)
        if reasons.isEmpty {
            if held == .validated || held == .allocated {
                try change.validate(cause: "the gate passed: \(cause)", flows: self)
            } else {
                try change.move(to: held, cause: "the gate passed: \(cause)")
                if held == .captured { try change.validate(cause: "the validation gate passed", flows: self) }
            }
        } else {
            guard reasons != record.holdReasons else { return record }
            try change.move(to: held, cause: "the gate ran again: \(cause)")
            try change.move(to: .onHold, cause: "the validation gate held it again", holdReasons: reasons)
        }
        _ = try await store.commit(change.finish())
        return try await self.record(id) ?? record
    }

    /// Cancels an order, from any status the status machine allows (`captured`, `validated`, `allocated`,
    /// `released`, `ready_for_pickup`, `on_hold`); from any other it is refused with `DomainError.illegalTransition`.
    /// Its fulfilment saga is cancelled in the same commit and compensates (its reservations are released, the
    /// fulfilling system is told to stop); the channel is told; a paid order gets an `order.refund_due`. A cancelled
    /// order again is answered as it is.
    public func cancel(_ id: OrderID, reason: String, source: SystemID) async throws -> OrderRecord {
        try await afresh { try await self.cancelOnce(id, reason: reason, source: source) }
    }

    func cancelOnce(_ id: OrderID, reason: String, source: SystemID) async throws -> OrderRecord {
        let record = try await existing(id)
        if record.lifecycle.status == .cancelled { return record }
        var change = OrderChange(record, at: now(), source: source)
        try change.cancel(reason: reason, flows: self)
        _ = try await store.commit(change.finish())
        return try await self.record(id) ?? record
    }

    /// Records the payment side's current figures for an order, and runs the gate again when the order is on hold
    /// (an authorization that covers the total releases an order held for its payment). The same figures again are
    /// not recorded again.
    public func updatePayments(_ id: OrderID, _ payments: Payments, cause: String, source: SystemID) async throws -> OrderRecord {
        let record = try await existing(id)
        guard payments.authorized.currency == record.order.currency, payments.captured.currency == record.order.currency,
              payments.refunded.currency == record.order.currency else {
            throw StorageError.rejected(.currencyMismatch(payments.authorized.currency, record.order.currency))
        }
        // The same figures again record nothing, but still run the gate: a first update whose gate run lost a race
        // must not leave a paid order on hold.
        guard payments != record.payments else { return try await revalidate(id, cause: cause) }
        var change = OrderChange(record, at: now(), source: source)
        try change.append(OrderPaymentsUpdated(payments: payments, cause: cause))
        _ = try await store.commit(change.finish())
        return try await revalidate(id, cause: cause)
    }

    // MARK: Fulfilment

    /// Why a fulfilment command was refused: the order's lines or status do not allow it.
    public struct FulfilmentRefused: Error, CustomStringConvertible {
        public let id: OrderID
        public let reason: String
        public var description: String { "order \(id): \(reason)" }
    }

    /// Records a shipment of whole lines by the fulfilling system: their reservations are consumed (the sale
    /// movement at the location they were reserved at), the order becomes partially fulfilled or fulfilled, and the
    /// channel is told with the tracking. The same shipment id again changes nothing.
    public func ship(_ id: OrderID, shipment: String, lines: [String], tracking: Tracking?, source: SystemID) async throws -> OrderRecord {
        try await afresh { try await self.shipOnce(id, shipment: shipment, lines: lines, tracking: tracking, source: source) }
    }

    func shipOnce(_ id: OrderID, shipment: String, lines: [String], tracking: Tracking?, source: SystemID) async throws -> OrderRecord {
        let record = try await existing(id)
        if record.shipments.contains(where: { $0.shipment == shipment }) { return record }
        guard record.order.fulfilment.mode != .pickUpInStore else {
            throw FulfilmentRefused(id: id, reason: "a pickup in store is collected at its store, not shipped")
        }
        guard [.released, .partiallyFulfilled].contains(record.lifecycle.status) else {
            throw FulfilmentRefused(id: id, reason: "only a released order ships; this one is \(record.lifecycle.status.rawValue)")
        }
        let shipped = try openLines(record, lines)
        var change = OrderChange(record, at: now(), source: source)
        try await change.consume(shipped, key: "shipment/\(shipment)", store: store)
        try change.append(OrderShipped(shipment: shipment, lines: shipped.map(\.id), tracking: tracking))
        let from = try await store.reservation(record.reservationID(of: shipped[0]))?.location
        try change.bookSale(shipped, location: from, ledger: policy.ledger)
        let rest = change.record.openLines
        try change.move(to: rest.isEmpty ? .fulfilled : .partiallyFulfilled,
                        cause: "shipment \(shipment) of \(shipped.count) line(s)" + (rest.isEmpty ? "; every line has left" : "; \(rest.count) to go"))
        if rest.isEmpty { try change.milestone(.fulfilled, "every line shipped or cancelled") }
        change.notifyChannel(self, status: change.record.lifecycle.status, tracking: tracking)
        _ = try await store.commit(change.finish())
        return try await self.record(id) ?? record
    }

    /// Cancels lines that have not shipped: their reservations are released, the fulfilling system (once it has the
    /// order) and the channel are told. When no line is left to ship and some shipped, the order is fulfilled.
    /// Cancelling every line of an order that shipped nothing is `cancel`. The same lines again change nothing.
    public func cancelLines(_ id: OrderID, lines: [String], reason: String, source: SystemID) async throws -> OrderRecord {
        try await afresh { try await self.cancelLinesOnce(id, lines: lines, reason: reason, source: source) }
    }

    func cancelLinesOnce(_ id: OrderID, lines: [String], reason: String, source: SystemID) async throws -> OrderRecord {
        let record = try await existing(id)
        let wanted = Set(lines)
        if !wanted.isEmpty, wanted.allSatisfy({ record.cancelledLines[$0] != nil }) { return record }
        guard [.validated, .allocated, .released, .partiallyFulfilled].contains(record.lifecycle.status) else {
            throw FulfilmentRefused(id: id, reason: "lines are cancelled before they ship; the order is \(record.lifecycle.status.rawValue)")
        }
        let cancelled = try openLines(record, lines)
        if cancelled.count == record.openLines.count && record.shipments.isEmpty {
            return try await cancel(id, reason: reason, source: source)
        }
        var change = OrderChange(record, at: now(), source: source)
        try await change.release(cancelled, store: store)
        try change.append(OrderLinesCancelled(lines: cancelled.map(\.id), reason: reason))
        if [.released, .partiallyFulfilled].contains(record.lifecycle.status) {
            change.commit.jobs.append(OrderJobs.cancelFulfilment(self, order: id, lines: cancelled.map(\.id), reason: reason, at: change.at))
            if change.record.openLines.isEmpty {
                try change.move(to: .fulfilled, cause: "the lines left were cancelled: \(reason)")
                try change.milestone(.fulfilled, "every line shipped or cancelled")
            }
        }
        change.notifyChannel(self, status: change.record.lifecycle.status, tracking: nil)
        _ = try await store.commit(change.finish())
        return try await self.record(id) ?? record
    }

    /// The store picked a pickup order: it is ready for pickup until the pickup window ends, and the channel is told
    /// (it tells the customer). Again changes nothing.
    public func markPicked(_ id: OrderID, source: SystemID) async throws -> OrderRecord {
        try await afresh { try await self.markPickedOnce(id, source: source) }
    }

    func markPickedOnce(_ id: OrderID, source: SystemID) async throws -> OrderRecord {
        let record = try await pickup(id)
        if record.lifecycle.status == .readyForPickup { return record }
        var change = OrderChange(record, at: now(), source: source)
        change.pickupBy = change.at + policy.pickupWindow.timeInterval
        try change.move(to: .readyForPickup, cause: "picked at \(record.order.fulfilment.pickupStore?.rawValue ?? "?")")
        try change.milestone(.picked, "ready for pickup")
        change.notifyChannel(self, status: .readyForPickup, tracking: nil)
        _ = try await store.commit(change.finish())
        return try await self.record(id) ?? record
    }

    /// The customer collected a pickup order: its reservations are consumed (the sale at the store) and the channel
    /// is told. Again changes nothing.
    public func markCollected(_ id: OrderID, source: SystemID) async throws -> OrderRecord {
        try await afresh { try await self.markCollectedOnce(id, source: source) }
    }

    func markCollectedOnce(_ id: OrderID, source: SystemID) async throws -> OrderRecord {
        let record = try await pickup(id)
        if record.lifecycle.status == .collected { return record }
        guard record.lifecycle.status == .readyForPickup else {
            throw FulfilmentRefused(id: id, reason: "only an order ready for pickup is collected; this one is \(record.lifecycle.status.rawValue)")
        }
        let lines = record.openLines
        var change = OrderChange(record, at: now(), source: source)
        try await change.consume(lines, key: "collected", store: store)
        try change.append(OrderShipped(shipment: "collected", lines: lines.map(\.id), tracking: nil))
        try change.bookSale(lines, location: record.order.fulfilment.pickupStore, ledger: policy.ledger)
        try change.move(to: .collected, cause: "collected at \(record.order.fulfilment.pickupStore?.rawValue ?? "?")")
        try change.milestone(.collected, "collected by the customer")
        change.notifyChannel(self, status: .collected, tracking: nil)
        _ = try await store.commit(change.finish())
        return try await self.record(id) ?? record
    }

    /// Runs a command again when a concurrent change to the order came first (a channel notification recorded on
    /// its stream, a saga step): each run reads the order afresh and decides on what that change left. Three runs;
    /// measured under a full test run, a pickup's collection raced the notification of its pick.
    func afresh(_ command: () async throws -> OrderRecord) async throws -> OrderRecord {
        var attempt = 1
        while true {
            do {
                return try await command()
            } catch StorageError.versionConflict where attempt < 3 {
                attempt += 1
            }
        }
    }

    // MARK: Reading

    /// The order as its stream tells it; nil when there is no such order.
    public func record(_ id: OrderID) async throws -> OrderRecord? {
        let events = try await store.readStream(Self.stream(id), fromVersion: 1, limit: 10_000)
        guard let first = events.first else { return nil }
        var record = OrderRecord(order: try first.decode(OrderCaptured.self).order, version: first.streamVersion)
        for envelope in events.dropFirst() {
            let version = envelope.streamVersion
            switch envelope.type {
            case OrderStatusChanged.eventType:
                record = try record.applying(try envelope.decode(OrderStatusChanged.self), at: envelope.event.occurredAt,
                                             eventID: envelope.id, version: version)
            case OrderPaymentsUpdated.eventType:
                record = record.applying(try envelope.decode(OrderPaymentsUpdated.self), version: version)
            case OrderReleased.eventType:
                record = record.applying(released: try envelope.decode(OrderReleased.self), version: version)
            case OrderShipped.eventType:
                record = record.applying(shipped: try envelope.decode(OrderShipped.self), at: envelope.event.occurredAt, version: version)
            case OrderReturnAuthorized.eventType:
                record = record.applying(returned: try envelope.decode(OrderReturnAuthorized.self), version: version)
            case OrderReturnSettled.eventType:
                record = record.applying(settled: try envelope.decode(OrderReturnSettled.self), version: version)
            case OrderLinesCancelled.eventType:
                record = record.applying(cancelled: try envelope.decode(OrderLinesCancelled.self), version: version)
            default:
                record = record.applying(version: version)
            }
        }
        return record
    }

    /// The orders a store has to pick or hand over: released pickups (to pick) and ready ones (waiting for their
    /// customer), oldest first.
    public func pickups(at store: LocationID, limit: Int = 500) async throws -> [(summary: OrderSummary, record: OrderRecord)] {
        var result: [(OrderSummary, OrderRecord)] = []
        for summary in try await self.store.orderSummaries(pickupStore: store, statuses: [.released, .readyForPickup], limit: limit) {
            if let record = try await record(summary.id) { result.append((summary, record)) }
        }
        // Held after release (an oversell) is the store's business; a hold before release is not yet.
        // Holds before release may be many (a gate holding at capture): read well past them.
        for summary in try await self.store.orderSummaries(pickupStore: store, statuses: [.onHold], limit: max(limit, 5_000)) {
            guard let record = try await record(summary.id), [.released, .readyForPickup].contains(record.lifecycle.heldFrom) else { continue }
            result.append((summary, record))
        }
        return result
    }

    /// The open lines whose reserved units are not all on hand at their location (an oversell), as hold reasons.
    func shortfalls(_ record: OrderRecord) async throws -> [HoldReason] {
        var reasons: [HoldReason] = []
        for line in record.openLines {
            guard let reservation = try await store.reservation(record.reservationID(of: line)), reservation.state == .active else { continue }
            let position = try await store.position(sku: reservation.sku, location: reservation.location)
            if position.onHand < position.reserved {
                reasons.append(HoldReason(.stockOversold, "line \(line.id): \(position.reserved) × \(line.sku) reserved at \(reservation.location), \(max(position.onHand, 0)) on hand"))
            }
        }
        return reasons
    }

    func existing(_ id: OrderID) async throws -> OrderRecord {
        guard let record = try await record(id) else { throw StorageError.notFound(kind: "order", id: id.rawValue) }
        return record
    }

    func pickup(_ id: OrderID) async throws -> OrderRecord {
        let record = try await existing(id)
        guard record.order.fulfilment.mode == .pickUpInStore else {
            throw FulfilmentRefused(id: id, reason: "not a pickup in store")
        }
        guard [.released, .readyForPickup, .collected].contains(record.lifecycle.status) else {
            throw FulfilmentRefused(id: id, reason: "a pickup is picked once released and collected once ready; this one is \(record.lifecycle.status.rawValue)")
        }
        return record
    }

    /// The named lines, each open (neither shipped nor cancelled); unknown or closed lines are refused by name.
    func openLines(_ record: OrderRecord, _ ids: [String]) throws -> [OrderLine] {
        guard !ids.isEmpty else { throw FulfilmentRefused(id: record.order.id, reason: "name at least one line") }
        guard Set(ids).count == ids.count else { throw FulfilmentRefused(id: record.order.id, reason: "a line is named twice") }
        let open = Dictionary(record.openLines.map { ($0.id, $0) }) { first, _ in first }
        return try ids.map { id in
            guard let line = open[id] else {
                let known = record.order.lines.contains { $0.id == id }
                throw FulfilmentRefused(id: record.order.id, reason: known ? "line \(id) has already shipped or been cancelled" : "the order has no line \(id)")
            }
            return line
        }
    }

    /// The gate with what the hub knows now.
    func gate(_ order: Order, stage: OrderGate.Stage, reserved: [String: Int64] = [:]) async throws -> [HoldReason] {
        let products = try await store.products(Array(Set(order.lines.map(\.sku))))
        let facts = GateFacts(products: products, taxRules: policy.taxRules,
                              pickupCountry: order.fulfilment.mode == .pickUpInStore ? policy.homeCountry : nil,
                              reserved: reserved, strict: policy.strictChannels.contains(order.channel))
        return OrderGate.reasons(order, facts: facts, stage: stage)
    }
}
