import ConnectorPOSLog
import Foundation
import Logging
import Testing
import TillwireConnectors
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite

/// The drop folder with the POSLog intake on a real SQLite store and a real folder: a day file is applied and moved
/// to processed/; the same file dropped again applies nothing; a file that does not parse, or names an unknown store,
/// goes to rejected/ with its reason and applies nothing; half-written and unknown files are handled as documented.
@Suite struct POSLogDropFolderTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-drop-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func names(in url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    /// Writes `data` as `name`, dated a minute ago so that it is settled.
    func put(_ data: Data, as name: String, in url: URL, age: TimeInterval = 60) throws {
        let file = url.appendingPathComponent(name)
        try data.write(to: file)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: file.path)
    }

    @Test func aDayFileIsAppliedOnceAndMovedAndABadFileIsRejectedWithItsReason() async throws {
        let (store, intake) = try await POSLogIntakeTests().hub()
        let root = try folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let drop = DropFolder(folder: root, intakes: [intake], logger: Logger(label: "test"))
        try drop.prepare()
        let day = try POSLogParserTests.fixture("store12-v2.xml")
        try put(day, as: "store12-2026-11-27.xml", in: root)
        try put(Data("<POSLog xmlns=\"http://www.nrf-arts.org/IXRetail/namespace/\"><Transaction>".utf8), as: "store12-cut.xml", in: root)
        try put(Data("hello".utf8), as: "notes.txt", in: root)
        try put(day, as: "store12-again.xml.part", in: root)
        // Still being written: its modification time keeps moving (here: set ahead, so that a slow machine's scans
        // never see it settled during the test).
        try put(day, as: "store12-fresh.xml", in: root, age: -3_600)

        #expect(await drop.scan().isEmpty, "nothing is taken on its first sighting")
        // A writer that stalled more than the settle time, then went on: not taken while it changes between scans.
        try put(day.prefix(200), as: "store12-slow.xml", in: root)
        let outcomes = await drop.scan()
        #expect(Set(outcomes.keys) == ["store12-2026-11-27.xml", "store12-cut.xml", "notes.txt"], "the .part file, the fresh one and the new one are left alone")
        guard case .processed(let report) = outcomes["store12-2026-11-27.xml"] else { Issue.record("\(outcomes)"); return }
        #expect(report.summary.contains("2 applied"), "\(report.summary)")
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 9)
        guard case .rejected(let reason) = outcomes["store12-cut.xml"] else { Issue.record("\(outcomes)"); return }
        #expect(reason.contains("not a POSLog document"), "\(reason)")
        #expect(names(in: root.appendingPathComponent("processed")) == ["store12-2026-11-27.xml"])
        #expect(names(in: root.appendingPathComponent("rejected")) == ["notes.txt", "notes.txt.reason.txt", "store12-cut.xml", "store12-cut.xml.reason.txt"])
        let written = try String(contentsOf: root.appendingPathComponent("rejected/store12-cut.xml.reason.txt"), encoding: .utf8)
        #expect(written == reason + "\n")
        #expect(names(in: root) == ["processed", "rejected", "store12-again.xml.part", "store12-fresh.xml", "store12-slow.xml"])
        try FileManager.default.removeItem(at: root.appendingPathComponent("store12-slow.xml"))

        // The same day under the same name again: applied nothing, kept beside the first.
        try put(day, as: "store12-2026-11-27.xml", in: root)
        let again = await drop.settledScan()
        guard case .processed(let second) = again["store12-2026-11-27.xml"] else { Issue.record("\(again)"); return }
        #expect(second.summary.contains("0 applied, 2 seen before"), "\(second.summary)")
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 9, "nothing applied twice")
        #expect(names(in: root.appendingPathComponent("processed")) == ["store12-2026-11-27.xml", "store12-2026-11-27.xml.2"])
    }

    @Test func aFileNamingAnUnknownStoreIsRejectedWholeAndAppliesNothing() async throws {
        let (store, intake) = try await POSLogIntakeTests().hub()
        let root = try folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let drop = DropFolder(folder: root, intakes: [intake], logger: Logger(label: "test"))
        try drop.prepare()
        let text = String(decoding: try POSLogParserTests.fixture("store12-v2.xml"), as: UTF8.self)
        // The first transactions are the known store's, the last an unknown store's: none of them is applied.
        let last = try #require(text.range(of: "<RetailStoreID>12</RetailStoreID>", options: .backwards))
        #expect(text.range(of: "<RetailStoreID>12</RetailStoreID>")?.lowerBound != last.lowerBound, "the fixture has several transactions")
        try put(Data(text.replacingCharacters(in: last, with: "<RetailStoreID>99</RetailStoreID>").utf8), as: "mixed.xml", in: root)
        let outcomes = await drop.settledScan()
        guard case .rejected(let reason) = outcomes["mixed.xml"] else { Issue.record("\(outcomes)"); return }
        #expect(reason.contains("store 99 is not a location of the hub"), "\(reason)")
        #expect(try await store.position(sku: "SHIRT-M", location: "store-12").onHand == 10, "nothing applied")
    }
}

extension DropFolder {
    /// Two scans, as the service makes them: the first sees the files, the second takes those unchanged since.
    func settledScan() async -> [String: Outcome] {
        let first = await scan()
        return first.merging(await scan()) { earlier, _ in earlier }
    }
}
