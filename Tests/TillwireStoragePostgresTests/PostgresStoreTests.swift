import Foundation
import Testing
import TillwireDomain
import TillwireStorage
@testable import TillwireStoragePostgres
import TillwireTesting

@Suite("PostgresStore on a real server", .enabled(if: TestPostgres.enabled, TestPostgres.skipReason))
struct PostgresStoreTests {
    @Test("conformance", arguments: StoreConformance.cases)
    func conformance(_ conformanceCase: StoreConformanceCase) async throws {
        try await TestPostgres.withFreshStore { store in try await conformanceCase.run(store) }
    }

    /// The several-instances case: two stores on one database migrate at once, then claim jobs concurrently;
    /// SKIP LOCKED must hand every job to exactly one claimer.
    @Test func twoInstancesClaimDisjointJobs() async throws {
        try await TestPostgres.withFreshDatabase { url in
            let a = try await PostgresStore.connect(url: url, maxConnections: 4)
            let b = try await PostgresStore.connect(url: url, maxConnections: 4)
            async let migratedA = a.migrate()
            async let migratedB = b.migrate()
            let (statusA, statusB) = try await (migratedA, migratedB)
            #expect(statusA.isCurrent && statusB.isCurrent)

            let now = Date()
            let jobs = (0..<200).map { _ in NewJob(kind: "test.disjoint", runAt: now - 1) }
            _ = try await a.commit(Commit(jobs: jobs))

            let claims = try await withThrowingTaskGroup(of: [JobID].self) { group in
                for (index, store) in [a, b].enumerated() {
                    for worker in 0..<4 {
                        let owner = "store-\(index)-worker-\(worker)"
                        group.addTask {
                            var claimed: [JobID] = []
                            while true {
                                let batch = try await store.claimJobs(
                                    owner: owner, kinds: ["test.disjoint"], limit: 3, lease: .seconds(300), now: now)
                                if batch.isEmpty { return claimed }
                                for job in batch {
                                    claimed.append(job.id)
                                    let completed = try await store.completeJob(job.id, owner: owner, effects: Commit())
                                    #expect(completed != nil, "\(owner) could not complete \(job.id)")
                                }
                            }
                        }
                    }
                }
                return try await group.reduce(into: [[JobID]]()) { $0.append($1) }
            }
            let all = claims.flatMap { $0 }
            #expect(all.count == 200, "claims: \(all.count)")
            #expect(Set(all) == Set(jobs.map(\.id)), "every job claimed exactly once")
            #expect(try await a.jobs(in: .pending, limit: 10).isEmpty)
            #expect(try await b.jobs(in: .running, limit: 10).isEmpty)
            try await a.close()
            try await b.close()
        }
    }

    /// Positions become visible in position order: a reader tailing `readAll` while two instances append never
    /// skips an event.
    @Test func tailingReaderMissesNoEvent() async throws {
        try await TestPostgres.withFreshDatabase { url in
            let a = try await PostgresStore.connect(url: url, maxConnections: 4)
            let b = try await PostgresStore.connect(url: url, maxConnections: 4)
            _ = try await a.migrate()
            let perWriter = 50
            let writers = 4
            let seen = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for writer in 0..<writers {
                    let store = writer % 2 == 0 ? a : b
                    group.addTask {
                        for _ in 0..<perWriter {
                            let event = NewEvent(
                                type: "test.tailed", stream: StreamID(trusted: "tail-\(writer)"), correlationID: "tail",
                                occurredAt: Date(), source: "tests", payload: Data("{}".utf8))
                            _ = try await store.commit(Commit(events: [EventAppend(event)]))
                        }
                        return []
                    }
                }
                group.addTask {
                    // Tails until it has them all, or until nothing new came for 5 s (it skipped one for good).
                    var positions: [Int64] = []
                    var after: Int64 = 0
                    var lastProgress = ContinuousClock.now
                    while positions.count < perWriter * writers, ContinuousClock.now - lastProgress < .seconds(5) {
                        let page = try await b.readAll(after: after, limit: 7)
                        positions += page.map(\.position)
                        after = page.last?.position ?? after
                        if page.isEmpty {
                            try await Task.sleep(for: .milliseconds(1))
                        } else {
                            lastProgress = .now
                        }
                    }
                    return positions
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            let everything = try await a.readAll(after: 0, limit: 1_000).map(\.position)
            #expect(seen == everything, "the tailing reader saw \(seen.count) of \(everything.count) events")
            try await a.close()
            try await b.close()
        }
    }

    @Test func aClosedStoreRefusesWork() async throws {
        try await TestPostgres.withFreshDatabase { url in
            let store = try await PostgresStore.connect(url: url, maxConnections: 2)
            _ = try await store.migrate()
            try await store.close()
            try await store.close()
            await #expect {
                _ = try await store.streamVersion("any")
            } throws: { error in
                if case StorageError.closed = error { return true }
                return false
            }
        }
    }

    @Test func serverErrorsCarryTheServerMessage() async throws {
        try await TestPostgres.withFreshDatabase { url in
            let store = try await PostgresStore.connect(url: url, maxConnections: 2)
            // Not migrated: the tables do not exist.
            await #expect {
                _ = try await store.streamVersion("any")
            } throws: { error in
                guard case StorageError.unavailable("postgres", let reason) = error else { return false }
                return reason.contains("\"events\"") && reason.contains("42P01")
            }
            try await store.close()
        }
    }
}

@Suite struct PostgresConnectTests {
    @Test func anUnreachableServerFailsAtOnceWithTheCause() async throws {
        let started = ContinuousClock.now
        await #expect {
            _ = try await PostgresStore.connect(url: "postgres://tw@127.0.0.1:1/hub")
        } throws: { error in
            guard case StorageError.unavailable("postgres", let reason) = error else { return false }
            return reason.contains("cannot connect") && reason.contains("127.0.0.1:1/hub")
        }
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    @Test func parsesEveryPart() throws {
        let url = try PostgresURL(parsing: "postgres://tw:s%40cret@db.local:6543/hub")
        #expect(url.username == "tw")
        #expect(url.password == "s@cret")
        #expect(url.host == "db.local")
        #expect(url.port == 6543)
        #expect(url.database == "hub")
        #expect(try PostgresURL(parsing: "postgresql://tw@db.local/hub").port == 5432)
        #expect(try PostgresURL(parsing: url.with(database: "other").text) == url.with(database: "other"))
    }

    @Test(arguments: [
        "", "not a url", "mysql://tw@db.local:5432/hub", "postgres://db.local:5432/hub", "postgres://tw@db.local:5432/",
        "postgres://tw@:5432/hub", "postgres://tw@db.local:5432/hub?sslmode=require",
    ])
    func refusesAMalformedURL(_ text: String) async throws {
        await #expect {
            _ = try await PostgresStore.connect(url: text)
        } throws: { error in
            guard case StorageError.unavailable("postgres", let reason) = error else { return false }
            return reason.contains("malformed PostgreSQL URL") && reason.contains("postgres://user")
        }
    }
}
