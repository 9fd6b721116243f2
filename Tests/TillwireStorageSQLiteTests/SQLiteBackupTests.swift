import Foundation
import GRDB
import Testing
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The copy taken before a schema upgrade: what was committed, in a new file, never over an existing one.
@Suite struct SQLiteBackupTests {
    func append(_ stream: StreamID, _ payload: String) -> Commit {
        Commit(events: [EventAppend(NewEvent(type: "t", stream: stream, correlationID: "c", occurredAt: Date(), source: "x", payload: Data(payload.utf8)))])
    }

    @Test func aBackupHoldsWhatWasCommittedAndASecondOneToTheSamePathIsRefused() async throws {
        let folder = try TemporaryFolder()
        let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
        _ = try await store.migrate()
        for payload in ["1", "2", "3"] { _ = try await store.commit(append("kept", payload)) }
        let target = folder.path("hub.sqlite.copy")
        try await store.backup(to: target)
        _ = try await store.commit(append("later", "after the backup"))

        let first = try Data(contentsOf: URL(fileURLWithPath: target))
        await #expect(throws: SQLiteBackupError.targetExists(target)) { try await store.backup(to: target) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == first, "the refused backup left the first one as it was")
        try await store.close()

        let copy = try SQLiteStore.open(path: target)
        #expect(try await copy.migrationStatus().isCurrent)
        #expect(try await copy.readStream("kept", fromVersion: 1, limit: 10).map(\.event.payload) == ["1", "2", "3"].map { Data($0.utf8) })
        #expect(try await copy.streamVersion("later") == 0, "committed after the backup")
        try await copy.close()
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.url.path)
        #expect(!names.contains { $0.contains(".partial-") }, "no temporary file is left: \(names)")
    }

    @Test func anEmptyFileAtThePathIsNotWrittenOver() async throws {
        let folder = try TemporaryFolder()
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let target = folder.path("placeholder")
        #expect(FileManager.default.createFile(atPath: target, contents: Data()))
        // SQLite's VACUUM INTO alone would fill an empty file.
        await #expect(throws: SQLiteBackupError.targetExists(target)) { try await store.backup(to: target) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)).isEmpty)
        try await store.close()
    }

    @Test func theBackupBeforeAnUpgradeIsNamedForTheHighestSchemaItWillApply() async throws {
        let time = Date(timeIntervalSince1970: 1_796_000_705)  // 2026-11-30T01:05:05Z
        #expect(SQLiteStore.backupPath(for: "/var/lib/tillwire/hub.sqlite", beforeSchema: 15, at: time) == "/var/lib/tillwire/hub.sqlite.before-schema-15-20261130T010505Z")
        let memory = try SQLiteStore.inMemory()
        #expect(try await memory.backupPathBeforeMigrating() == nil, "an in-memory database has no file")
        try await memory.close()

        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        var store = try SQLiteStore.open(path: path)
        #expect(try await store.backupPathBeforeMigrating() == nil, "a new file holds nothing to keep")
        let known = try await store.migrate().known
        #expect(try await store.backupPathBeforeMigrating() == nil, "nothing is pending")
        try await store.close()

        // As if an older build had left the file: its last two migrations not yet applied.
        let older = try DatabaseQueue(path: path)
        try await older.write { db in
            try db.execute(sql: "DELETE FROM schema_migrations WHERE version >= ?", arguments: [known[known.count - 2]])
        }
        try older.close()
        store = try SQLiteStore.open(path: path)
        #expect(try await store.migrationStatus().pending == Array(known.suffix(2)))
        #expect(try await store.backupPathBeforeMigrating(at: time) == "\(path).before-schema-\(known.max()!)-20261130T010505Z")
        try await store.close()
    }
}
