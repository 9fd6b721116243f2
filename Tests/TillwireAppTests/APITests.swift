import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing
import TillwireAPI
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The governed API: keys, scopes, rate limits, body limits, problem+json, the audit log, and the dead-letter routes
/// that go through all of it.
@Suite struct APITests {
    struct Fixture {
        let store: SQLiteStore
        let keys: [String: String]   // role → full key
        let deadJob: JobID
    }

    func fixture(rate: Double = 1_000, burst: Int = 1_000) async throws -> Fixture {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let now = Date()
        var keys: [String: String] = [:]
        var changes: [AccessChange] = []
        for (role, scopes, client) in [("admin", ["admin"], "ops-console"), ("inventory", ["inventory:read", "inventory:write"], "pos-store-12"),
                                       ("revoked", ["admin"], "old-console"), ("expired", ["admin"], "rotated-console")] {
            let (record, key) = ApiKeys.generate(client: client, scopes: scopes, locations: nil, ratePerSecond: rate, burst: burst, now: now)
            keys[role] = key
            changes.append(.createKey(record))
            if role == "revoked" { changes.append(.revokeKey(id: record.id, at: now)) }
            if role == "expired" { changes.append(.expireKey(id: record.id, at: now - 1)) }
        }
        let job = NewJob(kind: "erp.post_sale", payload: Data(#"{"store":"12"}"#.utf8), partitionKey: "store-12", runAt: now)
        _ = try await store.commit(Commit(jobs: [job], access: changes))
        _ = try await store.claimJobs(owner: "w", kinds: nil, limit: 1, lease: .seconds(30), now: now)
        _ = try await store.failJob(job.id, owner: "w", failure: .terminal(error: "HTTP 422: unknown account 4000"), now: now)
        return Fixture(store: store, keys: keys, deadJob: job.id)
    }

    func app(_ fixture: Fixture, policy: APIPolicy = APIPolicy(), logger: Logger? = nil) -> some ApplicationProtocol {
        Application(router: HubRouter.build(store: fixture.store, metrics: PrometheusCollectorRegistry(), api: policy),
                    logger: logger ?? Logger(label: "api-test"))
    }

    func headers(_ key: String?, json: Bool = false) -> HTTPFields {
        var fields = HTTPFields()
        if let key { fields[.authorization] = "Bearer \(key)" }
        if json { fields[.contentType] = "application/json" }
        return fields
    }

    func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
    }

    @Test func everyV1RouteRefusesMissingBadRevokedExpiredAndUnscopedKeysAndChangesNothing() async throws {
        let fixture = try await fixture()
        let replay = ByteBuffer(string: #"{"ids":["\#(fixture.deadJob)"],"reason":"try"}"#)
        let routes: [(HTTPRequest.Method, String, ByteBuffer?)] = [
            (.get, "/v1/dead-letters", nil), (.get, "/v1/dead-letters/\(fixture.deadJob)", nil),
            (.post, "/v1/dead-letters/replay", replay), (.get, "/v1/audit", nil),
        ]
        let wrongSecret = String(fixture.keys["admin"]!.dropLast(4)) + "AAAA"
        let cases: [(String, String?, HTTPResponse.Status, String)] = [
            ("no key", nil, .unauthorized, "unauthenticated"),
            ("not a key", "Basic dXNlcjpwYXNz", .unauthorized, "unauthenticated"),
            ("a wrong secret", wrongSecret, .unauthorized, "unauthenticated"),
            ("a revoked key", fixture.keys["revoked"], .unauthorized, "unauthenticated"),
            ("an expired key", fixture.keys["expired"], .unauthorized, "unauthenticated"),
            ("a key without the admin scope", fixture.keys["inventory"], .forbidden, "forbidden"),
        ]
        try await app(fixture).test(.router) { client in
            for (method, path, body) in routes {
                for (what, key, status, kind) in cases {
                    var fields = headers(nil, json: body != nil)
                    if let key { fields[.authorization] = key.hasPrefix("Basic") ? key : "Bearer \(key)" }
                    try await client.execute(uri: path, method: method, headers: fields, body: body) { response in
                        #expect(response.status == status, "\(method) \(path) with \(what)")
                        #expect(response.headers[.contentType] == "application/problem+json", "\(method) \(path) with \(what)")
                        #expect(json(response)["type"] as? String == "urn:tillwire:problem:\(kind)", "\(method) \(path) with \(what)")
                        if status == .unauthorized { #expect(response.headers[.wwwAuthenticate] == "Bearer") }
                    }
                }
            }
        }
        #expect(try await fixture.store.job(fixture.deadJob)?.state == .dead, "no refused call replayed the job")
        let audit = try await fixture.store.auditLog(after: 0, limit: 100)
        #expect(audit.count == cases.count, "every refused call that would change something is audited")
        #expect(audit.allSatisfy { $0.action == "POST /v1/dead-letters/replay" && ["401", "403"].contains($0.outcome) })
        #expect(audit.last?.actor == "pos-store-12", "the refused client is named")
    }

    @Test func deadLettersAreListedShownAndReplayedThroughTheAPIWithAnAudit() async throws {
        let fixture = try await fixture()
        let admin = fixture.keys["admin"]!
        try await app(fixture).test(.router) { client in
            try await client.execute(uri: "/v1/dead-letters?system=erp", method: .get, headers: headers(admin)) { response in
                #expect(response.status == .ok)
                let list = json(response)["dead_letters"] as? [[String: Any]]
                #expect(list?.first?["id"] as? String == fixture.deadJob.rawValue)
                #expect(list?.first?["last_error"] as? String == "HTTP 422: unknown account 4000")
                #expect(response.headers[HTTPField.Name("RateLimit-Limit")!] == "1000")
            }
            try await client.execute(uri: "/v1/dead-letters?system=shopify", method: .get, headers: headers(admin)) { response in
                #expect((json(response)["dead_letters"] as? [Any])?.isEmpty == true, "filtered by system")
            }
            try await client.execute(uri: "/v1/dead-letters/\(fixture.deadJob)", method: .get, headers: headers(admin)) { response in
                #expect((json(response)["why"] as? String)?.contains("later jobs of partition store-12 wait behind it") == true, "\(String(buffer: response.body))")
            }
            let dryRun = ByteBuffer(string: #"{"filter":{"system":"erp"},"reason":"check","dry_run":true}"#)
            try await client.execute(uri: "/v1/dead-letters/replay", method: .post, headers: headers(admin, json: true), body: dryRun) { response in
                #expect(response.status == .ok)
                #expect(json(response)["dry_run"] as? Bool == true && (json(response)["replayed"] as? [String]) == [fixture.deadJob.rawValue])
            }
            #expect(try await fixture.store.job(fixture.deadJob)?.state == .dead, "a dry run changes nothing")
            let replay = ByteBuffer(string: #"{"ids":["\#(fixture.deadJob)"],"reason":"account 4000 created in the ERP"}"#)
            try await client.execute(uri: "/v1/dead-letters/replay", method: .post, headers: headers(admin, json: true), body: replay) { response in
                #expect(response.status == .ok)
                #expect((json(response)["replayed"] as? [String]) == [fixture.deadJob.rawValue])
            }
        }
        #expect(try await fixture.store.job(fixture.deadJob)?.state == .pending, "replayed")
        let replays = try await fixture.store.replays(of: fixture.deadJob)
        #expect(replays.first?.replayedBy.hasPrefix("ops-console (key k") == true && replays.first?.reason == "account 4000 created in the ERP")
        let audit = try await fixture.store.auditLog(after: 0, limit: 10)
        #expect(audit.map(\.outcome) == ["200", "200"], "the dry run and the replay are audited, the reads are not")
        #expect(audit.allSatisfy { $0.actor == "ops-console" && $0.requestID != nil })
    }

    @Test(arguments: [
        (#"{"ids": ["x"], "reason": }"#, nil as String?),
        (#"{"ids": ["x"]}"#, "reason"),
        (#"{"ids": "x", "reason": "r"}"#, "ids"),
        (#"{"ids": ["x"], "filter": {}, "reason": "r"}"#, "filter"),
        (#"{"filter": {"since": "yesterday"}, "reason": "r"}"#, "filter.since"),
        (#"{"filter": {"limit": 0}, "reason": "r"}"#, "filter.limit"),
        (#"{"ids": ["not-a-job"], "reason": "r"}"#, "ids[0]"),
        (#"{"ids": [], "reason": "   "}"#, "reason"),
    ])
    func badBodiesAre400NamingTheFieldAndChangeNothing(body: String, field: String?) async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            try await client.execute(uri: "/v1/dead-letters/replay", method: .post, headers: headers(fixture.keys["admin"], json: true),
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest, "\(body): \(String(buffer: response.body))")
                #expect(json(response)["type"] as? String == "urn:tillwire:problem:invalid-request")
                #expect(json(response)["field"] as? String == field, "\(body): \(String(buffer: response.body))")
            }
        }
        #expect(try await fixture.store.job(fixture.deadJob)?.state == .dead)
    }

    @Test func aKeyOverItsRateGets429WithRetryAfterAndRateLimitHeaders() async throws {
        // One token per 100 s, so that a slow machine cannot refill the bucket between the calls.
        let fixture = try await fixture(rate: 0.01, burst: 2)
        try await app(fixture).test(.router) { client in
            for expected in [HTTPResponse.Status.ok, .ok, .tooManyRequests] {
                try await client.execute(uri: "/v1/audit", method: .get, headers: headers(fixture.keys["admin"])) { response in
                    #expect(response.status == expected)
                    if expected == .tooManyRequests {
                        let retryAfter = response.headers[.retryAfter].flatMap(Int.init) ?? 0
                        #expect((90...100).contains(retryAfter), "Retry-After \(retryAfter)")
                        #expect(response.headers[HTTPField.Name("RateLimit-Remaining")!] == "0")
                        #expect(json(response)["type"] as? String == "urn:tillwire:problem:rate-limited")
                    } else {
                        #expect(response.headers[HTTPField.Name("RateLimit-Limit")!] == "2")
                    }
                }
            }
            try await client.execute(uri: "/v1/audit", method: .get, headers: headers(fixture.keys["inventory"])) { response in
                #expect(response.status == .forbidden, "each key has its own bucket")
            }
        }
    }

    @Test func anOversizedBodyIs413AndChangesNothing() async throws {
        let fixture = try await fixture()
        let big = #"{"ids":["\#(fixture.deadJob)"],"reason":""# + String(repeating: "x", count: 4_000) + #""}"#
        try await app(fixture, policy: APIPolicy(maxBodyBytes: 1_024)).test(.router) { client in
            try await client.execute(uri: "/v1/dead-letters/replay", method: .post, headers: headers(fixture.keys["admin"], json: true),
                                     body: ByteBuffer(string: big)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(json(response)["type"] as? String == "urn:tillwire:problem:too-large")
            }
        }
        #expect(try await fixture.store.job(fixture.deadJob)?.state == .dead)
    }

    @Test func anIdempotencyKeyRunsAPostOnceAndAnswersRepeatsWithTheFirstResponse() async throws {
        let fixture = try await fixture()
        let admin = fixture.keys["admin"]!
        let body = ByteBuffer(string: #"{"ids":["\#(fixture.deadJob)"],"reason":"fixed"}"#)
        func post(_ body: ByteBuffer, key: String, idempotency: String, _ check: @escaping @Sendable (TestResponse) -> Void) async throws {
            var fields = headers(key, json: true)
            fields[HTTPField.Name("Idempotency-Key")!] = idempotency
            let request = fields
            try await app(fixture).test(.router) { client in
                try await client.execute(uri: "/v1/dead-letters/replay", method: .post, headers: request, body: body) { check($0) }
            }
        }
        let first = Mutex<String?>(nil)
        try await post(body, key: admin, idempotency: "replay-1") { response in
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            first.withLock { $0 = String(buffer: response.body) }
        }
        try await post(body, key: admin, idempotency: "replay-1") { response in
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(String(buffer: response.body) == first.withLock { $0 }, "the first response again")
        }
        #expect(try await fixture.store.replays(of: fixture.deadJob).count == 1, "replayed once")
        try await post(ByteBuffer(string: #"{"ids":["\#(fixture.deadJob)"],"reason":"other"}"#), key: admin, idempotency: "replay-1") { response in
            #expect(response.status == .unprocessableContent)
            #expect(json(response)["type"] as? String == "urn:tillwire:problem:idempotency-key-reused")
        }
        // A refused request is a response too: its repeat is refused the same way, and changes nothing.
        let bad = ByteBuffer(string: #"{"ids":["\#(fixture.deadJob)"]}"#)
        for _ in 0..<2 {
            try await post(bad, key: admin, idempotency: "replay-2") { response in
                #expect(response.status == .badRequest && json(response)["field"] as? String == "reason")
            }
        }
        let badKey = String(repeating: "k", count: 300)
        try await post(body, key: admin, idempotency: badKey) { response in
            #expect(response.status == .badRequest && json(response)["field"] as? String == "Idempotency-Key")
        }
    }

    @Test func keysNeverReachTheLogs() async throws {
        let fixture = try await fixture()
        let sink = LogLines()
        var logger = Logger(label: "api-test") { _ in CapturingLogHandler(sink: sink) }
        logger.logLevel = .trace
        try await app(fixture, logger: logger).test(.live) { client in
            for key in fixture.keys.values {
                try await client.execute(uri: "/v1/dead-letters", method: .get, headers: headers(key)) { _ in }
                try await client.execute(uri: "/v1/dead-letters/replay", method: .post, headers: headers(key, json: true),
                                         body: ByteBuffer(string: "{not json")) { _ in }
            }
        }
        let logged = sink.all
        #expect(logged.contains { $0.contains("/v1/dead-letters/replay") }, "the test saw the request logs: \(logged.prefix(5))")
        for key in fixture.keys.values {
            let secret = String(key.dropFirst("tw_k0123456789abcdef_".count))
            #expect(secret.count == 43, "the secret part of \(key.prefix(21))…")
            let leaks = logged.filter { $0.contains(secret) }
            #expect(leaks.isEmpty, "a key's secret was logged: \(leaks.prefix(2))")
        }
    }
}

/// Log lines, with their metadata, for a test to search.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
}

struct CapturingLogHandler: LogHandler {
    let sink: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        sink.lines.withLock { $0.append("\(event.level) \(event.message) \(merged)") }
    }
}
