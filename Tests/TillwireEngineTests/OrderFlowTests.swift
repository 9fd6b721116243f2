import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// An in-process fulfilling system and channel for the order sagas: it records every call, and fails the calls it
/// is told to. Like the real systems it is told to behave like, it applies a call once per idempotency key (a job
/// retried after its commit lost a race calls again with the same key). Not a model of any product; the real ones
/// are connectors.
final class RecordingOrderSystems: FulfilmentClient, ChannelOrderClient, ChannelRefundClient {
    let calls = Mutex<[String]>([])
    let keys = Mutex<Set<String>>([])
    /// Fail releases with this error while set.
    let releaseFailure = Mutex<JobError?>(nil)
    /// Fail refunds with this error while set.
    let refundFailure = Mutex<JobError?>(nil)

    func refund(_ order: Order, amount: Money, for authorization: ReturnAuthorization, key: String) async throws -> String {
        if let failure = refundFailure.withLock({ $0 }) { throw failure }
        guard keys.withLock({ $0.insert(key).inserted }) else { return "RF-\(authorization.request.channelReturnID)" }
        calls.withLock { $0.append("refund \(amount.decimalString) for \(order.channelOrderID)") }
        return "RF-\(authorization.request.channelReturnID)"
    }

    var log: [String] { calls.withLock { $0 } }

    func release(_ order: Order, lines: [OrderLine], reservations: [Reservation], key: String) async throws -> String {
        if let failure = releaseFailure.withLock({ $0 }) { throw failure }
        guard keys.withLock({ $0.insert(key).inserted }) else { return "SO-\(order.channelOrderID)" }
        calls.withLock { $0.append("release \(lines.map(\.id).joined(separator: ",")) from \(Set(reservations.map(\.location.rawValue)).sorted().joined(separator: ","))") }
        return "SO-\(order.channelOrderID)"
    }

    func cancel(_ order: OrderID, document: String, lines: [String]?, reason: String, key: String) async throws {
        guard keys.withLock({ $0.insert(key).inserted }) else { return }
        calls.withLock { $0.append("cancel \(document) \(lines?.joined(separator: ",") ?? "all")") }
    }

    func notify(_ order: Order, status: OrderStatus, tracking: Tracking?, key: String) async throws {
        guard keys.withLock({ $0.insert(key).inserted }) else { return }
        calls.withLock { $0.append("notify \(status.rawValue)\(tracking.map { " \($0.number)" } ?? "")") }
    }
}

/// An in-process ERP for posting: it keeps each document under its reference, like an ERP that stores the
/// idempotency reference on the document. It can be down (every call fails) or time out after accepting a post.
final class RecordingLedger: LedgerClient {
    let documents = Mutex<[String: String]>([:])
    /// Entry ids in the order they were posted.
    let posted = Mutex<[String]>([])
    let down = Mutex(false)
    /// The next post is accepted, then the call fails as a timeout would.
    let timeOutAfterAccepting = Mutex(false)

    func post(_ entry: JournalEntry, reference: String) async throws -> String {
        if down.withLock({ $0 }) { throw JobError.retryable("ERP in maintenance", retryAfter: nil) }
        let document = "JE\(posted.withLock { $0.count } + 1)"
        documents.withLock { $0[reference] = document }
        posted.withLock { $0.append(entry.id) }
        if timeOutAfterAccepting.withLock({ flag in defer { flag = false }; return flag }) {
            throw JobError.retryable("timed out waiting for the ERP", retryAfter: nil)
        }
        return document
    }

    func find(reference: String) async throws -> String? {
        if down.withLock({ $0 }) { throw JobError.retryable("ERP in maintenance", retryAfter: nil) }
        return documents.withLock { $0[reference] }
    }
}

/// A store with a catalog and stock, the order and return services, and the engine's pieces, driven one round at a
/// time.
struct OrderHarness {
    let store: any Store
    let clock = ManualClock()
    let service: OrderService
    let returns: ReturnService
    let systems = RecordingOrderSystems()
    let erp = RecordingLedger()
    let worker: JobWorker
    let waker: Subscription
    static let gbp = Currency.gbp

