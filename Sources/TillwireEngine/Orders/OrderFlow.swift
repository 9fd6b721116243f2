import Foundation
import TillwireDomain
import TillwireStorage

/// The system that fulfils shipped orders (a WMS, the ERP), as the order flow needs it. Connectors implement it;
/// calls run in jobs of kind `<system>.order_release` and `<system>.order_cancel`, behind that system's breaker,
/// rate limit and maintenance windows.
public protocol FulfilmentClient: Sendable {
    /// Hands the order's open lines to the system, with the reservations that hold their stock; returns the
    /// system's document id (a sale, a pick list). The same `key` again must not create a second document.
    func release(_ order: Order, lines: [OrderLine], reservations: [Reservation], key: String) async throws -> String
    /// Tells the system to stop fulfilling `lines` (nil: the whole order) of the document it created.
    func cancel(_ order: OrderID, document: String, lines: [String]?, reason: String, key: String) async throws
}

/// A sales channel, as the order flow tells it of an order's status and tracking (jobs `<system>.order_notify`).
public protocol ChannelOrderClient: Sendable {
    func notify(_ order: Order, status: OrderStatus, tracking: Tracking?, key: String) async throws
}

/// The order fulfilment sagas, one per fulfilment mode (see docs/orders.md):
///
/// - `order.delivery` (ship from a DC or a store): open → reserve → release (a job to the fulfilling system) →
///   await-release (`order.released`) → await-fulfilment (`order.fulfilled`) → complete.
/// - `order.pickup` (pick up in store): open → reserve (at the pickup store) → release (into the store's pickup queue)
///   → await-picked (`order.picked`) → await-collection (`order.collected`, within the pickup window) → complete.
///
/// A step that fails for good compensates the completed ones, last first: the fulfilling system is told to stop,
/// reservations are released, and `open`'s compensation settles the order: on hold with the reasons when the stock
/// could not be reserved or the gate failed before release, cancelled (refund due, channel told) when a wait timed
/// out. An order cancelled from outside cancels its run (`WorkflowRunner.cancelJob`), which compensates the same way.
public struct OrderFlow: Sendable {
    public static let deliveryType = "order.delivery"
    public static let pickupType = "order.pickup"
    public static let version = 1
    public static let maxAttempts = 8
    /// The prefix of a step's failure that puts the order on hold; the JSON of its `HoldReason`s follows.
    static let holdPrefix = "held: "

    let service: OrderService
    let inventory: InventoryService.Policy
    var store: any Store { service.store }
    var policy: OrderService.Policy { service.policy }

    public init(service: OrderService, inventory: InventoryService.Policy = .init()) {
        self.service = service
        self.inventory = inventory
    }

    public static func type(of order: Order) -> String {
        order.fulfilment.mode == .pickUpInStore ? pickupType : deliveryType
    }

    /// Both sagas, for the workflow runner.
    public var definitions: [WorkflowDefinition] {
        let open = WorkflowStepDefinition.action("open", run: { _ in WorkflowStepResult() }, compensate: settle)
        let reserve = WorkflowStepDefinition.action("reserve", run: reserve, compensate: releaseStock)
        let complete = WorkflowStepDefinition.action("complete", run: complete)
        return [
            WorkflowDefinition(type: Self.deliveryType, version: Self.version, maxAttempts: Self.maxAttempts, steps: [
                open, reserve,
                .action("release", run: release, compensate: cancelAtSystem),
                .waitForEvent("await-release", type: OrderReleased.eventType, timeout: policy.releaseTimeout),
                .waitForEvent("await-fulfilment", type: OrderMilestone.Kind.fulfilled.rawValue, timeout: policy.fulfilmentTimeout),
                complete,
            ]),
            WorkflowDefinition(type: Self.pickupType, version: Self.version, maxAttempts: Self.maxAttempts, steps: [
                open, reserve,
                .action("release", run: release),
                .waitForEvent("await-picked", type: OrderMilestone.Kind.picked.rawValue, timeout: policy.pickingTimeout),
                .waitForEvent("await-collection", type: OrderMilestone.Kind.collected.rawValue, timeout: policy.pickupWindow),
                complete,
            ]),
        ]
    }

    /// The order of a run, as it stands.
    func order(of context: WorkflowContext) async throws -> OrderRecord {
        guard let id = String(data: context.run.input, encoding: .utf8).flatMap({ try? OrderID($0) }),
              let record = try await service.record(id) else {
            throw JobError.terminal("the run's order does not exist")
        }
        return record
    }

    /// A run of another generation (the order was held and validated again since) has nothing left to do.
    func current(_ record: OrderRecord, _ context: WorkflowContext) throws {
        guard record.run == context.run.id else {
            throw JobError.terminal("cancelled: run \(context.run.id) is not the order's current run")
        }
    }

