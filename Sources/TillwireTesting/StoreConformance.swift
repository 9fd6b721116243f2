import Foundation
import TillwireDomain
import TillwireStorage

/// One conformance case: a named check that a backend must pass on a fresh, migrated store.
public struct StoreConformanceCase: Sendable, CustomStringConvertible {
    public let name: String
    public let run: @Sendable (any Store) async throws -> Void
    public var description: String { name }
}

/// The ONE suite every storage backend passes (SQLite in memory, SQLite on a file, PostgreSQL).
/// A behaviour change extends this suite first.
public enum StoreConformance {
    public static let cases: [StoreConformanceCase] = [
        .init(name: "migrations are idempotent and current", run: migrationsAreIdempotent),
        .init(name: "appended events read back in stream and log order", run: appendAndRead),
        .init(name: "expected version conflicts refuse the whole commit", run: optimisticConcurrency),
        .init(name: "concurrent appends to one stream lose nothing", run: concurrentAppends),
        .init(name: "of concurrent appends expecting one version exactly one wins", run: concurrentExpectedVersion),
        .init(name: "inbox key applies a message once", run: inboxDedupe),
        .init(name: "a rejected part rolls back state, events and jobs together", run: commitIsAtomic),
        .init(name: "movements keep on hand equal to the ledger, once per source key", run: movements),
        .init(name: "counts correct against the ledger at their as-of time", run: countsAsOf),
        .init(name: "reservations hold ATP and end exactly once", run: reservations),
        .init(name: "stock is conserved over random operations", run: stockConservation),
        .init(name: "jobs are leased, and a lost lease cannot complete", run: jobLeases),
        .init(name: "failed jobs retry at their time and die when out of attempts", run: jobRetries),
        .init(name: "a unique job key enqueues once", run: uniqueJobs),
        .init(name: "the queue's statistics count jobs by kind and state, with the longest-waiting due one", run: jobQueueStatistics),
        .init(name: "a job keeps the trace it was enqueued in", run: jobTraceParent),
        .init(name: "jobs of one partition key run one at a time, in order, behind a dead one", run: partitionOrder),
        .init(name: "dead jobs are listed by filter and replayed with an audit record", run: deadLetterReplay),
        .init(name: "a deferred job spends no attempt and says why it waits", run: deferredJobs),
        .init(name: "retention purges old dead jobs and finished runs, nothing else", run: retention),
        .init(name: "workflow steps are recorded once and compensations kept", run: workflows),
        .init(name: "events of one business flow read back by correlation id", run: correlation),
        .init(name: "several appends to one stream in one commit are checked in order", run: appendsInOneCommit),
        .init(name: "a completion whose effects are refused leaves the job leased and writes nothing", run: refusedCompletion),
        .init(name: "checkpoints advance with their effects, and only from where they were", run: checkpoints),
        .init(name: "a commit with events signals subscribers", run: signals),
        .init(name: "one owner at a time leases a subscriber", run: subscriptionLeases),
        .init(name: "API keys are stored hashed, revoked and expired; the audit log keeps every entry", run: access),
        .init(name: "an idempotency key runs a request once and answers repeats with its response", run: idempotency),
        .init(name: "locations and products are put, replaced and read back; positions read by SKU", run: catalog),
        .init(name: "inventory events are built from what each change did, in the same transaction", run: inventoryEvents),
        .init(name: "transfers are in transit to their destination until received, in either order", run: transfers),
        .init(name: "a pending job absorbs later jobs with its coalesce key; a running one does not", run: coalescingJobs),
        .init(name: "order summaries are upserted with their commit and read by pickup store and status", run: orderSummaries),
        .init(name: "orders are found by their channel number and by the customer's email", run: orderSearch),
        .init(name: "journal rows are recorded once, posted, summarised and read per store day", run: journalProjection),
        .init(name: "price versions are kept, never overwritten, and promotions are read by window", run: pricing),
        .init(name: "an order's jobs are found by their partition key prefix", run: jobsByPartitionPrefix),
        .init(name: "a closed store refuses work", run: closedStore),
    ]

    static func expectRejected(_ error: any Error, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard case StorageError.rejected = error else {
            throw ConformanceFailure(message: "\(what): expected a rejection by a domain rule, got \(error)", file: file, line: line)
        }
    }

    static func expectConflict(_ error: any Error, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard case StorageError.conflict = error else {
            throw ConformanceFailure(message: "\(what): expected a conflict, got \(error)", file: file, line: line)
        }
    }

    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let source: SystemID = "conformance"

