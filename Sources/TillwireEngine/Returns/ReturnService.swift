import Foundation
import TillwireDomain
import TillwireStorage

/// Returns as commands: authorize a return from any channel for an order from any channel, receive its items,
/// call it off, read it back. A return is its event stream (`return/<id>`) with the return id as correlation id;
/// the order returned gets `order.return_authorized` and `order.return_settled` on its own stream, which is what
/// makes a line's returnable quantity safe under concurrent returns. The rest of the flow (refund, credit note, the
/// order's status) is the return saga's (`ReturnFlow`).
public struct ReturnService: Sendable {
    public struct Policy: Sendable, Hashable {
        public var rules = ReturnPolicy()
        /// How long an authorized return waits for its items before it is voided (`returns.receipt_window_days`).
        /// Default 30 days.
        public var receiptWindow: Duration = .seconds(30 * 86_400)
        /// How long the saga waits for the refund (`returns.refund_wait_days`). The refund job retries, then waits in
        /// the dead letters for a replay; the return shows `refund_pending` with the job's error all along.
        /// Default 365 days.
        public var refundWait: Duration = .seconds(365 * 86_400)
        /// Where credit notes are booked and posted. Default none.
        public var ledger: Ledger?

        public init() {}
    }

    /// The same channel return taken before with other content.
    public struct ConflictingReturn: Error, CustomStringConvertible {
        public let id: ReturnID
        public var description: String { "return \(id) was taken before with other content; a change to a return is not a new return" }
    }

    /// A command the return's state does not allow.
    public struct ReturnStateRefused: Error, CustomStringConvertible {
        public let id: ReturnID
        public let reason: String
        public var description: String { "return \(id): \(reason)" }
    }

    let store: any Store
    let orders: OrderService
    public let policy: Policy
    let now: @Sendable () -> Date

    public init(store: any Store, orders: OrderService, policy: Policy = Policy(), now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.orders = orders
        self.policy = policy
        self.now = now
    }

    public static func stream(_ id: ReturnID) -> StreamID { StreamID(trusted: "return/\(id.rawValue)") }

    /// Authorizes a return (refused with `ReturnRefused`, every reason named, and nothing stored) and starts its saga
    /// in the same commit. `received` says the items are handed over now (a return at a till): they are received in
    /// the same commit, and a store tender refund is recorded as paid. The same return again (same channel and
    /// number, same content) answers as it stands; with other content it is refused (`ConflictingReturn`).
    public func authorize(_ request: ReturnRequest, received: Bool, source: SystemID) async throws -> (record: ReturnRecord, created: Bool) {
        let id = ReturnID.derived(channel: request.channel, channelReturnID: request.channelReturnID)
        if let existing = try await repeated(id, request) { return (try await receivedIfAsked(existing, received, source: source), false) }
        if received && request.location == nil {
            throw ReturnStateRefused(id: id, reason: "items handed over now are received at a location: name it")
        }
        try await known(request.lines.enumerated().map { ($0, $1.sku) }, at: request.location)
        for _ in 0..<5 {
            let at = now()
            var commit = Commit()
            var orderChange: OrderChange?
            var facts: ReturnedOrderFacts?
            if let orderID = request.order {
                let record = try await orders.existing(orderID)
                facts = ReturnedOrderFacts(order: record.order, status: record.lifecycle.status, leftAt: record.leftAt,
                                           returned: record.returnedUnits, shippingRefunded: record.shippingRefunded,
                                           cancelled: Set(record.cancelledLines.keys), refundedByReturns: record.refundedByReturns)
                orderChange = OrderChange(record, at: at, source: source)
            }
            let authorization = try ReturnRules.authorize(request, id: id, order: facts, policy: policy.rules, now: at)
            let run = WorkflowRunID.random()
            let correlation = CorrelationID(trusted: id.rawValue)
            let authorized = try NewEvent(stream: Self.stream(id), correlationID: correlation, occurredAt: at, source: source,
                                          payload: ReturnAuthorized(authorization: authorization, run: run))
            commit.events.append(EventAppend(authorized, expected: .noStream))
            if var change = orderChange {
                let units = authorization.lines.reduce(into: [String: Int64]()) { $0[$1.orderLine ?? "", default: 0] += $1.quantity }
                try change.append(OrderReturnAuthorized(returnID: id, lines: units, shipping: authorization.shippingGross > 0,
                                                        amount: authorization.refundTotal))
                commit.events += change.commit.events
            }
            commit.startWorkflow(type: ReturnFlow.type, version: ReturnFlow.version, maxAttempts: ReturnFlow.maxAttempts, id: run,
                                 input: Data(id.rawValue.utf8), correlationID: correlation, now: at)
            var record = ReturnRecord(ReturnAuthorized(authorization: authorization, run: run), at: at, version: 1)
            if received, let location = request.location {
                try receiving(&record, at: location, into: &commit, source: source, causation: authorized.id.rawValue, now: at)
            }
            do {
                _ = try await store.commit(commit)
            } catch StorageError.versionConflict {
                // Another return of the same order, or this one, committed first: read again.
                if let existing = try await repeated(id, request) { return (try await receivedIfAsked(existing, received, source: source), false) }
                continue
            }
            return (try await existing(id), true)
        }
        throw StorageError.versionConflict(stream: OrderService.stream(request.order ?? "-"), expected: .any, actual: 0)
    }

