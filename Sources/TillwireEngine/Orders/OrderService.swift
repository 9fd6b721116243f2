import Foundation
import TillwireDomain
import TillwireStorage

/// Orders as commands: capture a channel's order once, put it through the validation gate, and read it back with its
/// history. An order is its event stream (`order/<id>`): `order.captured`, then one `order.status_changed` per move,
/// each with its cause; the stream is the order's lineage, and every event of its flow carries the order id as
/// correlation id.
public struct OrderService: Sendable {
    public struct Policy: Sendable, Hashable {
        /// Tax rules by country (`tax.<country>` in the config).
        public var taxRules: [String: TaxRule]
        /// Channels held to the gate's stricter checks (marketplaces): capture required, the customer's email.
        public var strictChannels: Set<ChannelID>
        /// The country of the stores, whose tax applies to a pickup in store (`tax.home_country`). One country for
        /// all stores so far.
        public var homeCountry: String?

        public init(taxRules: [String: TaxRule] = [:], strictChannels: Set<ChannelID> = [], homeCountry: String? = nil) {
            self.taxRules = taxRules
            self.strictChannels = strictChannels
            self.homeCountry = homeCountry
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

    /// Captures an order and runs the gate on it: it ends `validated`, or `on_hold` with the gate's reasons. The same
    /// order again (same channel and channel order id, same content) answers with the order as it stands and changes
    /// nothing; with other content it is refused (`ConflictingCapture`).
    public func capture(_ order: Order, source: SystemID, causation: String? = nil) async throws -> (record: OrderRecord, created: Bool) {
        if let existing = try await record(order.id) {
            guard existing.order == order else { throw ConflictingCapture(id: order.id) }
            return (existing, false)
        }
        let reasons = try await gate(order, stage: .beforeReservation)
        let correlation = CorrelationID(trusted: order.id.rawValue)
        let at = now()
        let captured = try NewEvent(stream: Self.stream(order.id), correlationID: correlation, causationID: causation, occurredAt: at,
                                    source: source, payload: OrderCaptured(order: order))
        let change = reasons.isEmpty
            ? OrderStatusChanged(from: .captured, to: .validated, cause: "the validation gate passed at capture")
            : OrderStatusChanged(from: .captured, to: .onHold, cause: "the validation gate held it at capture", holdReasons: reasons)
        let changed = try NewEvent(stream: Self.stream(order.id), correlationID: correlation, causationID: captured.id.rawValue,
                                   occurredAt: at, source: InventoryService.hub, payload: change)
        do {
            _ = try await store.commit(Commit(events: [EventAppend(captured, expected: .noStream), EventAppend(changed, expected: .exactly(1))]))
        } catch StorageError.versionConflict {
            // Another request captured it first: answer as a repeat would.
            guard let existing = try await record(order.id) else { throw ConflictingCapture(id: order.id) }
            guard existing.order == order else { throw ConflictingCapture(id: order.id) }
            return (existing, false)
        }
        guard let stored = try await record(order.id) else { throw StorageError.notFound(kind: "order", id: order.id.rawValue) }
        return (stored, true)
    }

    /// Runs the gate again on an order that is on hold (after a fix: a product added, a tax rule configured). When it
    /// passes, the order goes back to the status it was held in and on to `validated`; when it does not, the order
    /// stays on hold and its reasons are replaced by the current ones.
    public func revalidate(_ id: OrderID, cause: String) async throws -> OrderRecord {
        guard let record = try await record(id) else { throw StorageError.notFound(kind: "order", id: id.rawValue) }
        guard record.lifecycle.status == .onHold else { return record }
        let reasons = try await gate(record.current, stage: .beforeReservation)
        let held = record.lifecycle.heldFrom ?? .captured
        var changes: [OrderStatusChanged]
        if reasons.isEmpty {
            changes = [OrderStatusChanged(from: .onHold, to: held, cause: "the gate passed: \(cause)")]
            if held == .captured { changes.append(OrderStatusChanged(from: .captured, to: .validated, cause: "the validation gate passed")) }
        } else {
            guard reasons != record.holdReasons else { return record }
            changes = [OrderStatusChanged(from: .onHold, to: held, cause: "the gate ran again: \(cause)"),
                       OrderStatusChanged(from: held, to: .onHold, cause: "the validation gate held it again", holdReasons: reasons)]
        }
        var version = record.version
        let correlation = CorrelationID(trusted: id.rawValue)
        let appends = try changes.map { change in
            defer { version += 1 }
            return EventAppend(try NewEvent(stream: Self.stream(id), correlationID: correlation, occurredAt: now(), source: InventoryService.hub,
                                            payload: change), expected: .exactly(version))
        }
        _ = try await store.commit(Commit(events: appends))
        return try await self.record(id) ?? record
    }

    /// Cancels an order, from any status the status machine allows (`captured`, `validated`, `allocated`,
    /// `released`, `ready_for_pickup`, `on_hold`); from any other it is refused with `DomainError.illegalTransition`.
    /// A cancelled order again is answered as it is.
    public func cancel(_ id: OrderID, reason: String, source: SystemID) async throws -> OrderRecord {
        guard let record = try await record(id) else { throw StorageError.notFound(kind: "order", id: id.rawValue) }
        if record.lifecycle.status == .cancelled { return record }
        _ = try record.lifecycle.transitioned(to: .cancelled)
        let change = OrderStatusChanged(from: record.lifecycle.status, to: .cancelled, cause: "cancelled: \(reason)")
        let event = try NewEvent(stream: Self.stream(id), correlationID: CorrelationID(trusted: id.rawValue), occurredAt: now(),
                                 source: source, payload: change)
        _ = try await store.commit(Commit(events: [EventAppend(event, expected: .exactly(record.version))]))
        return try await self.record(id) ?? record
    }

    /// Records the payment side's current figures for an order, and runs the gate again when the order is on hold
    /// (an authorization that covers the total releases an order held for its payment). The same figures again are
    /// not recorded again.
    public func updatePayments(_ id: OrderID, _ payments: Payments, cause: String, source: SystemID) async throws -> OrderRecord {
        guard let record = try await record(id) else { throw StorageError.notFound(kind: "order", id: id.rawValue) }
        guard payments.authorized.currency == record.order.currency, payments.captured.currency == record.order.currency,
              payments.refunded.currency == record.order.currency else {
            throw StorageError.rejected(.currencyMismatch(payments.authorized.currency, record.order.currency))
        }
        // The same figures again record nothing, but still run the gate: a first update whose gate run lost a race
        // must not leave a paid order on hold.
        guard payments != record.payments else { return try await revalidate(id, cause: cause) }
        let update = try NewEvent(stream: Self.stream(id), correlationID: CorrelationID(trusted: id.rawValue), occurredAt: now(),
                                  source: source, payload: OrderPaymentsUpdated(payments: payments, cause: cause))
        _ = try await store.commit(Commit(events: [EventAppend(update, expected: .exactly(record.version))]))
        return try await revalidate(id, cause: cause)
    }

    /// The order as its stream tells it; nil when there is no such order.
    public func record(_ id: OrderID) async throws -> OrderRecord? {
        let events = try await store.readStream(Self.stream(id), fromVersion: 1, limit: 10_000)
        guard let first = events.first else { return nil }
        var record = OrderRecord(order: try first.decode(OrderCaptured.self).order, version: first.streamVersion)
        for envelope in events.dropFirst() {
            switch envelope.type {
            case OrderStatusChanged.eventType:
                record = try record.applying(try envelope.decode(OrderStatusChanged.self), at: envelope.event.occurredAt,
                                             eventID: envelope.id, version: envelope.streamVersion)
            case OrderPaymentsUpdated.eventType:
                record = record.applying(try envelope.decode(OrderPaymentsUpdated.self), version: envelope.streamVersion)
            default:
                continue
            }
        }
        return record
    }

    /// The gate with what the hub knows now.
    func gate(_ order: Order, stage: OrderGate.Stage) async throws -> [HoldReason] {
        let products = try await store.products(Array(Set(order.lines.map(\.sku))))
        let facts = GateFacts(products: products, taxRules: policy.taxRules,
                              pickupCountry: order.fulfilment.mode == .pickUpInStore ? policy.homeCountry : nil,
                              strict: policy.strictChannels.contains(order.channel))
        return OrderGate.reasons(order, facts: facts, stage: stage)
    }
}
