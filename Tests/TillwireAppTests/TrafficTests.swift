import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TillwireAPI
import TillwireApp
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import Synchronization

/// Traffic policy beyond the per-key bucket (APITests): rates per scope, the request deadline, and the deprecation
/// headers a route group carries before it goes away.
@Suite struct TrafficTests {
    func key(scopes: [String], rate: Double? = nil, burst: Int? = nil) -> ApiKeyRecord {
        ApiKeys.generate(client: "c", scopes: scopes, locations: nil, ratePerSecond: rate, burst: burst, now: Date()).record
    }

    @Test func aKeyGetsItsOwnRateElseTheMostGenerousOfItsScopesElseTheGeneralOne() {
        let policy = APIPolicy(ratePerSecond: 50, burst: 100, scopeRates: [
            "inventory:write": RateLimit(perSecond: 200, burst: 400), "metrics:read": RateLimit(perSecond: 5, burst: 10),
        ])
        #expect(policy.rate(for: key(scopes: ["orders:read"])) == RateLimit(perSecond: 50, burst: 100))
        #expect(policy.rate(for: key(scopes: ["metrics:read"])) == RateLimit(perSecond: 5, burst: 10))
        #expect(policy.rate(for: key(scopes: ["inventory:read", "inventory:write", "metrics:read"])) == RateLimit(perSecond: 200, burst: 400))
        #expect(policy.rate(for: key(scopes: ["inventory:write"], rate: 3, burst: 6)) == RateLimit(perSecond: 3, burst: 6), "the key's own rate wins")
        #expect(policy.rate(for: key(scopes: ["inventory:write"], rate: 3)) == RateLimit(perSecond: 3, burst: 400))
    }

    @Test func scopeRatesAndTheRequestTimeoutAreConfigurable() throws {
        let yaml = """
            api:
              request_timeout_seconds: 12
              scope_rates:
                orders:write: 80/160
            """
        let configuration = try HubConfiguration.load(yaml: yaml, environment: ["TILLWIRE_API_SCOPE_RATES_METRICS_READ": "1/2"])
        #expect(configuration.api.requestTimeout == .seconds(12))
        #expect(configuration.api.scopeRates["orders:write"] == RateLimit(perSecond: 80, burst: 160))
        #expect(configuration.api.scopeRates["metrics:read"] == RateLimit(perSecond: 1, burst: 2), "from the environment")
        #expect(configuration.api.scopeRates["inventory:write"] == APIPolicy.defaultScopeRates["inventory:write"], "defaults stay")
        #expect(throws: ConfigurationError.self) {
            try HubConfiguration.load(yaml: "api:\n  scope_rates:\n    orders:write: fast", environment: [:])
        }
        #expect(throws: ConfigurationError.self, "only known scopes") {
            try HubConfiguration.load(yaml: "api:\n  scope_rates:\n    orders:delete: 1/1", environment: [:])
        }
    }

    @Test func aRequestOverItsDeadlineIsStoppedWith503AndAProblem() async throws {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: DeadlineMiddleware(.milliseconds(200)))
        router.get("/slow") { _, _ -> String in
            try await Task.sleep(for: .seconds(30))
            return "late"
        }
        router.get("/fast") { _, _ in "quick" }
        router.get("/refused") { _, _ -> String in throw Problem.invalid("no", field: "x") }
        try await Application(router: router).test(.router) { client in
            let start = ContinuousClock.now
            try await client.execute(uri: "/slow", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[.retryAfter] == "1")
                #expect(String(buffer: response.body).contains("urn:tillwire:problem:timeout"))
            }
            #expect(ContinuousClock.now - start < .seconds(10), "answered at the deadline, not when the handler would have ended")
            try await client.execute(uri: "/fast", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body) == "quick")
            }
            try await client.execute(uri: "/refused", method: .get) { response in
                #expect(response.status == .badRequest, "a handler's own error passes through the deadline unchanged")
            }
        }
    }

    @Test func aDeprecatedGroupSaysSoAndWhenItGoesAway() async throws {
        let router = Router()
        router.add(middleware: ProblemMiddleware())
        let since = Date(timeIntervalSince1970: 1_798_761_600)   // 2027-01-01T00:00:00Z
        let sunset = Date(timeIntervalSince1970: 1_830_297_600)  // 2028-01-01T00:00:00Z
        let old = router.group("/v1/old").add(middleware: DeprecationMiddleware(since: since, sunset: sunset, successor: "/v2/new"))
        old.get("/thing") { _, _ in "ok" }
        old.get("/refused") { _, _ -> String in throw Problem.forbidden("no") }
        router.get("/v1/current") { _, _ in "ok" }
        try await Application(router: router).test(.router) { client in
            for path in ["/v1/old/thing", "/v1/old/refused"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.headers[HTTPField.Name("Deprecation")!] == "@1798761600", "\(path)")
                    #expect(response.headers[HTTPField.Name("Sunset")!] == "Sat, 01 Jan 2028 00:00:00 GMT", "\(path)")
                    #expect(response.headers[HTTPField.Name("Link")!] == #"</v2/new>; rel="successor-version""#, "\(path)")
                }
            }
            try await client.execute(uri: "/v1/current", method: .get) { response in
                #expect(response.headers[HTTPField.Name("Deprecation")!] == nil)
            }
        }
    }

    @Test func aRevokedKeyIsRefusedWithinASecondOfItsRevocation() async throws {
        let store = try TillwireStorageSQLite.SQLiteStore.inMemory()
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "pos", scopes: ["admin"], locations: nil, now: Date())
        _ = try await store.commit(Commit(access: [.createKey(record)]))
        final class Clock: Sendable { let now = Synchronization.Mutex(Date()) }
        let clock = Clock()
        let router = Router(context: HubRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.group("/v1").add(middleware: Gatekeeper(store: store, policy: APIPolicy(), now: { clock.now.withLock { $0 } })).get("/ping") { _, _ in "pong" }
        try await Application(router: router).test(.router) { client in
            func status() async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/v1/ping", method: .get, headers: [.authorization: "Bearer \(key)"]) { $0.status }
            }
            #expect(try await status() == .ok)
            _ = try await store.commit(Commit(access: [.revokeKey(id: record.id, at: Date())]))
            clock.now.withLock { $0 += 0.5 }
            #expect(try await status() == .ok, "read in the last second: not read again yet")
            clock.now.withLock { $0 += 0.6 }
            #expect(try await status() == .unauthorized, "more than a second later the revocation applies")
        }
    }
}
