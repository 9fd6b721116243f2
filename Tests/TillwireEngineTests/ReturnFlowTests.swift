import Foundation
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireTesting

/// The return saga and financial posting, end to end on a real SQLite store with in-process channel and ERP.
extension OrderHarness {
    /// A web order (shirts at £24.00, two mugs at £6.00) shipped from dc-1 and completed.
    func shippedOrder(_ number: String, shirts: Int64 = 1) async throws -> Order {
        try await receive("SHIRT", at: "dc-1", 10)
        try await receive("MUG", at: "dc-1", 10)
        let order = try OrderHarness.order(number, shirts: shirts)
        _ = try await service.capture(order, source: "web")
        try await drain()
        _ = try await service.ship(order.id, shipment: "S-\(number)", lines: ["1", "2"], tracking: nil, source: "warehouse")
        try await drain()
        #expect(try await status(order.id) == .completed)
        return order
    }
}

@Suite struct ReturnFlowTests {
    func shippedOrder(_ hub: OrderHarness, _ number: String, shirts: Int64 = 1) async throws -> Order {
        try await hub.shippedOrder(number, shirts: shirts)
    }

    func request(_ number: String, order: OrderID?, _ lines: [ReturnRequestLine], refund: RefundMethod = .originalTender,
                 at location: LocationID = "store-1") throws -> ReturnRequest {
        try ReturnRequest(channel: "pos", channelReturnID: number, order: order, location: location, lines: lines, refund: refund,
                          tender: refund == .storeTender ? "cash" : nil)
    }

    func line(_ orderLine: String?, _ sku: SKU, _ quantity: Int64, reason: ReturnReason = .changedMind, condition: ItemCondition = .unopened,
              price: Money? = nil) throws -> ReturnRequestLine {
        try ReturnRequestLine(orderLine: orderLine, sku: sku, quantity: quantity, reason: reason, condition: condition, unitPrice: price,
                              taxRate: price == nil ? nil : 2000)
    }

    @Test func aWebOrderReturnedInAStoreIsRestockedThereRefundedCreditedAndTheChannelTold() async throws {
        let hub = try await OrderHarness(ledger: true)
        let order = try await shippedOrder(hub, "5001")
        // The till finds the web order by the number on the customer's email.
        let found = try await hub.store.orderSummaries(matching: .channelOrderID("5001"), limit: 10)
        #expect(found.map(\.id) == [order.id])
        #expect(try await hub.store.orderSummaries(matching: .customerEmail("ANN@example.org"), limit: 10).map(\.id) == [order.id])

        let (authorized, created) = try await hub.returns.authorize(
            try request("S1-R-0001", order: order.id, [try line("2", "MUG", 1)]), received: true, source: "pos")
        #expect(created && authorized.status == .refundPending)
        #expect(authorized.authorization.refundTotal == 600)
        try await hub.drain()

        let record = try #require(try await hub.returns.record(authorized.id))
        #expect(record.status == .completed)
        #expect(record.refund?.reference == "RF-S1-R-0001")
        #expect(hub.systems.log.contains("refund 6.00 for 5001"))
        // Restocked where it came back, not where it shipped from.
        #expect(try await hub.position("MUG", "store-1").onHand == 1)
        #expect(try await hub.position("MUG", "dc-1").onHand == 8)
        let orderRecord = try #require(try await hub.service.record(order.id))
        #expect(orderRecord.lifecycle.status == .partiallyReturned)
        #expect(hub.systems.log.last == "notify partially_returned")
        // The credit note reached the ERP, after the sale, and its document id is stored.
        let credit = try #require(try await Ledger.entry("je-refund-\(authorized.id)", store: hub.store))
        #expect(credit.entry.kind == .refund && credit.entry.total == 600 && credit.entry.location == "store-1")
        #expect(credit.posted?.document != nil)
        #expect(hub.erp.posted.withLock { $0 } == ["je-sale-\(order.id)-1", "je-refund-\(authorized.id)"])
        let postings = try await Ledger.entries(of: CorrelationID(trusted: order.id.rawValue), store: hub.store)
        #expect(postings.map(\.entry.kind) == [.sale] && postings.allSatisfy { $0.posted != nil })
        // The same return again changes nothing.
        let again = try await hub.returns.authorize(try request("S1-R-0001", order: order.id, [try line("2", "MUG", 1)]), received: true, source: "pos")
        #expect(!again.created)
        try await hub.drain()
        #expect(hub.systems.log.filter { $0.hasPrefix("refund") }.count == 1)
        #expect(try await hub.position("MUG", "store-1").onHand == 1)
    }

