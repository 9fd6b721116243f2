import ConnectorShopify
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TillwireAPI
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire serve` with a Shopify shop configured, against `FakeShopify` (a local server that behaves as Shopify
/// documents its Admin API and webhooks; not Shopify): an order placed in the shop reaches the hub by webhook, one
/// whose webhook never came arrives by the reconciliation poll, the hub's figure reaches the shop through
/// `inventorySetQuantities`, and a forged delivery is a 401 problem that stores nothing.
@Suite struct ShopifyServeTests {
    @Test func ordersArriveByWebhookAndByPollAndTheHubsFigureReachesTheShop() async throws {
        let fake = FakeShopify()
        fake.addItem(sku: "TSHIRT-M-BLUE", id: "30322695", available: 0)
        fake.addItem(sku: "MUG-CERAMIC", id: "30322696", available: 0)
        // An order whose webhook never arrives: only the poll can bring it.
        fake.addOrder(id: "450789469", json: ShopifyMappingTestsFixture.order(id: "450789469"), updatedAt: Date().addingTimeInterval(-30), lines: [])
        try await Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let shop = "http://127.0.0.1:\(try #require(client.port))"
            let folder = try TemporaryFolder()
            let path = folder.path("hub.sqlite")
            let store = try SQLiteStore.open(path: path)
            _ = try await store.migrate()
            let (record, key) = ApiKeys.generate(client: "ops", scopes: ["admin"], locations: nil, now: Date())
            _ = try await store.commit(Commit(
                catalog: [.putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")), .putProduct(try Product(sku: "TSHIRT-M-BLUE", name: "T-shirt")),
                          .putProduct(try Product(sku: "MUG-CERAMIC", name: "Mug"))],
                access: [.createKey(record)]))
            try await store.close()
            let configuration = folder.path("hub.yaml")
            try """
                channels:
                  web-us:
                    locations: [dc-1]
                inventory:
                  publish_window_ms: 20
                shopify:
                  url: \(shop)
                  channel: web-us
                  location_id: "\(fake.location)"
                """.write(toFile: configuration, atomically: true, encoding: .utf8)
            let secret = "shpss_serve_test"
            let hub = try ChildProcess(try tillwireExecutable(), ["serve", "--config", configuration], environment: [
                "TILLWIRE_HTTP_PORT": "0", "TILLWIRE_STORAGE_SQLITE_PATH": path, "TILLWIRE_LOG_LEVEL": "info",
                "TILLWIRE_SHOPIFY_ACCESS_TOKEN": fake.accessToken, "TILLWIRE_SHOPIFY_WEBHOOK_SECRET": secret,
            ])
            let base = try await hub.servingAddress()
            func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
                let deadline = Date() + 30
                while Date() < deadline {
                    if try await condition() { return }
                    try await Task.sleep(for: .milliseconds(100))
                }
                Issue.record("timed out waiting for \(what)\n\(hub.standardError.suffix(3000))")
                throw ChildProcessError("timed out waiting for \(what)")
            }

            let body = Data(ShopifyMappingTestsFixture.order().utf8)
            #expect(try await FakeShopify.deliver(topic: "orders/create", body: body, eventID: "evt-1", secret: "another app's secret", to: "\(base)/hooks/shopify") == 401)
            #expect(try await FakeShopify.deliver(topic: "orders/create", body: body, eventID: "evt-1", secret: secret, to: "\(base)/hooks/shopify") == 200)
            let webhookOrder = OrderID.derived(channel: "web-us", channelOrderID: "820982911946154508")
            try await eventually("the webhook's order") { try await call(base, "GET", "/v1/orders/\(webhookOrder.rawValue)", key: key).0 == 200 }
            let polledOrder = OrderID.derived(channel: "web-us", channelOrderID: "450789469")
            try await eventually("the polled order") { try await call(base, "GET", "/v1/orders/\(polledOrder.rawValue)", key: key).0 == 200 }

            let now = Date().ISO8601Format()
            let (moved, _) = try await call(base, "POST", "/v1/inventory/movements", key: key, #"""
                {"movements":[{"sku":"MUG-CERAMIC","location":"dc-1","delta":25,"reason":"receipt","occurred_at":"\#(now)","source":"erp","source_key":"r1"}]}
                """#)
            #expect(moved == 200)
            var hubFigure: Int64 = -1
            try await eventually("the hub's MUG-CERAMIC figure in the shop") {
                let (_, view) = try await call(base, "GET", "/v1/availability?sku=MUG-CERAMIC&location=dc-1", key: key)
                hubFigure = ((view["positions"] as? [[String: Any]])?.first?["available"] as? Int).map(Int64.init) ?? -1
                return hubFigure > 0 && fake.available("MUG-CERAMIC") == hubFigure
            }
            #expect(hubFigure <= 25, "25 received, less what the shop's orders hold")
            #expect(fake.requests.contains("inventorySetQuantities"))
            hub.signal(SIGTERM)
            #expect(try await hub.exit() == 0)
        }
    }
}

/// The Shopify order body of the connector's tests, for the hub's (test targets cannot import each other).
enum ShopifyMappingTestsFixture {
    static func order(id: String = "820982911946154508") -> String {
        """
        {"id": \(id), "name": "#1001", "email": "jane@example.com", "created_at": "2026-11-29T10:00:00-05:00", "updated_at": "\(Date().addingTimeInterval(-30).ISO8601Format())",
         "cancelled_at": null, "currency": "USD", "taxes_included": false, "total_price": "53.44", "financial_status": "paid", "fulfillment_status": null,
         "customer": {"id": 207119551, "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe"},
         "shipping_address": {"province_code": "IL", "zip": "62701", "country_code": "US"},
         "line_items": [
           {"id": 466157049, "sku": "TSHIRT-M-BLUE", "quantity": 2, "price": "19.99", "discount_allocations": [{"amount": "4.00"}],
            "tax_lines": [{"title": "IL State Tax", "price": "2.88", "rate": 0.08}]},
           {"id": 518995019, "sku": "MUG-CERAMIC", "quantity": 1, "price": "8.50", "tax_lines": [{"title": "IL State Tax", "price": "0.68", "rate": 0.08}]}],
         "shipping_lines": [{"price": "5.00", "tax_lines": [{"title": "IL State Tax", "price": "0.40", "rate": 0.08}]}]}
        """
    }
}