    /// `ledger`: shipments and refunds book journal entries, posted to `erp`.
    init(store: (any Store)? = nil, ledger: Bool = false, daily: Set<String> = [], configure: (inout OrderService.Policy) -> Void = { _ in },
         returnPolicy: (inout ReturnService.Policy) -> Void = { _ in }) async throws {
        let store = try store ?? SQLiteStore.inMemory()
        _ = try await store.migrate()
        self.store = store
        var policy = OrderService.Policy(taxRules: ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [2000])], homeCountry: "GB")
        policy.shipFrom = [.shipFromDC: ["dc-1", "dc-2"]]
        policy.channelSystems = ["web": "shop"]
        if ledger {
            var finance = Ledger.Policy()
            finance.dailyLocations = daily
            policy.ledger = Ledger(policy: finance)
        }
        configure(&policy)
        service = OrderService(store: store, policy: policy, now: clock.now)
        var rules = ReturnService.Policy()
        rules.ledger = policy.ledger
        returnPolicy(&rules)
        returns = ReturnService(store: store, orders: service, policy: rules, now: clock.now)
        let inventory = InventoryService(store: store, now: clock.now)
        let flow = OrderFlow(service: service)
        let logger = Logger(label: "test")
        worker = JobWorker(
            store: store,
            handlers: [WorkflowRunner(store: store, definitions: flow.definitions + ReturnFlow(service: returns).definitions, now: clock.now),
                       ReservationExpiry(service: inventory)]
                + OrderJobs.fulfilmentHandlers(service, client: systems) + [OrderJobs.Notify(service: service, system: "shop", client: systems)]
                + [ReturnJobs.Refund(returns: returns, system: "shop", client: systems), Ledger.Post(store: store, system: "erp", client: erp, now: clock.now),
                   Ledger.CloseDay(store: store, ledger: policy.ledger ?? Ledger(), now: clock.now)],
            configuration: .init(owner: "w", lease: .seconds(30)), logger: logger, now: clock.now)
        waker = Subscription(name: WorkflowEventWaker.subscriberName, store: store,
                             handler: WorkflowEventWaker(store: store, now: clock.now), logger: logger)
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC 1")),
            .putLocation(try Location(id: "dc-2", kind: .warehouse, name: "DC 2")),
            .putLocation(try Location(id: "store-1", kind: .store, name: "Leeds")),
            .putProduct(try Product(sku: "SHIRT", name: "Shirt")), .putProduct(try Product(sku: "MUG", name: "Mug")),
        ]))
    }

    /// Receives stock.
    func receive(_ sku: SKU, at location: LocationID, _ quantity: Int64) async throws {
        _ = try await InventoryService(store: store, now: clock.now).record([try InventoryMovement(
            sku: sku, location: location, delta: quantity, reason: .receipt, occurredAt: clock.now(), source: "erp",
            sourceKey: "receipt-\(sku)-\(location)-\(UUID().uuidString)")], correlation: "receipts")
    }

    /// Runs due jobs and wakes waiting runs until nothing is left to do now. A job that lost a race (two steps of
    /// one order committing at once) retries within a second or two, as it would in a running hub: the clock moves
    /// on to it.
    func drain() async throws {
        for _ in 0..<200 {
            let woken = try await waker.runOnce()
            if try await worker.runOnce() == 0 && woken == 0 {
                guard let next = try await store.jobs(in: .pending, limit: 1_000).map(\.runAt).min(),
                      next > clock.now(), next <= clock.now() + 60 else { return }
                clock.set(next)
            }
        }
        Issue.record("the order flow did not settle in 200 rounds")
    }

    /// Moves the clock and runs what became due.
    func advance(hours: Double) async throws {
        clock.advance(by: hours * 3600)
        try await drain()
    }

    static func money(_ text: String) -> Money { try! Money(parsing: text, currency: gbp) }

    /// A web order: a shirt at £24.00 and two mugs at £6.00, VAT 20 % included, paid in full.
    static func order(_ number: String, mode: Fulfilment.Mode = .shipFromDC, shirts: Int64 = 1) throws -> Order {
        let shirt = money("24.00").minorUnits * shirts
        let lines = [
            try OrderLine(id: "1", sku: "SHIRT", quantity: shirts, unitPrice: money("24.00"),
                          taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: Money(minorUnits: shirt / 6, currency: gbp))]),
            try OrderLine(id: "2", sku: "MUG", quantity: 2, unitPrice: money("6.00"),
                          taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("2.00"))]),
        ]
        let total = Money(minorUnits: shirt + 1_200, currency: gbp)
        return try Order(
            id: .derived(channel: "web", channelOrderID: number), channel: "web", channelOrderID: number,
            placedAt: Date(timeIntervalSince1970: 1_800_000_000), currency: gbp, taxesIncluded: true,
            customer: Customer(email: "ann@example.org", name: "Ann"),
            shipTo: mode == .pickUpInStore ? nil : try Address(country: "GB"), lines: lines, shipping: nil,
            payments: try Payments(authorized: total, captured: total, refunded: money("0")),
            fulfilment: try Fulfilment(mode, pickupStore: mode == .pickUpInStore ? "store-1" : nil), total: total)
    }

    func status(_ id: OrderID) async throws -> OrderStatus {
        try #require(try await service.record(id)).lifecycle.status
    }

    func position(_ sku: SKU, _ location: LocationID) async throws -> InventoryPosition {
        try await store.position(sku: sku, location: location)
    }

    func eventTypes(_ id: OrderID) async throws -> [String] {
        try await store.readCorrelation(CorrelationID(trusted: id.rawValue), limit: 1_000).map(\.type)
    }

    /// Stock is conserved: at every location, reserved is the sum of the active reservations of these orders, and
    /// on hand is the ledger's sum.
    func checkConserved(_ orders: [OrderID], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for location: LocationID in ["dc-1", "dc-2", "store-1"] {
            for sku: SKU in ["SHIRT", "MUG"] {
                let position = try await position(sku, location)
                let ledger = try await store.ledger(sku: sku, location: location).reduce(0) { $0 + $1.movement.delta }
                #expect(position.onHand == ledger, "on hand of \(sku)@\(location)", sourceLocation: sourceLocation)
                var reserved: Int64 = 0
                for order in orders {
                    guard let record = try await service.record(order) else { continue }
                    for line in record.order.lines where line.sku == sku {
                        if let reservation = try await store.reservation(record.reservationID(of: line)),
                           reservation.state == .active, reservation.location == location {
                            reserved += reservation.quantity
                        }
                    }
                }
                #expect(position.reserved == reserved, "reserved of \(sku)@\(location)", sourceLocation: sourceLocation)
            }
        }
    }
}

