import Foundation
import GRDB
import Logging
import Testing
import TillwireApp
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// An upgrade on the embedded default: the hub backs the SQLite file up before it applies pending migrations.
@Suite struct UpgradeTests {
    /// A database at the previous schema: the current one with its last migration undone by hand.
    func previousSchema(at path: String) async throws -> Int {
        let store = try SQLiteStore.open(path: path)
        let status = try await store.migrate()
        _ = try await store.commit(Commit(catalog: [.putLocation(try Location(id: "store-12", kind: .store, name: "Camden"))]))
        try await store.close()
        let latest = try #require(status.applied.max())
        #expect(latest == 15, "this test undoes migration 15 by hand: teach it the newest migration")
        let database = try DatabaseQueue(path: path)
        try await database.write { db in
            try db.execute(sql: """
                DROP INDEX orders_status_age;
                CREATE INDEX orders_status ON orders (status);
                ALTER TABLE jobs DROP COLUMN trace_parent;
                DELETE FROM schema_migrations WHERE version = 15;
                """)
        }
        try database.close()
        return latest
    }

    @Test func pendingMigrationsRunAfterACopyOfTheFileAsItWas() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let latest = try await previousSchema(at: path)
        let configuration = try HubConfiguration.load(yaml: nil, environment: ["TILLWIRE_STORAGE_SQLITE_PATH": path])
        let store = try await Hub.openStore(configuration, logger: Logger(label: "test"))
        #expect(try await store.migrationStatus().isCurrent)
        try await store.close()

        let copies = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.hasPrefix("hub.sqlite.before-schema-\(latest)-") }
        #expect(copies.count == 1, "\(copies)")
        let backupPath = folder.path(try #require(copies.first))
        let backup = try SQLiteStore.open(path: backupPath)
        #expect(try await backup.migrationStatus().applied.max() == latest - 1, "the copy is the file before the upgrade")
        #expect(try await backup.locations().map(\.name) == ["Camden"])
        try await backup.close()

        // A start with nothing pending copies nothing (the copy, and the WAL files opening it made, removed first).
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.url.path) where name.contains("before-schema") {
            try FileManager.default.removeItem(atPath: folder.path(name))
        }
        let again = try await Hub.openStore(configuration, logger: Logger(label: "test"))
        try await again.close()
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains("before-schema") }.isEmpty)
    }
}
