import Foundation
import Testing
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire import` on a CSV file of a million rows, run as a real process: the file streams through bounded memory
/// (the process's peak is measured against the file's size), progress is logged while it reads, refused rows are
/// listed up to the report's limit and counted beyond it, and the same file again applies nothing.
///
/// Most rows name discontinued SKUs the catalog does not have (refused one by one): applying a million rows would
/// spend minutes of a debug build writing the ledger, and the rate of applying is a benchmark's business, not a
/// test's. One row in 200 is a sale of a known SKU, applied in the same pass.
@Suite struct ImportCommandTests {
    @Test func aMillionRowFileStreamsThroughBoundedMemoryWithProgress() async throws {
        let folder = try TemporaryFolder()
        let (database, _) = try await preparedHubStore(in: folder, catalog: [
            .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
            .putProduct(try Product(sku: "SHIRT-M", name: "T-shirt")),
        ])
        let file = folder.path("sales-2026-11-29.csv")
        FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.write(contentsOf: Data("store,workstation,business_day,transaction,line,sku,quantity,occurred_at\n".utf8))
        // Blocks of 200 rows: a sale of a known SKU with its own transaction number, then 199 rows of discontinued SKUs.
        let discontinued = (1..<200).map { "12,\($0 % 8),2026-11-29,d\($0),1,DISCONTINUED-\($0 % 50),-1,2026-11-29T10:15:31Z\n" }.joined()
        var chunk = ""
        for block in 0..<5_000 {
            chunk += "12,0,2026-11-29,\(block),1,SHIRT-M,-1,2026-11-29T10:15:31Z\n" + discontinued
            if block % 100 == 99 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int)
        #expect(size > 60_000_000, "\(size) bytes")

        // About 20 s on a debug build with the machine to itself; a loaded CI machine may take several times that.
        let (status, output) = try await runTillwire(["import", file], database: database, timeout: 300)
        #expect(status == 0, "\(output.suffix(2000))")
        #expect(output.contains("csv sales: 1000000 rows, 5000 applied, 0 seen before, 995000 refused"), "\(output.suffix(2000))")
        let progress = output.split(separator: "\n").filter { $0.contains("csv: reading") }
        #expect(!progress.isEmpty, "progress is logged while the file is read: \(output.suffix(2000))")
        let peak = try #require(output.firstMatch(of: /peak memory (\d+) MB/).flatMap { Int($0.1) }, "\(output.suffix(500))")
        // Read whole, the file alone would add its 64 MB to the process's 45 or so; streamed, the peak stays well
        // under both together.
        #expect(peak < 100, "peak memory \(peak) MB for a \(size / 1_000_000) MB file")
        let errors = try String(contentsOfFile: file + ".errors.txt", encoding: .utf8).split(separator: "\n")
        #expect(errors.count == 10_001, "\(errors.count)")
        #expect(errors.first == "line 3: sku DISCONTINUED-1 is not a product of the hub")
        #expect(errors.last == "… and 985000 more rows refused")

        let again = try await runTillwire(["import", file], database: database)
        #expect(again.status == 0 && again.output.contains("the same content as a file taken before"), "\(again.output.suffix(1000))")
        let store = try SQLiteStore.open(path: database)
        let onHand = try await store.position(sku: "SHIRT-M", location: "store-12").onHand
        try await store.close()
        #expect(onHand == 5_000, "5,000 returns of one unit, once each")
    }
}