    @Test func partialReturnsOverSeveralVisitsRefundExactlyWhatWasPaid() async throws {
        let hub = try await OrderHarness(ledger: true, returnPolicy: { $0.rules.shipping = .fullReturn })
        let order = try await shippedOrder(hub, "5002", shirts: 3)
        var refunded: Int64 = 0
        let visits: [[(String, SKU, Int64)]] = [[("1", "SHIRT", 1)], [("1", "SHIRT", 2), ("2", "MUG", 1)], [("2", "MUG", 1)]]
        for (visit, lines) in visits.enumerated() {
            let (record, _) = try await hub.returns.authorize(
                try request("V-\(visit)", order: order.id, try lines.map { try line($0.0, $0.1, $0.2) }, refund: .storeTender), received: true, source: "pos")
            refunded += record.authorization.refundTotal
            try await hub.drain()
            #expect(try await hub.returns.record(record.id)?.status == .completed)
            #expect(try await hub.status(order.id) == (visit == 2 ? .returned : .partiallyReturned))
        }
        #expect(refunded == order.total.minorUnits)
        let refused = await #expect(throws: ReturnRefused.self) {
            try await hub.returns.authorize(try request("V-9", order: order.id, [try line("2", "MUG", 1)]), received: true, source: "pos")
        }
        #expect(refused?.refusals.map(\.code) == [.orderNotReturnable])
        #expect(refused?.description.contains("every unit of it has come back") == true)
        #expect(try await hub.position("SHIRT", "store-1").onHand == 3)
        // Each store tender refund was paid at the till: nothing went to the channel.
        #expect(!hub.systems.log.contains { $0.hasPrefix("refund") })
        #expect(hub.erp.posted.withLock { $0 }.count == 4)
    }

    @Test func twoReturnsRacingForTheLastUnitTakeItOnce() async throws {
        let hub = try await OrderHarness()
        let order = try await shippedOrder(hub, "5003")
        @Sendable func attempt(_ number: String) async -> Result<ReturnRecord, any Error> {
            do {
                return .success(try await hub.returns.authorize(try request(number, order: order.id, [try line("1", "SHIRT", 1)]), received: false,
                                                                source: "pos").record)
            } catch {
                return .failure(error)
            }
        }
        async let first = attempt("A")
        async let second = attempt("B")
        let outcomes = await [first, second]
        #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
        let refusal = outcomes.compactMap { outcome -> ReturnRefused? in
            if case .failure(let error) = outcome { return error as? ReturnRefused }
            return nil
        }
        #expect(refusal.first?.refusals.map(\.code) == [.exceedsReturnable])
        #expect(try await hub.service.record(order.id)?.returnedUnits == ["1": 1])
    }

    @Test func aReturnNeverReceivedIsVoidedAndItsUnitsCanComeBackLater() async throws {
        let hub = try await OrderHarness()
        let order = try await shippedOrder(hub, "5004")
        let (record, _) = try await hub.returns.authorize(try request("RMA-1", order: order.id, [try line("1", "SHIRT", 1)]), received: false, source: "web")
        try await hub.drain()
        #expect(try await hub.returns.record(record.id)?.status == .authorized)
        try await hub.advance(hours: 24 * 29)
        #expect(try await hub.returns.record(record.id)?.status == .authorized)
        try await hub.advance(hours: 24 * 2)
        let voided = try #require(try await hub.returns.record(record.id))
        #expect(voided.status == .voided)
        #expect(voided.closed?.reason.contains("did not come back") == true)
        #expect(try await hub.service.record(order.id)?.returnedUnits == [:])
        #expect(try await hub.status(order.id) == .completed)
        // Called off by hand, the same way.
        let later = try await shippedOrder(hub, "5014")
        let (second, _) = try await hub.returns.authorize(try request("RMA-2", order: later.id, [try line("1", "SHIRT", 1)]), received: false, source: "web")
        #expect(try await hub.service.record(later.id)?.returnedUnits == ["1": 1])
        _ = try await hub.returns.void(second.id, reason: "customer kept it", source: "web")
        try await hub.drain()
        #expect(try await hub.returns.record(second.id)?.status == .voided)
        #expect(try await hub.service.record(later.id)?.returnedUnits == [:])
        await #expect(throws: ReturnService.ReturnStateRefused.self) { try await hub.returns.receive(second.id, at: "store-1", source: "pos") }
        #expect(try await hub.position("SHIRT", "store-1").onHand == 0)
    }

    @Test func aRefundThatFailsStaysPendingWithItsReasonAndGoesThroughWhenThePaymentSideRecovers() async throws {
        let hub = try await OrderHarness(ledger: true)
        let order = try await shippedOrder(hub, "5005")
        hub.systems.refundFailure.withLock { $0 = .retryable("payment gateway: 503", retryAfter: nil) }
        let (record, _) = try await hub.returns.authorize(try request("R-5", order: order.id, [try line("1", "SHIRT", 1)]), received: true, source: "pos")
        try await hub.drain()
        try await hub.advance(hours: 1)
        #expect(try await hub.returns.record(record.id)?.status == .refundPending)
        let job = try #require(try await hub.store.jobs(partitionKeyPrefix: OrderJobs.partitionPrefix(order.id), limit: 10).first { $0.kind == "shop.refund" })
        #expect(job.lastError?.contains("payment gateway: 503") == true)
        #expect(try await hub.status(order.id) == .completed)

        hub.systems.refundFailure.withLock { $0 = nil }
        for _ in 0..<12 { try await hub.advance(hours: 2) }
        #expect(try await hub.returns.record(record.id)?.status == .completed)
        #expect(hub.systems.log.filter { $0.hasPrefix("refund") } == ["refund 24.00 for 5005"])
        #expect(try await hub.status(order.id) == .partiallyReturned)
    }

    @Test func aReturnWithoutAnOrderFollowsThePolicy() async throws {
        let refusing = try await OrderHarness()
        let legacy = try request("T9-0042", order: nil, [try line(nil, "MUG", 2, price: OrderHarness.money("6.00"))], refund: .storeTender)
        await #expect(throws: ReturnRefused.self) { try await refusing.returns.authorize(legacy, received: true, source: "pos") }
        #expect(try await refusing.position("MUG", "store-1").onHand == 0)

        let hub = try await OrderHarness(ledger: true, returnPolicy: { $0.rules.acceptUnreferenced = true })
        let (record, _) = try await hub.returns.authorize(legacy, received: true, source: "pos")
        try await hub.drain()
        #expect(try await hub.returns.record(record.id)?.status == .completed)
        #expect(try await hub.position("MUG", "store-1").onHand == 2)
        let credit = try #require(try await Ledger.entry("je-refund-\(record.id)", store: hub.store))
        #expect(credit.entry.lines.first { $0.tender == "cash" }?.credit == 1_200)
        #expect(credit.entry.sources == [JournalSource(.return, record.id.rawValue)])
    }

    @Test func theERPDownDuringPostingDelaysEveryEntryThenPostsEachOnceInOrder() async throws {
        let hub = try await OrderHarness(ledger: true)
        hub.erp.down.withLock { $0 = true }
        var orders: [Order] = []
        for number in ["6001", "6002", "6003"] { orders.append(try await shippedOrder(hub, number)) }
        let (ret, _) = try await hub.returns.authorize(try request("R-6", order: orders[0].id, [try line("2", "MUG", 2)], refund: .storeTender),
                                                      received: true, source: "pos")
        try await hub.drain()
        try await hub.advance(hours: 1)
        #expect(hub.erp.posted.withLock { $0 }.isEmpty)
        let pending = try await hub.store.jobs(in: .pending, limit: 100).filter { $0.kind == "erp.journal_post" }
        #expect(pending.count == 4)
        // The ERP comes back; its first answer is lost in a timeout after it accepted the post.
        hub.erp.down.withLock { $0 = false }
        hub.erp.timeOutAfterAccepting.withLock { $0 = true }
        for _ in 0..<12 { try await hub.advance(hours: 2) }
        let sales = orders.map { "je-sale-\($0.id)-1" }
        let expected = sales + ["je-refund-\(ret.id)"]
        let posted = hub.erp.posted.withLock { $0 }
        // Each entry reached the ERP once; the DC's entries (one partition) in the order they were booked. The
        // store's credit note is another partition and may pass them.
        #expect(posted.sorted() == expected.sorted())
        #expect(posted.filter { sales.contains($0) } == sales)
        var found = 0
        for id in expected {
            let entry = try #require(try await Ledger.entry(id, store: hub.store))
            #expect(entry.posted != nil, "\(id) posted")
            if entry.posted?.found == true { found += 1 }
        }
        #expect(found == 1, "the post that timed out after the ERP accepted it was found by its reference, not posted again")
        #expect(try await hub.store.jobs(in: .pending, limit: 100).filter { $0.kind == "erp.journal_post" }.isEmpty)
    }

    @Test func aLineHeldForInspectionIsRestockedOrWrittenOffWhenDecided() async throws {
        let hub = try await OrderHarness()
        let order = try await shippedOrder(hub, "5006")
        let lines = [try ReturnRequestLine(orderLine: "1", sku: "SHIRT", quantity: 1, reason: .defective, condition: .opened, disposition: .inspect),
                     try ReturnRequestLine(orderLine: "2", sku: "MUG", quantity: 2, reason: .defective, condition: .opened, disposition: .inspect)]
        let (record, _) = try await hub.returns.authorize(try request("R-6", order: order.id, lines, refund: .storeTender), received: true, source: "pos")
        try await hub.drain()
        #expect(try await hub.returns.record(record.id)?.awaitingInspection.count == 2)
        #expect(try await hub.position("SHIRT", "store-1").onHand == 0, "held aside, not in stock")
        await #expect(throws: ReturnService.ReturnStateRefused.self) {
            try await hub.returns.inspect(record.id, line: 5, outcome: .restock, note: nil, source: "pos")
        }

        _ = try await hub.returns.inspect(record.id, line: 0, outcome: .restock, note: "stitching fine", source: "pos")
        _ = try await hub.returns.inspect(record.id, line: 0, outcome: .restock, note: nil, source: "pos")
        await #expect(throws: ReturnService.ReturnStateRefused.self) {
            try await hub.returns.inspect(record.id, line: 0, outcome: .damaged, note: nil, source: "pos")
        }
        _ = try await hub.returns.inspect(record.id, line: 1, outcome: .damaged, note: "cracked", source: "pos")
        #expect(try await hub.position("SHIRT", "store-1").onHand == 1)
        #expect(try await hub.position("MUG", "store-1").onHand == 0)
        let ledger = try await hub.store.ledger(sku: "MUG", location: "store-1").map { $0.movement.reason }
        #expect(ledger == [.return, .damage], "the write-off shows in the ledger")
        let decided = try #require(try await hub.returns.record(record.id))
        #expect(decided.awaitingInspection.isEmpty && decided.status == .completed)
    }

    @Test func aReceivedReturnWhoseRunFailsIsTakenUpByANewRunAndRefundedOnce() async throws {
        let hub = try await OrderHarness(ledger: true)
        let order = try await shippedOrder(hub, "5007")
        hub.systems.refundFailure.withLock { $0 = .retryable("payment gateway: 503", retryAfter: nil) }
        let (record, _) = try await hub.returns.authorize(try request("R-7", order: order.id, [try line("1", "SHIRT", 1)]), received: true, source: "pos")
        try await hub.drain()
        // Something ends the run after the receipt (here: a cancellation): the refund is still owed.
        _ = try await hub.store.commit(Commit(jobs: [WorkflowRunner.cancelJob(record.run, reason: "operator stopped it", now: hub.clock.now())]))
        try await hub.drain()
        #expect(try await hub.store.workflowRun(record.run)?.run.state == .compensated)
        #expect(try await hub.returns.record(record.id)?.status == .refundPending)
        hub.systems.refundFailure.withLock { $0 = nil }
        for _ in 0..<12 { try await hub.advance(hours: 2) }
        #expect(try await hub.returns.record(record.id)?.status == .completed)
        #expect(hub.systems.log.filter { $0.hasPrefix("refund") } == ["refund 24.00 for 5007"])
        #expect(hub.erp.posted.withLock { $0 }.filter { $0.hasPrefix("je-refund") } == ["je-refund-\(record.id)"])
    }

    @Test func aRepeatThatHandsTheItemsOverReceivesThem() async throws {
        let hub = try await OrderHarness()
        let order = try await shippedOrder(hub, "5008")
        let taken = try request("R-8", order: order.id, [try line("2", "MUG", 1)], refund: .storeTender)
        let (first, _) = try await hub.returns.authorize(taken, received: false, source: "pos")
        #expect(first.status == .authorized)
        let (again, created) = try await hub.returns.authorize(taken, received: true, source: "pos")
        #expect(!created && again.status == .refunded)
        #expect(try await hub.position("MUG", "store-1").onHand == 1)
        _ = try await hub.returns.authorize(taken, received: true, source: "pos")
        #expect(try await hub.position("MUG", "store-1").onHand == 1)
    }
}
