import Foundation
import Testing
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire jobs` says why each job waits: behind a dead job of its partition, in its system's maintenance window,
/// for its retry, or put back without spending an attempt.
@Suite struct JobsCommandTests {
    func run(_ arguments: [String], database: String, config: String? = nil) async throws -> (status: Int32, output: String) {
        try await runTillwire(arguments + (config.map { ["--config", $0] } ?? []), database: database)
    }

    @Test func explainsWhyEachJobWaits() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        let now = Date()
        let dead = NewJob(kind: "erp.post_sale", partitionKey: "store-1/2026-11-27", runAt: now - 60)
        let behind = NewJob(kind: "erp.post_sale", partitionKey: "store-1/2026-11-27", runAt: now - 60)
        let retrying = NewJob(kind: "shopify.push_inventory", runAt: now - 60)
        let deferred = NewJob(kind: "shopify.push_price", runAt: now - 60)
        let maintained = NewJob(kind: "wms.release", runAt: now - 60)
        _ = try await store.commit(Commit(jobs: [dead, retrying, deferred]))
        _ = try await store.commit(Commit(jobs: [behind, maintained]))
        for job in try await store.claimJobs(owner: "w", kinds: ["erp.post_sale", "shopify.push_inventory", "shopify.push_price"], limit: 10, lease: .seconds(30), now: now) {
            switch job.kind {
            case "erp.post_sale": _ = try await store.failJob(job.id, owner: "w", failure: .terminal(error: "HTTP 422: unknown account 4000"), now: now)
            case "shopify.push_inventory": _ = try await store.failJob(job.id, owner: "w", failure: .retry(at: now + 600, error: "HTTP 503"), now: now)
            default: _ = try await store.deferJob(job.id, owner: "w", until: now + 30, reason: "shopify: circuit open until soon", now: now)
            }
        }
        try await store.close()
        let config = folder.path("hub.yaml")
        let start = ISO8601DateFormatter().string(from: now - 3600), end = ISO8601DateFormatter().string(from: now + 3600)
        try "systems:\n  wms:\n    maintenance:\n      - \(start)/\(end)\n".write(toFile: config, atomically: true, encoding: .utf8)

        let list = try await run(["jobs", "list"], database: path, config: config)
        #expect(list.status == 0, "\(list.output)")
        #expect(list.output.contains("waits behind job \(dead.id) (erp.post_sale, dead: HTTP 422: unknown account 4000)"), "\(list.output)")
        #expect(list.output.contains("attempt 2 of 10 due"), "\(list.output)")
        #expect(list.output.contains("after: HTTP 503"))
        #expect(list.output.contains("put back without spending an attempt (shopify: circuit open until soon)"))
        #expect(list.output.contains("waits: wms: maintenance window until \(end)"))
        #expect(list.output.contains("4 pending jobs"))

        let show = try await run(["jobs", "show", dead.id.rawValue], database: path)
        #expect(show.output.contains("why:         dead after 1 attempt: HTTP 422: unknown account 4000; later jobs of partition store-1/2026-11-27 wait behind it"), "\(show.output)")
        let bad = try await run(["jobs", "list", "--state", "done"], database: path)
        #expect(bad.status != 0 && bad.output.contains("--state must be one of pending, running, dead"), "\(bad.output)")
    }
}
