import Foundation
import Logging
import Testing
import TillwireDomain
import TillwireStorage
@testable import TillwireStoragePostgres
import TillwireStorageSQLite
import TillwireTesting

/// DESIGN.md §5.1: a write that was acknowledged survives a SIGKILL. A child process appends events from 16
/// concurrent writers and prints each acknowledgement; it is killed mid-stream; the store is reopened and every
/// acknowledged event must be there.
@Suite(.serialized) struct CrashTests {
    static let writers = 16

    func crash(environment: [String: String], prefix: String) async throws -> Set<String> {
        let child = try ChildProcess(
            try tillwireExecutable(),
            ["probe-append", "--count", "1000000", "--writers", "\(Self.writers)", "--stream-prefix", prefix],
            environment: environment)
        try await child.wait(timeout: 120, "2,000 acknowledged writes") { child.lines.count >= 2_000 }
        child.signal(SIGKILL)
        let status = try await child.exit()
        #expect(status != 0, "killed, not finished")
        let acknowledged = Set(child.lines.filter { $0.hasPrefix("ack ") }.map { String($0.dropFirst(4)) })
        #expect(acknowledged.count >= 2_000)
        return acknowledged
    }

    func verify(_ store: any Store, acknowledged: Set<String>, prefix: String) async throws {
        var found = Set<String>()
        for writer in 0..<Self.writers {
            let stream = StreamID(trusted: "\(prefix)-\(writer)")
            var from: Int64 = 1
            while true {
                let page = try await store.readStream(stream, fromVersion: from, limit: 5_000)
                found.formUnion(page.map(\.id.rawValue))
                guard let last = page.last else { break }
                from = last.streamVersion + 1
            }
        }
        let lost = acknowledged.subtracting(found)
        #expect(lost.isEmpty, "\(lost.count) acknowledged events lost, e.g. \(lost.prefix(3))")
    }

    @Test func sqliteKeepsEveryAcknowledgedWriteAcrossSIGKILL() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("crash.sqlite")
        let acknowledged = try await crash(environment: ["TILLWIRE_STORAGE_SQLITE_PATH": path], prefix: "crash")
        let store = try SQLiteStore.open(path: path)
        try await verify(store, acknowledged: acknowledged, prefix: "crash")
        try await store.close()
    }

    @Test(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
    func postgresKeepsEveryAcknowledgedWriteAcrossSIGKILL() async throws {
        let url = try PostgresTestDatabase.url()
        let prefix = "crash-" + EventID.random().rawValue.prefix(8)
        let acknowledged = try await crash(
            environment: ["TILLWIRE_STORAGE_BACKEND": "postgres", "TILLWIRE_STORAGE_POSTGRES_URL": url], prefix: prefix)
        let store = try await PostgresStore.connect(url: url, maxConnections: 4, logger: Logger(label: "test"))
        try await verify(store, acknowledged: acknowledged, prefix: prefix)
        try await store.close()
    }

    @Test func postgresIsRequiredWhenCISaysSo() {
        if ProcessInfo.processInfo.environment["TILLWIRE_REQUIRE_POSTGRES"] == "1" {
            #expect(PostgresTestDatabase.isConfigured, "TILLWIRE_REQUIRE_POSTGRES=1 but TILLWIRE_TEST_POSTGRES_URL is not set: run scripts/test")
        }
    }
}

/// The PostgreSQL that scripts/test starts. `swift test` alone runs without one: those tests are skipped, saying why;
/// with `TILLWIRE_REQUIRE_POSTGRES=1` (scripts/test, CI) they run and fail loudly instead.
enum PostgresTestDatabase {
    static var isConfigured: Bool { ProcessInfo.processInfo.environment["TILLWIRE_TEST_POSTGRES_URL"] != nil }
    static var enabled: Bool { isConfigured || ProcessInfo.processInfo.environment["TILLWIRE_REQUIRE_POSTGRES"] == "1" }
    static let skipReason: Comment = "TILLWIRE_TEST_POSTGRES_URL is not set: PostgreSQL tests need a server; scripts/test starts one"

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TILLWIRE_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw ChildProcessError("PostgreSQL is required but TILLWIRE_TEST_POSTGRES_URL is not set; run scripts/test")
        }
        return url
    }

    /// Runs `body` with the URL of a new database on that server, and drops it afterwards.
    static func withFreshDatabase(_ body: (String) async throws -> Void) async throws {
        let url = try url()
        let name = "tw_app_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let admin = try await PostgresStore.connect(url: url, maxConnections: 1)
        try await admin.executeOutsideTransaction("CREATE DATABASE \(name)")
        let result: Result<Void, any Error>
        do { result = .success(try await body(try PostgresURL(parsing: url).with(database: name).text)) } catch { result = .failure(error) }
        try await admin.executeOutsideTransaction("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        try await admin.close()
        try result.get()
    }
}
