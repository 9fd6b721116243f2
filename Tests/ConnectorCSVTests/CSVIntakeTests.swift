import ConnectorCSV
import Foundation
import Logging
import Testing
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// CSV files applied to a real SQLite store through the drop folder: counts and sales, each row once and each file
/// once by its content, bad rows refused one by one with their line (the others applied), a header that is not a
/// format refusing the whole file.
@Suite struct CSVIntakeTests {
    struct Hub {
        let store: SQLiteStore
        let intake: CSVIntake
        let drop: DropFolder
        let root: URL

        func put(_ text: String, as name: String) throws {
            let file = root.appendingPathComponent(name)
            try Data(text.utf8).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-60)], ofItemAtPath: file.path)
        }

        func onHand(_ sku: SKU, _ location: LocationID = "store-12") async throws -> Int64 {
            try await store.position(sku: sku, location: location).onHand
        }

        func text(_ path: String) throws -> String {
            try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        }
    }

    static func hub(batchSize: Int = 1_000, skuCacheLimit: Int = 100_000) async throws -> Hub {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
            .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "Leeds DC")),
            .putProduct(try Product(sku: "SHIRT-M", name: "T-shirt")), .putProduct(try Product(sku: "MUG", name: "Mug")),
        ]))
        let inventory = InventoryService(store: store)
        _ = try await inventory.record([
            try InventoryMovement(sku: "SHIRT-M", location: "store-12", delta: 10, reason: .receipt, occurredAt: Date(timeIntervalSinceNow: -86_400), source: "erp", sourceKey: "r1"),
        ], correlation: "receipts")
        let intake = CSVIntake(store: store, inventory: inventory, batchSize: batchSize, skuCacheLimit: skuCacheLimit)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-csv-\(UUID().uuidString)", isDirectory: true)
        let drop = DropFolder(folder: root, intakes: [intake], logger: Logger(label: "csv-test"))
        try drop.prepare()
        return Hub(store: store, intake: intake, drop: drop, root: root)
    }

    @Test func countsAreAppliedAndBadRowsRefusedOneByOneWithTheirLine() async throws {
        let hub = try await Self.hub(batchSize: 2)
        defer { try? FileManager.default.removeItem(at: hub.root) }
        let asOf = Date().ISO8601Format()
        try hub.put("""
            location,sku,counted,as_of
            store-12,SHIRT-M,7,\(asOf)
            store-12,HAT,3,\(asOf)
            store-12,MUG,lots,\(asOf)
            store-99,MUG,1,\(asOf)
            dc-1,MUG,40,\(asOf)
            store-12,MUG,2,yesterday
            store-12,MUG,5

            store-12,MUG,-4,\(asOf)
            store-12,MUG,4,\(asOf)
            """, as: "counts-2026-11-29.csv")
        let outcomes = await hub.drop.settledScan()
        guard case .processed(let report) = outcomes["counts-2026-11-29.csv"] else { Issue.record("\(outcomes)"); return }
        #expect(report.summary == "csv counts: 9 rows, 3 applied, 0 agreeing or seen before, 6 refused", "\(report.summary)")
        #expect(try await hub.onHand("SHIRT-M") == 7, "the count corrects the ledger: 10 → 7")
        #expect(try await hub.onHand("MUG", "dc-1") == 40)
        #expect(try await hub.onHand("MUG") == 4)
        let errors = try hub.text("processed/counts-2026-11-29.csv.errors.txt").split(separator: "\n").map(String.init)
        #expect(errors.count == 6, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("line 3: sku HAT is not a product") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("line 4: counted 'lots' is not a whole number") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("line 5: location store-99 is not a location") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("line 7: as_of 'yesterday' is not an ISO 8601 time") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("line 8: 3 fields where the header has 4") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("line 10: counted -4 is not between 0 and") }, "\(errors)")
    }

    @Test func salesAreAppliedOnceByTheirKeyAndTheSameFileOnceByItsContent() async throws {
        let hub = try await Self.hub()
        defer { try? FileManager.default.removeItem(at: hub.root) }
        let day = """
            store,workstation,business_day,transaction,line,sku,quantity,occurred_at
            12,3,2026-11-29,1045,1,SHIRT-M,2,2026-11-29T10:15:31Z
            12,3,2026-11-29,1045,2,BANANA,0.456,2026-11-29T10:15:31Z
            12,3,2026-11-29,1046,1,SHIRT-M,-1,2026-11-29T11:02:00Z
            "12","3","2026-11-29","1047","1","SHIRT-M","3.00",
            store-12,3,2026-11-29,1047,1,SHIRT-M,3,2026-11-29T10:15:31Z
            12,3,2026-11-29,1049,1,SHIRT-M,-9223372036854775808,
            """
        try hub.put(day, as: "sales-1.csv")
        var outcomes = await hub.drop.settledScan()
        guard case .processed(let first) = outcomes["sales-1.csv"] else { Issue.record("\(outcomes)"); return }
        #expect(first.summary == "csv sales: 6 rows, 3 applied, 1 seen before, 1 refused, 1 by weight or measure (no units moved)", "\(first.summary)")
        #expect(try await hub.onHand("SHIRT-M") == 6, "10 − 2 + 1 − 3: 3.00 is three units, store-12 is store 12 (the same sale again)")
        #expect(try hub.text("processed/sales-1.csv.errors.txt").hasPrefix("line 7: quantity -9223372036854775808 is more than"))

        // The same bytes under another name: recognised by content, nothing read.
        try hub.put(day, as: "sales-1-copy.csv")
        // The day again with one more sale: the known transactions are recognised by their keys.
        try hub.put(day + "\n12,3,2026-11-29,1048,1,MUG,1,2026-11-29T12:00:00Z\n", as: "sales-2.csv")
        _ = try await InventoryService(store: hub.store).record([
            try InventoryMovement(sku: "MUG", location: "store-12", delta: 5, reason: .receipt, occurredAt: Date(timeIntervalSinceNow: -86_400), source: "erp", sourceKey: "r2"),
        ], correlation: "receipts")
        outcomes = await hub.drop.settledScan()
        guard case .processed(let copy) = outcomes["sales-1-copy.csv"], case .processed(let second) = outcomes["sales-2.csv"] else { Issue.record("\(outcomes)"); return }
        #expect(copy.summary.contains("the same content as a file taken before"), "\(copy.summary)")
        #expect(second.summary == "csv sales: 7 rows, 1 applied, 4 seen before, 1 refused, 1 by weight or measure (no units moved)", "\(second.summary)")
        #expect(try await hub.onHand("SHIRT-M") == 6, "nothing applied twice")
        #expect(try await hub.onHand("MUG") == 4)
        let done = try await hub.store.readStream(StreamID(trusted: "files/csv"), fromVersion: 1, limit: 10)
        #expect(done.count == 2, "one record per content taken")
    }

    /// The SKU caches are emptied when full, and every row of the batch still reaches the ledger or the report.
    @Test func everyRowIsAppliedOrRefusedWhenTheSKUCachesOverflow() async throws {
        let hub = try await Self.hub(batchSize: 2, skuCacheLimit: 3)
        defer { try? FileManager.default.removeItem(at: hub.root) }
        let asOf = Date().ISO8601Format()
        let rows = (0..<12).map { "store-12,\(["SHIRT-M", "MUG", "HAT"][$0 % 3]),\($0),\(asOf)" }
        try hub.put("location,sku,counted,as_of\n" + rows.joined(separator: "\n") + "\n", as: "counts.csv")
        let outcomes = await hub.drop.settledScan()
        guard case .processed(let report) = outcomes["counts.csv"] else { Issue.record("\(outcomes)"); return }
        #expect(report.summary == "csv counts: 12 rows, 8 applied, 0 agreeing or seen before, 4 refused", "\(report.summary)")
        #expect(try await hub.onHand("MUG") == 10, "the last MUG count")
    }

    @Test(arguments: [
        ("sku,location,quantity\n", "is not a format this hub reads"),
        ("location,sku,counted,as_of,comment\n", "column comment is not a column of a counts file"),
        ("location,sku,sku,as_of\n", "names a column twice"),
        ("", "the file is empty"),
        ("\"location,sku\n", "the header (line 1) cannot be read"),
    ])
    func aHeaderThatIsNotAFormatRefusesTheWholeFile(header: String, reason: String) async throws {
        let hub = try await Self.hub()
        defer { try? FileManager.default.removeItem(at: hub.root) }
        try hub.put(header.isEmpty ? "" : header + "store-12,SHIRT-M,1,2026-11-29T10:00:00Z\n", as: "bad.csv")
        let outcomes = await hub.drop.settledScan()
        guard case .rejected(let refused) = outcomes["bad.csv"] else { Issue.record("\(outcomes)"); return }
        #expect(refused.contains(reason), "\(refused)")
        #expect(try hub.text("rejected/bad.csv.reason.txt").contains(reason))
        #expect(try await hub.onHand("SHIRT-M") == 10, "nothing applied")
    }
}

extension DropFolder {
    /// Two scans, as the service makes them: the first sees the files, the second takes those unchanged since.
    func settledScan() async -> [String: Outcome] {
        let first = await scan()
        return first.merging(await scan()) { earlier, _ in earlier }
    }
}
