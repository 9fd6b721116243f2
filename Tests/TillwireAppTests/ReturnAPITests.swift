import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// Returns over HTTP: a till finds a web order by its number or the customer, takes the return, and the return's
/// saga, refund and credit note run behind it; refusals name every line and store nothing; the journal entry shows
/// its lineage.
@Suite struct ReturnAPITests {
    struct Hub {
        let store: SQLiteStore
        let keys: [String: String]
        let orders: OrderService
        let returns: ReturnService
        let worker: JobWorker
        let waker: Subscription

        /// Runs jobs and wakes waiting runs until nothing is left to do.
        func drain() async throws {
            for _ in 0..<100 {
                let woken = try await waker.runOnce()
                if try await worker.runOnce() == 0 && woken == 0 { return }
            }
        }
    }

    func hub() async throws -> Hub {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        var keys: [String: String] = [:]
        var changes: [AccessChange] = []
        for (role, scopes, locations) in [("shop", ["orders:read", "orders:write"], nil), ("till", ["orders:read", "returns:read", "returns:write"], ["store-1"]),
                                          ("other-till", ["returns:write"], ["store-2"]), ("finance", ["finance:read"], nil)] as [(String, [String], [LocationID]?)] {
            let (record, key) = ApiKeys.generate(client: role, scopes: scopes, locations: locations, ratePerSecond: 10_000, burst: 10_000, now: Date())
            keys[role] = key
            changes.append(.createKey(record))
        }
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")), .putLocation(try Location(id: "store-1", kind: .store, name: "Leeds")),
            .putProduct(try Product(sku: "SHIRT-M", name: "Shirt M")),
        ], access: changes))
        _ = try await InventoryService(store: store).record([try InventoryMovement(
            sku: "SHIRT-M", location: "dc-1", delta: 10, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "r1")], correlation: "receipts")
        var policy = OrderService.Policy(taxRules: ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [2000])], homeCountry: "GB")
        policy.shipFrom = [.shipFromDC: ["dc-1"]]
        policy.ledger = Ledger()
        let orders = OrderService(store: store, policy: policy)
        var returnPolicy = ReturnService.Policy()
        returnPolicy.ledger = policy.ledger
        let returns = ReturnService(store: store, orders: orders, policy: returnPolicy)
        let logger = Logger(label: "returns-test")
        let channel = LoggingChannelOrders(logger: logger)
        let worker = JobWorker(
            store: store,
            handlers: [WorkflowRunner(store: store, definitions: OrderFlow(service: orders).definitions + ReturnFlow(service: returns).definitions)]
                + OrderJobs.fulfilmentHandlers(orders, client: LoggingFulfilment(logger: logger))
                + [OrderJobs.Notify(service: orders, system: "web-uk", client: channel), ReturnJobs.Refund(returns: returns, system: "web-uk", client: channel),
                   Ledger.Post(store: store, system: "erp", client: LoggingLedger(logger: logger))],
            logger: logger)
        let waker = Subscription(name: WorkflowEventWaker.subscriberName, store: store, handler: WorkflowEventWaker(store: store), logger: logger)
        return Hub(store: store, keys: keys, orders: orders, returns: returns, worker: worker, waker: waker)
    }

    func app(_ hub: Hub) -> some ApplicationProtocol {
        Application(router: HubRouter.build(store: hub.store, metrics: PrometheusCollectorRegistry(), orders: hub.orders, returns: hub.returns),
                    logger: Logger(label: "returns-test"))
    }

    func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String?, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    /// 2 × SHIRT-M at £24.00 less £4.00, £3.95 shipping, VAT included: £47.95.
    let order = """
        {"channel":"web-uk","channel_order_id":"450789469412345678","placed_at":"2026-11-27T10:00:00Z","currency":"GBP","taxes_included":true,
         "customer":{"email":"Ann@Example.org","name":"Ann"},"ship_to":{"country":"GB"},
         "lines":[{"id":"11","sku":"SHIRT-M","quantity":2,"unit_price":"24.00","discounts":[{"amount":"4.00"}],
                   "tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"7.33"}]}],
         "shipping":{"price":"3.95","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"0.66"}]},
         "payments":{"authorized":"47.95","captured":"47.95"},"fulfilment":{"mode":"ship_from_dc"},"total":"47.95"}
        """

    func returnBody(number: String, quantity: Int = 1, extra: String = "") -> String {
        """
        {"channel":"pos","channel_return_id":"\(number)","order":{"channel":"web-uk","channel_order_id":"450789469412345678"},
         "location":"store-1","refund":"store_tender","tender":"cash","received":true\(extra),
         "lines":[{"order_line":"11","sku":"SHIRT-M","quantity":\(quantity),"reason":"wrong_size","condition":"unopened"}]}
        """
    }

    @Test func aTillFindsAWebOrderTakesItsReturnAndTheCreditNoteIsPosted() async throws {
        let hub = try await hub()
        try await app(hub).test(.router) { client in
            let (captured, view) = try await send(client, .post, "/v1/orders", key: hub.keys["shop"], order)
            #expect(captured == .created, "\(view)")
            let id = try #require(view["id"] as? String)
            try await hub.drain()
            let (shipped, _) = try await send(client, .post, "/v1/orders/\(id)/shipments", key: hub.keys["shop"], #"{"shipment_id":"S1","lines":["11"]}"#)
            #expect(shipped == .ok)
            try await hub.drain()

            // The till knows the number on the customer's email, or the customer.
            let (searched, found) = try await send(client, .get, "/v1/orders/search?channel_order_id=450789469412345678", key: hub.keys["till"])
            #expect(searched == .ok && (found["orders"] as? [[String: Any]])?.first?["id"] as? String == id, "\(found)")
            let (_, byEmail) = try await send(client, .get, "/v1/orders/search?customer_email=ann@example.org", key: hub.keys["till"])
            #expect((byEmail["orders"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let (noQuery, _) = try await send(client, .get, "/v1/orders/search", key: hub.keys["till"])
            #expect(noQuery == .badRequest)

            // Too many, and the wrong store's till: refused, nothing stored.
            let (refused, problem) = try await send(client, .post, "/v1/returns", key: hub.keys["till"], returnBody(number: "R-1", quantity: 3))
            #expect(refused == .unprocessableContent, "\(problem)")
            let refusals = try #require(problem["refusals"] as? [[String: Any]])
            #expect(refusals.first?["code"] as? String == "exceeds_returnable" && refusals.first?["line"] as? Int == 0)
            #expect((problem["detail"] as? String)?.contains("2 returnable") == true)
            let (elsewhere, _) = try await send(client, .post, "/v1/returns", key: hub.keys["other-till"], returnBody(number: "R-1"))
            #expect(elsewhere == .forbidden)
            let returnID = ReturnID.derived(channel: "pos", channelReturnID: "R-1").rawValue
            let (missing, _) = try await send(client, .get, "/v1/returns/\(returnID)", key: hub.keys["till"])
            #expect(missing == .notFound)

            let (created, taken) = try await send(client, .post, "/v1/returns", key: hub.keys["till"], returnBody(number: "R-1"))
            #expect(created == .created, "\(taken)")
            #expect(taken["id"] as? String == returnID && taken["refund_total"] as? String == "22.00" && taken["status"] as? String == "refunded")
            let (repeated, _) = try await send(client, .post, "/v1/returns", key: hub.keys["till"], returnBody(number: "R-1"))
            #expect(repeated == .ok)
            let (otherVoids, _) = try await send(client, .post, "/v1/returns/\(returnID)/void", key: hub.keys["other-till"], #"{"reason":"not mine"}"#)
            #expect(otherVoids == .forbidden, "a key for store-2 does not call off store-1's returns")
            let (same, _) = try await send(client, .post, "/v1/returns", key: hub.keys["till"], returnBody(number: "R-1", extra: #","currency":"GBP""#))
            #expect(same == .ok, "the currency is only read for lines without an order: the request is the same")
            try await hub.drain()

            let (_, done) = try await send(client, .get, "/v1/returns/\(returnID)", key: hub.keys["till"])
            #expect(done["status"] as? String == "completed", "\(done)")
            let postings = try #require(done["postings"] as? [[String: Any]])
            #expect(postings.count == 1 && postings.first?["state"] as? String == "posted" && postings.first?["total"] as? String == "22.00")
            let entryID = try #require(postings.first?["entry"] as? String)
            let (tillReads, _) = try await send(client, .get, "/v1/journal/\(entryID)", key: hub.keys["till"])
            #expect(tillReads == .forbidden, "the journal needs finance:read")
            let (_, entry) = try await send(client, .get, "/v1/journal/\(entryID)", key: hub.keys["finance"])
            #expect(entry["document"] as? String == "log:\(entryID)" && entry["kind"] as? String == "refund" && entry["location"] as? String == "store-1")
            let sources = (entry["sources"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
            #expect(sources == ["order", "return"])
            let lines = try #require(entry["lines"] as? [[String: Any]])
            #expect(lines.contains { $0["account"] as? String == "1200" && $0["credit"] as? String == "22.00" && $0["tender"] as? String == "cash" })
            let sourceEvents = (entry["source_events"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
            #expect(sourceEvents == ["order.captured", "return.authorized", "return.received", "return.refunded"], "\(sourceEvents ?? [])")
            let (_, orderView) = try await send(client, .get, "/v1/orders/\(id)", key: hub.keys["shop"])
            #expect(orderView["status"] as? String == "partially_returned")
            #expect((orderView["returns"] as? [[String: Any]])?.map { $0["status"] as? String } == ["completed"])
            let orderPostings = try #require(orderView["postings"] as? [[String: Any]])
            #expect(orderPostings.map { $0["kind"] as? String } == ["sale", "refund"] && orderPostings.allSatisfy { $0["state"] as? String == "posted" })

            // The store's day: the till paid £22.00 in cash, and the ERP has it.
            let day = try #require(entry["business_day"] as? String)
            let (reconciled, report) = try await send(client, .get, "/v1/finance/reconciliation?location=store-1&day=\(day)", key: hub.keys["finance"])
            #expect(reconciled == .ok, "\(report)")
            let totals = try #require(report["totals"] as? [[String: Any]])
            #expect(totals.contains { $0["tender"] as? String == "cash" && $0["source"] as? String == "-22.00" && $0["posted"] as? String == "-22.00" }, "\(totals)")
            #expect((report["differences"] as? [Any])?.isEmpty == true && report["documents"] as? Int == 1)
            let (badDay, _) = try await send(client, .get, "/v1/finance/reconciliation?location=store-1&day=yesterday", key: hub.keys["finance"])
            #expect(badDay == .badRequest)
        }
        #expect(try await hub.store.position(sku: "SHIRT-M", location: "store-1").onHand == 1)
    }

    @Test func badReturnsAreRefusedByFieldAndChangeNothing() async throws {
        let hub = try await hub()
        try await app(hub).test(.router) { client in
            let (badReason, problem) = try await send(client, .post, "/v1/returns", key: hub.keys["till"],
                                                      returnBody(number: "R-2").replacingOccurrences(of: "wrong_size", with: "meh"))
            #expect(badReason == .badRequest && problem["field"] as? String == "lines[0].reason", "\(problem)")
            let (noOrder, missing) = try await send(client, .post, "/v1/returns", key: hub.keys["till"], returnBody(number: "R-3"))
            #expect(noOrder == .notFound && missing["field"] as? String == "order", "\(missing)")
            let unreferenced = """
                {"channel":"pos","channel_return_id":"T-1","location":"store-1","refund":"store_tender","tender":"cash","received":true,"currency":"GBP",
                 "lines":[{"sku":"SHIRT-M","quantity":1,"reason":"changed_mind","condition":"opened","unit_price":"20.00","tax_rate_bp":2000}]}
                """
            let (legacy, refusal) = try await send(client, .post, "/v1/returns", key: hub.keys["till"], unreferenced)
            #expect(legacy == .unprocessableContent && (refusal["refusals"] as? [[String: Any]])?.first?["code"] as? String == "unreferenced_refused")
            let (noTender, field) = try await send(client, .post, "/v1/returns", key: hub.keys["till"],
                                                   unreferenced.replacingOccurrences(of: #""tender":"cash","#, with: ""))
            #expect(noTender == .badRequest && field["field"] as? String == "refund", "\(field)")
        }
        #expect(try await hub.store.position(sku: "SHIRT-M", location: "store-1").onHand == 0)
    }
}
