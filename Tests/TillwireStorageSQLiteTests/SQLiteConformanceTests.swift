import Foundation
import GRDB
import Testing
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The storage conformance suite on SQLite, in memory and on a file (WAL, synchronous=FULL).
@Suite struct SQLiteConformanceTests {
    @Test(arguments: StoreConformance.cases)
    func inMemory(_ conformance: StoreConformanceCase) async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        try await conformance.run(store)
        try await store.close()
    }

    @Test(arguments: StoreConformance.cases)
    func onFile(_ conformance: StoreConformanceCase) async throws {
        let folder = try TemporaryFolder()
        let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
        _ = try await store.migrate()
        try await conformance.run(store)
        try await store.close()
    }
}

@Suite struct SQLiteDurabilityTests {
    @Test func theWriterRunsWALWithSynchronousFull() async throws {
        let folder = try TemporaryFolder()
        let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
        _ = try await store.migrate()
        _ = try await store.commit(Commit(events: [EventAppend(NewEvent(type: "t", stream: "s", correlationID: "c", occurredAt: Date(), source: "x", payload: Data()))]))
        #expect(try await store.writerSynchronousSetting() == 2, "2 is FULL; GRDB must not have reset it to NORMAL (1)")
        #expect(try await store.journalMode() == "wal")
        try await store.close()
    }

    @Test func aGroupCommitRollsBackOnlyTheWriteThatFailed() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        _ = try await store.commit(Commit(events: [EventAppend(NewEvent(type: "t", stream: "taken", correlationID: "c", occurredAt: Date(), source: "x", payload: Data()))]))
        // 50 concurrent commits, every 5th conflicting: those fail alone, the others commit.
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for n in 0..<50 {
                group.addTask {
                    let stream: StreamID = n % 5 == 0 ? "taken" : StreamID(trusted: "free-\(n)")
                    let event = NewEvent(type: "t", stream: stream, correlationID: "c", occurredAt: Date(), source: "x", payload: Data())
                    do {
                        _ = try await store.commit(Commit(events: [EventAppend(event, expected: .noStream)], jobs: [NewJob(kind: "k", runAt: Date())]))
                        return (n, true)
                    } catch {
                        return (n, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.filter { $0.value }.keys.sorted() == (0..<50).filter { $0 % 5 != 0 })
        #expect(try await store.streamVersion("taken") == 1)
        #expect(try await store.jobs(in: .pending, limit: 100).count == 40, "jobs of failed commits were rolled back with them")
    }

    @Test func reopeningAFileKeepsEverythingCommitted() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        var store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        let receipt = try await store.commit(Commit(events: [EventAppend(NewEvent(type: "t", stream: "kept", correlationID: "c", occurredAt: Date(), source: "x", payload: Data("1".utf8)))]))
        try await store.close()
        store = try SQLiteStore.open(path: path)
        #expect(try await store.migrationStatus().isCurrent)
        #expect(try await store.readStream("kept", fromVersion: 1, limit: 10).map(\.id) == receipt.receipt?.events.map(\.id))
        try await store.close()
    }

    @Test func aDatabaseMigratedByANewerBuildIsRefused() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        try await store.close()
        let newer = try DatabaseQueue(path: path)
        try await newer.write { db in
            try db.execute(sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)")
        }
        try await newer.close()
        let reopened = try SQLiteStore.open(path: path)
        await #expect {
            _ = try await reopened.migrate()
        } throws: { error in
            guard case StorageError.schemaMismatch(let reason) = error else { return false }
            return reason.contains("[99]")
        }
        #expect(try await reopened.migrationStatus().isCurrent == false)
        try await reopened.close()
    }
}