    // MARK: Steps

    /// Reserves every open line where the policy says, in the step's own commit (all lines or none). Not enough
    /// stock fails the step with hold reasons.
    func reserve(_ context: WorkflowContext) async throws -> WorkflowStepResult {
        let record = try await order(of: context)
        try current(record, context)
        guard record.lifecycle.status == .validated else {
            throw JobError.terminal("cancelled: the order is \(record.lifecycle.status.rawValue), not validated")
        }
        let order = record.order
        let places = order.fulfilment.mode == .pickUpInStore ? order.fulfilment.pickupStore.map { [$0] } ?? [] : policy.shipFrom[order.fulfilment.mode] ?? []
        let products = try await store.products(Array(Set(order.lines.map(\.sku))))
        var change = OrderChange(record, at: context.now, source: InventoryService.hub)
        var reasons: [HoldReason] = []
        var taken: [String: Int64] = [:]  // "sku@location" → units this order reserves there
        let hold = Duration.seconds(min(
            inventory.maximumHold.timeInterval,
            (order.fulfilment.mode == .pickUpInStore ? policy.pickingTimeout + policy.pickupWindow : policy.releaseTimeout + policy.fulfilmentTimeout).timeInterval + 86_400))
        for line in record.openLines {
            guard let product = products[line.sku] else {
                reasons.append(HoldReason(.unknownSKU, "line \(line.id): \(line.sku) is not in the product master"))
                continue
            }
            var available: [LocationID: Int64] = [:]
            for position in try await store.positions(sku: line.sku) where places.contains(position.location) {
                available[position.location] = position.availableToPromise - taken["\(line.sku)@\(position.location)", default: 0]
            }
            var ranked = places
            if inventory.locationChoice == .mostAvailable {
                ranked = places.enumerated().sorted { (available[$0.element] ?? 0, -$0.offset) > (available[$1.element] ?? 0, -$1.offset) }.map(\.element)
            }
            guard let location = ranked.first(where: { available[$0, default: 0] >= line.quantity }) ?? (product.policy.allowBackorder ? ranked.first : nil) else {
                let best = ranked.first.map { "\(available[$0, default: 0]) available at \($0)" } ?? "no location is configured for \(order.fulfilment.mode.rawValue)"
                reasons.append(HoldReason(.stockNotReserved, "line \(line.id): \(line.quantity) × \(line.sku) wanted, \(best)"))
                continue
            }
            taken["\(line.sku)@\(location)", default: 0] += line.quantity
            change.reserve(Reservation(id: record.reservationID(of: line), order: order.id, sku: line.sku, location: location,
                                       quantity: line.quantity, expiresAt: context.now + hold.timeInterval),
                           policy: product.policy)
        }
        guard reasons.isEmpty else { throw Self.held(reasons) }
        try change.move(to: .allocated, cause: "stock reserved for \(record.openLines.count) line(s)")
        return WorkflowStepResult(effects: change.finish())
    }

    /// Compensates `reserve`: the run's active reservations are released.
    func releaseStock(_ context: WorkflowContext) async throws -> Commit {
        let record = try await order(of: context)
        guard record.run == context.run.id else { return Commit() }
        var change = OrderChange(record, at: context.now, source: InventoryService.hub)
        try await change.release(record.order.lines, store: store)
        var commit = change.commit
        commit.events = []  // no order event: the reservation events tell it
        return commit
    }

    /// Runs the gate with the reserved stock, then hands the order over: to the fulfilling system as a job, or for a
    /// pickup into its store's queue (released at once).
    func release(_ context: WorkflowContext) async throws -> WorkflowStepResult {
        let record = try await order(of: context)
        try current(record, context)
        guard record.lifecycle.status == .allocated else {
            throw JobError.terminal("cancelled: the order is \(record.lifecycle.status.rawValue), not allocated")
        }
        var reserved: [String: Int64] = [:]
        for line in record.order.lines {
            let reservation = try await store.reservation(record.reservationID(of: line))
            reserved[line.id] = record.cancelledLines[line.id] != nil ? line.quantity : reservation.map { $0.state == .active ? $0.quantity : 0 } ?? 0
        }
        let reasons = try await service.gate(record.current, stage: .beforeRelease, reserved: reserved)
        guard reasons.isEmpty else { throw Self.held(reasons) }
        var change = OrderChange(record, at: context.now, source: InventoryService.hub)
        if record.order.fulfilment.mode == .pickUpInStore {
            let store = record.order.fulfilment.pickupStore?.rawValue ?? "?"
            try change.append(OrderReleased(system: policy.pickupSystem, document: "pickup queue of \(store)"), source: policy.pickupSystem)
            try change.move(to: .released, cause: "in the pickup queue of \(store)")
            change.notifyChannel(service, status: .released, tracking: nil)
        } else {
            change.commit.jobs.append(OrderJobs.release(service, order: record.order.id, run: context.run.id, at: context.now))
        }
        return WorkflowStepResult(effects: change.finish())
    }

