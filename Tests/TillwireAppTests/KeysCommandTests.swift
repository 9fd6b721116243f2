import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import TillwireAPI
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire keys` and `tillwire audit` as an operator runs them, and the keys they make against the API.
@Suite struct KeysCommandTests {
    func run(_ arguments: [String], database: String) async throws -> (status: Int32, output: String) {
        try await runTillwire(arguments, database: database)
    }

    func field(_ name: String, in output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
            String($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).prefix { $0 != " " })
        }
    }

    /// The status of `GET /v1/audit` with `key`, against the hub's router over the database file.
    func status(with key: String, database: String) async throws -> HTTPResponse.Status {
        let store = try SQLiteStore.open(path: database)
        let status = try await Application(router: HubRouter.build(store: store, metrics: PrometheusCollectorRegistry())).test(.router) { client in
            try await client.execute(uri: "/v1/audit", method: .get, headers: [.authorization: "Bearer \(key)"]) { $0.status }
        }
        try await store.close()
        return status
    }

    @Test func createRotateRevokeAndTheAuditOfEach() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        #expect(try await run(["migrate"], database: path).status == 0)

        let created = try await run(["keys", "create", "--client", "ops-console", "--scope", "admin", "--by", "alice"], database: path)
        #expect(created.status == 0, "\(created.output)")
        let first = try #require(field("key", in: created.output)), firstID = try #require(field("key id", in: created.output))
        #expect(created.output.contains("shown only this once"))
        #expect(try await status(with: first, database: path) == .ok)

        let rotated = try await run(["keys", "rotate", firstID, "--grace-hours", "1", "--by", "alice"], database: path)
        #expect(rotated.status == 0, "\(rotated.output)")
        let second = try #require(field("key", in: rotated.output)), secondID = try #require(field("key id", in: rotated.output))
        #expect(second != first)
        #expect(try await status(with: first, database: path) == .ok, "the old key works during the grace period")
        #expect(try await status(with: second, database: path) == .ok)

        let list = try await run(["keys", "list"], database: path)
        #expect(list.output.contains("\(firstID)  ops-console  admin") && list.output.contains("active until"), "\(list.output)")
        for key in [first, second] { #expect(!list.output.contains(String(key.dropFirst("tw_k0123456789abcdef_".count))), "a secret was listed") }

        #expect(try await run(["keys", "revoke", secondID, "--by", "bob"], database: path).status == 0)
        #expect(try await status(with: second, database: path) == .unauthorized, "a revoked key is refused at once")

        let audit = try await run(["audit", "list"], database: path)
        #expect(audit.output.contains("cli:alice  keys.create  \(firstID)  ok"), "\(audit.output)")
        #expect(audit.output.contains("cli:alice  keys.rotate  \(firstID)  ok"))
        #expect(audit.output.contains("cli:bob  keys.revoke  \(secondID)  ok"))

        let bad = try await run(["keys", "create", "--client", "x", "--scope", "everything"], database: path)
        #expect(bad.status != 0 && bad.output.contains("unknown scope 'everything'; known scopes: inventory:read"), "\(bad.output)")
        let unknown = try await run(["keys", "revoke", "k0000000000000000"], database: path)
        #expect(unknown.status != 0 && unknown.output.contains("no key k0000000000000000"))
    }
}