    /// The receiving location confirms the items: each line is restocked there, written off, or held for inspection
    /// by its disposition, and a store tender refund is recorded as paid at the till. Again changes nothing.
    public func receive(_ id: ReturnID, at location: LocationID?, source: SystemID) async throws -> ReturnRecord {
        var record = try await existing(id)
        if record.received != nil { return record }
        guard record.status == .authorized else {
            throw ReturnStateRefused(id: id, reason: "only an authorized return is received; this one is \(record.status.rawValue)")
        }
        guard let location = location ?? record.authorization.request.location else {
            throw ReturnStateRefused(id: id, reason: "name the location that receives the items")
        }
        if record.authorization.request.refund == .storeTender, location != record.authorization.request.location {
            throw ReturnStateRefused(id: id, reason: "a store tender refund is paid by \(record.authorization.request.location?.rawValue ?? "?"), so the items are received there")
        }
        try await known(record.authorization.lines.map { ($0.index, $0.sku) }, at: location)
        var commit = Commit()
        let at = now()
        try receiving(&record, at: location, into: &commit, source: source, causation: nil, now: at)
        do {
            _ = try await store.commit(commit)
        } catch StorageError.versionConflict {
            let current = try await existing(id)
            if current.received != nil { return current }
            throw StorageError.versionConflict(stream: Self.stream(id), expected: .exactly(record.version), actual: current.version)
        }
        return try await existing(id)
    }

    /// Decides a line held for inspection (disposition `inspect`): restocked, or written off, at the location that
    /// received it. A line decided already answers as it stands when decided the same way, and is refused otherwise.
    public func inspect(_ id: ReturnID, line index: Int, outcome: Disposition, note: String?, source: SystemID, attempts: Int = 3) async throws -> ReturnRecord {
        let record = try await existing(id)
        guard outcome != .inspect else { throw ReturnStateRefused(id: id, reason: "an inspection ends in restock or damaged") }
        guard let line = record.authorization.lines.first(where: { $0.index == index }), line.disposition == .inspect else {
            throw ReturnStateRefused(id: id, reason: "line \(index) is not held for inspection")
        }
        if let decided = record.inspected[index] {
            guard decided.outcome == outcome else {
                throw ReturnStateRefused(id: id, reason: "line \(index) was decided already: \(decided.outcome.rawValue)")
            }
            return record
        }
        guard let location = record.received?.location else {
            throw ReturnStateRefused(id: id, reason: "line \(index) is inspected once the items are received")
        }
        let at = now()
        var commit = Commit()
        let correlation = CorrelationID(trusted: id.rawValue)
        Self.add(try Self.movements(id, line, as: outcome, at: location, now: at), to: &commit, correlation: correlation, source: source)
        commit.events.append(EventAppend(try NewEvent(stream: Self.stream(id), correlationID: correlation, occurredAt: at, source: source,
                                                      payload: ReturnInspected(line: index, outcome: outcome, note: note)),
                                         expected: .exactly(record.version)))
        do {
            _ = try await store.commit(commit)
        } catch StorageError.versionConflict where attempts > 1 {
            // Another change to the return came first (the refund, a decision on another line): decide on what it left.
            return try await inspect(id, line: index, outcome: outcome, note: note, source: source, attempts: attempts - 1)
        }
        return try await existing(id)
    }

