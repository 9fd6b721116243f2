import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// The inventory over HTTP: catalog, movements, counts, availability and reservations, each refused for a key
/// that may not act, and batches that are all or nothing.
@Suite struct InventoryAPITests {
    struct Fixture {
        let store: SQLiteStore
        /// role → full key: admin, inventory (every location), store12 (store-12 only), reader (inventory:read).
        let keys: [String: String]
    }

    func fixture() async throws -> Fixture {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        var keys: [String: String] = [:]
        var changes: [AccessChange] = []
        for (role, scopes, locations) in [
            ("admin", ["admin"], nil), ("inventory", ["inventory:read", "inventory:write"], nil),
            ("store12", ["inventory:read", "inventory:write"], [LocationID("store-12")]), ("reader", ["inventory:read"], nil),
            ("revoked", ["admin"], nil),
        ] as [(String, [String], [LocationID]?)] {
            let (record, key) = ApiKeys.generate(client: role, scopes: scopes, locations: locations, ratePerSecond: 10_000, burst: 10_000, now: Date())
            keys[role] = key
            changes.append(.createKey(record))
            if role == "revoked" { changes.append(.revokeKey(id: record.id, at: Date())) }
        }
        _ = try await store.commit(Commit(
            catalog: [
                .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
                .putLocation(try Location(id: "store-14", kind: .store, name: "Leeds")),
                .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "Leeds DC")),
                .putProduct(try Product(sku: "SHIRT-M", name: "Shirt M")),
                .putProduct(try Product(sku: "PRE-1", name: "Pre-order", allowBackorder: true)),
            ],
            access: changes))
        return Fixture(store: store, keys: keys)
    }

    func app(_ fixture: Fixture, inventory: InventoryService? = nil) -> some ApplicationProtocol {
        Application(router: HubRouter.build(store: fixture.store, metrics: PrometheusCollectorRegistry(), inventory: inventory),
                    logger: Logger(label: "inventory-test"))
    }

    func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String?, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    static let now = Date().ISO8601Format()

    func movement(_ sku: String, _ location: String, _ delta: Int, _ reason: String, key: String, at: String = now) -> String {
        #"{"sku":"\#(sku)","location":"\#(location)","delta":\#(delta),"reason":"\#(reason)","occurred_at":"\#(at)","source":"pos-12","source_key":"\#(key)"}"#
    }

    func movements(_ items: String...) -> String { #"{"movements":[\#(items.joined(separator: ","))]}"# }

    @Test func movementsApplyOnceAndABatchWithABadItemAppliesNothing() async throws {
        let fixture = try await fixture()
        let key = fixture.keys["inventory"]
        try await app(fixture).test(.router) { client in
            let (status, body) = try await send(client, .post, "/v1/inventory/movements", key: key, movements(
                movement("SHIRT-M", "store-12", 10, "receipt", key: "r-1"), movement("SHIRT-M", "store-12", -2, "sale", key: "s-1")))
            #expect(status == .ok)
            let results = try #require(body["results"] as? [[String: Any]])
            #expect(results.map { $0["outcome"] as? String } == ["applied", "applied"])
            #expect((results[1]["position"] as? [String: Any])?["on_hand"] as? Int == 8)

            let (again, repeated) = try await send(client, .post, "/v1/inventory/movements", key: key, movements(movement("SHIRT-M", "store-12", -2, "sale", key: "s-1")))
            #expect(again == .ok && (repeated["results"] as? [[String: Any]])?.first?["outcome"] as? String == "already_applied")

            // One good item, and four bad ones: nothing is applied, and every bad item is named.
            let (refused, problem) = try await send(client, .post, "/v1/inventory/movements", key: key, movements(
                movement("SHIRT-M", "store-12", -1, "sale", key: "s-2"), movement("NO-SUCH", "store-12", -1, "sale", key: "s-3"),
                movement("SHIRT-M", "nowhere", -1, "sale", key: "s-4"), movement("SHIRT-M", "store-12", 0, "sale", key: "s-5"),
                movement("SHIRT-M", "store-12", 5, "sale", key: "s-6")))
            #expect(refused == .badRequest)
            #expect(problem["type"] as? String == "urn:tillwire:problem:invalid-request")
            let fields = (problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
            #expect(fields == ["movements[1].sku", "movements[2].location", "movements[3].delta", "movements[4].delta"], "\(problem)")
        }
        #expect(try await fixture.store.position(sku: "SHIRT-M", location: "store-12").onHand == 8, "the refused batch applied nothing")
        let events = try await fixture.store.readStream("inventory/store-12", fromVersion: 1, limit: 100)
        #expect(events.map(\.type) == ["inventory.adjusted", "availability.changed", "inventory.adjusted", "availability.changed"],
                "one event pair per applied movement, none for the repeat")
        let adjusted = try events[2].decode(InventoryAdjusted.self)
        #expect(adjusted.movement.delta == -2 && adjusted.after.onHand == 8)
    }

    @Test(arguments: [
        (#"{"movements":[]}"#, "movements"),
        (#"{"movements":[{"sku":"SHIRT-M"}]}"#, "movements[0].location"),
        (#"{"movements":[{"sku":"SHIRT-M","location":"store-12","delta":1e30,"reason":"receipt","occurred_at":"2026-11-27T09:00:00Z","source":"pos","source_key":"k"}]}"#, "movements[0].delta"),
        (#"{"movements":[{"sku":"SHIRT-M","location":"store-12","delta":1,"reason":"gift","occurred_at":"2026-11-27T09:00:00Z","source":"pos","source_key":"k"}]}"#, "movements[0].reason"),
        (#"{"movements":[{"sku":"SHIRT-M","location":"store-12","delta":1,"reason":"receipt","occurred_at":"yesterday","source":"pos","source_key":"k"}]}"#, "movements[0].occurred_at"),
        (#"{"movements":[{"sku":"SHIRT-M","location":"store-12","delta":1,"reason":"receipt","occurred_at":"2099-01-01T00:00:00Z","source":"pos","source_key":"k"}]}"#, "movements[0].occurred_at"),
        (#"{"counts":[{"sku":"SHIRT-M","location":"store-12","counted":-4,"as_of":"2026-11-27T09:00:00Z","source":"erp","source_key":"c"}]}"#, "counts[0].counted"),
        // The hub's own name is not a client's: its ledger keys (a consumed reservation's sale) stay the hub's.
        (#"{"movements":[{"sku":"SHIRT-M","location":"store-12","delta":-1,"reason":"sale","occurred_at":"2026-11-27T09:00:00Z","source":"tillwire","source_key":"consumed/r-1"}]}"#, "movements[0].source"),
    ])
    func badInputIs400NamingTheField(body: String, field: String) async throws {
        let fixture = try await fixture()
        let path = body.hasPrefix(#"{"counts""#) ? "/v1/inventory/counts" : "/v1/inventory/movements"
        try await app(fixture).test(.router) { client in
            let (status, problem) = try await send(client, .post, path, key: fixture.keys["inventory"], body)
            #expect(status == .badRequest)
            #expect(problem["field"] as? String == field, "\(problem)")
        }
        #expect(try await fixture.store.ledger(sku: "SHIRT-M", location: "store-12").isEmpty)
    }

    @Test func countsCorrectAgainstTheLedgerAtTheirTimeAndReportDivergence() async throws {
        let fixture = try await fixture()
        let key = fixture.keys["inventory"]
        let t0 = Date() - 3_600
        @Sendable func at(_ offset: TimeInterval) -> String { (t0 + offset).ISO8601Format() }
        try await app(fixture, inventory: InventoryService(store: fixture.store, policy: .init(divergenceAlertUnits: 5))).test(.router) { client in
            _ = try await send(client, .post, "/v1/inventory/movements", key: key, movements(
                movement("SHIRT-M", "dc-1", 100, "receipt", key: "r", at: at(0)), movement("SHIRT-M", "dc-1", -30, "sale", key: "s", at: at(120))))
            // The ERP counted 90 at t+60, before the sale at t+120: the ledger said 100 then, so the correction is -10
            // and the later sale stays.
            let count = #"{"counts":[{"sku":"SHIRT-M","location":"dc-1","counted":90,"as_of":"\#(at(60))","source":"erp","source_key":"snap-1"}]}"#
            let (status, body) = try await send(client, .post, "/v1/inventory/counts", key: key, count)
            #expect(status == .ok)
            let result = try #require((body["results"] as? [[String: Any]])?.first)
            #expect(result["outcome"] as? String == "corrected" && result["correction"] as? Int == -10)
            #expect((result["position"] as? [String: Any])?["on_hand"] as? Int == 60)
            let (_, again) = try await send(client, .post, "/v1/inventory/counts", key: key, count)
            #expect((again["results"] as? [[String: Any]])?.first?["outcome"] as? String == "agreed", "the same count again changes nothing")
        }
        let events = try await fixture.store.readStream("inventory/dc-1", fromVersion: 1, limit: 100)
        let divergence = try #require(events.first { $0.type == "inventory.divergence_detected" })
        let payload = try divergence.decode(InventoryDivergenceDetected.self)
        #expect(payload.reported == 90 && payload.ledger == 100 && payload.difference == -10 && payload.system == "erp")
        #expect(payload.alert, "10 units off is over the threshold of 5")
        #expect(events.filter { $0.type == "inventory.counted" }.count == 1)
    }

    @Test func availabilityReadsOneAllOrABatch() async throws {
        let fixture = try await fixture()
        let key = fixture.keys["reader"]
        try await app(fixture).test(.router) { client in
            _ = try await send(client, .post, "/v1/inventory/movements", key: fixture.keys["inventory"], movements(
                movement("SHIRT-M", "store-12", 4, "receipt", key: "a"), movement("SHIRT-M", "dc-1", 50, "receipt", key: "b")))
            let (status, one) = try await send(client, .get, "/v1/availability?sku=SHIRT-M&location=dc-1", key: key)
            #expect(status == .ok && (one["positions"] as? [[String: Any]])?.first?["available"] as? Int == 50)
            #expect(one["as_of"] is String)
            let (_, all) = try await send(client, .get, "/v1/availability?sku=SHIRT-M", key: key)
            #expect((all["positions"] as? [[String: Any]])?.compactMap { $0["location"] as? String } == ["dc-1", "store-12"])
            let (_, batch) = try await send(client, .post, "/v1/availability/query", key: key,
                                             #"{"items":[{"sku":"SHIRT-M","location":"store-12"},{"sku":"PRE-1","location":"dc-1"}]}"#)
            #expect((batch["positions"] as? [[String: Any]])?.compactMap { $0["on_hand"] as? Int } == [4, 0])
            let (missing, problem) = try await send(client, .get, "/v1/availability", key: key)
            #expect(missing == .badRequest && problem["field"] as? String == "sku")
        }
    }

    @Test func reservationsHoldStockRefuseOversellAndEndOnce() async throws {
        let fixture = try await fixture()
        let key = fixture.keys["inventory"]
        try await app(fixture).test(.router) { client in
            _ = try await send(client, .post, "/v1/inventory/movements", key: key, movements(movement("SHIRT-M", "store-12", 5, "receipt", key: "r")))
            let reserve = #"{"key":"web-1001-1","order":"1001","sku":"SHIRT-M","location":"store-12","quantity":3}"#
            let (created, reservation) = try await send(client, .post, "/v1/reservations", key: key, reserve)
            #expect(created == .created && reservation["state"] as? String == "active")
            #expect((reservation["position"] as? [String: Any])?["available"] as? Int == 2)
            let (repeated, _) = try await send(client, .post, "/v1/reservations", key: key, reserve)
            #expect(repeated == .ok, "the same reservation again is answered, not applied twice")
            let (different, _) = try await send(client, .post, "/v1/reservations", key: key,
                                                #"{"key":"web-1001-1","order":"1001","sku":"SHIRT-M","location":"store-12","quantity":4}"#)
            #expect(different == .unprocessableContent, "the same key for another quantity")

            let (short, problem) = try await send(client, .post, "/v1/reservations", key: key,
                                                  #"{"key":"web-1002-1","order":"1002","sku":"SHIRT-M","location":"store-12","quantity":3}"#)
            #expect(short == .conflict && problem["type"] as? String == "urn:tillwire:problem:insufficient-stock")
            #expect(problem["available"] as? Int == 2, "the refusal says what is available")
            let (backorder, _) = try await send(client, .post, "/v1/inventory/movements", key: key, movements(movement("PRE-1", "dc-1", 1, "receipt", key: "p")))
            #expect(backorder == .ok)
            let (allowed, _) = try await send(client, .post, "/v1/reservations", key: key,
                                              #"{"key":"pre-1","order":"1003","sku":"PRE-1","location":"dc-1","quantity":4}"#)
            #expect(allowed == .created, "a SKU that allows backorder may go below zero")

            let (consumed, after) = try await send(client, .post, "/v1/reservations/web-1001-1/consume", key: key, #"{"source":"pos-12"}"#)
            #expect(consumed == .ok && after["state"] as? String == "consumed")
            #expect((after["position"] as? [String: Any])?["on_hand"] as? Int == 2 && (after["position"] as? [String: Any])?["reserved"] as? Int == 0)
            let (twice, _) = try await send(client, .post, "/v1/reservations/web-1001-1/consume", key: key, #"{"source":"pos-12"}"#)
            #expect(twice == .ok, "consuming again changes nothing")
            let (released, _) = try await send(client, .post, "/v1/reservations/web-1001-1/release", key: key, "{}")
            #expect(released == .unprocessableContent, "a consumed reservation cannot be released")
            let (unknown, _) = try await send(client, .get, "/v1/reservations/nope", key: key)
            #expect(unknown == .notFound)
        }
        #expect(try await fixture.store.ledger(sku: "SHIRT-M", location: "store-12").map(\.movement.delta) == [5, -3], "one sale for the consumption")
    }

    @Test func aReservationWithoutALocationTakesTheBestCandidate() async throws {
        let fixture = try await fixture()
        let key = fixture.keys["inventory"]
        try await app(fixture).test(.router) { client in
            _ = try await send(client, .post, "/v1/inventory/movements", key: key, movements(
                movement("SHIRT-M", "store-12", 2, "receipt", key: "a"), movement("SHIRT-M", "dc-1", 9, "receipt", key: "b")))
            let (_, most) = try await send(client, .post, "/v1/reservations", key: key,
                                           #"{"key":"c-1","order":"2001","sku":"SHIRT-M","candidates":["store-12","dc-1"],"quantity":2}"#)
            #expect(most["location"] as? String == "dc-1", "most available first")
        }
        try await app(fixture, inventory: InventoryService(store: fixture.store, policy: .init(locationChoice: .firstListed))).test(.router) { client in
            let (_, first) = try await send(client, .post, "/v1/reservations", key: key,
                                            #"{"key":"c-2","order":"2002","sku":"SHIRT-M","candidates":["store-12","dc-1"],"quantity":2}"#)
            #expect(first["location"] as? String == "store-12", "first listed that has enough")
            let (_, fallback) = try await send(client, .post, "/v1/reservations", key: key,
                                               #"{"key":"c-3","order":"2003","sku":"SHIRT-M","candidates":["store-12","dc-1"],"quantity":2}"#)
            #expect(fallback["location"] as? String == "dc-1", "store-12 has nothing left, so the next candidate")
        }
    }

    @Test func anExpiredReservationFreesItsStockThroughItsDurableTimer() async throws {
        let fixture = try await fixture()
        let service = InventoryService(store: fixture.store)
        _ = try await service.record([try InventoryMovement(sku: "SHIRT-M", location: "store-12", delta: 3, reason: .receipt, occurredAt: Date(), source: "pos", sourceKey: "r")], correlation: "t")
        _ = try await service.reserve(.init(id: "short", order: "1", sku: "SHIRT-M", quantity: 2, location: "store-12", hold: .seconds(1)))
        _ = try await service.reserve(.init(id: "extended", order: "2", sku: "SHIRT-M", quantity: 1, location: "store-12", hold: .seconds(1)))
        _ = try await service.extend("extended", hold: .seconds(600))
        let worker = JobWorker(store: fixture.store, handlers: [ReservationExpiry(service: service)],
                               configuration: .init(concurrency: 1, idleWait: .milliseconds(20)), logger: Logger(label: "expiry"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            let deadline = Date() + 15
            while try await fixture.store.reservation("short")?.state == .active, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(300))
            group.cancelAll()
        }
        #expect(try await fixture.store.reservation("short")?.state == .expired)
        #expect(try await fixture.store.reservation("extended")?.state == .active, "its first timer found it extended and waits for the new time")
        #expect(try await fixture.store.position(sku: "SHIRT-M", location: "store-12").reserved == 1)
        #expect(try await fixture.store.readStream("inventory/store-12", fromVersion: 1, limit: 100).contains { $0.type == "reservation.expired" })
    }

    /// DESIGN.md §5.7 for the inventory routes: no key, a revoked key, a key without the scope, and a key of another
    /// store are refused, and nothing changes.
    @Test func everyInventoryWriteRefusesKeysThatMayNotActAndChangesNothing() async throws {
        let fixture = try await fixture()
        _ = try await InventoryService(store: fixture.store).record(
            [try InventoryMovement(sku: "SHIRT-M", location: "store-14", delta: 5, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "seed")], correlation: "t")
        _ = try await InventoryService(store: fixture.store).reserve(.init(id: "held-14", order: "9", sku: "SHIRT-M", quantity: 1, location: "store-14"))
        let writes: [(HTTPRequest.Method, String, String)] = [
            (.post, "/v1/inventory/movements", movements(movement("SHIRT-M", "store-14", -1, "sale", key: "x"))),
            (.post, "/v1/inventory/counts", #"{"counts":[{"sku":"SHIRT-M","location":"store-14","counted":0,"as_of":"\#(Self.now)","source":"pos","source_key":"c"}]}"#),
            (.post, "/v1/reservations", #"{"key":"r-x","order":"1","sku":"SHIRT-M","location":"store-14","quantity":1}"#),
            (.post, "/v1/reservations/held-14/consume", "{}"),
            (.post, "/v1/reservations/held-14/release", "{}"),
            (.post, "/v1/reservations/held-14/extend", #"{"expires_in_seconds":60}"#),
            (.put, "/v1/locations/store-14", #"{"kind":"store","name":"renamed"}"#),
            (.post, "/v1/products", #"{"products":[{"sku":"SHIRT-M","name":"renamed"}]}"#),
        ]
        let cases: [(String, String?, HTTPResponse.Status)] = [
            ("no key", nil, .unauthorized), ("a revoked key", fixture.keys["revoked"], .unauthorized),
            ("a read-only key", fixture.keys["reader"], .forbidden), ("a key of another store", fixture.keys["store12"], .forbidden),
        ]
        try await app(fixture).test(.router) { client in
            for (method, path, body) in writes {
                for (what, key, expected) in cases {
                    let (status, problem) = try await send(client, method, path, key: key, body)
                    #expect(status == expected, "\(what) on \(method) \(path): \(problem)")
                }
            }
        }
        #expect(try await fixture.store.position(sku: "SHIRT-M", location: "store-14") == InventoryPosition(sku: "SHIRT-M", location: "store-14", onHand: 5, reserved: 1))
        #expect(try await fixture.store.reservation("held-14")?.state == .active)
        #expect(try await fixture.store.reservation("r-x") == nil)
        #expect(try await fixture.store.locations().first { $0.id == "store-14" }?.name == "Leeds")
        #expect(try await fixture.store.products(["SHIRT-M"])["SHIRT-M"]?.name == "Shirt M")
    }

    @Test func aStoreKeyWritesForItsOwnStore() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            let (status, _) = try await send(client, .post, "/v1/inventory/movements", key: fixture.keys["store12"],
                                             movements(movement("SHIRT-M", "store-12", 2, "receipt", key: "own")))
            #expect(status == .ok)
            let (mixed, problem) = try await send(client, .post, "/v1/inventory/movements", key: fixture.keys["store12"], movements(
                movement("SHIRT-M", "store-12", 2, "receipt", key: "own-2"), movement("SHIRT-M", "store-14", 2, "receipt", key: "other")))
            #expect(mixed == .forbidden && problem["field"] as? String == "movements[1].location", "\(problem)")
            // Another store's items are refused before their SKUs are looked at: no answer tells what exists there.
            let (probing, probed) = try await send(client, .post, "/v1/inventory/movements", key: fixture.keys["store12"],
                                                   movements(movement("NO-SUCH-SKU", "store-14", 1, "receipt", key: "probe")))
            #expect(probing == .forbidden && probed["field"] as? String == "movements[0].location", "\(probed)")
        }
        #expect(try await fixture.store.position(sku: "SHIRT-M", location: "store-12").onHand == 2, "the mixed batch applied nothing")
    }

    @Test func aTransferIsInTransitToItsDestinationUntilReceived() async throws {
        let fixture = try await fixture()
        let key = fixture.keys["inventory"]
        @Sendable func transfer(_ location: String, _ delta: Int, _ reason: String, key: String, destination: String? = nil) -> String {
            #"{"sku":"SHIRT-M","location":"\#(location)","delta":\#(delta),"reason":"\#(reason)","occurred_at":"\#(Self.now)","source":"erp","source_key":"\#(key)","transfer_id":"TO-881"\#(destination.map { #","destination":"\#($0)""# } ?? "")}"#
        }
        try await app(fixture).test(.router) { client in
            _ = try await send(client, .post, "/v1/inventory/movements", key: key, movements(movement("SHIRT-M", "dc-1", 20, "receipt", key: "r")))
            let (shipped, _) = try await send(client, .post, "/v1/inventory/movements", key: key, movements(transfer("dc-1", -6, "transfer_out", key: "out", destination: "store-12")))
            #expect(shipped == .ok)
            let (_, during) = try await send(client, .get, "/v1/availability?sku=SHIRT-M", key: key)
            let byLocation = Dictionary(uniqueKeysWithValues: (during["positions"] as? [[String: Any]] ?? []).map { ($0["location"] as? String ?? "", $0) })
            #expect(byLocation["dc-1"]?["on_hand"] as? Int == 14)
            #expect(byLocation["dc-1"]?["in_transit"] as? Int == 0)
            let (_, destination) = try await send(client, .get, "/v1/availability?sku=SHIRT-M&location=store-12", key: key)
            let arriving = (destination["positions"] as? [[String: Any]])?.first
            #expect(arriving?["in_transit"] as? Int == 6 && arriving?["available"] as? Int == 0, "in transit is not yet available: \(destination)")
            _ = try await send(client, .post, "/v1/inventory/movements", key: key, movements(transfer("store-12", 6, "transfer_in", key: "in")))
            let (_, after) = try await send(client, .post, "/v1/availability/query", key: key, #"{"items":[{"sku":"SHIRT-M","location":"store-12"}]}"#)
            let received = (after["positions"] as? [[String: Any]])?.first
            #expect(received?["in_transit"] as? Int == 0 && received?["available"] as? Int == 6)

            let (refused, problem) = try await send(client, .post, "/v1/inventory/movements", key: key, movements(
                transfer("dc-1", -1, "transfer_out", key: "o2"), transfer("dc-1", -1, "transfer_out", key: "o3", destination: "nowhere"),
                transfer("dc-1", -1, "sale", key: "o4")))
            #expect(refused == .badRequest)
            #expect((problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
                    == ["movements[0].transfer_id", "movements[1].destination", "movements[2].transfer_id"], "\(problem)")
        }
    }
}
