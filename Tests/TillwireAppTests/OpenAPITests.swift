import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import TillwireAPI
import TillwireStorage
import TillwireStorageSQLite

/// The served OpenAPI document and the router agree: every route is documented, and every documented route exists.
@Suite struct OpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let router = HubRouter.build(store: store, metrics: PrometheusCollectorRegistry())
        let routes = Set(router.routes.map { route -> String in
            // Hummingbird prints a capture as {name} or :name depending on how it was declared.
            let path = "\(route.path)".split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method.rawValue.lowercased()) /" + path.joined(separator: "/")
        })
        let (record, key) = ApiKeys.generate(client: "docs", scopes: ["inventory:read"], locations: nil, now: Date())
        _ = try await store.commit(Commit(access: [.createKey(record)]))
        let document = try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v1/openapi.json", method: .get, headers: [.authorization: "Bearer \(key)"]) { response in
                #expect(response.status == .ok, "any valid key reads the document")
                return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
            }
        }
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0) \(path)" } })
        #expect(routes.subtracting(documented).isEmpty, "routes missing from the document: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "documented routes that do not exist: \(documented.subtracting(routes).sorted())")
        #expect(routes.count >= 8)
    }
}
