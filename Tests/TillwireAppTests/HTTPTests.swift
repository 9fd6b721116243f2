import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import TillwireAPI
import TillwireStorage
import TillwireStorageSQLite

@Suite struct HTTPTests {
    func application(migrated: Bool = true) async throws -> some ApplicationProtocol {
        let store = try SQLiteStore.inMemory()
        if migrated { _ = try await store.migrate() }
        return Application(router: HubRouter.build(store: store, metrics: PrometheusCollectorRegistry()))
    }

    @Test func healthAndReadiness() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""status":"ok""#))
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""storage":"sqlite""#))
            }
        }
    }

    @Test func notReadyUntilMigrated() async throws {
        try await application(migrated: false).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("schema is not current"))
            }
        }
    }

    @Test func errorsAreProblemJSONWithTheRequestID() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get, headers: [HTTPField.Name("X-Request-Id")!: "trace-42"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[HTTPField.Name("X-Request-Id")!] == "trace-42")
                let problem = try JSONDecoder().decode(Problem.self, from: Data(buffer: response.body))
                #expect(problem.type == "urn:tillwire:problem:not-found")
                #expect(problem.statusCode == 404)
                #expect(problem.instance == "/nowhere")
                #expect(problem.requestID == "trace-42")
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await application().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect((response.headers[HTTPField.Name("X-Request-Id")!] ?? "").isEmpty == false)
            }
        }
    }

    @Test func metricsAreServedInPrometheusTextFormatToAKeyWithTheMetricsScope() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let (scraper, scraperKey) = ApiKeys.generate(client: "prometheus", scopes: ["metrics:read"], locations: nil, now: Date())
        let (other, otherKey) = ApiKeys.generate(client: "pos", scopes: ["inventory:read"], locations: nil, now: Date())
        _ = try await store.commit(Commit(access: [.createKey(scraper), .createKey(other)]))
        let app = Application(router: HubRouter.build(store: store, metrics: PrometheusCollectorRegistry()))
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(scraperKey)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized, "no key")
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(otherKey)"]) { response in
                #expect(response.status == .forbidden, "a key without metrics:read")
            }
        }
    }
}