@Suite struct OrderFlowTests {
    @Test func aShippedOrderGoesFromCaptureToCompletedWithEverySystemTold() async throws {
        let hub = try await OrderHarness()
        try await hub.receive("SHIRT", at: "dc-1", 1)
        try await hub.receive("SHIRT", at: "dc-2", 5)
        try await hub.receive("MUG", at: "dc-2", 10)
        let order = try OrderHarness.order("1001")
        _ = try await hub.service.capture(order, source: "web")
        try await hub.drain()

        #expect(try await hub.status(order.id) == .released)
        // The policy picks the location with the most available: dc-2 has both.
        #expect(hub.systems.log.contains("release 1,2 from dc-2"))
        #expect(try await hub.position("SHIRT", "dc-2").reserved == 1)
        let released = try #require(try await hub.service.record(order.id))
        #expect(released.releases.map(\.document) == ["SO-1001"])

        _ = try await hub.service.ship(order.id, shipment: "S1", lines: ["1"], tracking: Tracking(carrier: "DPD", number: "15501"), source: "warehouse")
        #expect(try await hub.status(order.id) == .partiallyFulfilled)
        // The same shipment again changes nothing.
        _ = try await hub.service.ship(order.id, shipment: "S1", lines: ["1"], tracking: nil, source: "warehouse")
        _ = try await hub.service.ship(order.id, shipment: "S2", lines: ["2"], tracking: Tracking(carrier: "DPD", number: "15502"), source: "warehouse")
        try await hub.drain()

        #expect(try await hub.status(order.id) == .completed)
        #expect(try await hub.position("SHIRT", "dc-2") == InventoryPosition(sku: "SHIRT", location: "dc-2", onHand: 4, reserved: 0))
        #expect(try await hub.position("MUG", "dc-2") == InventoryPosition(sku: "MUG", location: "dc-2", onHand: 8, reserved: 0))
        let types = try await hub.eventTypes(order.id)
        #expect(types.contains("order.completed"))
        #expect(types.filter { $0 == "order.shipped" }.count == 2)
        #expect(hub.systems.log.filter { $0.hasPrefix("notify") } == [
            "notify released", "notify partially_fulfilled 15501", "notify fulfilled 15502"])
        let runID = try #require(released.run)
        let run = try #require(try await hub.store.workflowRun(runID))
        #expect(run.run.state == .completed)
        try await hub.checkConserved([order.id])
    }

    @Test func notEnoughStockHoldsTheOrderAndStockArrivingLetsItGoOn() async throws {
        let hub = try await OrderHarness()
        try await hub.receive("MUG", at: "dc-1", 10)
        let order = try OrderHarness.order("1002", shirts: 2)
        _ = try await hub.service.capture(order, source: "web")
        try await hub.drain()

        let held = try #require(try await hub.service.record(order.id))
        #expect(held.lifecycle.status == .onHold)
        #expect(held.holdReasons.map(\.code) == [.stockNotReserved])
        #expect(held.holdReasons.first?.detail.contains("2 × SHIRT wanted") == true)
        // Nothing of the order holds stock: the step commits all its reservations or none.
        #expect(try await hub.position("MUG", "dc-1").reserved == 0)
        #expect(hub.systems.log.isEmpty)

        try await hub.receive("SHIRT", at: "dc-1", 3)
        _ = try await hub.service.revalidate(order.id, cause: "stock received")
        try await hub.drain()
        #expect(try await hub.status(order.id) == .released)
        #expect(try await hub.position("SHIRT", "dc-1").reserved == 2)
        try await hub.checkConserved([order.id])
    }

    /// A failure injected at each step of the delivery saga: the world is consistent afterwards (stock released,
    /// the fulfilling system told to stop only when it had the order, the order cancelled or held with a reason,
    /// a refund due when the customer paid).
    @Test(arguments: ["cancel-before-reserve", "cancel-after-reserve", "release-fails", "release-times-out", "cancel-after-release", "ship-times-out"])
    func aFailureAtAnyStepCompensates(_ failure: String) async throws {
        let hub = try await OrderHarness()
        try await hub.receive("SHIRT", at: "dc-1", 5)
        try await hub.receive("MUG", at: "dc-1", 5)
        let order = try OrderHarness.order("2001")
        if failure == "release-fails" { hub.systems.releaseFailure.withLock { $0 = .terminal("SKU MUG is blocked in the WMS") } }
        _ = try await hub.service.capture(order, source: "web")
        switch failure {
        case "cancel-before-reserve":
            _ = try await hub.service.cancel(order.id, reason: "customer changed their mind", source: "web")
            try await hub.drain()
        case "cancel-after-reserve":
            // One round: the run reserves; the release job is queued but has not run.
            _ = try await hub.worker.runOnce()
            _ = try await hub.worker.runOnce()
            #expect(try await hub.status(order.id) == .allocated)
            _ = try await hub.service.cancel(order.id, reason: "fraud check failed", source: "web")
            try await hub.drain()
        case "release-fails", "release-times-out":
            if failure == "release-times-out" { hub.systems.releaseFailure.withLock { $0 = .retryable("WMS down", retryAfter: nil) } }
            try await hub.drain()
            #expect(try await hub.status(order.id) == .allocated)
            try await hub.advance(hours: 49)
        case "cancel-after-release":
            try await hub.drain()
            #expect(try await hub.status(order.id) == .released)
            _ = try await hub.service.cancel(order.id, reason: "customer changed their mind", source: "web")
            try await hub.drain()
        default:
            try await hub.drain()
            try await hub.advance(hours: 14 * 24 + 1)
        }

        let record = try #require(try await hub.service.record(order.id))
        #expect(record.lifecycle.status == .cancelled)
        #expect(try await hub.position("SHIRT", "dc-1") == InventoryPosition(sku: "SHIRT", location: "dc-1", onHand: 5, reserved: 0))
        #expect(try await hub.position("MUG", "dc-1") == InventoryPosition(sku: "MUG", location: "dc-1", onHand: 5, reserved: 0))
        let wasReleased = ["cancel-after-release", "ship-times-out"].contains(failure)
        #expect(hub.systems.log.contains("cancel SO-2001 all") == wasReleased, "\(hub.systems.log)")
        // The channel and the fulfilling system are separate partitions: their calls may interleave.
        #expect(hub.systems.log.filter { $0.hasPrefix("notify") }.last == "notify cancelled")
        let types = try await hub.eventTypes(order.id)
        #expect(types.filter { $0 == "order.refund_due" }.count == 1)
        let runID = try #require(record.run)
        let run = try #require(try await hub.store.workflowRun(runID))
        #expect(run.run.state == .compensated)
        if failure == "ship-times-out" {
            #expect(record.history.last?.change.cause == "cancelled: it did not ship within 14 days")
        }
        try await hub.checkConserved([order.id])
    }

    @Test func partialShipmentAndALineCancelledCompleteTheOrder() async throws {
        let hub = try await OrderHarness()
        try await hub.receive("SHIRT", at: "dc-1", 5)
        try await hub.receive("MUG", at: "dc-1", 5)
        let order = try OrderHarness.order("3001")
        _ = try await hub.service.capture(order, source: "web")
        try await hub.drain()
        _ = try await hub.service.ship(order.id, shipment: "S1", lines: ["1"], tracking: nil, source: "warehouse")
        await #expect(throws: OrderService.FulfilmentRefused.self) {
            try await hub.service.ship(order.id, shipment: "S9", lines: ["1"], tracking: nil, source: "warehouse")
        }
        _ = try await hub.service.cancelLines(order.id, lines: ["2"], reason: "mug broken in the warehouse", source: "warehouse")
        try await hub.drain()

        let record = try #require(try await hub.service.record(order.id))
        #expect(record.lifecycle.status == .completed)
        #expect(record.cancelledLines == ["2": "mug broken in the warehouse"])
        #expect(hub.systems.log.contains("cancel SO-3001 2"))
        #expect(try await hub.position("MUG", "dc-1") == InventoryPosition(sku: "MUG", location: "dc-1", onHand: 5, reserved: 0))
        #expect(try await hub.position("SHIRT", "dc-1").onHand == 4)
        try await hub.checkConserved([order.id])
    }

    @Test func clickAndCollectIsInTheStoresQueueAndIsCollected() async throws {
        let hub = try await OrderHarness()
        try await hub.receive("SHIRT", at: "store-1", 2)
        try await hub.receive("MUG", at: "store-1", 2)
        let order = try OrderHarness.order("4001", mode: .pickUpInStore)
        _ = try await hub.service.capture(order, source: "web")
        try await hub.drain()

        #expect(try await hub.status(order.id) == .released)
        var queue = try await hub.service.pickups(at: "store-1")
        #expect(queue.map(\.record.order.id) == [order.id])
        #expect(queue.first?.summary.pickupBy == nil)
        // The store's units are held for the customer: nothing is left to sell.
        #expect(try await hub.position("MUG", "store-1").availableToPromise == 0)

        _ = try await hub.service.markPicked(order.id, source: "pos")
        queue = try await hub.service.pickups(at: "store-1")
        #expect(queue.first?.summary.pickupBy == hub.clock.now() + 3 * 86_400)
        _ = try await hub.service.markCollected(order.id, source: "pos")
        try await hub.drain()

        #expect(try await hub.status(order.id) == .completed)
        #expect(try await hub.service.pickups(at: "store-1").isEmpty)
        #expect(try await hub.position("MUG", "store-1") == InventoryPosition(sku: "MUG", location: "store-1", onHand: 0, reserved: 0))
        #expect(hub.systems.log == ["notify released", "notify ready_for_pickup", "notify collected"])
        try await hub.checkConserved([order.id])
    }

    @Test func aPickupNotCollectedInItsWindowIsCancelledAndItsStockFreed() async throws {
        let hub = try await OrderHarness()
        try await hub.receive("SHIRT", at: "store-1", 2)
        try await hub.receive("MUG", at: "store-1", 2)
        let order = try OrderHarness.order("4002", mode: .pickUpInStore)
        _ = try await hub.service.capture(order, source: "web")
        try await hub.drain()
        _ = try await hub.service.markPicked(order.id, source: "pos")
        try await hub.drain()
        try await hub.advance(hours: 71)
        #expect(try await hub.status(order.id) == .readyForPickup)
        try await hub.advance(hours: 2)

        let record = try #require(try await hub.service.record(order.id))
        #expect(record.lifecycle.status == .cancelled)
        #expect(record.history.last?.change.cause == "cancelled: not collected within the pickup window (3 days)")
        #expect(try await hub.service.pickups(at: "store-1").isEmpty)
        #expect(try await hub.position("MUG", "store-1") == InventoryPosition(sku: "MUG", location: "store-1", onHand: 2, reserved: 0))
        #expect(try await hub.eventTypes(order.id).contains("order.refund_due"))
        try await hub.checkConserved([order.id])
    }

    @Test func aStoreSaleCannotTakeUnitsHeldForAPickupWithoutAnOverride() async throws {
        let hub = try await OrderHarness()
        try await hub.receive("SHIRT", at: "store-1", 1)
        try await hub.receive("MUG", at: "store-1", 3)
        try await hub.receive("MUG", at: "dc-1", 1)
        let order = try OrderHarness.order("4003", mode: .pickUpInStore)
        _ = try await hub.service.capture(order, source: "web")
        try await hub.drain()
        #expect(try await hub.status(order.id) == .released)

        let inventory = InventoryService(store: hub.store, now: hub.clock.now)
        func sale(_ location: LocationID, _ quantity: Int64, key: String) throws -> InventoryMovement {
            try InventoryMovement(sku: "MUG", location: location, delta: -quantity, reason: .sale, occurredAt: hub.clock.now(), source: "pos-1", sourceKey: key)
        }
        // One mug is not reserved: the till sells it. The next would be the customer's.
        _ = try await inventory.record([try sale("store-1", 1, key: "t1")], correlation: "till")
        do {
            _ = try await inventory.record([try sale("store-1", 1, key: "t2")], correlation: "till")
            Issue.record("a sale of a reserved unit was recorded")
        } catch StorageError.rejected(let error) {
            #expect(error == .reservedStock(sku: "MUG", location: "store-1", requested: 1, unreserved: 0))
        }
        #expect(try await hub.position("MUG", "store-1").onHand == 2)
        // A warehouse is not a till: its sales are not held back.
        _ = try await inventory.record([try sale("dc-1", 1, key: "w1")], correlation: "wms")
        // With a reason, the store may: it is recorded.
        _ = try await inventory.record([try sale("store-1", 1, key: "t2")], correlation: "till", overrides: [0: "customer at the till insisted; manager approved"])
        let sold = try await hub.store.readStream(StreamID(trusted: "inventory/store-1"), fromVersion: 1, limit: 100)
            .filter { $0.type == ReservedStockSold.eventType }
        #expect(sold.count == 1)
        let payload = try #require(sold.first).decode(ReservedStockSold.self)
        #expect(payload.short == 1 && payload.reason == "customer at the till insisted; manager approved")
    }
}
