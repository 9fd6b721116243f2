import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import TillwireAPI
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The served OpenAPI document and the router agree: every route is documented, and every documented route exists.
@Suite struct OpenAPITests {
    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let router = HubRouter.build(store: store, metrics: PrometheusCollectorRegistry())
        // The operations pages under /ui are HTML for a browser, not part of the API.
        let routes = Set(router.routes.filter { !"\($0.path)".hasPrefix("/ui") }.map { route -> String in
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

    @Test func theReferencePageListsEveryRouteAndTheCommandPrintsBoth() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "docs", scopes: ["inventory:read"], locations: nil, now: Date())
        _ = try await store.commit(Commit(access: [.createKey(record)]))
        let page = try await Application(router: HubRouter.build(store: store, metrics: PrometheusCollectorRegistry())).test(.router) { client in
            try await client.execute(uri: "/v1/reference", method: .get) { response in
                #expect(response.status == .unauthorized, "the page needs a key like every /v1 route")
            }
            return try await client.execute(uri: "/v1/reference", method: .get, headers: [.authorization: "Bearer \(key)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                return String(buffer: response.body)
            }
        }
        let document = try JSONSerialization.jsonObject(with: Data(APIDocumentation.openAPIJSON.utf8)) as? [String: Any] ?? [:]
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for (path, operations) in paths {
            for method in operations.keys {
                #expect(page.contains("<span class=\"method\">\(method)</span> <code>\(path)</code>"), "\(method) \(path) is on the page")
            }
        }
        #expect(page.contains("id=\"schema-Problem\""), "schemas are on the page")
        #expect(!page.contains("<script"), "a plain page, readable offline")

        let folder = try TemporaryFolder()
        let database = folder.path("unused.sqlite")
        let json = try await runTillwire(["openapi"], database: database)
        #expect(json.status == 0)
        #expect(json.output.contains(#""openapi": "3.1.0""#), "the command prints the document without a hub or a key")
        let html = try await runTillwire(["openapi", "--html"], database: database)
        #expect(html.status == 0 && html.output.contains("<span class=\"method\">get</span> <code>/v1/audit</code>"))
    }
}
