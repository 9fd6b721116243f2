import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `GET /v1/finance/erp-diff`: the migration's comparison over HTTP (two ledgers in memory stand for the ERPs; the
/// real Tryton's side is tested in ConnectorTrytonTests), 409 without a shadow, 400 for days it cannot compare.
@Suite struct ERPDiffAPITests {
    @Test func theDiffIsServedAndRefusedWhereItCannotBe() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "finance", scopes: ["finance:read"], locations: nil, now: Date())
        _ = try await store.commit(Commit(access: [.createKey(record)]))
        let primary = MemoryLedger(), shadow = MemoryLedger()
        let entry = try JournalEntry(id: "je-sale-o1-1", kind: .sale, currency: .gbp, businessDay: "2026-11-28", location: nil, channel: "web",
                                     lines: [JournalLine(account: "1200", debit: 1_200), JournalLine(account: "4000", credit: 1_200)],
                                     sources: [JournalSource(.order, "o1")], memo: "test")
        shadow.skew(reference: Ledger.Post.reference(entry), by: -5)
        var commit = Commit()
        try Ledger().book(entry, into: &commit, correlation: "test", causation: nil, at: Date())
        _ = try await store.commit(commit)
        let worker = JobWorker(store: store, handlers: [Ledger.Post(store: store, system: "erp", client: primary, shadow: "erp-shadow"),
                                                        Ledger.ShadowPost(store: store, system: "erp-shadow", client: shadow)], logger: Logger(label: "test"))
        for _ in 0..<10 where try await worker.runOnce() > 0 {}

        let diff = ERPDiff(store: store, primary: ("erp", primary), shadow: ("erp-shadow", shadow))
        for (router, path, expected) in [
            (HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), erpDiff: diff), "/v1/finance/erp-diff?from=2026-11-28", HTTPResponse.Status.ok),
            (HubRouter.build(store: store, metrics: PrometheusCollectorRegistry()), "/v1/finance/erp-diff?from=2026-11-28", .conflict),
            (HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), erpDiff: diff), "/v1/finance/erp-diff?from=2026-11-28&to=2026-10-01", .badRequest),
            (HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), erpDiff: diff), "/v1/finance/erp-diff?from=2026-01-01&to=2026-03-01", .badRequest),
        ] {
            try await Application(router: router, logger: Logger(label: "test")).test(.router) { client in
                try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(key)"]) { response in
                    #expect(response.status == expected, "\(path): \(String(buffer: response.body))")
                    guard expected == .ok else { return }
                    let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    #expect(body["compared"] as? Int == 1 && body["agreeing"] as? Int == 0, "\(body)")
                    let difference = try #require((body["differences"] as? [[String: Any]])?.first)
                    #expect(difference["problem"] as? String == "totals differ" && difference["hub_total"] as? String == "12.00", "\(difference)")
                    #expect((difference["shadow"] as? [String: Any])?["total"] as? String == "11.95", "\(difference)")
                }
            }
        }
    }
}
