import Foundation
import Testing
@testable import TillwireStoragePostgres

/// The PostgreSQL server the tests use, from the environment that `scripts/test` (or `. scripts/postgres.sh; pg_start`)
/// sets. Each test gets its own database, created on that server and dropped afterwards.
enum TestPostgres {
    static let url: String? = ProcessInfo.processInfo.environment["TILLWIRE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    /// Set by `scripts/test` (and CI): a missing server fails the tests instead of skipping them.
    static let required = ProcessInfo.processInfo.environment["TILLWIRE_REQUIRE_POSTGRES"] == "1"
    /// Runs when a server is given, and also when one is required, so that a missing one fails loudly.
    static let enabled = url != nil || required
    static let skipReason: Comment = """
        TILLWIRE_TEST_POSTGRES_URL is not set, so the PostgreSQL tests are skipped: run scripts/test, \
        or `. scripts/postgres.sh && pg_start` first
        """

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "PostgreSQL is required (TILLWIRE_REQUIRE_POSTGRES=1) but TILLWIRE_TEST_POSTGRES_URL is not set: "
                + "run scripts/test, which starts a throwaway cluster, or `. scripts/postgres.sh && pg_start` before swift test"
        }
    }

    /// Runs `body` with the URL of a new, empty database, and drops the database afterwards.
    static func withFreshDatabase<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        guard let url else { throw Missing() }
        let name = "tw_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let admin = try await PostgresStore.connect(url: url, maxConnections: 1)
        do {
            try await admin.executeOutsideTransaction("CREATE DATABASE \(name)")
            let result: Result<T, any Error>
            do { result = .success(try await body(try PostgresURL(parsing: url).with(database: name).text)) } catch { result = .failure(error) }
            try await admin.executeOutsideTransaction("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            try await admin.close()
            return try result.get()
        } catch {
            try? await admin.close()
            throw error
        }
    }

    /// Runs `body` on a migrated store over a new database, then closes the store and drops the database.
    static func withFreshStore<T: Sendable>(maxConnections: Int = 10, _ body: (PostgresStore) async throws -> T) async throws -> T {
        try await withFreshDatabase { url in
            let store = try await PostgresStore.connect(url: url, maxConnections: maxConnections)
            do {
                _ = try await store.migrate()
                let value = try await body(store)
                try await store.close()
                return value
            } catch {
                try? await store.close()
                throw error
            }
        }
    }
}