    /// Calls off a return whose items have not come back: its units are returnable again. Its saga is cancelled in
    /// the same commit. Again changes nothing.
    public func void(_ id: ReturnID, reason: String, source: SystemID) async throws -> ReturnRecord {
        let record = try await existing(id)
        if record.status == .voided { return record }
        guard record.status == .authorized else {
            throw ReturnStateRefused(id: id, reason: "a return is called off before its items are received; this one is \(record.status.rawValue)")
        }
        var commit = try voiding(record, reason: reason, source: source, at: now())
        commit.jobs.append(WorkflowRunner.cancelJob(record.run, reason: reason, now: now()))
        _ = try await store.commit(commit)
        return try await existing(id)
    }

    // MARK: Reading

    public func record(_ id: ReturnID) async throws -> ReturnRecord? {
        let events = try await store.readStream(Self.stream(id), fromVersion: 1, limit: 1_000)
        guard let first = events.first else { return nil }
        var record = ReturnRecord(try first.decode(ReturnAuthorized.self), at: first.event.occurredAt, version: first.streamVersion)
        for event in events.dropFirst() { record = try record.applying(event) }
        return record
    }

    func existing(_ id: ReturnID) async throws -> ReturnRecord {
        guard let record = try await record(id) else { throw StorageError.notFound(kind: "return", id: id.rawValue) }
        return record
    }

    /// The return as it stands when `request` was taken before; refused when taken with other content.
    func repeated(_ id: ReturnID, _ request: ReturnRequest) async throws -> ReturnRecord? {
        guard let existing = try await record(id) else { return nil }
        guard existing.authorization.request == request else { throw ConflictingReturn(id: id) }
        return existing
    }

    /// A repeat that says the items are handed over now receives a return taken before without them (a till that
    /// timed out and sends the return again).
    func receivedIfAsked(_ record: ReturnRecord, _ received: Bool, source: SystemID) async throws -> ReturnRecord {
        guard received, record.received == nil, record.status == .authorized else { return record }
        return try await receive(record.id, at: record.authorization.request.location, source: source)
    }

    /// Refuses SKUs the product master does not have and a location the hub does not know, each by its field.
    func known(_ lines: [(index: Int, sku: SKU)], at location: LocationID?) async throws {
        let products = try await store.products(lines.map(\.sku))
        var problems = lines.filter { products[$0.sku] == nil }.map {
            InventoryService.ItemProblem(index: $0.index, field: "lines[\($0.index)].sku", detail: "unknown SKU \($0.sku); add it with POST /v1/products")
        }
        if let location, !(try await store.locations().contains { $0.id == location }) {
            problems.append(InventoryService.ItemProblem(index: 0, field: "location", detail: "unknown location \(location); add it with PUT /v1/locations/{id}"))
        }
        guard problems.isEmpty else { throw InventoryService.InvalidItems(problems: problems) }
    }

    // MARK: Changes

