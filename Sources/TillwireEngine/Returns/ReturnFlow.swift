import Foundation
import Metrics
import TillwireDomain
import TillwireStorage

/// A channel's payment side, as refunds need it (jobs `<system>.refund`, behind that system's breaker and limits).
public protocol ChannelRefundClient: Sendable {
    /// Refunds `amount` of `order` to the tender it was paid with; returns the refund's id. The same `key` again must
    /// not refund twice.
    func refund(_ order: Order, amount: Money, for authorization: ReturnAuthorization, key: String) async throws -> String
}

/// The return saga (`return.flow`), one run per return (see docs/returns.md):
///
/// authorize → await-receipt (`return.received`) → refund (a job to the order's channel, or nothing when the till
/// paid) → await-refund (`return.refunded`) → credit (the credit note, booked and posted to the ERP) → close (the
/// order becomes partially returned or returned, its channel is told).
///
/// Until the items are received, a failure (the receipt window ended, the return was called off) compensates:
/// `authorize`'s compensation voids the return and its units are returnable again. After the receipt the flow only
/// goes forward: a failing refund is retried, then waits in the dead letters for a replay, and the return shows
/// `refund_pending` with the job's error; it is never dropped.
public struct ReturnFlow: Sendable {
    public static let type = "return.flow"
    public static let version = 1
    /// High: after the receipt the steps only go forward, and a step that runs out of attempts restarts the flow.
    public static let maxAttempts = 20

    let service: ReturnService
    var store: any Store { service.store }
    var orders: OrderService { service.orders }

    public init(service: ReturnService) {
        self.service = service
    }

    public var definitions: [WorkflowDefinition] {
        [WorkflowDefinition(type: Self.type, version: Self.version, maxAttempts: Self.maxAttempts, steps: [
            .action("authorize", run: { _ in WorkflowStepResult() }, compensate: settle),
            .waitForEvent("await-receipt", type: ReturnReceived.eventType, timeout: service.policy.receiptWindow),
            .action("refund", run: refund),
            .waitForEvent("await-refund", type: ReturnRefunded.eventType, timeout: service.policy.refundWait),
            .action("credit", run: credit),
            .action("close", run: close),
        ])]
    }

    func record(of context: WorkflowContext) async throws -> ReturnRecord {
        guard let id = String(data: context.run.input, encoding: .utf8).flatMap({ try? ReturnID($0) }),
              let record = try await service.record(id) else {
            throw JobError.terminal("the run's return does not exist")
        }
        return record
    }

    /// Asks the order's channel to refund the original tender; a till's refund was recorded at the receipt.
    func refund(_ context: WorkflowContext) async throws -> WorkflowStepResult {
        let record = try await record(of: context)
        guard record.refund == nil, record.status != .voided else { return WorkflowStepResult() }
        guard record.authorization.refundTotal > 0 else {
            // Nothing was paid for what came back (a free item): there is no payment to refund.
            let nothing = ReturnRefunded(amount: Money.zero(record.authorization.currency), method: record.authorization.request.refund,
                                         tender: record.authorization.request.refundTender(orderChannel: record.authorization.orderChannel),
                                         reference: "nothing to refund")
            let event = try NewEvent(stream: ReturnService.stream(record.id), correlationID: CorrelationID(trusted: record.id.rawValue),
                                     occurredAt: context.now, source: InventoryService.hub, payload: nothing)
            return WorkflowStepResult(effects: Commit(events: [EventAppend(event, expected: .exactly(record.version))]))
        }
        return WorkflowStepResult(effects: Commit(jobs: [ReturnJobs.refund(record, orders: orders, at: context.now)]))
    }

    /// Books the credit note: the refund's journal entry, posted to the ERP by its own job. Records the refund's
    /// latency (items received → money back) as `tillwire_refund_latency_seconds{method}`.
    func credit(_ context: WorkflowContext) async throws -> WorkflowStepResult {
        let record = try await record(of: context)
        if context.attempt == 1, let received = record.receivedAt, let refunded = record.refundedAt, let refund = record.refund {
            Timer(label: "tillwire_refund_latency_seconds", dimensions: [("method", refund.method.rawValue)])
                .recordSeconds(max(0, refunded.timeIntervalSince(received)))
        }
        guard let ledger = service.policy.ledger, let refund = record.refund else { return WorkflowStepResult() }
        let id = "je-refund-\(record.id.rawValue)"
        if try await Ledger.entry(id, store: store) != nil { return WorkflowStepResult() }
        let authorization = record.authorization
        let restocked = (record.received?.restocked ?? [:]).reduce(into: [SKU: Int64]()) { $0[SKU(trusted: $1.key)] = $1.value }
        var sources = [JournalSource(.return, record.id.rawValue)]
        if let order = authorization.request.order { sources.insert(JournalSource(.order, order.rawValue), at: 0) }
        guard let entry = try JournalBuilder.refund(
            id: id, authorization: authorization, tender: refund.tender, costs: [:], restocked: restocked,
            businessDay: ledger.businessDay(record.refundedAt ?? context.now), location: record.received?.location, sources: sources,
            chart: ledger.policy.chart) else { return WorkflowStepResult() }
        var commit = Commit()
        try ledger.book(entry, into: &commit, correlation: CorrelationID(trusted: record.id.rawValue), causation: nil, at: context.now)
        return WorkflowStepResult(effects: commit)
    }

