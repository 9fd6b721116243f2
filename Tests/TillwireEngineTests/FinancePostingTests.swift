import Foundation
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireTesting

/// Daily summarised posting and the finance reconciliation, on a real SQLite store with an in-process ERP. The
/// harness's clock starts at 2027-01-15 08:00 UTC.
@Suite struct FinancePostingTests {
    func report(_ hub: OrderHarness, _ location: LocationID, _ day: String) async throws -> FinanceReconciliation {
        try await FinanceReconciliation.build(location: location, businessDay: day, store: hub.store, orders: hub.service, returns: hub.returns,
                                              chart: ChartOfAccounts(), now: hub.clock.now())
    }

    func total(_ report: FinanceReconciliation, _ basis: FinanceReconciliation.Total.Basis) -> FinanceReconciliation.Total? {
        report.totals.first { $0.basis == basis }
    }

    @Test func aDailyLocationPostsOneSummaryOfItsDayAndALateDocumentGetsASecond() async throws {
        let hub = try await OrderHarness(ledger: true, daily: ["dc-1"])
        let first = try await hub.shippedOrder("7001")
        let second = try await hub.shippedOrder("7002")
        #expect(hub.erp.posted.withLock { $0 }.isEmpty, "nothing is posted before the day closes")
        var open = try await report(hub, "dc-1", "2027-01-15")
        #expect(open.differences.map(\.kind) == [.awaitingDayClose, .awaitingDayClose])
        #expect(total(open, .tender("web"))?.source == 7_200 && total(open, .tender("web"))?.booked == 7_200 && total(open, .tender("web"))?.posted == 0)
        #expect(try await hub.store.journalBacklog(storeDaysBefore: "9999-12-31").awaitingDayClose == 2)

        // The day ends at midnight; its close runs an hour later.
        try await hub.advance(hours: 16.5)
        #expect(hub.erp.posted.withLock { $0 }.isEmpty)
        try await hub.advance(hours: 1)
        let summaryID = "je-day-dc-1-2027-01-15-GBP-1"
        #expect(hub.erp.posted.withLock { $0 } == [summaryID])
        let summary = try #require(try await Ledger.entry(summaryID, store: hub.store))
        #expect(summary.entry.kind == .summary && summary.entry.total == 7_200)
        #expect(summary.entry.sources == [JournalSource(.entry, "je-sale-\(first.id)-1"), JournalSource(.entry, "je-sale-\(second.id)-1")])
        #expect(summary.entry.lines.first { $0.account == "2200" }?.credit == 1_200, "tax per rate, summed")
        let closed = try await report(hub, "dc-1", "2027-01-15")
        #expect(closed.differences.isEmpty, "\(closed.differences)")
        #expect(closed.totals.allSatisfy { $0.source == $0.booked && $0.booked == $0.posted }, "\(closed.totals)")
        #expect(closed.text().contains("no differences"))

        // A document of that day arriving late (a till's batch after midnight) is summarised by a close of its own.
        let late = try JournalBuilder.sale(id: "je-sale-late", order: first, pricing: try OrderPricing(first), lines: ["2"], includeShipping: false,
                                           tender: "web", costs: [:], businessDay: "2027-01-15", location: "dc-1", sources: [], chart: ChartOfAccounts())
        var commit = Commit()
        try #require(hub.service.policy.ledger).book(try #require(late), into: &commit, correlation: "late", causation: nil, at: hub.clock.now())
        _ = try await hub.store.commit(commit)
        try await hub.drain()
        #expect(hub.erp.posted.withLock { $0 } == [summaryID, "je-day-dc-1-2027-01-15-GBP-2"])
        #expect(try await hub.store.journalBacklog(storeDaysBefore: "9999-12-31") == JournalBacklog(queued: 0, oldestQueued: nil, awaitingDayClose: 0, unpostedStoreDays: 0))
    }

    @Test func theReconciliationListsWhatTheERPDoesNotHaveAndTotalsPerTenderAndRate() async throws {
        let hub = try await OrderHarness(ledger: true)
        hub.erp.down.withLock { $0 = true }
        let order = try await hub.shippedOrder("7101")
        let (ret, _) = try await hub.returns.authorize(
            try ReturnRequest(channel: "pos", channelReturnID: "R-71", order: order.id, location: "store-1",
                              lines: [try ReturnRequestLine(orderLine: "2", sku: "MUG", quantity: 1, reason: .changedMind, condition: .unopened)],
                              refund: .storeTender, tender: "cash"),
            received: true, source: "pos")
        try await hub.drain()
        let dc = try await report(hub, "dc-1", "2027-01-15")
        #expect(dc.differences.map(\.kind) == [.unposted] && dc.differences.first?.entry == "je-sale-\(order.id)-1")
        #expect(total(dc, .tender("web"))?.source == 3_600 && total(dc, .tender("web"))?.posted == 0)
        #expect(total(dc, .taxRate(2000))?.source == 600)
        #expect(dc.text().contains("1 difference(s)"))
        let store = try await report(hub, "store-1", "2027-01-15")
        #expect(total(store, .tender("cash"))?.source == -600, "the till paid £6.00 out")
        #expect(total(store, .taxRate(2000))?.booked == -100)
        #expect(store.differences.first?.entry == "je-refund-\(ret.id)")

        hub.erp.down.withLock { $0 = false }
        for _ in 0..<6 { try await hub.advance(hours: 2) }
        for location: LocationID in ["dc-1", "store-1"] {
            let clean = try await report(hub, location, "2027-01-15")
            #expect(clean.differences.isEmpty && clean.totals.allSatisfy { $0.source == $0.posted }, "\(location): \(clean.text())")
        }
    }
}