    /// Adds the receipt to `commit`: the movements at `location` and `return.received` (and `return.refunded` for a
    /// store tender).
    func receiving(_ record: inout ReturnRecord, at location: LocationID, into commit: inout Commit, source: SystemID, causation: String?,
                   now at: Date) throws {
        let authorization = record.authorization
        let correlation = CorrelationID(trusted: authorization.id.rawValue)
        var movements: [InventoryMovement] = []
        var restocked: [String: Int64] = [:]
        var writtenOff: [String: Int64] = [:]
        var inspecting: [String: Int64] = [:]
        for line in authorization.lines {
            movements += try Self.movements(authorization.id, line, as: line.disposition, at: location, now: at)
            switch line.disposition {
            case .restock: restocked[line.sku.rawValue, default: 0] += line.quantity
            case .damaged: writtenOff[line.sku.rawValue, default: 0] += line.quantity
            case .inspect: inspecting[line.sku.rawValue, default: 0] += line.quantity
            }
        }
        Self.add(movements, to: &commit, correlation: correlation, source: source)
        var version = record.version
        let receivedEvent = ReturnReceived(location: location, restocked: restocked, writtenOff: writtenOff, inspecting: inspecting)
        commit.events.append(EventAppend(try NewEvent(stream: Self.stream(authorization.id), correlationID: correlation, causationID: causation,
                                                      occurredAt: at, source: source, payload: receivedEvent),
                                         expected: .exactly(version)))
        version += 1
        if authorization.request.refund == .storeTender {
            let refunded = ReturnRefunded(amount: Money(minorUnits: authorization.refundTotal, currency: authorization.currency),
                                          method: .storeTender, tender: authorization.request.refundTender(orderChannel: authorization.orderChannel),
                                          reference: authorization.request.channelReturnID)
            commit.events.append(EventAppend(try NewEvent(stream: Self.stream(authorization.id), correlationID: correlation, causationID: causation,
                                                          occurredAt: at, source: source, payload: refunded),
                                             expected: .exactly(version)))
        }
    }

    /// What a returned line does to stock at the receiving location: a `return` movement (restock), a `return` and a
    /// `damage` (written off: the ledger shows both), or nothing (held for inspection). Keyed by the return and the
    /// line, so a line is moved once whenever it is decided.
    static func movements(_ id: ReturnID, _ line: AuthorizedReturnLine, as disposition: Disposition, at location: LocationID,
                          now at: Date) throws -> [InventoryMovement] {
        guard disposition != .inspect else { return [] }
        let key = "return/\(id.rawValue)/\(line.index)"
        var movements = [try InventoryMovement(sku: line.sku, location: location, delta: line.quantity, reason: .return, occurredAt: at,
                                               source: InventoryService.hub, sourceKey: key)]
        if disposition == .damaged {
            movements.append(try InventoryMovement(sku: line.sku, location: location, delta: -line.quantity, reason: .damage, occurredAt: at,
                                                   source: InventoryService.hub, sourceKey: key + "/write-off"))
        }
        return movements
    }

    /// Adds movements to a commit that has no other inventory changes, with their inventory events.
    static func add(_ movements: [InventoryMovement], to commit: inout Commit, correlation: CorrelationID, source: SystemID) {
        precondition(commit.inventory.isEmpty, "the return's movements are the commit's only inventory changes")
        commit.inventory = movements.map { .record($0) }
        commit.inventoryEvents = { index, outcome in
            guard outcome.changed, index < movements.count else { return [] }
            let movement = movements[index]
            return [
                try InventoryService.event(InventoryAdjusted(movement: movement, after: outcome.position), movement.location, correlation, source),
                try InventoryService.event(AvailabilityChanged(outcome.position), movement.location, correlation, source),
            ]
        }
    }

    /// The commit that voids a return not yet received: `return.closed` (voided) and the order's units released.
    func voiding(_ record: ReturnRecord, reason: String, source: SystemID, at: Date) throws -> Commit {
        var commit = Commit()
        let id = record.id
        commit.events.append(EventAppend(try NewEvent(stream: Self.stream(id), correlationID: CorrelationID(trusted: id.rawValue), occurredAt: at,
                                                      source: source, payload: ReturnClosed(outcome: .voided, reason: reason)),
                                         expected: .exactly(record.version)))
        if let order = record.authorization.request.order {
            let event = try NewEvent(stream: OrderService.stream(order), correlationID: CorrelationID(trusted: order.rawValue),
                                     causationID: id.rawValue, occurredAt: at, source: source,
                                     payload: OrderReturnSettled(returnID: id, completed: false, reason: reason))
            commit.events.append(EventAppend(event, expected: .any))
        }
        return commit
    }
}
