import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// Orders through `tillwire serve`: the fulfilment saga runs in the hub's worker (releases and channel notifications
/// go to the log until connectors are configured), the lookup shows the whole journey, a store works its pickup
/// queue, and a SIGKILL in the middle of sagas loses none and runs none twice.
@Suite(.serialized) struct OrderServeTests {

    /// A hub's SQLite file with a DC, a store, two products and stock, an admin key, and its configuration.
    func prepare(_ folder: TemporaryFolder, stock: Int64 = 100) async throws -> (path: String, configuration: String, key: String) {
        let path = folder.path("hub.sqlite")
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "ops", scopes: ["admin"], locations: nil, ratePerSecond: 10_000, burst: 10_000, now: Date())
        _ = try await store.commit(Commit(
            catalog: [.putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")), .putLocation(try Location(id: "store-1", kind: .store, name: "Leeds")),
                      .putProduct(try Product(sku: "SHIRT", name: "Shirt")), .putProduct(try Product(sku: "MUG", name: "Mug"))],
            access: [.createKey(record)]))
        let now = Date()
        _ = try await InventoryService(store: store).record([
            try InventoryMovement(sku: "SHIRT", location: "dc-1", delta: stock, reason: .receipt, occurredAt: now, source: "erp", sourceKey: "r1"),
            try InventoryMovement(sku: "MUG", location: "dc-1", delta: stock, reason: .receipt, occurredAt: now, source: "erp", sourceKey: "r2"),
            try InventoryMovement(sku: "MUG", location: "store-1", delta: 5, reason: .receipt, occurredAt: now, source: "erp", sourceKey: "r3"),
        ], correlation: "receipts")
        try await store.close()
        let configuration = folder.path("hub.yaml")
        try """
            tax:
              home_country: GB
              countries:
                GB: {kind: vat_inclusive, rates: [2000]}
            orders:
              fulfilment_system: wms
              ship_from:
                ship_from_dc: [dc-1]
            channels:
              web:
                locations: [dc-1]
            systems:
              wms:
                concurrency: 4
            """.write(toFile: configuration, atomically: true, encoding: .utf8)
        return (path, configuration, key)
    }

    /// The hub; a job leased by a killed hub runs again once its lease (3 s here) has passed.
    func serve(_ prepared: (path: String, configuration: String, key: String), environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(try tillwireExecutable(), ["serve", "--config", prepared.configuration], environment: [
            "TILLWIRE_HTTP_PORT": "0", "TILLWIRE_STORAGE_SQLITE_PATH": prepared.path, "TILLWIRE_LOG_LEVEL": "info",
            "TILLWIRE_WORKERS_LEASE_SECONDS": "3",
        ].merging(environment) { _, given in given })
    }

    /// A web order: a shirt at £24.00 and a mug at £6.00, VAT 20 % included, paid.
    func order(_ number: String, pickup: Bool = false) -> String {
        let fulfilment = pickup ? #"{"mode":"pick_up_in_store","pickup_store":"store-1"}"# : #"{"mode":"ship_from_dc"}"#
        let lines = pickup
            ? #"[{"id":"1","sku":"MUG","quantity":2,"unit_price":"6.00","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"2.00"}]}]"#
            : #"[{"id":"1","sku":"SHIRT","quantity":1,"unit_price":"24.00","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"4.00"}]},{"id":"2","sku":"MUG","quantity":1,"unit_price":"6.00","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"1.00"}]}]"#
        let total = pickup ? "12.00" : "30.00"
        return """
            {"channel":"web","channel_order_id":"\(number)","placed_at":"2026-11-27T10:00:00Z","currency":"GBP","taxes_included":true,
             "customer":{"email":"ann@example.org","name":"Ann"}\(pickup ? "" : #","ship_to":{"country":"GB"}"#),"lines":\(lines),
             "payments":{"authorized":"\(total)","captured":"\(total)"},"fulfilment":\(fulfilment),"total":"\(total)"}
            """
    }

    func waitForStatus(_ base: String, _ id: String, key: String, _ wanted: String, timeout: TimeInterval = 30) async throws -> [String: Any] {
        let deadline = Date() + timeout
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try await call(base, "GET", "/v1/orders/\(id)", key: key).1
            if last["status"] as? String == wanted { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("order \(id) did not reach \(wanted): \(last["status"] ?? "?"), saga \(String(describing: last["saga"]))")
        return last
    }

    @Test func theLookupShowsAnOrdersWholeJourneyAcrossSystems() async throws {
        let folder = try TemporaryFolder()
        let prepared = try await prepare(folder)
        let hub = try serve(prepared)
        let base = try await hub.servingAddress()
        let key = prepared.key

        let (created, captured) = try await call(base, "POST", "/v1/orders", key: key, order("5001"))
        #expect(created == 201)
        let id = try #require(captured["id"] as? String)
        var journey = try await waitForStatus(base, id, key: key, "released")
        #expect((journey["releases"] as? [[String: Any]])?.first?["document"] as? String == "log:\(id)")
        #expect((journey["releases"] as? [[String: Any]])?.first?["system"] as? String == "wms")

        let (shipped, _) = try await call(base, "POST", "/v1/orders/\(id)/shipments", key: key,
                                          #"{"shipment_id":"PKG-1","lines":["1","2"],"tracking":{"carrier":"DPD","number":"15501"}}"#)
        #expect(shipped == 200)
        _ = try await waitForStatus(base, id, key: key, "completed")
        try await hub.wait(timeout: 20, "the channel told of the fulfilment", until: {
            hub.standardError.split(separator: "\n").contains { $0.contains("order status for its channel") && $0.contains("status=fulfilled") && $0.contains("15501") }
        })
        journey = try await call(base, "GET", "/v1/orders/\(id)", key: key).1

        // The journey: every status change with its cause, the reservations, the calls to each system, the saga.
        let history = (journey["history"] as? [[String: Any]] ?? []).map { "\($0["from"] ?? "")>\($0["to"] ?? "")" }
        #expect(history == ["captured>validated", "validated>allocated", "allocated>released", "released>fulfilled", "fulfilled>completed"])
        let events = (journey["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        for type in ["order.captured", "reservation.created", "order.released", "order.shipped", "reservation.consumed", "order.fulfilled",
                     "order.system_called", "order.completed"] {
            #expect(events.contains(type), "the journey has \(type): \(events)")
        }
        let sources = Set((journey["events"] as? [[String: Any]] ?? []).compactMap { $0["source"] as? String })
        #expect(sources.isSuperset(of: ["web", "wms", "tillwire"]), "\(sources)")
        let reservations = journey["reservations"] as? [[String: Any]] ?? []
        #expect(reservations.map { $0["state"] as? String } == ["consumed", "consumed"])
        #expect(reservations.map { $0["location"] as? String } == ["dc-1", "dc-1"])
        let saga = try #require(journey["saga"] as? [String: Any])
        #expect(saga["state"] as? String == "completed")
        #expect((saga["steps"] as? [[String: Any]])?.map { $0["name"] as? String } == ["open", "reserve", "release", "await-release", "await-fulfilment", "complete"])
        #expect((journey["jobs"] as? [Any])?.isEmpty == true, "nothing is owed to any system")
        #expect((journey["shipments"] as? [[String: Any]])?.first?["shipment"] as? String == "PKG-1")

        // The same journey by the channel's order number.
        let (found, byChannel) = try await call(base, "GET", "/v1/orders?channel=web&channel_order_id=5001", key: key)
        #expect(found == 200 && byChannel["id"] as? String == id)

        // Click and collect: the store sees the order at once, picks it, hands it over.
        let (_, pickupOrder) = try await call(base, "POST", "/v1/orders", key: key, order("5002", pickup: true))
        let pickupID = try #require(pickupOrder["id"] as? String)
        _ = try await waitForStatus(base, pickupID, key: key, "released")
        var (_, queue) = try await call(base, "GET", "/v1/stores/store-1/pickups", key: key)
        var entries = queue["pickups"] as? [[String: Any]] ?? []
        #expect(entries.map { $0["order"] as? String } == [pickupID])
        #expect(entries.first?["customer_name"] as? String == "Ann")
        #expect((entries.first?["lines"] as? [[String: Any]])?.first?["sku"] as? String == "MUG")
        // The till may sell the 3 mugs nobody waits for, not the 2 held for the customer.
        func sale(_ quantity: Int, _ key: String) -> String {
            #"{"movements":[{"sku":"MUG","location":"store-1","delta":-\#(quantity),"reason":"sale","occurred_at":"\#(Date().ISO8601Format())","source":"pos-1","source_key":"\#(key)"}]}"#
        }
        let (oversold, refusal) = try await call(base, "POST", "/v1/inventory/movements", key: key, sale(4, "till-1"))
        #expect(oversold == 422)
        #expect((refusal["detail"] as? String)?.contains("reserved for orders") == true, "\(refusal)")
        #expect(try await call(base, "POST", "/v1/inventory/movements", key: key, sale(3, "till-1")).0 == 200)
        #expect(try await call(base, "POST", "/v1/orders/\(pickupID)/pickup/picked", key: key, "{}").0 == 200)
        (_, queue) = try await call(base, "GET", "/v1/stores/store-1/pickups", key: key)
        entries = queue["pickups"] as? [[String: Any]] ?? []
        #expect(entries.first?["status"] as? String == "ready_for_pickup")
        #expect(entries.first?["pickup_by"] is String)
        let (collected, collection) = try await call(base, "POST", "/v1/orders/\(pickupID)/pickup/collected", key: key, "{}")
        #expect(collected == 200, "\(collection)")
        _ = try await waitForStatus(base, pickupID, key: key, "completed")
        (_, queue) = try await call(base, "GET", "/v1/stores/store-1/pickups", key: key)
        #expect((queue["pickups"] as? [Any])?.isEmpty == true)

        // A shipment of a pickup is refused, naming why.
        let (refused, problem) = try await call(base, "POST", "/v1/orders/\(pickupID)/shipments", key: key, #"{"shipment_id":"X","lines":["1"]}"#)
        #expect(refused == 409)
        #expect((problem["detail"] as? String)?.contains("collected at its store") == true)

        // The web order comes back to the store: the mug is restocked there, the channel refunds its payment, the
        // credit note reaches the ERP (the log, until a connector is configured), the order is partially returned.
        let (taken, returned) = try await call(base, "POST", "/v1/returns", key: key, """
            {"channel":"pos","channel_return_id":"S1-R-1","order_id":"\(id)","location":"store-1","refund":"original_tender","received":true,
             "lines":[{"order_line":"2","sku":"MUG","quantity":1,"reason":"changed_mind","condition":"unopened"}]}
            """)
        #expect(taken == 201, "\(returned)")
        let returnID = try #require(returned["id"] as? String)
        journey = try await waitForStatus(base, id, key: key, "partially_returned")
        var returnView: [String: Any] = [:]
        for _ in 0..<400 {
            returnView = try await call(base, "GET", "/v1/returns/\(returnID)", key: key).1
            if returnView["status"] as? String == "completed", (returnView["postings"] as? [[String: Any]])?.first?["state"] as? String == "posted" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(returnView["status"] as? String == "completed", "\(returnView)")
        #expect((returnView["postings"] as? [[String: Any]])?.first?["state"] as? String == "posted", "\(returnView)")
        #expect(hub.standardError.contains("refund for its channel"))
        journey = try await call(base, "GET", "/v1/orders/\(id)", key: key).1
        #expect((journey["postings"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["sale", "refund"])
        let day = try #require((journey["postings"] as? [[String: Any]])?.last?["business_day"] as? String)

        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0)

        // The same from the command line: the order's postings, and the store's day reconciled.
        let lineage = try await runTillwire(["lineage", "order", id], database: prepared.path)
        #expect(lineage.status == 0 && lineage.output.contains("je-refund-\(returnID)") && lineage.output.contains("posted to erp as log:"), "\(lineage.output)")
        let reconciled = try await runTillwire(["reconcile", "finance", "--store", "store-1", "--day", day], database: prepared.path)
        #expect(reconciled.status == 0 && reconciled.output.contains("no differences") && reconciled.output.contains("tender web"), "\(reconciled.output)")
    }

    @Test func sagasInterruptedBySIGKILLResumeAndRunEachStepOnce() async throws {
        let folder = try TemporaryFolder()
        let prepared = try await prepare(folder, stock: 1_000)
        var hub = try serve(prepared)
        var base = try await hub.servingAddress()
        let key = prepared.key
        // Orders, then a burst, and a SIGKILL as soon as the last is acknowledged: sagas are at every step.
        var ids: [String] = []
        for number in 0..<20 {
            if let id = try await call(base, "POST", "/v1/orders", key: key, order("K\(number)")).1["id"] as? String { ids.append(id) }
        }
        _ = try await waitForStatus(base, ids[0], key: key, "released")
        ids += try await withThrowingTaskGroup(of: String?.self) { group in
            for number in 20..<60 {
                group.addTask { [base] in
                    let (status, body) = try await call(base, "POST", "/v1/orders", key: key, order("K\(number)"))
                    #expect(status == 201)
                    return body["id"] as? String
                }
            }
            return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
        }
        #expect(ids.count == 60)
        hub.signal(SIGKILL)
        _ = try await hub.exit()
        let killed = try SQLiteStore.open(path: prepared.path)
        let counts = try await killed.orderCounts()
        try await killed.close()
        print("orders by status at the SIGKILL: \(counts)")
        #expect(counts[.released, default: 0] > 0 && counts[.released, default: 0] < ids.count,
                "the SIGKILL came before any saga, or after every one, had released its order; the test proves nothing")

        hub = try serve(prepared)
        base = try await hub.servingAddress()
        for id in ids { _ = try await waitForStatus(base, id, key: key, "released", timeout: 60) }
        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0)

        let store = try SQLiteStore.open(path: prepared.path)
        for id in ids {
            let events = try await store.readCorrelation(CorrelationID(trusted: id), limit: 1_000).map(\.type)
            #expect(events.filter { $0 == "order.released" }.count == 1, "\(id) released once")
            #expect(events.filter { $0 == "reservation.created" }.count == 2, "\(id) reserved once per line")
        }
        // Stock is conserved: each order holds one shirt and one mug at the DC, nothing else moved.
        #expect(try await store.position(sku: "SHIRT", location: "dc-1") == InventoryPosition(sku: "SHIRT", location: "dc-1", onHand: 1_000, reserved: Int64(ids.count)))
        #expect(try await store.position(sku: "MUG", location: "dc-1") == InventoryPosition(sku: "MUG", location: "dc-1", onHand: 1_000, reserved: Int64(ids.count)))
        try await store.close()
    }
}
