import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The store agent between its tills and the hub, both real processes (`tillwire store-agent`, `tillwire serve`),
/// with a `FaultProxy` on the link between them that the test breaks on purpose (docs/store-agent.md).
@Suite(.serialized) struct StoreAgentTests {
    static let skus = (0..<10).map { "AGENT-\($0)" }
    static let stock: Int64 = 5_000
    static let store = "store-1"

    /// A hub file with two stores and a DC, the SKUs with `stock` units each at the store, an admin key and the
    /// store's own key for its agent.
    struct Estate {
        let folder: TemporaryFolder
        let hubPath: String
        let adminKey: String
        let agentKey: String
        let configuration: String
    }

    func prepare() async throws -> Estate {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        let (admin, adminKey) = ApiKeys.generate(client: "ops", scopes: ["admin"], locations: nil, ratePerSecond: 100_000, burst: 100_000, now: Date())
        let (agent, agentKey) = ApiKeys.generate(client: "store-1-agent", scopes: ["inventory:write", "inventory:read", "orders:read", "prices:read"],
                                                 locations: [LocationID(trusted: Self.store)], now: Date())
        let receivedAt = Date() - 7_200
        _ = try await store.commit(Commit(
            catalog: [
                .putLocation(try Location(id: LocationID(trusted: Self.store), kind: .store, name: "High Street")),
                .putLocation(try Location(id: "store-2", kind: .store, name: "Station")),
                .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")),
            ] + (try (Self.skus + ["LAST-1"]).map { .putProduct(try Product(sku: SKU(trusted: $0), name: "agent test item")) }),
            access: [.createKey(admin), .createKey(agent)]))
        // Through the inventory's commands, as every stock change at a hub is: the agent's copy is read from their events.
        _ = try await InventoryService(store: store).record(try Self.skus.map {
            try InventoryMovement(sku: SKU(trusted: $0), location: LocationID(trusted: Self.store), delta: Self.stock, reason: .receipt,
                                  occurredAt: receivedAt, source: "erp", sourceKey: "opening-\($0)")
        } + [try InventoryMovement(sku: "LAST-1", location: LocationID(trusted: Self.store), delta: 3, reason: .receipt, occurredAt: receivedAt,
                                   source: "erp", sourceKey: "opening-LAST-1")], correlation: "opening-stock")
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
            store_agents:
              offline_after_seconds: 5
              alert_after_seconds: 8
              record_every_seconds: 2
            """.write(toFile: configuration, atomically: true, encoding: .utf8)
        return Estate(folder: folder, hubPath: path, adminKey: adminKey, agentKey: agentKey, configuration: configuration)
    }

    func startHub(_ estate: Estate, port: Int = 0) async throws -> (process: ChildProcess, base: String) {
        let hub = try ChildProcess(try tillwireExecutable(), ["serve", "--config", estate.configuration], environment: [
            "TILLWIRE_HTTP_PORT": "\(port)", "TILLWIRE_STORAGE_SQLITE_PATH": estate.hubPath, "TILLWIRE_LOG_LEVEL": "info",
            "TILLWIRE_INSTANCE_ID": "store-agent-test-hub",
        ])
        return (hub, try await hub.servingAddress())
    }

    func startAgent(_ estate: Estate, hub: String, batchItems: Int = 1_000, pricing: Bool = false) async throws -> (process: ChildProcess, base: String) {
        let agent = try ChildProcess(try tillwireExecutable(), [
            "store-agent", "--store", Self.store, "--hub", hub, "--database", estate.folder.path("agent.sqlite"), "--port", "0",
            "--contact-seconds", "1", "--batch-items", "\(batchItems)",
        ] + (pricing ? ["--channel", "pos", "--country", "GB"] : []), environment: ["TILLWIRE_AGENT_HUB_KEY": estate.agentKey])
        return (agent, try await agent.servingAddress(marker: "store agent is serving"))
    }

    /// One till's sale of one unit, as the till sends it: its own key, its own time.
    static func sale(till: Int, number: Int, at: Date) -> (key: String, body: String) {
        let sku = skus[(till * 7 + number) % skus.count]
        let key = "\(store)/till-\(till)/\(number)"
        return (key, #"{"movements":[{"sku":"\#(sku)","location":"\#(store)","delta":-1,"reason":"sale","occurred_at":"\#(at.ISO8601Format())","source":"pos-store-1","source_key":"\#(key)"}]}"#)
    }

    /// Sends `count` sales from `tills` tills at once (each till in its own order) to the agent; every one must be
    /// acknowledged (202). Returns how many each SKU sold.
    func sell(_ agent: String, tills: Int, perTill: Int, from start: Date, spacing: TimeInterval) async throws -> [String: Int64] {
        try await withThrowingTaskGroup(of: [String: Int64].self) { group in
            for till in 0..<tills {
                group.addTask {
                    var sold: [String: Int64] = [:]
                    for number in 0..<perTill {
                        let sale = Self.sale(till: till, number: number, at: start + Double(number * tills + till) * spacing)
                        var request = URLRequest(url: URL(string: agent + "/v1/inventory/movements")!)
                        request.httpMethod = "POST"
                        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        request.setValue(sale.key, forHTTPHeaderField: "Idempotency-Key")
                        request.httpBody = Data(sale.body.utf8)
                        let (data, response) = try await URLSession.shared.data(for: request)
                        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                        guard status == 202 else {
                            throw ChildProcessError("sale \(sale.key) got \(status): \(String(decoding: data, as: UTF8.self))")
                        }
                        sold[Self.skus[(till * 7 + number) % Self.skus.count], default: 0] += 1
                    }
                    return sold
                }
            }
            var total: [String: Int64] = [:]
            for try await sold in group { total.merge(sold, uniquingKeysWith: +) }
            return total
        }
    }

    func get(_ base: String, _ path: String, key: String? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: base + path)!)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        request.timeoutInterval = 20
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// The hub's on-hand figure of each SKU at the store.
    func hubOnHand(_ hub: String, key: String) async throws -> [String: Int64] {
        var figures: [String: Int64] = [:]
        for sku in Self.skus {
            let (_, body) = try await get(hub, "/v1/availability?sku=\(sku)&location=\(Self.store)", key: key)
            figures[sku] = ((body["positions"] as? [[String: Any]])?.first?["on_hand"] as? NSNumber)?.int64Value
        }
        return figures
    }

    /// Reads the hub's file (the hub stopped): every till sale in the store's ledger, in the order the hub applied
    /// them. Each key must be there once, and each till's sales in the till's order.
    func checkLedger(_ estate: Estate, tills: Int, perTill: Int) async throws {
        let store = try SQLiteStore.open(path: estate.hubPath)
        var keys: [String] = []
        var version: Int64 = 1
        while true {
            let events = try await store.readStream(StreamID(trusted: "inventory/\(Self.store)"), fromVersion: version, limit: 5_000)
            for event in events where event.type == InventoryAdjusted.eventType {
                let movement = try event.decode(InventoryAdjusted.self).movement
                if movement.reason == .sale { keys.append(movement.sourceKey) }
            }
            guard let last = events.last else { break }
            version = last.streamVersion + 1
        }
        try await store.close()
        #expect(keys.count == tills * perTill, "every sale applied once: \(keys.count) of \(tills * perTill)")
        #expect(Set(keys).count == keys.count, "no sale applied twice")
        var next = [Int](repeating: 0, count: tills)
        var outOfOrder: [String] = []
        for key in keys {
            let parts = key.split(separator: "/")
            guard parts.count == 3, let till = Int(parts[1].dropFirst("till-".count)), let number = Int(parts[2]) else { continue }
            if number != next[till] { outOfOrder.append("\(key) (expected \(next[till]))") }
            next[till] = number + 1
        }
        #expect(outOfOrder.isEmpty, "each till's sales in its order: \(outOfOrder.prefix(5))")
    }

    @Test func tenThousandSalesDuringAThirtyMinuteOutageArriveOnceAndInOrder() async throws {
        let estate = try await prepare()
        let (hub, hubBase) = try await startHub(estate)
        defer { hub.signal(SIGKILL) }
        let hubPort = Int(hubBase.split(separator: ":").last!)!
        let proxy = try FaultProxy(target: hubPort)
        defer { proxy.stop() }
        // The store's prices and a promotion, set at the hub before the outage.
        #expect(try await call(hubBase, "PUT", "/v1/prices", key: estate.adminKey, #"""
            {"channel":"pos","country":"GB","currency":"GBP","prices":[{"sku":"AGENT-1","price":"20.00","from":"2026-01-01T00:00:00Z"},
             {"sku":"AGENT-2","price":"6.00","from":"2026-01-01T00:00:00Z"}]}
            """#).0 == 200)
        #expect(try await call(hubBase, "POST", "/v1/promotions", key: estate.adminKey, #"""
            {"id":"winter","name":"Winter","type":"percent_off","basis_points":2500,"scope":{"skus":["AGENT-1"]},
             "from":"2026-01-01T00:00:00Z","until":"2099-01-01T00:00:00Z"}
            """#).0 == 201)
        let basket = #"{"channel":"pos","country":"GB","currency":"GBP","lines":[{"sku":"AGENT-1","quantity":2},{"sku":"AGENT-2","quantity":1}]}"#
        let (_, hubQuote) = try await call(hubBase, "POST", "/v1/pricing/quote", key: estate.adminKey, basket)
        #expect(hubQuote["total"] as? String == "36.00", "\(hubQuote)")
        let (agent, agentBase) = try await startAgent(estate, hub: "http://127.0.0.1:\(proxy.port)", pricing: true)
        defer { agent.signal(SIGKILL) }

        try await agent.eventually("the agent's first contact with the hub and its copy of the prices") {
            let status = try await get(agentBase, "/v1/agent/status").1
            return status["hub_online"] as? Bool == true && status["prices_as_of"] is String
        }
        let (_, hubView) = try await get(hubBase, "/v1/store-agents/\(Self.store)", key: estate.adminKey)
        #expect(hubView["status"] as? String == "online")

        // The link goes dark: the tills keep selling, 10,000 sales stamped across 30 minutes.
        proxy.set(.blackHole)
        let outageStart = Date() - 1_800
        let sold = try await sell(agentBase, tills: 4, perTill: 2_500, from: outageStart, spacing: 0.18)
        #expect(sold.values.reduce(0, +) == 10_000)

        // The agent answers from its copy, with the sales already taken off, and says how old the copy is.
        let (_, local) = try await get(agentBase, "/v1/availability?sku=AGENT-0")
        let position = (local["positions"] as? [[String: Any]])?.first
        #expect((position?["on_hand"] as? NSNumber)?.int64Value == Self.stock - sold["AGENT-0"]!)
        #expect((position?["unsent"] as? NSNumber)?.int64Value == -sold["AGENT-0"]!)
        #expect(local["as_of"] is String && local["age_seconds"] is NSNumber)
        let (_, status) = try await get(agentBase, "/v1/agent/status")
        #expect((status["queue_depth"] as? NSNumber)?.intValue == 10_000)
        #expect(status["oldest_unsent_at"] is String)
        #expect((try await get(agentBase, "/v1/stores/\(Self.store)/pickups").0) == 200)
        // The till prices a basket from the copy, by the hub's own rules: the same answer as the hub gave.
        var quoteRequest = URLRequest(url: URL(string: agentBase + "/v1/pricing/quote")!)
        quoteRequest.httpMethod = "POST"
        quoteRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        quoteRequest.httpBody = Data(basket.utf8)
        let (quoteData, quoteResponse) = try await URLSession.shared.data(for: quoteRequest)
        let agentQuote = (try? JSONSerialization.jsonObject(with: quoteData) as? [String: Any]) ?? [:]
        #expect((quoteResponse as? HTTPURLResponse)?.statusCode == 200)
        func canonical(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(agentQuote) == canonical(hubQuote))
        #expect((quoteResponse as? HTTPURLResponse)?.value(forHTTPHeaderField: "Age") != nil)

        // The hub sees the store go offline, then raises the alert, and shows both in its metrics.
        try await hub.eventually("the hub to show the store offline with its alert", timeout: 30) {
            let (_, view) = try await get(hubBase, "/v1/store-agents/\(Self.store)", key: estate.adminKey)
            return view["status"] as? String == "offline" && view["alerted"] as? Bool == true && view["offline_since"] is String
        }
        let metrics = String(decoding: try await URLSession.shared.data(for: {
            var request = URLRequest(url: URL(string: hubBase + "/metrics")!)
            request.setValue("Bearer \(estate.adminKey)", forHTTPHeaderField: "Authorization")
            return request
        }()).0, as: UTF8.self)
        #expect(metrics.contains(#"tillwire_store_agent_online{store="store-1"} 0"#))
        #expect(metrics.contains("tillwire_store_agents_offline 1"))

        // The link comes back the ways links do: refused, reset half-way through a request, answers lost after the hub
        // acted (the agent must send those again, and the hub must not apply them twice), then slow.
        proxy.set(.refuse)
        try await Task.sleep(for: .seconds(1))
        proxy.set(.resetMidRequest)
        try await Task.sleep(for: .seconds(1))
        proxy.set(.loseAnswers)
        try await Task.sleep(for: .seconds(3))
        proxy.set(.delay(.milliseconds(300)))
        try await Task.sleep(for: .seconds(2))
        let reconnected = Date()
        proxy.set(.pass)

        let expected = Dictionary(uniqueKeysWithValues: Self.skus.map { ($0, Self.stock - sold[$0, default: 0]) })
        try await hub.eventually("the hub's figures to converge", timeout: 60) {
            try await hubOnHand(hubBase, key: estate.adminKey) == expected
        }
        let converged = Date().timeIntervalSince(reconnected)
        print("store agent: 10,000 sales converged at the hub \(String(format: "%.1f", converged)) s after the link came back")
        // The goal (10 s) is measured in a release build by `Benchmarks/run store-agent`; here, a debug build sharing two
        // cores with the rest of the suite, the bound catches a forwarder that stalls or backs off too long.
        #expect(converged < 30, "the hub's figures converge soon after reconnection (took \(converged) s)")
        try await agent.eventually("the agent's queue to empty and its copy to catch up") {
            let (_, status) = try await get(agentBase, "/v1/agent/status")
            let (_, local) = try await get(agentBase, "/v1/availability?sku=AGENT-0")
            let position = (local["positions"] as? [[String: Any]])?.first
            return (status["queue_depth"] as? NSNumber)?.intValue == 0 && (position?["unsent"] as? NSNumber)?.int64Value == 0
                && (position?["on_hand"] as? NSNumber)?.int64Value == expected["AGENT-0"]
        }
        try await hub.eventually("the hub to show the store back online") {
            let (_, view) = try await get(hubBase, "/v1/store-agents/\(Self.store)", key: estate.adminKey)
            return view["status"] as? String == "online" && (view["queue_depth"] as? NSNumber)?.intValue == 0 && view["alerted"] as? Bool == false
        }
        agent.signal(SIGTERM)
        #expect(try await agent.exit() == 0)
        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0)
        try await checkLedger(estate, tills: 4, perTill: 2_500)
    }

    @Test func agentAndHubKilledWhileForwardingLoseNothingAndApplyNothingTwice() async throws {
        let estate = try await prepare()
        var (hub, hubBase) = try await startHub(estate)
        let hubPort = Int(hubBase.split(separator: ":").last!)!
        let proxy = try FaultProxy(target: hubPort)
        defer { proxy.stop() }
        var (agent, agentBase) = try await startAgent(estate, hub: "http://127.0.0.1:\(proxy.port)", batchItems: 50)
        try await agent.eventually("the agent's first contact with the hub") {
            (try await get(agentBase, "/v1/agent/status").1["hub_online"] as? Bool) == true
        }
        proxy.set(.blackHole)
        let sold = try await sell(agentBase, tills: 3, perTill: 1_000, from: Date() - 3_600, spacing: 1)
        proxy.set(.pass)

        // While the queue drains, fifty sales a request: kill -9 the agent or the hub at random moments, and start it again.
        var random = SeededGenerator(seed: 11)
        var midForward = 0
        for round in 0..<6 {
            try await Task.sleep(for: .milliseconds(Int.random(in: 100...700, using: &random)))
            // A kill counts as one during forwarding when the agent still held sales just before it.
            if let depth = (try? await get(agentBase, "/v1/agent/status").1["queue_depth"] as? NSNumber)?.intValue, depth > 0 { midForward += 1 }
            if round % 2 == 0 {
                agent.signal(SIGKILL)
                _ = try await agent.exit()
                (agent, agentBase) = try await startAgent(estate, hub: "http://127.0.0.1:\(proxy.port)", batchItems: 50)
            } else {
                hub.signal(SIGKILL)
                _ = try await hub.exit()
                (hub, hubBase) = try await startHub(estate, port: hubPort)
            }
        }
        defer {
            agent.signal(SIGKILL)
            hub.signal(SIGKILL)
        }
        #expect(midForward >= 4, "most kills landed while sales were being forwarded (\(midForward) of 6)")
        let expected = Dictionary(uniqueKeysWithValues: Self.skus.map { ($0, Self.stock - sold[$0, default: 0]) })
        try await hub.eventually("the hub's figures to converge after the kills", timeout: 90) {
            try await hubOnHand(hubBase, key: estate.adminKey) == expected
        }
        try await agent.eventually("the agent's queue to empty") {
            (try await get(agentBase, "/v1/agent/status").1["queue_depth"] as? NSNumber)?.intValue == 0
        }
        agent.signal(SIGTERM)
        _ = try await agent.exit()
        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0)
        try await checkLedger(estate, tills: 3, perTill: 1_000)
    }

    @Test func theTillsGetClearAnswersAndAKeyIsTakenOnce() async throws {
        let estate = try await prepare()
        let (hub, hubBase) = try await startHub(estate)
        defer { hub.signal(SIGKILL) }
        let (agent, agentBase) = try await startAgent(estate, hub: hubBase)
        defer { agent.signal(SIGKILL) }
        try await agent.eventually("the agent's first refresh") {
            (try await get(agentBase, "/v1/agent/status").1["copy_skus"] as? NSNumber)?.intValue == Self.skus.count + 1
        }
        func post(_ body: String, key: String?) async throws -> (Int, [String: Any]) {
            var request = URLRequest(url: URL(string: agentBase + "/v1/inventory/movements")!)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            if let key { request.setValue(key, forHTTPHeaderField: "Idempotency-Key") }
            request.httpBody = Data(body.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
        }
        let sale = Self.sale(till: 9, number: 0, at: Date())
        // No key: refused, so that a till's retry cannot become a second sale.
        #expect(try await post(sale.body, key: nil).0 == 400)
        // Another store's stock: refused.
        #expect(try await post(sale.body.replacingOccurrences(of: #""location":"store-1""#, with: #""location":"store-2""#), key: "x-1").0 == 403)
        // What the hub would refuse is refused here, while the till can still act: a time an hour ahead, the hub's own name.
        let ahead = Date(timeIntervalSinceNow: 3_600).ISO8601Format()
        let (future, problem) = try await post(Self.sale(till: 9, number: 1, at: Date()).body.replacingOccurrences(
            of: #""occurred_at":"[^"]*""#, with: #""occurred_at":"\#(ahead)""#, options: .regularExpression), key: "x-2")
        #expect(future == 400)
        #expect((problem["errors"] as? [[String: Any]])?.first?["field"] as? String == "movements[0]")
        #expect(((problem["errors"] as? [[String: Any]])?.first?["detail"] as? String)?.contains("future") == true, "\(problem)")
        #expect(try await post(sale.body.replacingOccurrences(of: #""source":"pos-store-1""#, with: #""source":"tillwire""#), key: "x-3").0 == 400)
        // The same sale twice: queued once.
        let (first, queued) = try await post(sale.body, key: sale.key)
        let (second, again) = try await post(sale.body, key: sale.key)
        #expect(first == 202 && second == 202)
        #expect(queued["sequence"] as? NSNumber == again["sequence"] as? NSNumber && again["repeated"] as? Bool == true)
        // The same key with another sale: refused, as the hub refuses it.
        #expect(try await post(sale.body.replacingOccurrences(of: #""delta":-1"#, with: #""delta":-2"#), key: sale.key).0 == 422)
        let sku = Self.skus[(9 * 7) % Self.skus.count]
        try await hub.eventually("the sale at the hub") {
            let (_, body) = try await get(hubBase, "/v1/availability?sku=\(sku)&location=\(Self.store)", key: estate.adminKey)
            return ((body["positions"] as? [[String: Any]])?.first?["on_hand"] as? NSNumber)?.int64Value == Self.stock - 1
        }
        // The hub's view lists the agent; a store key sees only its own store.
        let (_, list) = try await get(hubBase, "/v1/store-agents", key: estate.agentKey)
        #expect((list["agents"] as? [[String: Any]])?.map { $0["store"] as? String } == [Self.store])
        #expect(try await get(hubBase, "/v1/store-agents/store-2/feed", key: estate.agentKey).0 == 403)
    }

    @Test func aPickupReservedWhileTheStoreWasOfflineIsHeldWhenItsUnitsTurnOutSold() async throws {
        let estate = try await prepare()
        let (hub, hubBase) = try await startHub(estate)
        defer { hub.signal(SIGKILL) }
        let proxy = try FaultProxy(target: Int(hubBase.split(separator: ":").last!)!)
        defer { proxy.stop() }
        let (agent, agentBase) = try await startAgent(estate, hub: "http://127.0.0.1:\(proxy.port)")
        defer { agent.signal(SIGKILL) }
        try await agent.eventually("the agent's copy of the store") {
            (try await get(agentBase, "/v1/agent/status").1["copy_skus"] as? NSNumber)?.intValue == Self.skus.count + 1
        }
        proxy.set(.blackHole)

        // Online, meanwhile: a click-and-collect order reserves 2 of the store's last 3, on two lines (two reservations
        // of one order: it must be held once).
        let order = """
            {"channel":"web","channel_order_id":"CC-1","placed_at":"2026-11-27T10:00:00Z","currency":"GBP","taxes_included":true,
             "customer":{"email":"ann@example.org","name":"Ann"},
             "lines":[{"id":"1","sku":"LAST-1","quantity":1,"unit_price":"6.00","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"1.00"}]},
                      {"id":"2","sku":"LAST-1","quantity":1,"unit_price":"6.00","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"1.00"}]}],
             "payments":{"authorized":"12.00","captured":"12.00"},"fulfilment":{"mode":"pick_up_in_store","pickup_store":"store-1"},"total":"12.00"}
            """
        let (created, captured) = try await call(hubBase, "POST", "/v1/orders", key: estate.adminKey, order)
        #expect(created == 201)
        let id = try #require(captured["id"] as? String)
        try await hub.eventually("the pickup released into the store's queue") {
            try await call(hubBase, "GET", "/v1/orders/\(id)", key: estate.adminKey).1["status"] as? String == "released"
        }

        // Offline, the till sells all 3: the agent's copy still shows them free.
        let sale = #"{"movements":[{"sku":"LAST-1","location":"store-1","delta":-3,"reason":"sale","occurred_at":"\#(Date().ISO8601Format())","source":"pos-store-1","source_key":"store-1/till-1/last"}]}"#
        var request = URLRequest(url: URL(string: agentBase + "/v1/inventory/movements")!)
        request.httpMethod = "POST"
        request.setValue("store-1/till-1/last", forHTTPHeaderField: "Idempotency-Key")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(sale.utf8)
        #expect((try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode == 202)

        // Back online: the sale is recorded as it happened, the shortfall shows, and the order is held and named.
        proxy.set(.pass)
        try await hub.eventually("the order held by the oversell policy") {
            let view = try await call(hubBase, "GET", "/v1/orders/\(id)", key: estate.adminKey).1
            return view["status"] as? String == "on_hold"
                && (view["hold_reasons"] as? [[String: Any]])?.first?["code"] as? String == "stock_oversold"
        }
        let (_, figures) = try await get(hubBase, "/v1/availability?sku=LAST-1&location=store-1", key: estate.adminKey)
        let position = (figures["positions"] as? [[String: Any]])?.first
        #expect((position?["on_hand"] as? NSNumber)?.int64Value == 0)
        #expect((position?["reserved"] as? NSNumber)?.int64Value == 2)
        #expect((position?["available"] as? NSNumber)?.int64Value == -2, "the shortfall is visible, not hidden")
        let (_, queue) = try await get(hubBase, "/v1/stores/store-1/pickups", key: estate.adminKey)
        let entry = (queue["pickups"] as? [[String: Any]])?.first { $0["order"] as? String == id }
        #expect(entry?["status"] as? String == "on_hold")
        #expect((entry?["hold_reasons"] as? [String])?.first?.hasPrefix("stock_oversold") == true)
        // The store sees it too, from the agent's copy.
        try await agent.eventually("the agent's copy of the pickup queue to show the hold") {
            let data = try await URLSession.shared.data(from: URL(string: agentBase + "/v1/stores/store-1/pickups")!).0
            return String(decoding: data, as: UTF8.self).contains("stock_oversold")
        }

        // Still short: validating keeps it on hold. Two units arrive: it resumes where it was.
        #expect(try await call(hubBase, "POST", "/v1/orders/\(id)/validate", key: estate.adminKey, #"{"reason":"checked"}"#).1["status"] as? String == "on_hold")
        let receipt = #"{"movements":[{"sku":"LAST-1","location":"store-1","delta":2,"reason":"receipt","occurred_at":"\#(Date().ISO8601Format())","source":"erp","source_key":"transfer-in-last"}]}"#
        #expect(try await call(hubBase, "POST", "/v1/inventory/movements", key: estate.adminKey, receipt).0 == 200)
        let resumed = try await call(hubBase, "POST", "/v1/orders/\(id)/validate", key: estate.adminKey, #"{"reason":"units arrived"}"#).1
        #expect(resumed["status"] as? String == "released")

        // The order's saga ran as jobs, counted by kind and outcome (docs/observability.md).
        var metricsRequest = URLRequest(url: URL(string: hubBase + "/metrics")!)
        metricsRequest.setValue("Bearer \(estate.adminKey)", forHTTPHeaderField: "Authorization")
        let metrics = String(decoding: try await URLSession.shared.data(for: metricsRequest).0, as: UTF8.self)
        #expect(metrics.contains(#"tillwire_jobs_total{kind="workflow.advance",outcome="completed"}"#), "\(metrics.prefix(2_000))")

        // The hub's log holds the alert.
        agent.signal(SIGTERM)
        _ = try await agent.exit()
        hub.signal(SIGTERM)
        _ = try await hub.exit()
        let store = try SQLiteStore.open(path: estate.hubPath)
        let events = try await store.readStream(StreamID(trusted: "inventory/store-1"), fromVersion: 1, limit: 10_000)
        let oversold = try events.filter { $0.type == InventoryOversold.eventType }.map { try $0.decode(InventoryOversold.self) }
        try await store.close()
        #expect(oversold.count == 1)
        #expect(oversold.first?.short == 2 && oversold.first?.orders.map(\.rawValue) == [id] && oversold.first?.alert == true)
    }

    @Test func aTransactionTheHubRefusesIsSetAsideWithItsReasonAndTheRestGoOn() async throws {
        let estate = try await prepare()
        let (hub, hubBase) = try await startHub(estate)
        defer { hub.signal(SIGKILL) }
        let proxy = try FaultProxy(target: Int(hubBase.split(separator: ":").last!)!)
        defer { proxy.stop() }
        // The agent starts with the hub out of reach: it has no copy, so it cannot tell a new product from a typo.
        proxy.set(.blackHole)
        let (agent, agentBase) = try await startAgent(estate, hub: "http://127.0.0.1:\(proxy.port)")
        defer { agent.signal(SIGKILL) }
        let sales = [("ok-1", "AGENT-1"), ("typo", "AGNET-1"), ("ok-2", "AGENT-2")]
        for (key, sku) in sales {
            var request = URLRequest(url: URL(string: agentBase + "/v1/inventory/movements")!)
            request.httpMethod = "POST"
            request.setValue(key, forHTTPHeaderField: "Idempotency-Key")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(#"{"movements":[{"sku":"\#(sku)","location":"store-1","delta":-1,"reason":"sale","occurred_at":"\#(Date().ISO8601Format())","source":"pos-store-1","source_key":"\#(key)"}]}"#.utf8)
            #expect((try await URLSession.shared.data(for: request).1 as? HTTPURLResponse)?.statusCode == 202)
        }
        proxy.set(.pass)
        try await agent.eventually("the queue settled") {
            (try await get(agentBase, "/v1/agent/status").1["queue_depth"] as? NSNumber)?.intValue == 0
        }
        let (_, status) = try await get(agentBase, "/v1/agent/status")
        #expect((status["refused"] as? NSNumber)?.intValue == 1)
        let refusal = (status["recent_refusals"] as? [[String: Any]])?.first
        #expect(refusal?["key"] as? String == "typo")
        #expect((refusal?["reason"] as? String)?.contains("AGNET-1") == true, "the reason names the SKU: \(refusal?["reason"] ?? "")")
        let onHand = try await hubOnHand(hubBase, key: estate.adminKey)
        #expect(onHand["AGENT-1"] == Self.stock - 1 && onHand["AGENT-2"] == Self.stock - 1, "the sales either side of it went through")
    }
}
