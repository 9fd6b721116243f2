import Foundation
import Testing
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire dlq` as an operator runs it, on a hub database that holds dead jobs.
@Suite struct DlqCommandTests {
    func run(_ arguments: [String], database: String) async throws -> (status: Int32, output: String) {
        try await runTillwire(arguments, database: database)
    }

    @Test func listsShowsAndReplaysDeadJobsWithAnAudit() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        let erp = NewJob(kind: "erp.post_sale", payload: Data(#"{"store":"S1"}"#.utf8), runAt: Date())
        let shop = NewJob(kind: "shopify.push_inventory", runAt: Date())
        _ = try await store.commit(Commit(jobs: [erp, shop]))
        for job in try await store.claimJobs(owner: "w", kinds: nil, limit: 10, lease: .seconds(30), now: Date()) {
            _ = try await store.failJob(job.id, owner: "w", failure: .terminal(error: "HTTP 422: unknown account"), now: Date())
        }
        try await store.close()

        let list = try await run(["dlq", "list", "--system", "erp"], database: path)
        #expect(list.status == 0, "\(list.output)")
        #expect(list.output.contains(erp.id.rawValue) && !list.output.contains(shop.id.rawValue))
        #expect(list.output.contains("1 dead job"))

        let dry = try await run(["dlq", "replay", "--system", "erp", "--dry-run", "--by", "ops", "--reason", "mapping fixed"], database: path)
        #expect(dry.output.contains("dry run: 1 job would be replayed"), "\(dry.output)")
        #expect(try await run(["dlq", "list"], database: path).output.contains("2 dead jobs"), "a dry run changes nothing")

        let replay = try await run(["dlq", "replay", erp.id.rawValue, "--by", "ops@retailer", "--reason", "mapping fixed"], database: path)
        #expect(replay.status == 0 && replay.output.contains("replayed 1 of 1"), "\(replay.output)")
        let show = try await run(["dlq", "show", erp.id.rawValue], database: path)
        #expect(show.output.contains("state:       pending"), "\(show.output)")
        #expect(show.output.contains("by ops@retailer: mapping fixed (had failed with: HTTP 422: unknown account)"))

        let again = try await run(["dlq", "replay", erp.id.rawValue, "--by", "ops", "--reason", "twice"], database: path)
        #expect(again.status != 0 && again.output.contains("is not a dead job"), "\(again.output)")
        let badTime = try await run(["dlq", "list", "--since", "yesterday"], database: path)
        #expect(badTime.status != 0 && badTime.output.contains("ISO 8601"))
    }
}