    /// The order's status moves to partially returned or returned (where the status machine allows it), the order's
    /// channel is told, and the return is completed.
    func close(_ context: WorkflowContext) async throws -> WorkflowStepResult {
        let record = try await record(of: context)
        guard record.closed == nil else { return WorkflowStepResult() }
        var commit = Commit()
        let correlation = CorrelationID(trusted: record.id.rawValue)
        if let orderID = record.authorization.request.order {
            var change = OrderChange(try await orders.existing(orderID), at: context.now, source: InventoryService.hub, causation: record.id.rawValue)
            try change.append(OrderReturnSettled(returnID: record.id, completed: true, reason: "received and refunded"))
            let order = change.record
            let everyUnitBack = order.openLines.isEmpty
                && order.order.lines.allSatisfy { order.leftAt[$0.id] == nil || order.completedReturnUnits[$0.id, default: 0] >= $0.quantity }
            let next: OrderStatus = everyUnitBack ? .returned : .partiallyReturned
            if OrderStatus.transitions[order.lifecycle.status, default: []].contains(next) {
                try change.move(to: next, cause: "return \(record.authorization.request.channelReturnID) (\(record.authorization.request.channel)) received and refunded")
                change.notifyChannel(orders, status: next, tracking: nil)
            }
            commit = change.finish()
        }
        commit.events.append(EventAppend(try NewEvent(stream: ReturnService.stream(record.id), correlationID: correlation, occurredAt: context.now,
                                                      source: InventoryService.hub,
                                                      payload: ReturnClosed(outcome: .completed, reason: "received, refunded and credited")),
                                         expected: .exactly(record.version)))
        return WorkflowStepResult(effects: commit)
    }

    /// Compensates `authorize`, last: a return whose items never came back is voided (its units returnable again).
    /// One received and not closed is owed its refund, credit note and order status whatever failed (a receipt that
    /// landed just as the receipt window ran out, a step out of attempts): a new run of the flow starts and takes it
    /// from where the return stands (the waits find the events that are there; the refund and the credit note are
    /// not repeated).
    func settle(_ context: WorkflowContext) async throws -> Commit {
        let record = try await record(of: context)
        guard record.closed == nil else { return Commit() }
        if record.received != nil {
            var commit = Commit()
            commit.startWorkflow(type: Self.type, version: Self.version, maxAttempts: Self.maxAttempts, input: context.run.input,
                                 correlationID: CorrelationID(trusted: record.id.rawValue), now: context.now)
            return commit
        }
        let failed = try await store.workflowRun(context.run.id)?.steps.last { $0.status == .failed }
        let reason = failed?.name == "await-receipt"
            ? "the items did not come back within \(service.policy.receiptWindow.hoursText)"
            : failed.map { String(decoding: $0.output, as: UTF8.self) } ?? "the return saga failed"
        return try service.voiding(record, reason: reason, source: InventoryService.hub, at: context.now)
    }
}

/// The refund jobs: `<system>.refund`, where the system is the order's channel's (`OrderService.Policy.system(of:)`).
/// Their partition key is `<order>/<system>/refund`: one order's refunds run in order, apart from its notifications.
public enum ReturnJobs {
    public static func refundKind(_ system: SystemID) -> String { "\(system.rawValue).refund" }

    static func refund(_ record: ReturnRecord, orders: OrderService, at: Date) -> NewJob {
        let channel = record.authorization.orderChannel ?? record.authorization.request.channel
        let system = orders.policy.system(of: channel)
        // A partition of its own: a notification of the order that is stuck must not hold the refund back.
        let partition = (record.authorization.request.order.map { OrderJobs.partition($0, system) } ?? "\(record.id.rawValue)/\(system.rawValue)") + "/refund"
        return NewJob(kind: refundKind(system), payload: Data(record.id.rawValue.utf8), partitionKey: partition,
                      uniqueKey: "refund/\(record.id.rawValue)", runAt: at, maxAttempts: 50)
    }

    /// Refunds a return's original tender through a channel, and records `return.refunded` with the channel's id.
    public struct Refund: JobHandler {
        let returns: ReturnService
        let system: SystemID
        let client: any ChannelRefundClient
        public var kind: String { ReturnJobs.refundKind(system) }

        public init(returns: ReturnService, system: SystemID, client: any ChannelRefundClient) {
            self.returns = returns
            self.system = system
            self.client = client
        }

        public func handle(_ job: Job) async throws -> Commit {
            guard let id = try? ReturnID(String(decoding: job.payload, as: UTF8.self)) else { throw JobError.terminal("not a return id") }
            let record = try await returns.existing(id)
            guard record.refund == nil else { return Commit() }
            guard let orderID = record.authorization.request.order else {
                throw JobError.terminal("a return without an order has no original tender to refund")
            }
            let order = try await returns.orders.existing(orderID)
            let amount = Money(minorUnits: record.authorization.refundTotal, currency: record.authorization.currency)
            let reference = try await client.refund(order.current, amount: amount, for: record.authorization, key: "refund/\(id.rawValue)")
            let refunded = ReturnRefunded(amount: amount, method: .originalTender, tender: record.authorization.request.refundTender(orderChannel: order.order.channel),
                                          reference: reference)
            let event = try NewEvent(stream: ReturnService.stream(id), correlationID: CorrelationID(trusted: id.rawValue), causationID: job.id.rawValue,
                                     occurredAt: returns.now(), source: system, payload: refunded)
            return Commit(events: [EventAppend(event, expected: .exactly(record.version))])
        }
    }
}
