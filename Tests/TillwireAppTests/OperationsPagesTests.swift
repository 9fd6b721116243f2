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

/// Why a job waits, through the API (`GET /v1/jobs`) and on the dashboard (`/ui/jobs`), with the sign-in that
/// guards the pages and the replay they offer.
@Suite struct OperationsPagesTests {
    struct Fixture {
        let store: SQLiteStore
        let admin: String
        let reader: String
        let dead: JobID
        let behind: JobID
        let blocked: JobID
    }

    /// A dead ERP job of store-12, a later job of the same key waiting behind it, and a Shopify job waiting out a
    /// maintenance window.
    func fixture() async throws -> Fixture {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let now = Date()
        let (adminRecord, admin) = ApiKeys.generate(client: "ops-console", scopes: ["admin"], locations: nil, ratePerSecond: 1_000, burst: 1_000, now: now)
        let (readerRecord, reader) = ApiKeys.generate(client: "pos-store-12", scopes: ["inventory:read"], locations: nil, ratePerSecond: 1_000, burst: 1_000, now: now)
        let dead = NewJob(kind: "erp.post_sale", payload: Data(#"{"day":"2026-11-27"}"#.utf8), partitionKey: "store-12", runAt: now - 10)
        _ = try await store.commit(Commit(jobs: [dead], access: [.createKey(adminRecord), .createKey(readerRecord)]))
        _ = try await store.claimJobs(owner: "w", kinds: nil, limit: 1, lease: .seconds(30), now: now)
        _ = try await store.failJob(dead.id, owner: "w", failure: .terminal(error: "HTTP 422: unknown account <4000>"), now: now)
        let behind = NewJob(kind: "erp.post_sale", payload: Data(#"{"day":"2026-11-28"}"#.utf8), partitionKey: "store-12", runAt: now)
        let blocked = NewJob(kind: "shopify.push_inventory", payload: Data("{}".utf8), runAt: now)
        _ = try await store.commit(Commit(jobs: [behind, blocked]))
        return Fixture(store: store, admin: admin, reader: reader, dead: dead.id, behind: behind.id, blocked: blocked.id)
    }

    func app(_ fixture: Fixture) -> some ApplicationProtocol {
        let now = Date()
        let window = MaintenanceWindow.once(from: now - 60, until: now + 3_600)
        let systems = SystemGate(policies: ["shopify": SystemPolicy(maintenance: [window]), "erp": SystemPolicy()])
        return Application(router: HubRouter.build(store: fixture.store, metrics: PrometheusCollectorRegistry(), systems: systems),
                           logger: Logger(label: "ui-test"))
    }

    @Test func theJobsAPISaysWhyEachJobWaits() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            try await client.execute(uri: "/v1/jobs?state=pending", method: .get, headers: [.authorization: "Bearer \(fixture.admin)"]) { response in
                #expect(response.status == .ok)
                let jobs = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["jobs"] as? [[String: Any]] ?? []
                let why = Dictionary(uniqueKeysWithValues: jobs.map { ($0["id"] as? String ?? "", $0["why"] as? String ?? "") })
                #expect(why[fixture.behind.rawValue]?.contains("waits behind job \(fixture.dead) (erp.post_sale, dead") == true, "\(why)")
                #expect(why[fixture.blocked.rawValue]?.contains("shopify: maintenance window until") == true, "\(why)")
            }
            try await client.execute(uri: "/v1/jobs?state=finished", method: .get, headers: [.authorization: "Bearer \(fixture.admin)"]) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/jobs", method: .get, headers: [.authorization: "Bearer \(fixture.reader)"]) { response in
                #expect(response.status == .forbidden, "jobs are an admin's")
            }
        }
    }

    @Test func theDashboardSignsInWithAnAdminKeyShowsWhyJobsWaitAndReplaysADeadOne() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            try await client.execute(uri: "/ui/jobs", method: .get) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/ui/login", "no cookie: to the sign-in page")
            }
            let cookie = try await signIn(client, key: fixture.admin)
            try await client.execute(uri: "/ui/jobs", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(response.status == .ok && response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(html.contains("waits behind job \(fixture.dead) (erp.post_sale, dead: HTTP 422: unknown account &lt;4000&gt;)"), "\(html)")
                #expect(html.contains("shopify: maintenance window until"))
                #expect(html.contains("<td>shopify</td>") && html.contains("maintenance window until"), "the systems table")
                #expect(!html.contains("<4000>"), "text from jobs is escaped")
            }
            try await client.execute(uri: "/ui/jobs/\(fixture.dead)", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("later jobs of partition store-12 wait behind it") && html.contains("action=\"/ui/jobs/\(fixture.dead)/replay\""))
            }
            try await client.execute(uri: "/ui/jobs/\(fixture.dead)/replay", method: .post,
                                     headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "reason=account+4000+created%21")) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/ui/jobs/\(fixture.dead)")
            }
        }
        #expect(try await fixture.store.job(fixture.dead)?.state == .pending, "replayed from the dashboard")
        let replay = try await fixture.store.replays(of: fixture.dead).first
        #expect(replay?.reason == "account 4000 created!" && replay?.replayedBy.hasPrefix("ops-console (key k") == true)
        #expect(try await fixture.store.auditLog(after: 0, limit: 10).contains { $0.action == "POST /ui/jobs/\(fixture.dead)/replay" && $0.outcome == "303" })
    }

    @Test func theDashboardSendsAKeyWithoutTheAdminScopeOrAWrongOneBackToSignIn() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            for key in [fixture.reader, String(fixture.admin.dropLast(4)) + "AAAA"] {
                let cookie = try await signIn(client, key: key)
                try await client.execute(uri: "/ui/jobs", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .seeOther && response.headers[.location]?.hasPrefix("/ui/login?refused=") == true)
                }
                try await client.execute(uri: "/ui/jobs/\(fixture.dead)/replay", method: .post,
                                         headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "reason=sneaky")) { response in
                    #expect(response.status == .seeOther && response.headers[.location]?.hasPrefix("/ui/login?refused=") == true)
                }
            }
            try await client.execute(uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "key=hunter2")) { response in
                #expect(response.headers[.location]?.hasPrefix("/ui/login?refused=") == true && response.headers[.setCookie] == nil)
            }
            // A key that would add cookie attributes is not a key.
            let injected = String(fixture.admin.dropLast(9)) + ";Domain=x"
            try await client.execute(uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "key=" + OperationsPagesTests.formEncoded(injected))) { response in
                #expect(response.headers[.setCookie] == nil, "\(response.headers)")
            }
            // A replay form posted from another site, with the admin's cookie, is refused (cross-site request forgery).
            let cookie = try await signIn(client, key: fixture.admin)
            for (name, value) in [("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site")] {
                try await client.execute(uri: "/ui/jobs/\(fixture.dead)/replay", method: .post,
                                         headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded", HTTPField.Name(name)!: value],
                                         body: ByteBuffer(string: "reason=forged")) { response in
                    #expect(response.status == .forbidden, "\(name): \(value)")
                }
            }
        }
        #expect(try await fixture.store.job(fixture.dead)?.state == .dead, "nothing was replayed")
    }

    @Test func theOverviewShowsFlowHealthKeyFiguresServiceLevelsAndOrdersAndTheLookupAnOrdersTimeline() async throws {
        let fixture = try await fixture()
        let pounds = { (units: Int64) in Money(minorUnits: units, currency: .gbp) }
        let order = try Order(
            id: .derived(channel: "web", channelOrderID: "1001"), channel: "web", channelOrderID: "1001", placedAt: Date(), currency: .gbp,
            taxesIncluded: true, customer: Customer(email: "ann@example.org", name: "Ann"), shipTo: try Address(country: "GB"),
            lines: [try OrderLine(id: "1", sku: "SHIRT", quantity: 1, unitPrice: pounds(2_400),
                                  taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: pounds(400))])],
            shipping: nil, payments: try Payments(authorized: pounds(2_400), captured: pounds(2_400), refunded: pounds(0)),
            fulfilment: try Fulfilment(.shipFromDC, pickupStore: nil), total: pounds(2_400))
        _ = try await OrderService(store: fixture.store).capture(order, source: "shopify")
        let now = Date()
        let window = MaintenanceWindow.once(from: now - 60, until: now + 5 * 3_600)
        let systems = SystemGate(policies: ["shopify": SystemPolicy(maintenance: [window]), "erp": SystemPolicy()])
        let tracker = ServiceLevelTracker(objectives: ServiceLevelObjective.defaults)
        // Read three hours on: the order (held: its SKU is not in the catalog) has not changed for longer than the two hours of `agingAfter`.
        let monitor = OperationsMonitor(store: fixture.store, systems: systems, subscriptions: ["workflow-waker"], tracker: tracker,
                                        history: OperationsHistory(), logger: Logger(label: "ui-test"), now: { Date() + 3 * 3600 })
        let snapshot = try await monitor.read()
        #expect(snapshot.deadLetters == ["erp": 1] && snapshot.backlog >= 2 && snapshot.ordersAging == 1, "\(snapshot)")
        #expect(snapshot.subscriptionLag["workflow-waker"] ?? 0 >= 1, "the order's capture is in the log, unread")
        let app = Application(router: HubRouter.build(store: fixture.store, metrics: PrometheusCollectorRegistry(), systems: systems,
                                                      operations: monitor), logger: Logger(label: "ui-test"))
        try await app.test(.router) { client in
            let cookie = try await signIn(client, key: fixture.admin)
            try await client.execute(uri: "/ui/overview", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(response.status == .ok)
                for text in ["Flow health", "Key figures", "Service levels", "Orders by status", "availability_inquiry", "financial_posting",
                             "held: maintenance window until", "<td>on_hold</td><td class=\"number\">1</td><td>3 h</td><td class=\"number bad\">1</td>", "workflow-waker"] {
                    #expect(html.contains(text), "\(text) on the overview")
                }
                #expect(html.contains("<div class=\"label\">dead letters</div><div class=\"value bad\"><a href=\"/ui/jobs?state=dead\">1</a>"), "\(html)")
                #expect(html.contains("<div class=\"label\">orders aging (unchanged 2 h)</div><div class=\"value bad\">1</div>"))
            }
            try await client.execute(uri: "/ui/lookup?order=1001", method: .get, headers: [.cookie: cookie]) { response in
                let html = String(buffer: response.body)
                #expect(response.status == .ok)
                #expect(html.contains("Order 1001 from web") && html.contains("<span class=\"system\">shopify</span> order.captured"), "\(html)")
                #expect(html.contains("Still owed to other systems"))
            }
            try await client.execute(uri: "/ui/lookup?order=9999", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/ui/lookup?store=store-12&day=2026-11-27", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("no journal entries for this day"))
            }
            try await client.execute(uri: "/ui/lookup?store=store-12&day=yesterday", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    static func formEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// Signs in and returns the cookie to send.
    func signIn(_ client: some TestClientProtocol, key: String) async throws -> String {
        try await client.execute(uri: "/ui/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                 body: ByteBuffer(string: "key=" + (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))) { response in
            #expect(response.status == .seeOther && response.headers[.location] == "/ui/overview")
            let set = response.headers[.setCookie] ?? ""
            #expect(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/ui"))
            return String(set.prefix { $0 != ";" })
        }
    }
}
