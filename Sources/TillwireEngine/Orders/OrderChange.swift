import Foundation
import TillwireDomain
import TillwireStorage

/// One change to an order, built as one commit: its events appended after the version the order was read at (so a
/// concurrent change makes the commit fail with `StorageError.versionConflict` instead of interleaving), the
/// inventory changes and jobs it needs, and its row in the status projection.
struct OrderChange {
    /// The order as it will be after the events appended so far.
    private(set) var record: OrderRecord
    var commit = Commit()
    let at: Date
    let source: SystemID
    let causation: String?
    /// The end of the pickup window, for the projection, when the change makes the order ready for pickup.
    var pickupBy: Date?
    private var version: Int64

    init(_ record: OrderRecord, at: Date, source: SystemID, causation: String? = nil) {
        self.record = record
        self.at = at
        self.source = source
        self.causation = causation
        self.version = record.version
    }

    var id: OrderID { record.order.id }
    var correlation: CorrelationID { CorrelationID(trusted: id.rawValue) }

    /// Appends an event of the order's stream.
    mutating func append<Payload: VersionedPayload>(_ payload: Payload, source: SystemID? = nil) throws {
        let event = try NewEvent(stream: OrderService.stream(id), correlationID: correlation, causationID: causation, occurredAt: at,
                                 source: source ?? self.source, payload: payload)
        commit.events.append(EventAppend(event, expected: .exactly(version)))
        version += 1
        switch payload {
        case let released as OrderReleased: record = record.applying(released: released, version: version)
        case let shipped as OrderShipped: record = record.applying(shipped: shipped, at: at, version: version)
        case let returned as OrderReturnAuthorized: record = record.applying(returned: returned, version: version)
        case let settled as OrderReturnSettled: record = record.applying(settled: settled, version: version)
        case let cancelled as OrderLinesCancelled: record = record.applying(cancelled: cancelled, version: version)
        case let update as OrderPaymentsUpdated: record = record.applying(update, version: version)
        case let change as OrderStatusChanged:
            record = try record.applying(change, at: at, eventID: event.id, version: version)
        default: record = record.applying(version: version)
        }
    }

    /// Appends a fact that changes nothing the order's commands decide on (a call to a system went out), at whatever
    /// version the stream has: a job recording it does not collide with a command changing the order meanwhile.
    mutating func note<Payload: VersionedPayload>(_ payload: Payload, source: SystemID) throws {
        let event = try NewEvent(stream: OrderService.stream(id), correlationID: correlation, causationID: causation, occurredAt: at,
                                 source: source, payload: payload)
        commit.events.append(EventAppend(event, expected: .any))
    }

    /// Moves the order's status; refused with `DomainError.illegalTransition` where the status machine does not
    /// allow it.
    mutating func move(to status: OrderStatus, cause: String, holdReasons: [HoldReason] = [], run: WorkflowRunID? = nil) throws {
        try append(OrderStatusChanged(from: record.lifecycle.status, to: status, cause: cause, holdReasons: holdReasons, run: run),
                   source: InventoryService.hub)
    }

    /// Moves the order to `validated` and starts its fulfilment saga in the same commit.
    mutating func validate(cause: String, flows service: OrderService) throws {
        let run = WorkflowRunID.random()
        try move(to: .validated, cause: cause, run: run)
        commit.startWorkflow(type: OrderFlow.type(of: record.order), version: OrderFlow.version, maxAttempts: OrderFlow.maxAttempts,
                             id: run, input: Data(id.rawValue.utf8), correlationID: correlation, now: at)
    }

    /// A milestone event (its own type) of the order's flow.
    mutating func milestone(_ kind: OrderMilestone.Kind, _ detail: String) throws {
        let event = try NewEvent(type: kind.rawValue, stream: OrderService.stream(id), correlationID: correlation, causationID: causation,
                                 occurredAt: at, source: InventoryService.hub, encoding: OrderMilestone(kind, detail))
        commit.events.append(EventAppend(event, expected: .exactly(version)))
        version += 1
        record = record.applying(version: version)
    }

