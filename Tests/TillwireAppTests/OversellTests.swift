import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing
import TillwireAPI
import TillwireDomain
import TillwireStorage
import TillwireStoragePostgres
import TillwireStorageSQLite
import TillwireTesting

/// The last units of 10 SKUs, reserved by 64 clients at once through the HTTP API of the real executable: every
/// unit is reserved exactly once, and none is promised twice (DESIGN.md §5.3). Once on SQLite, once on PostgreSQL
/// with two hub instances taking the requests.
@Suite(.serialized) struct OversellTests {
    static let skus = (0..<10).map { SKU(trusted: "LAST-\($0)") }
    static let unitsPerSKU: Int64 = 5
    static let clients = 64
    static let attemptsPerClient = 4

    /// Puts the catalog, the stock and an unlimited admin key in `store`; returns the key.
    func seed(_ store: any Store) async throws -> String {
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "oversell-test", scopes: ["admin"], locations: nil, ratePerSecond: 1_000_000, burst: 1_000_000, now: Date())
        _ = try await store.commit(Commit(
            inventory: try Self.skus.map { .record(try InventoryMovement(sku: $0, location: "dc-1", delta: Self.unitsPerSKU, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "seed-\($0)")) },
            catalog: [.putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC"))] + (try Self.skus.map { .putProduct(try Product(sku: $0, name: "last units")) }),
            access: [.createKey(record)]))
        return key
    }

    /// 64 clients, each trying `attemptsPerClient` reservations of one unit of a random SKU against one of `bases`.
    func race(_ bases: [String], key: String) async -> [Int: Int] {
        final class Tally: Sendable { let statuses = Mutex<[Int: Int]>([:]) }
        let tally = Tally()
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<Self.clients {
                group.addTask {
                    var random = SeededGenerator(seed: UInt64(client + 1))
                    for attempt in 0..<Self.attemptsPerClient {
                        let sku = Self.skus[Int.random(in: 0..<Self.skus.count, using: &random)]
                        var request = URLRequest(url: URL(string: bases[client % bases.count] + "/v1/reservations")!)
                        request.httpMethod = "POST"
                        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
                        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        request.httpBody = Data(#"{"key":"c\#(client)-\#(attempt)","order":"o\#(client)-\#(attempt)","sku":"\#(sku)","location":"dc-1","quantity":1}"#.utf8)
                        let status = (try? await HTTPCall.send(request, timeout: 30))?.statusCode ?? -1
                        tally.statuses.withLock { $0[status, default: 0] += 1 }
                    }
                }
            }
        }
        return tally.statuses.withLock { $0 }
    }

    func check(_ store: any Store, _ statuses: [Int: Int]) async throws {
        print("oversell race: \(Self.clients) clients, \(Self.clients * Self.attemptsPerClient) attempts on \(Self.skus.count) SKUs of \(Self.unitsPerSKU) units: answers \(statuses.sorted { $0.key < $1.key })")
        #expect(Set(statuses.keys).isSubset(of: [201, 409]), "only created or insufficient-stock answers: \(statuses)")
        var held: Int64 = 0
        for sku in Self.skus {
            let position = try await store.position(sku: sku, location: "dc-1")
            let active = try await store.activeReservations(sku: sku, location: "dc-1")
            #expect(position.reserved == active.map(\.quantity).reduce(0, +), "\(sku): reserved is the sum of the active reservations")
            #expect(position.availableToPromise >= 0, "\(sku) oversold: \(position)")
            held += position.reserved
        }
        #expect(Int64(statuses[201, default: 0]) == held, "every 201 is a unit held, and nothing else is")
        #expect(held == Int64(Self.skus.count) * Self.unitsPerSKU, "demand exceeded supply, so every unit is reserved")
    }

    func startHub(_ environment: [String: String]) async throws -> (ChildProcess, String) {
        let child = try ChildProcess(try tillwireExecutable(), ["serve"], environment: environment.merging(["TILLWIRE_HTTP_PORT": "0", "TILLWIRE_LOG_LEVEL": "info"]) { $1 })
        return (child, try await child.servingAddress())
    }

    @Test func sixtyFourClientsNeverOversellOnSQLite() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("oversell.sqlite")
        let store = try SQLiteStore.open(path: path)
        let key = try await seed(store)
        let (hub, base) = try await startHub(["TILLWIRE_STORAGE_SQLITE_PATH": path])
        let statuses = await race([base], key: key)
        hub.signal(SIGTERM)
        _ = try await hub.exit()
        try await check(store, statuses)
        try await store.close()
    }

    @Test(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
    func sixtyFourClientsNeverOversellOnPostgresWithTwoInstances() async throws {
        try await PostgresTestDatabase.withFreshDatabase { url in
            let store = try await PostgresStore.connect(url: url, maxConnections: 2)
            let key = try await seed(store)
            let environment = ["TILLWIRE_STORAGE_BACKEND": "postgres", "TILLWIRE_STORAGE_POSTGRES_URL": url]
            let first = try await startHub(environment.merging(["TILLWIRE_INSTANCE_ID": "hub-a"]) { $1 })
            let second = try await startHub(environment.merging(["TILLWIRE_INSTANCE_ID": "hub-b"]) { $1 })
            let statuses = await race([first.1, second.1], key: key)
            for (hub, _) in [first, second] {
                hub.signal(SIGTERM)
                _ = try await hub.exit()
            }
            try await check(store, statuses)
            try await store.close()
        }
    }
}