    /// Compensates `release` of a delivery: the fulfilling system is told to stop (the job skips the call when the
    /// order never reached it).
    func cancelAtSystem(_ context: WorkflowContext) async throws -> Commit {
        let record = try await order(of: context)
        return Commit(jobs: [OrderJobs.cancelFulfilment(service, order: record.order.id, lines: nil, reason: "the order's saga compensates",
                                                        at: context.now)])
    }

    /// The order reached its customer: completed, and handed over to financial posting (`order.completed`).
    func complete(_ context: WorkflowContext) async throws -> WorkflowStepResult {
        let record = try await order(of: context)
        guard [.fulfilled, .collected, .partiallyReturned, .returned].contains(record.lifecycle.status) else {
            throw JobError.terminal("the order is \(record.lifecycle.status.rawValue), not fulfilled or collected")
        }
        var change = OrderChange(record, at: context.now, source: InventoryService.hub)
        // A return that came back before the saga got here already moved the status on; the hand-over still happens.
        if [.fulfilled, .collected].contains(record.lifecycle.status) {
            try change.move(to: .completed, cause: "every line reached the customer or was cancelled")
        }
        try change.milestone(.completed, "handed over to financial posting")
        return WorkflowStepResult(effects: change.finish())
    }

    /// Compensates `open`, last: settles the order after the run failed. Held reasons put it on hold; a cancellation
    /// from outside was settled by whoever cancelled; anything else cancels what has not shipped.
    func settle(_ context: WorkflowContext) async throws -> Commit {
        let record = try await order(of: context)
        guard record.run == context.run.id,
              let failed = try await store.workflowRun(context.run.id)?.steps.last(where: { $0.status == .failed }) else { return Commit() }
        let reason = String(decoding: failed.output, as: UTF8.self)
        if reason.hasPrefix("cancelled: ") || record.lifecycle.isEnded { return Commit() }
        var change = OrderChange(record, at: context.now, source: InventoryService.hub)
        if reason.hasPrefix(Self.holdPrefix), OrderStatus.holdable.contains(record.lifecycle.status) {
            let reasons = (try? JSONDecoder().decode([HoldReason].self, from: Data(reason.dropFirst(Self.holdPrefix.count).utf8)))
                ?? [HoldReason(.stockNotReserved, reason)]
            try change.move(to: .onHold, cause: "the fulfilment saga held it at \(failed.name)", holdReasons: reasons)
            return change.finish()
        }
        let why = Self.explain(failed.name, reason, policy: policy)
        if record.lifecycle.status == .partiallyFulfilled {
            try change.append(OrderLinesCancelled(lines: record.openLines.map(\.id), reason: why))
            try change.move(to: .fulfilled, cause: "the lines left were cancelled: \(why)")
            try change.move(to: .completed, cause: "what shipped reached the customer")
            try change.milestone(.completed, "handed over to financial posting")
            try change.refundIfPaid(why)
            change.notifyChannel(service, status: .completed, tracking: nil)
        } else {
            try change.move(to: .cancelled, cause: "cancelled: \(why)")
            try change.refundIfPaid(why)
            change.notifyChannel(service, status: .cancelled, tracking: nil)
        }
        return change.finish()
    }

    static func held(_ reasons: [HoldReason]) -> JobError {
        let json = (try? JSONEncoder().encode(reasons)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        return .terminal(holdPrefix + json)
    }

    /// What a failed step means for the people reading the order's history.
    static func explain(_ step: String, _ reason: String, policy: OrderService.Policy) -> String {
        switch step {
        case "await-release": "the fulfilling system did not accept it within \(policy.releaseTimeout.hoursText)"
        case "await-fulfilment": "it did not ship within \(policy.fulfilmentTimeout.hoursText)"
        case "await-picked": "the store did not pick it within \(policy.pickingTimeout.hoursText)"
        case "await-collection": "not collected within the pickup window (\(policy.pickupWindow.hoursText))"
        default: "step \(step) failed: \(reason)"
        }
    }
}

extension OrderLifecycle {
    /// Cancelled, or past the point where a saga's failure changes the status (completed, returned).
    var isEnded: Bool { [.cancelled, .completed, .fulfilled, .collected, .partiallyReturned, .returned].contains(status) }
}

extension Duration {
    var hoursText: String {
        let hours = timeInterval / 3600
        return hours >= 48 && hours.truncatingRemainder(dividingBy: 24) == 0 ? "\(Int(hours / 24)) days" : hours >= 1 ? "\(Int(hours)) h" : "\(Int(timeInterval)) s"
    }
}