    /// Cancels the order: status, its saga cancelled (it compensates), the channel told, a refund due when money
    /// was taken.
    mutating func cancel(reason: String, flows service: OrderService) throws {
        try move(to: .cancelled, cause: "cancelled: \(reason)")
        if let run = record.run {
            commit.jobs.append(WorkflowRunner.cancelJob(run, reason: reason, now: at))
        }
        try refundIfPaid("cancelled: \(reason)")
        notifyChannel(service, status: .cancelled, tracking: nil)
    }

    /// An `order.refund_due` when the payment side holds money for the order.
    mutating func refundIfPaid(_ why: String) throws {
        if record.payments.captured.minorUnits > record.payments.refunded.minorUnits {
            try milestone(.refundDue, "\(why); captured \(record.payments.captured), refunded \(record.payments.refunded)")
        }
    }

    /// A job telling the order's channel its status (and tracking).
    mutating func notifyChannel(_ service: OrderService, status: OrderStatus, tracking: Tracking?) {
        commit.jobs.append(OrderJobs.notify(service, order: record.order, status: status, tracking: tracking, at: at))
    }

    /// Consumes the active reservations of `lines` (the sale movements), keyed so a retry records each once.
    mutating func consume(_ lines: [OrderLine], key: String, store: any Store) async throws {
        try await end(lines, as: .consumed, key: key, store: store)
    }

    /// Releases the active reservations of `lines`; lines without one are skipped.
    mutating func release(_ lines: [OrderLine], store: any Store) async throws {
        try await end(lines, as: .released, key: "released", store: store)
    }

    private mutating func end(_ lines: [OrderLine], as state: ReservationState, key: String, store: any Store) async throws {
        for line in lines {
            let id = record.reservationID(of: line)
            guard let reservation = try await store.reservation(id), reservation.state == .active else { continue }
            let index = commit.inventory.count
            commit.inventory.append(.endReservation(id, as: state, at: at, source: InventoryService.hub, sourceKey: "\(key)/\(id.rawValue)"))
            let ended = try reservation.ended(as: state)
            describeReservations(index: index) { after in try InventoryService.reservationEvents(ended, created: false, after: after) }
        }
    }

    /// Adds a reservation of a line to the commit.
    mutating func reserve(_ reservation: Reservation, policy: InventoryPolicy) {
        let index = commit.inventory.count
        commit.inventory.append(.reserve(reservation, policy: policy))
        commit.jobs.append(InventoryService.expiryJob(reservation))
        describeReservations(index: index) { after in try InventoryService.reservationEvents(reservation, created: true, after: after) }
    }

    private var describers: [Int: @Sendable (InventoryPosition) throws -> [NewEvent]] = [:]

    private mutating func describeReservations(index: Int, _ describe: @escaping @Sendable (InventoryPosition) throws -> [NewEvent]) {
        describers[index] = describe
        let all = describers
        commit.inventoryEvents = { index, outcome in
            guard outcome.changed, let describe = all[index] else { return [] }
            return try describe(outcome.position)
        }
    }

    /// Books the sale of lines that just left (after their `OrderShipped`): the journal entry and its posting job
    /// commit with the shipment. The first shipment carries the order's shipping.
    mutating func bookSale(_ lines: [OrderLine], location: LocationID?, ledger: Ledger?) throws {
        guard let ledger, let shipped = commit.events.last?.event.id else { return }
        let count = record.shipments.count
        guard let entry = try JournalBuilder.sale(
            id: "je-sale-\(id.rawValue)-\(count)", order: record.order, pricing: try OrderPricing(record.order), lines: lines.map(\.id),
            includeShipping: count == 1, tender: record.order.channel.rawValue, costs: [:], businessDay: ledger.businessDay(at),
            location: location, sources: [JournalSource(.order, id.rawValue), JournalSource(.event, shipped.rawValue)],
            chart: ledger.policy.chart) else { return }
        try ledger.book(entry, into: &commit, correlation: correlation, causation: shipped.rawValue, at: at)
    }

    /// The commit, with the order's row in the status projection.
    func finish() -> Commit {
        var commit = commit
        commit.orders.append(OrderSummary(record.order, status: record.lifecycle.status,
                                          pickupBy: record.lifecycle.status == .readyForPickup ? pickupBy : nil, at: at))
        return commit
    }
}