    static func event(_ stream: StreamID, _ type: String = "test.happened", correlation: CorrelationID = "flow-1", at: Date = t0) -> NewEvent {
        NewEvent(
            type: type, stream: stream, correlationID: correlation, occurredAt: at, source: source,
            payload: Data(#"{"n":1}"#.utf8))
    }

    static func movement(_ sku: SKU, _ location: LocationID, _ delta: Int64, _ reason: MovementReason, key: String, at: Date = t0) throws -> InventoryMovement {
        try InventoryMovement(sku: sku, location: location, delta: delta, reason: reason, occurredAt: at, source: source, sourceKey: key)
    }

    // MARK: Cases

    static func inventoryEvents(_ store: any Store) async throws {
        let describe: @Sendable (Int, InventoryOutcome) throws -> [NewEvent] = { index, outcome in
            guard outcome.changed else { return [] }
            let correction: String
            if case .corrected(_, let by) = outcome { correction = "\(by)" } else { correction = "-" }
            return [NewEvent(type: "test.stock_changed", stream: "stock-events", correlationID: "flow-1", occurredAt: t0, source: source,
                             payload: Data("\(index) \(outcome.position.onHand) \(correction)".utf8))]
        }
        let receipt = try movement("SKU-EV", "store-1", 10, .receipt, key: "ev-1")
        var commit = Commit(inventory: [.record(receipt), .count(sku: "SKU-EV", location: "store-1", counted: 7, asOf: t0 + 1, source: source, sourceKey: "ev-count")])
        commit.inventoryEvents = describe
        _ = try await store.commit(commit)
        // The same again: nothing changes, so nothing is described.
        _ = try await store.commit(commit)
        let events = try await store.readStream("stock-events", fromVersion: 1, limit: 10)
        try expectEqual(events.map { String(decoding: $0.event.payload, as: UTF8.self) }, ["0 10 -", "1 7 -3"], "one event per change that did something")
        // A describer that throws rolls the whole commit back.
        var failing = Commit(inventory: [.record(try movement("SKU-EV", "store-1", 5, .receipt, key: "ev-2"))])
        failing.inventoryEvents = { _, _ in throw ConformanceFailure(message: "refused", file: #filePath, line: #line) }
        _ = try await expectError("a describer that throws") { try await store.commit(failing) }
        try expectEqual(try await store.position(sku: "SKU-EV", location: "store-1").onHand, 7, "nothing of a rolled-back commit")
    }

    static func coalescingJobs(_ store: any Store) async throws {
        func job() -> NewJob { NewJob(kind: "test.publish", partitionKey: "web/SKU-1", coalesceKey: "web/SKU-1", runAt: t0) }
        let first = try await store.commit(Commit(jobs: [job(), job()])).receipt
        try expectEqual(first?.enqueuedJobs.count, 1, "two in one commit: the second joins the first")
        let second = try await store.commit(Commit(jobs: [job()])).receipt
        try expectEqual(second?.enqueuedJobs, [], "a later one joins the pending one")
        let other = try await store.commit(Commit(jobs: [NewJob(kind: "test.publish", coalesceKey: "web/SKU-2", runAt: t0)])).receipt
        try expectEqual(other?.enqueuedJobs.count, 1, "another key is another job")
        let claimed = try await store.claimJobs(owner: "w", kinds: ["test.publish"], limit: 10, lease: .seconds(30), now: t0)
        try expectEqual(claimed.count, 2, "one job per key")
        let third = try await store.commit(Commit(jobs: [job()])).receipt
        try expectEqual(third?.enqueuedJobs.count, 1, "with the first one running, a change needs a new job")
        try expectEqual(try await store.jobs(in: .pending, limit: 10).count, 1, "the new one waits")
    }

    static func orderSummaries(_ store: any Store) async throws {
        func summary(_ id: OrderID, _ status: OrderStatus, store pickup: LocationID?, by: Date? = nil, at: Date) -> OrderSummary {
            OrderSummary(id: id, channel: "web", channelOrderID: "#\(id)", status: status, mode: pickup == nil ? .shipFromDC : .pickUpInStore,
                         pickupStore: pickup, pickupBy: by, updatedAt: at)
        }
        var commit = Commit(orders: [summary("o-1", .released, store: "store-1", at: t0), summary("o-2", .released, store: "store-2", at: t0),
                                     summary("o-3", .validated, store: nil, at: t0)])
        commit.events = [EventAppend(event("order/o-1"))]
        _ = try await store.commit(commit)
        _ = try await store.commit(Commit(orders: [summary("o-4", .readyForPickup, store: "store-1", by: t0 + 3_600, at: t0 + 1)]))
        var queue = try await store.orderSummaries(pickupStore: "store-1", statuses: [.released, .readyForPickup], limit: 10)
        try expectEqual(queue.map(\.id), ["o-1", "o-4"], "store-1's pickups, oldest change first")
        try expectEqual(queue.last?.pickupBy, t0 + 3_600, "the pickup window's end")
        // A later change replaces the row; the window is kept while the order stays ready.
        _ = try await store.commit(Commit(orders: [summary("o-4", .readyForPickup, store: "store-1", at: t0 + 2)]))
        queue = try await store.orderSummaries(pickupStore: "store-1", statuses: [.readyForPickup], limit: 10)
        try expectEqual(queue.map(\.pickupBy), [t0 + 3_600], "the window survives a change that does not set it")
        _ = try await store.commit(Commit(orders: [summary("o-1", .cancelled, store: "store-1", at: t0 + 3)]))
        queue = try await store.orderSummaries(pickupStore: "store-1", statuses: [.released, .readyForPickup], limit: 10)
        try expectEqual(queue.map(\.id), ["o-4"], "a cancelled pickup leaves the queue")
        // A refused commit writes no summary.
        var refused = Commit(orders: [summary("o-9", .released, store: "store-1", at: t0)])
        refused.events = [EventAppend(event("order/o-1"), expected: .noStream)]
        _ = try? await store.commit(refused)
        try expectEqual(try await store.orderSummaries(pickupStore: "store-1", statuses: [.released], limit: 10).map(\.id), [],
                        "the summary of a refused commit")
        try expectEqual(try await store.orderCounts(), [.released: 1, .validated: 1, .readyForPickup: 1, .cancelled: 1], "counts by status")
        try expectEqual(try await store.orderStatistics(unchangedSince: t0 + 1), [
            .released: OrderStatistic(count: 1, oldestChange: t0, unchanged: 1), .validated: OrderStatistic(count: 1, oldestChange: t0, unchanged: 1),
            .readyForPickup: OrderStatistic(count: 1, oldestChange: t0 + 2, unchanged: 0), .cancelled: OrderStatistic(count: 1, oldestChange: t0 + 3, unchanged: 0),
        ], "per status: how many, the oldest change, how many unchanged since t0 + 1")
    }

    static func orderSearch(_ store: any Store) async throws {
        func summary(_ id: OrderID, channel: ChannelID, number: String, email: String?, at: Date) -> OrderSummary {
            OrderSummary(id: id, channel: channel, channelOrderID: number, status: .completed, mode: .shipFromDC, pickupStore: nil,
                         pickupBy: nil, updatedAt: at, customerEmail: email)
        }
        _ = try await store.commit(Commit(orders: [
            summary("o-1", channel: "web", number: "1001", email: "ann@example.org", at: t0),
            summary("o-2", channel: "marketplace", number: "1001", email: nil, at: t0 + 1),
            summary("o-3", channel: "web", number: "1002", email: "ann@example.org", at: t0 + 2),
            summary("o-4", channel: "web", number: "1003", email: "bo@example.org", at: t0 + 3),
        ]))
        try expectEqual(try await store.orderSummaries(matching: .channelOrderID("1001"), limit: 10).map(\.id), ["o-2", "o-1"],
                        "one number in two channels, newest first")
        try expectEqual(try await store.orderSummaries(matching: .customerEmail("Ann@Example.org"), limit: 10).map(\.id), ["o-3", "o-1"],
                        "a customer's orders, whatever the case of the email")
        try expectEqual(try await store.orderSummaries(matching: .customerEmail("ann@example.org"), limit: 1).map(\.id), ["o-3"], "the limit")
        try expectEqual(try await store.orderSummaries(matching: .channelOrderID("999"), limit: 10).count, 0, "no such number")
    }

    static func journalProjection(_ store: any Store) async throws {
        func row(_ id: String, location: LocationID?, day: String = "2027-01-15", daily: Bool = false, total: Int64 = 100, at: Date) -> JournalRow {
            JournalRow(id: id, kind: .sale, location: location, channel: "web", businessDay: day, currency: "GBP", total: total, recordedAt: at, daily: daily)
        }
        var first = Commit()
        first.journal = [.record(row("je-1", location: "store-1", at: t0)), .record(row("je-2", location: "store-1", daily: true, at: t0 + 1)),
                         .record(row("je-3", location: "store-1", daily: true, at: t0 + 2)), .record(row("je-4", location: nil, at: t0 + 3)),
                         .record(row("je-5", location: "store-1", day: "2027-01-16", at: t0 + 4))]
        _ = try await store.commit(first)
        var again = Commit()
        again.journal = [.record(row("je-1", location: "store-1", total: 999, at: t0 + 9))]
        _ = try await store.commit(again)
        let day = try await store.journalRows(location: "store-1", businessDay: "2027-01-15")
        try expectEqual(day.map(\.id), ["je-1", "je-2", "je-3"], "one store's day, in booking order")
        try expectEqual(day.first?.total, 100, "a repeat of the same entry changes nothing")
        try expectEqual(try await store.journalRows(location: nil, businessDay: "2027-01-15").map(\.id), ["je-4"], "entries without a location")
        var backlog = try await store.journalBacklog(storeDaysBefore: "2027-01-17")
        try expectEqual(backlog, JournalBacklog(queued: 3, oldestQueued: t0, awaitingDayClose: 2, unpostedStoreDays: 2),
                        "queued and awaiting the day's close; store-1's two days (je-4 has no store)")
        try expectEqual(try await store.journalBacklog(storeDaysBefore: "2027-01-16").unpostedStoreDays, 1, "the 16th is not over yet")

        var posted = Commit()
        posted.journal = [.posted(id: "je-1", document: "D1", at: t0 + 60), .summarised(["je-2", "je-3"], into: "je-sum-1"),
                          .record(row("je-sum-1", location: "store-1", total: 200, at: t0 + 61))]
        _ = try await store.commit(posted)
        var repost = Commit()
        repost.journal = [.posted(id: "je-1", document: "D9", at: t0 + 99), .summarised(["je-2"], into: "je-sum-2")]
        _ = try await store.commit(repost)
        let after = try await store.journalRows(location: "store-1", businessDay: "2027-01-15")
        try expectEqual(after.first?.document, "D1", "the first posting stands")
        try expectEqual(after.first?.postedAt, t0 + 60, "with its time")
        try expectEqual(after.filter(\.daily).map(\.summary), ["je-sum-1", "je-sum-1"], "each daily entry is carried by one summary")
        try expectEqual(try await store.unsummarisedJournalRows(location: "store-1", businessDay: "2027-01-15").count, 0, "nothing left to summarise")
        backlog = try await store.journalBacklog(storeDaysBefore: "2027-01-17")
        try expectEqual(backlog, JournalBacklog(queued: 3, oldestQueued: t0 + 3, awaitingDayClose: 0, unpostedStoreDays: 2),
                        "the summary queued in their place; the 15th still waits for it")
        var summaryPosted = Commit()
        summaryPosted.journal = [.posted(id: "je-sum-1", document: "D2", at: t0 + 62)]
        _ = try await store.commit(summaryPosted)
        try expectEqual(try await store.journalBacklog(storeDaysBefore: "2027-01-17").unpostedStoreDays, 1, "the 15th is in the ERP, the 16th is not")
    }

    static func pricing(_ store: any Store) async throws {
        func price(_ sku: SKU, _ units: Int64, version: Int64, from: Date, until: Date? = nil) throws -> PriceEntry {
            try PriceEntry(sku: sku, channel: "web", country: "GB", price: Money(minorUnits: units, currency: .gbp), from: from, until: until, version: version)
        }
        var first = Commit()
        first.pricing = [.price(try price("SHIRT", 2_000, version: 1, from: t0)), .price(try price("SHIRT", 1_500, version: 2, from: t0, until: t0 + 3_600)),
                         .price(try price("MUG", 600, version: 1, from: t0))]
        _ = try await store.commit(first)
        var taken = Commit()
        taken.pricing = [.price(try price("SHIRT", 999, version: 2, from: t0))]
        taken.events = [EventAppend(event("prices/web"))]
        do {
            _ = try await store.commit(taken)
            throw ConformanceFailure(message: "a price version was written twice", file: #filePath, line: #line)
        } catch StorageError.conflict {}
        try expectEqual(try await store.readStream("prices/web", fromVersion: 1, limit: 10).count, 0, "nothing of the refused commit")
        let entries = try await store.priceEntries(channel: "web", country: "GB", skus: ["SHIRT", "MUG", "HAT"])
        try expectEqual(entries.map { "\($0.sku)@\($0.version)=\($0.price.minorUnits)" }, ["MUG@1=600", "SHIRT@2=1500", "SHIRT@1=2000"],
                        "every version, newest first, the first write kept")
        try expectEqual(entries.first { $0.version == 2 }?.until, t0 + 3_600, "the window")
        try expectEqual(try await store.priceEntries(channel: "pos", country: "GB", skus: ["SHIRT"]).count, 0, "another channel")

        let sale = Promotion(id: "sale", name: "Sale", kind: .percentOff(basisPoints: 2000), scope: PromotionScope(skus: ["SHIRT"]),
                             from: t0, until: t0 + 86_400, priority: 2, stacking: .exclusive, coupon: "SAVE", usageLimit: 10)
        let later = Promotion(id: "later", name: "Later", kind: .bundle(items: ["SHIRT": 1, "MUG": 2], price: Money(minorUnits: 2_500, currency: .gbp)),
                              from: t0 + 86_400, until: t0 + 2 * 86_400)
        var promotions = Commit()
        promotions.pricing = [.promotion(sale, at: t0), .promotion(later, at: t0)]
        _ = try await store.commit(promotions)
        try expectEqual(try await store.promotions(activeAt: t0 + 60).map(\.id), ["sale"], "active in its window")
        try expectEqual(try await store.promotions(activeAt: t0 + 86_400).map(\.id), ["later"], "the window's end is not in it")
        try expectEqual(try await store.promotions(activeAt: nil).map(\.id), ["later", "sale"], "all")
        try expectEqual(try await store.promotions(endingAfter: t0 + 60).map(\.id), ["later", "sale"], "active or to come")
        try expectEqual(try await store.promotions(endingAfter: t0 + 86_400).map(\.id), ["later"], "an ended one is not")
        try expectEqual(try await store.promotion("later"), later, "read back as written")
        var replaced = Commit()
        replaced.pricing = [.promotion(Promotion(id: "sale", name: "Sale, ended early", kind: sale.kind, scope: sale.scope, from: t0, until: t0 + 60), at: t0 + 1)]
        _ = try await store.commit(replaced)
        try expectEqual(try await store.promotion("sale")?.name, "Sale, ended early", "a promotion is replaced by its id")
        try expectEqual(try await store.promotions(activeAt: t0 + 120).map(\.id), [], "with its new window")
    }

    static func jobsByPartitionPrefix(_ store: any Store) async throws {
        _ = try await store.commit(Commit(jobs: [
            NewJob(kind: "erp.order_release", partitionKey: "o-1/erp", runAt: t0),
            NewJob(kind: "web.order_notify", partitionKey: "o-1/web", runAt: t0),
            NewJob(kind: "web.order_notify", partitionKey: "o-10/web", runAt: t0),
            NewJob(kind: "web.order_notify", partitionKey: "o-1", runAt: t0),
        ]))
        let jobs = try await store.jobs(partitionKeyPrefix: "o-1/", limit: 10)
        try expectEqual(jobs.map(\.partitionKey), ["o-1/erp", "o-1/web"], "o-1's jobs, in enqueue order, not o-10's")
    }

    static func transfers(_ store: any Store) async throws {
        func move(_ location: LocationID, _ delta: Int64, _ reason: MovementReason, key: String, transfer: String, to destination: LocationID? = nil) throws -> InventoryChange {
            .record(try InventoryMovement(sku: "SKU-T", location: location, delta: delta, reason: reason, occurredAt: t0, source: source,
                                          sourceKey: key, transfer: try TransferLeg(id: transfer, destination: destination)))
        }
        let out = try move("dc-1", -5, .transferOut, key: "t1-out", transfer: "T1", to: "store-12")
        _ = try await store.commit(Commit(inventory: [out]))
        try expectEqual(try await store.inTransit(sku: "SKU-T"), ["store-12": 5], "shipped, not received")
        _ = try await store.commit(Commit(inventory: [out]))
        try expectEqual(try await store.inTransit(sku: "SKU-T"), ["store-12": 5], "a repeated transfer out ships nothing more")
        _ = try await store.commit(Commit(inventory: [try move("store-12", 3, .transferIn, key: "t1-in-1", transfer: "T1")]))
        try expectEqual(try await store.inTransit(sku: "SKU-T"), ["store-12": 2], "part received")
        _ = try await store.commit(Commit(inventory: [try move("store-12", 2, .transferIn, key: "t1-in-2", transfer: "T1")]))
        try expectEqual(try await store.inTransit(sku: "SKU-T"), [:], "all received")
        // The receipt reaches the hub before the shipment.
        _ = try await store.commit(Commit(inventory: [try move("store-14", 4, .transferIn, key: "t2-in", transfer: "T2")]))
        _ = try await store.commit(Commit(inventory: [try move("dc-1", -4, .transferOut, key: "t2-out", transfer: "T2", to: "store-14")]))
        try expectEqual(try await store.inTransit(sku: "SKU-T"), [:], "received before shipped: nothing in transit")
        try expectEqual(try await store.position(sku: "SKU-T", location: "dc-1").onHand, -9, "stock left the DC")
        let ledger = try await store.ledger(sku: "SKU-T", location: "dc-1")
        try expectEqual(ledger.first?.movement.transfer, try TransferLeg(id: "T1", destination: "store-12"), "the ledger keeps the transfer")
    }

    static func catalog(_ store: any Store) async throws {
        try expectEqual(try await store.locations(), [], "no locations at first")
        let dc = try Location(id: "dc-1", kind: .warehouse, name: "Leeds DC")
        let store12 = try Location(id: "store-12", kind: .store, name: "Camden")
        let shirt = try Product(sku: "SHIRT-M", name: "Shirt, M", categories: ["shirts", "summer sale 2026"])
        let preorder = try Product(sku: "PRE-1", name: "Pre-order", allowBackorder: true)
        _ = try await store.commit(Commit(catalog: [.putLocation(store12), .putLocation(dc), .putProduct(shirt), .putProduct(preorder)]))
        try expectEqual(try await store.locations(), [dc, store12], "locations by id")
        try expectEqual(try await store.products(["SHIRT-M", "PRE-1", "NONE", "SHIRT-M"]), ["SHIRT-M": shirt, "PRE-1": preorder], "known products only")
        try expectEqual(try await store.products([]), [:], "no SKUs asked")
        let renamed = try Product(sku: "SHIRT-M", name: "Oxford shirt, M", allowBackorder: true)
        _ = try await store.commit(Commit(catalog: [.putProduct(renamed), .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "Leeds"))]))
        try expectEqual(try await store.products(["SHIRT-M"])["SHIRT-M"], renamed, "a put replaces, categories included")
        try expectEqual(try await store.locations().first?.name, "Leeds", "a put replaces a location")
        let many = (0..<1_200).map { SKU(trusted: "BULK-\($0)") }
        _ = try await store.commit(Commit(catalog: try many.map { .putProduct(try Product(sku: $0, name: "bulk")) }))
        try expectEqual(try await store.products(many).count, 1_200, "a large batch in one read")

        _ = try await store.commit(Commit(inventory: [
            .record(try movement("SHIRT-M", "store-12", 3, .receipt, key: "cat-1")),
            .record(try movement("SHIRT-M", "dc-1", 40, .receipt, key: "cat-2")),
            .record(try movement("OTHER", "dc-1", 5, .receipt, key: "cat-3")),
        ]))
        let positions = try await store.positions(sku: "SHIRT-M")
        try expectEqual(positions.map(\.location), ["dc-1", "store-12"], "positions of the SKU, by location")
        try expectEqual(positions.map(\.onHand), [40, 3], "their stock")
    }

    static func migrationsAreIdempotent(_ store: any Store) async throws {
        let first = try await store.migrate()
        try expectEqual(first.applied, first.known, "applied after migrate")
        let second = try await store.migrate()
        try expect(first.isCurrent && second.isCurrent, "migrations current after migrate: \(second)")
        try expectEqual(try await store.migrationStatus(), second, "status without migrating")
    }

    static func appendAndRead(_ store: any Store) async throws {
        let stream: StreamID = "order-append"
        let events = (0..<3).map { _ in event(stream) }
        let receipt = try await store.commit(Commit(events: events.map { EventAppend($0) })).receipt
        try expectEqual(receipt?.events.map(\.streamVersion), [1, 2, 3], "stream versions")
        let positions = receipt?.events.map(\.position) ?? []
        try expect(positions == positions.sorted() && Set(positions).count == 3, "positions increase: \(positions)")
        let read = try await store.readStream(stream, fromVersion: 1, limit: 10)
        try expectEqual(read.map(\.id), events.map(\.id), "stream read order")
        try expectEqual(read.map(\.event), events, "events read back unchanged")
        try expectEqual(try await store.readStream(stream, fromVersion: 3, limit: 10).map(\.streamVersion), [3], "read from version")
        try expectEqual(try await store.streamVersion(stream), 3, "stream version")
        try expectEqual(try await store.streamVersion("never-written"), 0, "version of an empty stream")
        let all = try await store.readAll(after: positions[0], limit: 10)
        try expectEqual(all.map(\.id), Array(events.map(\.id).dropFirst()), "log read after a position")
    }

    static func optimisticConcurrency(_ store: any Store) async throws {
        let stream: StreamID = "order-occ"
        _ = try await store.commit(Commit(events: [EventAppend(event(stream), expected: .noStream)]))
        let job = NewJob(kind: "test.never", runAt: t0)
        let error = try await expectError("append expecting no stream to an existing stream") {
            try await store.commit(Commit(events: [EventAppend(event(stream), expected: .noStream)], jobs: [job]))
        }
        guard case StorageError.versionConflict(let conflicted, _, let actual) = error else {
            throw ConformanceFailure(message: "expected versionConflict, got \(error)", file: #filePath, line: #line)
        }
        try expectEqual(conflicted, stream, "conflicting stream")
        try expectEqual(actual, 1, "actual version")
        try expect(try await store.job(job.id) == nil, "the refused commit's job was not enqueued")
        _ = try await expectError("append expecting a stale version") {
            try await store.commit(Commit(events: [EventAppend(event(stream), expected: .exactly(0))]))
        }
        let ok = try await store.commit(Commit(events: [EventAppend(event(stream), expected: .exactly(1))])).receipt
        try expectEqual(ok?.events.first?.streamVersion, 2, "append at the expected version")
    }

    static func concurrentAppends(_ store: any Store) async throws {
        let stream: StreamID = "order-concurrent"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask { _ = try await store.commit(Commit(events: [EventAppend(event(stream))])) }
            }
            try await group.waitForAll()
        }
        let read = try await store.readStream(stream, fromVersion: 1, limit: 100)
        try expectEqual(read.map(\.streamVersion), Array(1...40), "every append got its own version")
    }

    static func concurrentExpectedVersion(_ store: any Store) async throws {
        let stream: StreamID = "order-race"
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        _ = try await store.commit(Commit(events: [EventAppend(event(stream), expected: .noStream)]))
                        return true
                    } catch StorageError.versionConflict {
                        return false
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        try expectEqual(outcomes.filter { $0 }.count, 1, "winners")
        try expectEqual(try await store.streamVersion(stream), 1, "stream version")
    }

    static func inboxDedupe(_ store: any Store) async throws {
        let key = InboxKey(source: "shopify-eu", messageKey: "event-123")
        try expect(!(try await store.hasProcessed(key)), "unseen key")
        let commit = Commit(inbox: key, events: [EventAppend(event("order-inbox"))], jobs: [NewJob(kind: "test.push", runAt: t0)])
        guard case .committed = try await store.commit(commit) else {
            throw ConformanceFailure(message: "first delivery was not committed", file: #filePath, line: #line)
        }
        let again = Commit(inbox: key, events: [EventAppend(event("order-inbox"))], jobs: [NewJob(kind: "test.push", runAt: t0)])
        guard case .duplicate(let seen) = try await store.commit(again) else {
            throw ConformanceFailure(message: "repeat delivery was applied", file: #filePath, line: #line)
        }
        try expectEqual(seen, key, "duplicate key")
        try expect(try await store.hasProcessed(key), "seen key")
        try expectEqual(try await store.streamVersion("order-inbox"), 1, "events after a repeat")
        try expectEqual(try await store.jobs(in: .pending, limit: 10).filter { $0.kind == "test.push" }.count, 1, "jobs after a repeat")
    }

    static func commitIsAtomic(_ store: any Store) async throws {
        let sku: SKU = "SKU-ATOMIC", location: LocationID = "store-1"
        let job = NewJob(kind: "test.atomic", runAt: t0)
        let reservation = Reservation(id: "res-atomic", order: "order-atomic", sku: sku, location: location, quantity: 5, expiresAt: t0)
        let error = try await expectError("reservation without stock") {
            try await store.commit(Commit(
                inbox: InboxKey(source: source, messageKey: "atomic-1"),
                events: [EventAppend(event("order-atomic"))], jobs: [job],
                inventory: [.record(try movement(sku, location, 3, .receipt, key: "atomic-receipt")),
                            .reserve(reservation, policy: InventoryPolicy())]))
        }
        guard case StorageError.rejected(.insufficientStock(_, _, let requested, let available)) = error else {
            throw ConformanceFailure(message: "expected insufficientStock, got \(error)", file: #filePath, line: #line)
        }
        try expectEqual([requested, available], [5, 3], "requested and available")
        try expectEqual(try await store.streamVersion("order-atomic"), 0, "events of a refused commit")
        try expect(try await store.job(job.id) == nil, "job of a refused commit")
        try expectEqual(try await store.position(sku: sku, location: location).onHand, 0, "stock of a refused commit")
        try expect(try await store.ledger(sku: sku, location: location).isEmpty, "ledger of a refused commit")
        try expect(!(try await store.hasProcessed(InboxKey(source: source, messageKey: "atomic-1"))), "inbox of a refused commit")
        try expect(try await store.reservation("res-atomic") == nil, "reservation of a refused commit")
    }

    static func movements(_ store: any Store) async throws {
        let sku: SKU = "SKU-MOVE", location: LocationID = "store-2"
        let receipt = try movement(sku, location, 10, .receipt, key: "m-1")
        let sale = try movement(sku, location, -3, .sale, key: "m-2")
        let outcome = try await store.commit(Commit(inventory: [.record(receipt), .record(sale)])).receipt
        try expectEqual(outcome?.inventory.last, .applied(InventoryPosition(sku: sku, location: location, onHand: 7)), "position after two movements")
        let repeated = try await store.commit(Commit(inventory: [.record(sale)])).receipt
        try expectEqual(repeated?.inventory, [.alreadyApplied(InventoryPosition(sku: sku, location: location, onHand: 7))], "a repeated movement")
        let ledger = try await store.ledger(sku: sku, location: location)
        try expectEqual(ledger.map(\.movement), [receipt, sale], "ledger")
        try expectEqual(try await store.position(sku: sku, location: location).onHand, ledger.map(\.movement.delta).reduce(0, +), "on hand = ledger sum")
    }

    static func countsAsOf(_ store: any Store) async throws {
        let sku: SKU = "SKU-COUNT", location: LocationID = "store-3"
        _ = try await store.commit(Commit(inventory: [.record(try movement(sku, location, 10, .receipt, key: "c-receipt", at: t0))]))
        // A sale after the count time arrives before the count does.
        _ = try await store.commit(Commit(inventory: [.record(try movement(sku, location, -3, .sale, key: "c-sale", at: t0 + 120))]))
        let counted = try await store.commit(Commit(inventory: [
            .count(sku: sku, location: location, counted: 8, asOf: t0 + 60, source: source, sourceKey: "count-1"),
        ])).receipt
        try expectEqual(counted?.inventory, [.corrected(InventoryPosition(sku: sku, location: location, onHand: 5), correction: -2)], "8 counted at t+60, 3 sold at t+120")
        let ledger = try await store.ledger(sku: sku, location: location)
        try expectEqual(ledger.last?.movement.delta, -2, "correction = count − balance at the count time")
        try expectEqual(ledger.last?.movement.reason, .countCorrection, "correction reason")
        try expectEqual(try await store.balance(sku: sku, location: location, asOf: t0 + 60), 8, "balance at the count time")
        // The same count message again, even carrying another figure, is recognised by its key.
        let again = try await store.commit(Commit(inventory: [
            .count(sku: sku, location: location, counted: 9, asOf: t0 + 60, source: source, sourceKey: "count-1"),
        ])).receipt
        try expectEqual(again?.inventory, [.alreadyApplied(InventoryPosition(sku: sku, location: location, onHand: 5))], "a repeated count")
        try expectEqual(try await store.ledger(sku: sku, location: location).count, 3, "ledger after a repeated count")
        let negative = try await expectError("a negative count") {
            try await store.commit(Commit(inventory: [.count(sku: sku, location: location, counted: -1, asOf: t0, source: source, sourceKey: "count-neg")]))
        }
        try expectRejected(negative, "a negative count")
    }

    static func reservations(_ store: any Store) async throws {
        let sku: SKU = "SKU-RES", location: LocationID = "store-4"
        let policy = InventoryPolicy()
        _ = try await store.commit(Commit(inventory: [
            .record(try movement(sku, location, 10, .receipt, key: "r-receipt")),
            .setSafetyStock(sku: sku, location: location, quantity: 2),
        ]))
        let first = Reservation(id: "res-1", order: "order-1", sku: sku, location: location, quantity: 5, expiresAt: t0 + 3600)
        let held = try await store.commit(Commit(inventory: [.reserve(first, policy: policy)])).receipt
        try expectEqual(held?.inventory, [.applied(InventoryPosition(sku: sku, location: location, onHand: 10, reserved: 5, safetyStock: 2))], "after reserving 5")
        let repeated = try await store.commit(Commit(inventory: [.reserve(first, policy: policy)])).receipt
        try expectEqual(repeated?.inventory.count, 1, "repeat outcome count")
        if case .applied = repeated?.inventory.first { throw ConformanceFailure(message: "a repeated reservation was applied again", file: #filePath, line: #line) }
        let other = Reservation(id: "res-1", order: "order-1", sku: sku, location: location, quantity: 4, expiresAt: t0 + 3600)
        try expectRejected(try await expectError("same key, different quantity") { try await store.commit(Commit(inventory: [.reserve(other, policy: policy)])) }, "same key, different quantity")
        let tooMuch = Reservation(id: "res-2", order: "order-2", sku: sku, location: location, quantity: 4, expiresAt: t0 + 3600)
        let refused = try await expectError("reserving beyond ATP") { try await store.commit(Commit(inventory: [.reserve(tooMuch, policy: policy)])) }
        guard case StorageError.rejected(.insufficientStock(_, _, 4, 3)) = refused else {
            throw ConformanceFailure(message: "expected insufficientStock(4, 3), got \(refused)", file: #filePath, line: #line)
        }
        let backorder = try await store.commit(Commit(inventory: [.reserve(tooMuch, policy: InventoryPolicy(allowBackorder: true))])).receipt
        try expectEqual(backorder?.inventory, [.applied(InventoryPosition(sku: sku, location: location, onHand: 10, reserved: 9, safetyStock: 2))], "backorder allowed")
        let consumed = try await store.commit(Commit(inventory: [.endReservation("res-1", as: .consumed, at: t0 + 10, source: source, sourceKey: "ship-res-1")])).receipt
        try expectEqual(consumed?.inventory, [.applied(InventoryPosition(sku: sku, location: location, onHand: 5, reserved: 4, safetyStock: 2))], "after consuming 5")
        try expectEqual(try await store.ledger(sku: sku, location: location).last?.movement.reason, .sale, "consumption is a sale movement")
        let consumedAgain = try await store.commit(Commit(inventory: [.endReservation("res-1", as: .consumed, at: t0 + 10, source: source, sourceKey: "ship-res-1")])).receipt
        try expectEqual(consumedAgain?.inventory, [.alreadyApplied(InventoryPosition(sku: sku, location: location, onHand: 5, reserved: 4, safetyStock: 2))], "a repeated consumption")
        try expectRejected(try await expectError("releasing a consumed reservation") {
            try await store.commit(Commit(inventory: [.endReservation("res-1", as: .released, at: t0, source: source, sourceKey: "rel-res-1")]))
        }, "releasing a consumed reservation")
        let third = Reservation(id: "res-3", order: "order-3", sku: sku, location: location, quantity: 1, expiresAt: t0 + 3600)
        _ = try await store.commit(Commit(inventory: [.reserve(third, policy: InventoryPolicy(allowBackorder: true))]))
        let reused = try await expectError("consuming with a ledger key another movement has") {
            try await store.commit(Commit(inventory: [.endReservation("res-3", as: .consumed, at: t0 + 20, source: source, sourceKey: "r-receipt")]))
        }
        guard case StorageError.conflict = reused else {
            throw ConformanceFailure(message: "expected conflict, got \(reused)", file: #filePath, line: #line)
        }
        try expectEqual(try await store.reservation("res-3")?.state, .active, "a refused consumption leaves the reservation active")
        try expectEqual(try await store.position(sku: sku, location: location).onHand, 5, "a refused consumption leaves on hand")
        let extended = try await store.commit(Commit(inventory: [.extendReservation("res-3", until: t0 + 9_000)])).receipt
        try expect(extended?.inventory.first?.changed == true, "an extension applies")
        try expectEqual(try await store.reservation("res-3")?.expiresAt, t0 + 9_000, "the new expiry")
        try expect(try await store.commit(Commit(inventory: [.extendReservation("res-3", until: t0 + 9_000)])).receipt?.inventory.first?.changed == false,
                   "the same extension again changes nothing")
        // The timer set for the old expiry fires after the extension: it finds the reservation not yet due.
        let early = try await store.commit(Commit(inventory: [.endReservation("res-3", as: .expired, at: t0 + 3600, source: source, sourceKey: "exp-res-3")])).receipt
        try expect(early?.inventory.first?.changed == false, "an expiry before the extended time changes nothing")
        try expectEqual(try await store.reservation("res-3")?.state, .active, "an extended reservation outlives its first expiry")
        _ = try await store.commit(Commit(inventory: [.endReservation("res-3", as: .released, at: t0 + 20, source: source, sourceKey: "rel-res-3")]))
        _ = try await store.commit(Commit(inventory: [.endReservation("res-2", as: .expired, at: t0 + 3600, source: source, sourceKey: "exp-res-2")]))
        try expectEqual(try await store.reservation("res-2")?.state, .expired, "expired reservation")
        try expectRejected(try await expectError("extending an expired reservation") {
            try await store.commit(Commit(inventory: [.extendReservation("res-2", until: t0 + 7200)]))
        }, "extending an expired reservation")
        try expectEqual(try await store.activeReservations(sku: sku, location: location), [], "active reservations")
        try expectEqual(try await store.position(sku: sku, location: location).reserved, 0, "reserved after all ended")
        let unknown = try await expectError("ending an unknown reservation") {
            try await store.commit(Commit(inventory: [.endReservation("res-none", as: .released, at: t0, source: source, sourceKey: "x")]))
        }
        guard case StorageError.notFound = unknown else {
            throw ConformanceFailure(message: "expected notFound, got \(unknown)", file: #filePath, line: #line)
        }
    }

    /// DESIGN.md §5.3 as a property: random movements, reservations and endings, invariants checked after each.
    static func stockConservation(_ store: any Store) async throws {
        var random = SeededGenerator(seed: 20261127)
        let sku: SKU = "SKU-PROP", location: LocationID = "store-prop"
        let policy = InventoryPolicy()
        var open: [ReservationID] = []
        for step in 0..<120 {
            let roll = Int.random(in: 0..<10, using: &random)
            var commit = Commit()
            if roll < 4 {
                let reason: MovementReason = [.sale, .receipt, .return, .damage, .countCorrection].randomElement(using: &random)!
                let size = Int64.random(in: 1...6, using: &random)
                let delta = reason.requiredSign.map { $0 * size } ?? (Bool.random(using: &random) ? size : -size)
                commit.inventory = [.record(try movement(sku, location, delta, reason, key: "p-\(step)", at: t0 + Double(step)))]
            } else if roll < 7 {
                let id = ReservationID(trusted: "p-res-\(step)")
                commit.inventory = [.reserve(Reservation(id: id, order: "p-order", sku: sku, location: location, quantity: Int64.random(in: 1...4, using: &random), expiresAt: t0 + 600), policy: policy)]
                open.append(id)
            } else if !open.isEmpty {
                let id = open.remove(at: Int.random(in: 0..<open.count, using: &random))
                let final: ReservationState = [.consumed, .released, .expired].randomElement(using: &random)!
                commit.inventory = [.endReservation(id, as: final, at: t0 + Double(step), source: source, sourceKey: "p-end-\(step)")]
            }
            var reserved = false
            do {
                _ = try await store.commit(commit)
                if case .reserve = commit.inventory.first { reserved = true }
            } catch StorageError.rejected(.insufficientStock) {
                if case .reserve(let reservation, _) = commit.inventory.first { open.removeAll { $0 == reservation.id } }
            }
            let position = try await store.position(sku: sku, location: location)
            let ledgerSum = try await store.ledger(sku: sku, location: location).map(\.movement.delta).reduce(0, +)
            let reservedSum = try await store.activeReservations(sku: sku, location: location).map(\.quantity).reduce(0, +)
            try expectEqual(position.onHand, ledgerSum, "step \(step): on hand = ledger sum")
            try expectEqual(position.reserved, reservedSum, "step \(step): reserved = active reservations")
            if reserved {
                try expect(position.availableToPromise >= 0, "step \(step): a reservation made ATP negative: \(position)")
            }
        }
    }

    static func jobLeases(_ store: any Store) async throws {
        let job = NewJob(kind: "test.lease", payload: Data("p".utf8), partitionKey: "order-9", runAt: t0)
        _ = try await store.commit(Commit(jobs: [job]))
        let claimed = try await store.claimJobs(owner: "worker-a", kinds: ["test.lease"], limit: 5, lease: .seconds(30), now: t0)
        try expectEqual(claimed.map(\.id), [job.id], "claimed by the first worker")
        try expectEqual(claimed.first?.attempts, 1, "a claim counts as an attempt")
        try expectEqual(claimed.first?.state, .running, "claimed state")
        try expectEqual(claimed.first?.payload, Data("p".utf8), "payload")
        try expectEqual(try await store.claimJobs(owner: "worker-b", kinds: nil, limit: 5, lease: .seconds(30), now: t0 + 10).count, 0, "a leased job is not claimed twice")
        try expect(try await store.heartbeat(job.id, owner: "worker-a", lease: .seconds(30), now: t0 + 20), "heartbeat by the owner")
        try expectEqual(try await store.claimJobs(owner: "worker-b", kinds: nil, limit: 5, lease: .seconds(30), now: t0 + 40).count, 0, "heartbeat extended the lease")
        let stolen = try await store.claimJobs(owner: "worker-b", kinds: nil, limit: 5, lease: .seconds(30), now: t0 + 51)
        try expectEqual(stolen.map(\.id), [job.id], "an expired lease is claimed again")
        try expectEqual(stolen.first?.attempts, 2, "attempts after a second claim")
        try expect(!(try await store.heartbeat(job.id, owner: "worker-a", lease: .seconds(30), now: t0 + 52)), "heartbeat by the old owner")
        let late = try await store.completeJob(job.id, owner: "worker-a", effects: Commit(events: [EventAppend(event("job-effects"))]))
        try expect(late == nil, "the old owner cannot complete")
        try expect(!(try await store.failJob(job.id, owner: "worker-a", failure: .terminal(error: "x"), now: t0 + 53)), "the old owner cannot fail it")
        try expectEqual(try await store.streamVersion("job-effects"), 0, "a refused completion wrote nothing")
        let done = try await store.completeJob(job.id, owner: "worker-b", effects: Commit(events: [EventAppend(event("job-effects"))]))
        try expectEqual(done?.receipt?.events.count, 1, "completion effects committed")
        try expect(try await store.job(job.id) == nil, "a completed job is removed")
    }

    static func jobRetries(_ store: any Store) async throws {
        let job = NewJob(kind: "test.retry", runAt: t0, maxAttempts: 2)
        let terminal = NewJob(kind: "test.retry", runAt: t0 + 1, maxAttempts: 5)
        _ = try await store.commit(Commit(jobs: [job, terminal]))
        let claimed = try await store.claimJobs(owner: "w", kinds: ["test.retry"], limit: 10, lease: .seconds(30), now: t0 + 2)
        try expectEqual(claimed.map(\.id), [job.id, terminal.id], "claimed in run_at order")
        try expect(try await store.failJob(job.id, owner: "w", failure: .retry(at: t0 + 100, error: "HTTP 503"), now: t0 + 3), "fail with retry")
        try expect(try await store.failJob(terminal.id, owner: "w", failure: .terminal(error: "HTTP 422: invalid SKU"), now: t0 + 3), "fail terminally")
        let dead = try await store.job(terminal.id)
        try expectEqual(dead?.state, .dead, "terminal failure state")
        try expectEqual(dead?.lastError, "HTTP 422: invalid SKU", "terminal failure reason")
        let waiting = try await store.job(job.id)
        try expectEqual(waiting?.state, .pending, "retry state")
        try expectEqual(waiting?.runAt, t0 + 100, "retry time")
        try expectEqual(waiting?.lastError, "HTTP 503", "retry reason")
        try expectEqual(try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 99).count, 0, "not due before its retry time")
        let second = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 100)
        try expectEqual(second.first?.attempts, 2, "second attempt")
        try expect(try await store.failJob(job.id, owner: "w", failure: .retry(at: t0 + 200, error: "HTTP 503 again"), now: t0 + 101), "fail the last attempt")
        try expectEqual(try await store.job(job.id)?.state, .dead, "out of attempts")
        try expectEqual(Set(try await store.jobs(in: .dead, limit: 10).map(\.id)), [job.id, terminal.id], "dead jobs")
    }

    static func jobQueueStatistics(_ store: any Store) async throws {
        try expectEqual(try await store.jobQueueStatistics(now: t0), [], "an empty queue")
        let jobs = [NewJob(kind: "erp.post", runAt: t0), NewJob(kind: "erp.post", runAt: t0 + 1), NewJob(kind: "erp.post", runAt: t0 + 2),
                    NewJob(kind: "web.publish", runAt: t0), NewJob(kind: "finance.close_day", runAt: t0 + 86_400)]
        _ = try await store.commit(Commit(jobs: jobs))
        _ = try await store.claimJobs(owner: "w", kinds: ["erp.post"], limit: 1, lease: .seconds(30), now: t0 + 5)
        let dead = try await store.claimJobs(owner: "w", kinds: ["web.publish"], limit: 1, lease: .seconds(30), now: t0 + 5)
        _ = try await store.failJob(dead[0].id, owner: "w", failure: .terminal(error: "HTTP 422"), now: t0 + 6)
        let statistics = try await store.jobQueueStatistics(now: t0 + 10)
        try expectEqual(statistics, [
            JobQueueStatistic(kind: "erp.post", state: .pending, count: 2, oldestDueAt: t0 + 1),
            JobQueueStatistic(kind: "erp.post", state: .running, count: 1, oldestDueAt: t0),
            JobQueueStatistic(kind: "finance.close_day", state: .pending, count: 1, oldestDueAt: nil),
            JobQueueStatistic(kind: "web.publish", state: .dead, count: 1, oldestDueAt: t0),
        ], "by kind and state, with the longest-waiting due job; a timer for tomorrow is not waiting")
    }

    static func jobTraceParent(_ store: any Store) async throws {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let traced = NewJob(kind: "erp.post", runAt: t0, traceParent: parent)
        let plain = NewJob(kind: "erp.post", runAt: t0 + 1, traceParent: nil)
        _ = try await store.commit(Commit(jobs: [traced, plain]))
        let claimed = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 2)
        try expectEqual(claimed.map(\.traceParent), [parent, nil], "the trace context, as enqueued")
    }

    static func uniqueJobs(_ store: any Store) async throws {
        let first = NewJob(kind: "test.unique", uniqueKey: "publish:SKU-1:web", runAt: t0)
        let second = NewJob(kind: "test.unique", uniqueKey: "publish:SKU-1:web", runAt: t0)
        let a = try await store.commit(Commit(jobs: [first])).receipt
        let b = try await store.commit(Commit(jobs: [second])).receipt
        try expectEqual(a?.enqueuedJobs, [first.id], "first enqueued")
        try expectEqual(b?.enqueuedJobs, [], "second skipped")
        try expect(try await store.job(second.id) == nil, "no second job")
    }

    static func workflows(_ store: any Store) async throws {
        let run = WorkflowRun(id: "wf-1", type: "order.fulfilment", correlationID: "order-wf", input: Data("{}".utf8), createdAt: t0, updatedAt: t0)
        _ = try await store.commit(Commit(workflows: [.start(run)]))
        try expectConflict(try await expectError("starting the same run twice") { try await store.commit(Commit(workflows: [.start(run)])) }, "starting the same run twice")
        let step0 = WorkflowStep(index: 0, name: "reserve", status: .completed, output: Data("r".utf8), recordedAt: t0 + 1)
        let step1 = WorkflowStep(index: 1, name: "charge", status: .failed, output: Data("declined".utf8), recordedAt: t0 + 2)
        _ = try await store.commit(Commit(events: [EventAppend(event("order-wf"))], workflows: [.recordStep("wf-1", step0)]))
        try expectConflict(try await expectError("recording a step twice") { try await store.commit(Commit(workflows: [.recordStep("wf-1", step0)])) }, "recording a step twice")
        _ = try await store.commit(Commit(workflows: [.recordStep("wf-1", step1), .setState("wf-1", .compensating, at: t0 + 2)]))
        _ = try await store.commit(Commit(workflows: [.markCompensated("wf-1", stepIndex: 0, at: t0 + 3), .setState("wf-1", .compensated, at: t0 + 3)]))
        _ = try await expectError("a step of an unknown run") { try await store.commit(Commit(workflows: [.recordStep("wf-none", step0)])) }
        guard let loaded = try await store.workflowRun("wf-1") else {
            throw ConformanceFailure(message: "run not found", file: #filePath, line: #line)
        }
        try expectEqual(loaded.run.state, .compensated, "run state")
        try expectEqual(loaded.steps.map(\.status), [.compensated, .failed], "step statuses")
        try expectEqual(loaded.steps.map(\.name), ["reserve", "charge"], "step names")
        try expectEqual(loaded.steps.last?.output, Data("declined".utf8), "step output")
        try expect(try await store.workflowRun("wf-none") == nil, "unknown run")

        // Definition versions and durable timers.
        let waiting = WorkflowRun(id: "wf-2", type: "order.pickup", version: 3, correlationID: "order-wf2", input: Data(),
                                  createdAt: t0 + 5, updatedAt: t0 + 5)
        _ = try await store.commit(Commit(workflows: [.start(waiting)]))
        let wait = WorkflowWait(stepIndex: 0, until: t0 + 3600, eventType: "order.collected")
        _ = try await store.commit(Commit(workflows: [.setWait("wf-2", wait, at: t0 + 6)]))
        let stored = try await store.workflowRun("wf-2")
        try expectEqual(stored?.run.version, 3, "definition version")
        try expectEqual(stored?.run.wait, wait, "durable timer")
        try expectEqual(try await store.workflowRuns(waitingFor: "order.collected", correlation: "order-wf2"), ["wf-2"], "waiting runs")
        try expectEqual(try await store.workflowRuns(waitingFor: "order.collected", correlation: "order-wf"), [], "other flows")
        try expectEqual(try await store.workflowRuns(waitingFor: "order.shipped", correlation: "order-wf2"), [], "other event types")
        _ = try await store.commit(Commit(workflows: [
            .recordStep("wf-2", WorkflowStep(index: 0, name: "collect", status: .completed, output: Data(), recordedAt: t0 + 7)),
        ]))
        try expect(try await store.workflowRun("wf-2")?.run.wait == nil, "recording the step clears its timer")
        try expectEqual(try await store.workflowRuns(waitingFor: "order.collected", correlation: "order-wf2"), [], "no longer waiting")
        _ = try await expectError("a timer on an unknown run") { try await store.commit(Commit(workflows: [.setWait("wf-none", nil, at: t0)])) }
        try expectEqual(try await store.workflowRuns(in: .running, limit: 10).map(\.id), ["wf-2"], "running runs")
        try expectEqual(try await store.workflowRuns(in: .compensated, limit: 10).map(\.id), ["wf-1"], "compensated runs")
    }

    static func correlation(_ store: any Store) async throws {
        let flow: CorrelationID = "return-77"
        _ = try await store.commit(Commit(events: [EventAppend(event("order-77", correlation: flow)), EventAppend(event("other", correlation: "else"))]))
        _ = try await store.commit(Commit(events: [EventAppend(event("return-77", "return.received", correlation: flow))]))
        let lineage = try await store.readCorrelation(flow, limit: 10)
        try expectEqual(lineage.map(\.stream), ["order-77", "return-77"], "flow across streams")
    }

    static func appendsInOneCommit(_ store: any Store) async throws {
        let stream: StreamID = "order-batch"
        let ok = try await store.commit(Commit(events: [
            EventAppend(event(stream), expected: .noStream), EventAppend(event(stream), expected: .exactly(1)),
            EventAppend(event(stream), expected: .exactly(2)),
        ])).receipt
        try expectEqual(ok?.events.map(\.streamVersion), [1, 2, 3], "versions in one commit")
        let refused = try await expectError("a stale expectation in the middle of a commit") {
            try await store.commit(Commit(events: [
                EventAppend(event(stream), expected: .exactly(3)), EventAppend(event(stream), expected: .exactly(3)),
            ]))
        }
        guard case StorageError.versionConflict(_, .exactly(3), 4) = refused else {
            throw ConformanceFailure(message: "expected versionConflict(expected 3, actual 4), got \(refused)", file: #filePath, line: #line)
        }
        try expectEqual(try await store.streamVersion(stream), 3, "the first append of the refused commit was rolled back")
    }

    static func refusedCompletion(_ store: any Store) async throws {
        let job = NewJob(kind: "test.refused", runAt: t0)
        _ = try await store.commit(Commit(jobs: [job]))
        _ = try await store.claimJobs(owner: "w", kinds: ["test.refused"], limit: 1, lease: .seconds(30), now: t0)
        let tooMuch = Reservation(id: "res-refused", order: "o", sku: "SKU-NONE", location: "store-9", quantity: 1, expiresAt: t0)
        let error = try await expectError("completing with effects a rule refuses") {
            try await store.completeJob(job.id, owner: "w", effects: Commit(
                events: [EventAppend(event("refused-effects"))], inventory: [.reserve(tooMuch, policy: InventoryPolicy())]))
        }
        try expectRejected(error, "completing with effects a rule refuses")
        let still = try await store.job(job.id)
        try expectEqual(still?.state, .running, "the job is still leased")
        try expectEqual(still?.leaseOwner, "w", "to the same worker")
        try expectEqual(try await store.streamVersion("refused-effects"), 0, "no effect was written")
        try expect(try await store.failJob(job.id, owner: "w", failure: .terminal(error: "refused"), now: t0 + 1), "the worker can still fail it")
    }

    static func closedStore(_ store: any Store) async throws {
        try await store.close()
        let error = try await expectError("a commit after close") { try await store.commit(Commit(events: [EventAppend(event("after-close"))])) }
        guard case StorageError.closed = error else {
            throw ConformanceFailure(message: "expected closed, got \(error)", file: #filePath, line: #line)
        }
        let read = try await expectError("a read after close") { try await store.streamVersion("after-close") }
        guard case StorageError.closed = read else {
            throw ConformanceFailure(message: "expected closed, got \(read)", file: #filePath, line: #line)
        }
        try await store.close()
    }

    static func checkpoints(_ store: any Store) async throws {
        try expectEqual(try await store.checkpoint("projector"), 0, "a new subscriber's checkpoint")
        let appended = try await store.commit(Commit(events: [EventAppend(event("cp-source")), EventAppend(event("cp-source"))])).receipt
        let positions = appended?.events.map(\.position) ?? []
        try expectEqual(try await store.headPosition(), positions.last ?? -1, "head position")
        _ = try await store.commit(Commit(events: [EventAppend(event("cp-effects"))], checkpoint: CheckpointAdvance(subscriber: "projector", from: 0, to: positions[0])))
        try expectEqual(try await store.checkpoint("projector"), positions[0], "checkpoint after the first event")
        let stale = try await expectError("advancing from a stale checkpoint") {
            try await store.commit(Commit(events: [EventAppend(event("cp-effects"))], checkpoint: CheckpointAdvance(subscriber: "projector", from: 0, to: positions[0])))
        }
        guard case StorageError.checkpointMoved("projector", 0, positions[0]) = stale else {
            throw ConformanceFailure(message: "expected checkpointMoved, got \(stale)", file: #filePath, line: #line)
        }
        try expectEqual(try await store.streamVersion("cp-effects"), 1, "the stale commit's effects were not written")
        _ = try await store.commit(Commit(checkpoint: CheckpointAdvance(subscriber: "projector", from: positions[0], to: positions[1])))
        try expectEqual(try await store.checkpoint("projector"), positions[1], "checkpoint after the second event")
        try expectEqual(try await store.checkpoint("another"), 0, "checkpoints are per subscriber")
    }

    static func signals(_ store: any Store) async throws {
        let seen = store.eventSignal.generation
        _ = try await store.commit(Commit(events: [EventAppend(event("signalled"))]))
        await store.eventSignal.wait(newerThan: seen, timeout: .seconds(10))
        try expect(store.eventSignal.generation != seen, "no signal within 10 s of a commit with events")
    }

    static func partitionOrder(_ store: any Store) async throws {
        let first = NewJob(kind: "test.order", partitionKey: "order-P", runAt: t0)
        let second = NewJob(kind: "test.order", partitionKey: "order-P", runAt: t0)
        let other = NewJob(kind: "test.order", partitionKey: "order-Q", runAt: t0)
        _ = try await store.commit(Commit(jobs: [first]))
        _ = try await store.commit(Commit(jobs: [second, other]))
        let claimed = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0)
        try expectEqual(Set(claimed.map(\.id)), [first.id, other.id], "the first of each key")
        _ = try await store.completeJob(other.id, owner: "w", effects: Commit())
        try expect(try await store.failJob(first.id, owner: "w", failure: .retry(at: t0 + 60, error: "503"), now: t0), "retry the first")
        try expectEqual(try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 10).map(\.id), [], "the second waits behind a retrying first")
        let again = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 60)
        try expectEqual(again.map(\.id), [first.id], "the first again, not the second")
        try expect(try await store.failJob(first.id, owner: "w", failure: .terminal(error: "422"), now: t0 + 61), "the first dies")
        try expectEqual(try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 62).map(\.id), [], "the second waits behind a dead first")
        try expectEqual(try await store.job(second.id)?.state, .pending, "the second is still pending")
    }

    static func deferredJobs(_ store: any Store) async throws {
        let first = NewJob(kind: "erp.post_sale", partitionKey: "day-D", runAt: t0, maxAttempts: 2)
        let second = NewJob(kind: "erp.post_sale", partitionKey: "day-D", runAt: t0)
        _ = try await store.commit(Commit(jobs: [first]))
        _ = try await store.commit(Commit(jobs: [second]))
        try expectEqual(try await store.jobAhead(of: second.id)?.id, first.id, "the second waits behind the first")
        try expect(try await store.jobAhead(of: first.id) == nil, "nothing ahead of the first")
        for round in 0..<3 {
            let now = t0 + Double(round) * 100
            let claimed = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: now)
            try expectEqual(claimed.map(\.id), [first.id], "round \(round): only the first of its key")
            try expectEqual(claimed.first?.attempts, 1, "round \(round): a deferral spent no attempt")
            try expect(!(try await store.deferJob(first.id, owner: "other", until: now + 100, reason: "x", now: now)),
                       "only the lease owner defers")
            try expect(try await store.deferJob(first.id, owner: "w", until: now + 100, reason: "erp: maintenance window until 04:00", now: now),
                       "deferred")
        }
        let waiting = try await store.job(first.id)
        try expectEqual(waiting?.state, .pending, "deferred job state")
        try expectEqual(waiting?.attempts, 0, "deferred job attempts")
        try expectEqual(waiting?.waitReason, "erp: maintenance window until 04:00", "why it waits")
        try expectEqual(waiting?.runAt, t0 + 300, "until when")
        try expectEqual(try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 299).map(\.id), [], "not before")
        _ = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 300)
        try expect(try await store.failJob(first.id, owner: "w", failure: .retry(at: t0 + 400, error: "HTTP 503"), now: t0 + 300), "fail")
        let retrying = try await store.job(first.id)
        try expect(retrying?.waitReason == nil && retrying?.lastError == "HTTP 503", "a failure replaces the wait reason")
    }

    static func retention(_ store: any Store) async throws {
        let old = NewJob(kind: "erp.post_sale", runAt: t0), recent = NewJob(kind: "erp.post_sale", runAt: t0)
        let waiting = NewJob(kind: "erp.post_sale", runAt: t0 + 10_000)
        _ = try await store.commit(Commit(jobs: [old, recent, waiting]))
        for job in try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0) {
            _ = try await store.failJob(job.id, owner: "w", failure: .terminal(error: "422"), now: job.id == old.id ? t0 : t0 + 500)
        }
        _ = try await store.replayDeadJobs([old.id], by: "ops", reason: "try", now: t0)
        _ = try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0)
        _ = try await store.failJob(old.id, owner: "w", failure: .terminal(error: "422 again"), now: t0)
        var commit = Commit()
        for (id, state, at) in [("wf-old-done", WorkflowRunState.completed, t0), ("wf-old-undone", .compensated, t0),
                                ("wf-new-done", .completed, t0 + 500), ("wf-old-running", .running, t0)] {
            commit.workflows.append(.start(WorkflowRun(id: WorkflowRunID(trusted: id), type: "t", state: state, correlationID: "r",
                                                       input: Data(), createdAt: at, updatedAt: at)))
        }
        commit.workflows.append(.recordStep("wf-old-done", WorkflowStep(index: 0, name: "a", status: .completed, output: Data(), recordedAt: t0)))
        _ = try await store.commit(commit)
        _ = try await store.commit(Commit(workflows: [.setState("wf-old-done", .completed, at: t0)]))

        let kept = try await store.purge(deadJobsBefore: nil, finishedWorkflowsBefore: nil, limit: 100)
        try expectEqual(kept, PurgeCount(deadJobs: 0, workflowRuns: 0), "no cutoff purges nothing")
        let purged = try await store.purge(deadJobsBefore: t0 + 100, finishedWorkflowsBefore: t0 + 100, limit: 100)
        try expectEqual(purged, PurgeCount(deadJobs: 1, workflowRuns: 2), "what was purged")
        try expect(try await store.job(old.id) == nil, "the old dead job is gone")
        try expectEqual(try await store.job(recent.id)?.state, .dead, "a recent dead job is kept")
        try expectEqual(try await store.job(waiting.id)?.state, .pending, "a pending job is never purged")
        try expectEqual(try await store.replays(of: old.id).count, 1, "the replay audit outlives the job")
        let oldDone = try await store.workflowRun("wf-old-done"), oldUndone = try await store.workflowRun("wf-old-undone")
        try expect(oldDone == nil && oldUndone == nil, "old finished runs are gone")
        try expect(try await store.workflowRun("wf-new-done") != nil, "a recent finished run is kept")
        try expect(try await store.workflowRun("wf-old-running") != nil, "a running run is never purged")
    }

    static func subscriptionLeases(_ store: any Store) async throws {
        try expect(try await store.leaseSubscription("tally", owner: "a", lease: .seconds(15), now: t0), "a free subscriber is leased")
        try expect(!(try await store.leaseSubscription("tally", owner: "b", lease: .seconds(15), now: t0 + 5)), "not while another holds it")
        try expect(try await store.leaseSubscription("tally", owner: "a", lease: .seconds(15), now: t0 + 10), "the holder renews")
        try expect(!(try await store.leaseSubscription("tally", owner: "b", lease: .seconds(15), now: t0 + 24)), "renewed until t0 + 25")
        try expect(try await store.leaseSubscription("tally", owner: "b", lease: .seconds(15), now: t0 + 25), "taken over once expired")
        try expect(!(try await store.leaseSubscription("tally", owner: "a", lease: .seconds(15), now: t0 + 26)), "the old holder is out")
        try expect(try await store.leaseSubscription("other", owner: "a", lease: .seconds(15), now: t0 + 26), "each subscriber on its own")
        let racers = try await withThrowingTaskGroup(of: Bool.self) { group in
            for owner in 0..<8 {
                group.addTask { try await store.leaseSubscription("race", owner: "o\(owner)", lease: .seconds(15), now: t0) }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        try expectEqual(racers, 1, "of racing owners exactly one wins")
    }

    static func access(_ store: any Store) async throws {
        let key = ApiKeyRecord(id: "k1", client: "pos-store-12", scopes: ["inventory:write", "orders:read"], locations: ["store-12"],
                               secretHash: String(repeating: "ab", count: 32), ratePerSecond: 5, burst: 10, createdAt: t0)
        let audit = AuditEntry(at: t0, actor: "cli:ops", action: "keys.create", target: "k1", outcome: "ok")
        _ = try await store.commit(Commit(access: [.createKey(key)], audit: [audit]))
        try expectEqual(try await store.apiKey("k1"), key, "the key reads back")
        try expectConflict(try await expectError("the same key id twice") { try await store.commit(Commit(access: [.createKey(key)])) }, "the same key id twice")
        let open = ApiKeyRecord(id: "k2", client: "erp", scopes: ["admin"], locations: nil, secretHash: "cd", createdAt: t0 + 1)
        _ = try await store.commit(Commit(access: [.createKey(open), .expireKey(id: "k1", at: t0 + 3_600)],
                                          audit: [AuditEntry(at: t0 + 1, actor: "cli:ops", action: "keys.rotate", target: "k1", outcome: "ok")]))
        try expectEqual(try await store.apiKeys().map(\.id), ["k1", "k2"], "every key, oldest first")
        try expect(try await store.apiKey("k2")?.locations == nil, "no location restriction")
        try expect(try await store.apiKey("k1")?.isActive(at: t0 + 3_599) == true, "active during the grace period")
        try expect(try await store.apiKey("k1")?.isActive(at: t0 + 3_600) == false, "expired after it")
        _ = try await store.commit(Commit(access: [.revokeKey(id: "k2", at: t0 + 5)]))
        _ = try await store.commit(Commit(access: [.revokeKey(id: "k2", at: t0 + 50)]))
        try expectEqual(try await store.apiKey("k2")?.revokedAt, t0 + 5, "revoked once; a second revocation keeps the first time")
        _ = try await expectError("revoking an unknown key") { try await store.commit(Commit(access: [.revokeKey(id: "nope", at: t0)])) }
        let refused = try await expectError("a refused commit") {
            try await store.commit(Commit(access: [.createKey(key)], audit: [AuditEntry(at: t0, actor: "x", action: "keys.create", outcome: "ok")]))
        }
        try expectConflict(refused, "a refused commit")
        let log = try await store.auditLog(after: 0, limit: 10)
        try expectEqual(log.map(\.action), ["keys.create", "keys.rotate"], "the audit of refused commits is rolled back with them")
        try expectEqual(log.first?.actor, "cli:ops", "who")
        try expectEqual(try await store.auditLog(after: log[0].sequence, limit: 10).map(\.action), ["keys.rotate"], "paging")
    }

    static func idempotency(_ store: any Store) async throws {
        let claim = { (client: String, key: String, hash: String, at: Date) in
            try await store.claimIdempotencyKey(client: client, key: key, requestHash: hash, now: at, staleAfter: .seconds(60))
        }
        try expectEqual(try await claim("pos-1", "sale-77", "h1", t0), .started, "first use")
        try expectEqual(try await claim("pos-1", "sale-77", "h1", t0 + 1), .inProgress, "while the first runs")
        try expectEqual(try await claim("pos-1", "sale-77", "h2", t0 + 1), .mismatch, "another request, same key")
        try expectEqual(try await claim("pos-2", "sale-77", "h2", t0 + 1), .started, "keys are per client")
        let response = IdempotentResponse(status: 201, contentType: "application/json", body: Data(#"{"id":"s77"}"#.utf8))
        try await store.finishIdempotencyKey(client: "pos-1", key: "sale-77", response: response)
        try expectEqual(try await claim("pos-1", "sale-77", "h1", t0 + 2), .replay(response), "a repeat gets the first response")
        try expectEqual(try await claim("pos-1", "sale-77", "h2", t0 + 2), .mismatch, "still a mismatch after it finished")
        try await store.releaseIdempotencyKey(client: "pos-2", key: "sale-77")
        try expectEqual(try await claim("pos-2", "sale-77", "h3", t0 + 3), .started, "a released key runs again")
        try expectEqual(try await claim("pos-2", "sale-77", "h3", t0 + 3 + 61), .started, "an abandoned first use is taken over")
        try expectEqual(try await store.purgeIdempotencyKeys(before: t0 + 10, limit: 100), 1, "purged by age")
        try expectEqual(try await claim("pos-1", "sale-77", "h9", t0 + 100), .started, "a purged key is new again")
        let racers = try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
            for _ in 0..<8 {
                group.addTask { try await store.claimIdempotencyKey(client: "pos-3", key: "race", requestHash: "h", now: t0, staleAfter: .seconds(60)) }
            }
            return try await group.reduce(into: [IdempotencyClaim]()) { $0.append($1) }
        }
        try expectEqual(racers.filter { $0 == .started }.count, 1, "of racing first uses exactly one runs")
    }

    static func deadLetterReplay(_ store: any Store) async throws {
        let erp = NewJob(kind: "erp.post_sale", partitionKey: "day-1", runAt: t0)
        let later = NewJob(kind: "erp.post_sale", partitionKey: "day-1", runAt: t0)
        let shop = NewJob(kind: "shopify.push_inventory", runAt: t0)
        _ = try await store.commit(Commit(jobs: [erp, shop]))
        _ = try await store.commit(Commit(jobs: [later]))
        for job in try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0) {
            _ = try await store.failJob(job.id, owner: "w", failure: .terminal(error: "HTTP 422 from \(job.kind)"), now: job.kind == "erp.post_sale" ? t0 + 10 : t0 + 20)
        }
        try expectEqual(Set(try await store.deadJobs(matching: DeadJobFilter()).map(\.id)), [erp.id, shop.id], "all dead jobs")
        try expectEqual(try await store.deadJobs(matching: DeadJobFilter(system: "erp")).map(\.id), [erp.id], "by system")
        try expectEqual(try await store.deadJobs(matching: DeadJobFilter(kind: "shopify.push_inventory")).map(\.id), [shop.id], "by kind")
        try expectEqual(try await store.deadJobs(matching: DeadJobFilter(since: t0 + 15)).map(\.id), [shop.id], "by time")
        try expectEqual(try await store.deadJobs(matching: DeadJobFilter(system: "er")).map(\.id), [], "a system is a whole kind prefix")

        let replayed = try await store.replayDeadJobs([erp.id, later.id], by: "ops@retailer", reason: "ERP fixed the SKU mapping", now: t0 + 100)
        try expectEqual(replayed, [erp.id], "only dead jobs are replayed")
        let job = try await store.job(erp.id)
        try expectEqual(job?.state, .pending, "replayed job state")
        try expectEqual(job?.attempts, 0, "replayed job attempts")
        let audit = try await store.replays(of: erp.id)
        try expectEqual(audit.map(\.replayedBy), ["ops@retailer"], "who")
        try expectEqual(audit.first?.reason, "ERP fixed the SKU mapping", "why")
        try expectEqual(audit.first?.previousError, "HTTP 422 from erp.post_sale", "what it died with")
        try expectEqual(audit.first?.replayedAt, t0 + 100, "when")
        // The replayed job runs again, ahead of the one that waited behind it.
        try expectEqual(try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: t0 + 100).map(\.id), [erp.id], "the replayed job first")
    }
}
