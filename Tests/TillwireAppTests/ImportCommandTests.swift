import Foundation
import Testing
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire import` on a CSV file of a million rows, run as a real process: the file streams through bounded memory
/// (the process's peak against that of a file a tenth its size), progress is logged while it reads, refused rows are
/// listed up to the report's limit and counted beyond it, and the same file again applies nothing.
///
/// Most rows name discontinued SKUs the catalog does not have (refused one by one): applying a million rows would
/// spend minutes of a debug build writing the ledger, and the rate of applying is a benchmark's business, not a
/// test's. One row in 20,000 is a sale of a known SKU, applied in the same pass.
@Suite struct ImportCommandTests {
    /// Writes a sales file of `blocks` × 20,000 rows: in each block, a sale of a known SKU with its own transaction
    /// number, then 19,999 rows of discontinued SKUs.
    func salesFile(_ path: String, blocks: Int, day: String) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data("store,workstation,business_day,transaction,line,sku,quantity,occurred_at\n".utf8))
        let discontinued = Data((1..<20_000).map { "12,\($0 % 8),2026-11-29,d\($0),1,DISCONTINUED-\($0 % 50),-1,2026-11-29T10:15:31Z\n" }.joined().utf8)
        for block in 0..<blocks {
            try handle.write(contentsOf: Data("12,0,\(day),\(block),1,SHIRT-M,-1,\(day)T10:15:31Z\n".utf8))
            try handle.write(contentsOf: discontinued)
        }
        try handle.close()
        return try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    func peak(_ output: String) throws -> Int {
        try #require(output.firstMatch(of: /peak memory (\d+) MB/).flatMap { Int($0.1) }, "\(output.suffix(500))")
    }

    /// A serving hub keeps stock positions in memory: an import beside it would leave its availability stale, so the
    /// import is refused, naming the ways that reach the hub, and nothing is applied; once the hub stops it goes in.
    @Test func anImportIntoAFileAHubServesIsRefusedAndChangesNothing() async throws {
        let folder = try TemporaryFolder()
        let (database, _) = try await preparedHubStore(in: folder, catalog: [
            .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
            .putProduct(try Product(sku: "SHIRT-M", name: "T-shirt")),
        ])
        let file = folder.path("sales-2026-11-29.csv")
        try "store,workstation,business_day,transaction,line,sku,quantity,occurred_at\n12,1,2026-11-29,7,1,SHIRT-M,-1,2026-11-29T10:15:31Z\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let hub = try ChildProcess(try tillwireExecutable(), ["serve"], environment: [
            "TILLWIRE_HTTP_PORT": "0", "TILLWIRE_STORAGE_SQLITE_PATH": database, "TILLWIRE_LOG_LEVEL": "info",
        ])
        _ = try await hub.servingAddress()
        let (refused, output) = try await runTillwire(["import", file], database: database, timeout: 60)
        #expect(refused != 0 && output.contains("is served by a running hub") && output.contains("drop.folder"), "\(output.suffix(1500))")
        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0)

        let store = try SQLiteStore.open(path: database)
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 0, "nothing applied while the hub served the file")
        try await store.close()
        let (status, applied) = try await runTillwire(["import", file], database: database, timeout: 60)
        #expect(status == 0 && applied.contains("1 applied"), "\(applied.suffix(1500))")
    }

    @Test func aMillionRowFileStreamsThroughBoundedMemoryWithProgress() async throws {
        let folder = try TemporaryFolder()
        let (database, _) = try await preparedHubStore(in: folder, catalog: [
            .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
            .putProduct(try Product(sku: "SHIRT-M", name: "T-shirt")),
        ])
        let small = folder.path("sales-2026-11-28.csv"), file = folder.path("sales-2026-11-29.csv")
        let smallSize = try salesFile(small, blocks: 5, day: "2026-11-28")
        let size = try salesFile(file, blocks: 50, day: "2026-11-29")
        #expect(size > 60_000_000, "\(size) bytes")

        // About 20 s on a debug build with the machine to itself; a loaded CI machine may take several times that.
        let first = try await runTillwire(["import", small], database: database, timeout: 300)
        #expect(first.status == 0 && first.output.contains("csv sales: 100000 rows, 5 applied, 0 seen before, 99995 refused"), "\(first.output.suffix(2000))")
        let (status, output) = try await runTillwire(["import", file], database: database, timeout: 300)
        #expect(status == 0, "\(output.suffix(2000))")
        #expect(output.contains("csv sales: 1000000 rows, 50 applied, 0 seen before, 999950 refused"), "\(output.suffix(2000))")
        let progress = output.split(separator: "\n").filter { $0.contains("csv: reading") }
        #expect(!progress.isEmpty, "progress is logged while the file is read: \(output.suffix(2000))")
        // Streamed, ten times the rows take about the same memory; read whole, the larger file would add at least its
        // extra bytes (\(size - smallSize)), and its records several times that.
        let (smallPeak, bigPeak) = (try peak(first.output), try peak(output))
        #expect(bigPeak - smallPeak < (size - smallSize) / 1_000_000 - 10,
                "peak memory \(smallPeak) MB for \(smallSize / 1_000_000) MB, \(bigPeak) MB for \(size / 1_000_000) MB")
        let errors = try String(contentsOfFile: file + ".errors.txt", encoding: .utf8).split(separator: "\n")
        #expect(errors.count == 10_001, "\(errors.count)")
        #expect(errors.first == "line 3: sku DISCONTINUED-1 is not a product of the hub")
        #expect(errors.last == "… and 989950 more rows refused")

        let again = try await runTillwire(["import", file], database: database)
        #expect(again.status == 0 && again.output.contains("the same content as a file taken before"), "\(again.output.suffix(1000))")
        let store = try SQLiteStore.open(path: database)
        let onHand = try await store.position(sku: "SHIRT-M", location: "store-12").onHand
        try await store.close()
        #expect(onHand == 55, "5 and 50 returns of one unit, once each")
    }
}
