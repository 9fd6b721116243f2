import Foundation
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

@Suite struct ReconcileCommandTests {
    @Test func theReportSumsEachSystemsDisagreementsPerLocationWorstFirst() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")), .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")),
            .putProduct(try Product(sku: "A", name: "a")), .putProduct(try Product(sku: "B", name: "b")),
        ]))
        let service = InventoryService(store: store, policy: .init(divergenceAlertUnits: 10))
        let t0 = Date() - 3_600
        _ = try await service.record(try [("A", "store-12", 20), ("B", "store-12", 5), ("A", "dc-1", 100)].map { sku, location, units in
            try InventoryMovement(sku: SKU(trusted: sku), location: LocationID(trusted: location), delta: Int64(units), reason: .receipt, occurredAt: t0, source: "erp", sourceKey: "\(sku)-\(location)")
        }, correlation: "seed")
        _ = try await service.count([
            .init(sku: "A", location: "store-12", counted: 17, asOf: t0 + 60, source: "pos-12", sourceKey: "c1"),  // -3
            .init(sku: "B", location: "store-12", counted: 5, asOf: t0 + 60, source: "pos-12", sourceKey: "c2"),   // agrees
            .init(sku: "A", location: "dc-1", counted: 88, asOf: t0 + 60, source: "erp", sourceKey: "c3"),         // -12, an alert
        ], correlation: "counts")
        _ = try await service.count([.init(sku: "B", location: "store-12", counted: 6, asOf: t0 + 120, source: "pos-12", sourceKey: "c4")], correlation: "counts") // +1
        try await store.close()

        let (status, output) = try await runTillwire(["reconcile", "inventory"], database: path)
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first { $0.hasPrefix("dc-1\t") } == "dc-1\terp\t1\t12\t-12\t1\tA -12\t\((t0 + 60).ISO8601Format())", "\(output)")
        #expect(lines.first { $0.hasPrefix("store-12\t") }?.hasPrefix("store-12\tpos-12\t2\t4\t-2\t0\tA -3\t") == true, "\(output)")
        #expect(lines.firstIndex { $0.hasPrefix("dc-1") }! < lines.firstIndex { $0.hasPrefix("store-12") }!, "worst first")
        #expect(output.contains("total: 3 mismatches, 16 units off, in 2 location-system pairs"))
    }
}
