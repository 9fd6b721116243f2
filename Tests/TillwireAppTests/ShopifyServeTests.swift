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
        fake.addOrder(id: "450789469", json: PlatformFixtures.shopifyOrder(id: "450789469", updatedAt: Date().addingTimeInterval(-30).ISO8601Format()), updatedAt: Date().addingTimeInterval(-30), lines: [])
        try await Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let shop = "http://127.0.0.1:\(try #require(client.port))"
            let folder = try TemporaryFolder()
            let (path, key) = try await preparedHubStore(in: folder, catalog: [.putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")), .putProduct(try Product(sku: "TSHIRT-M-BLUE", name: "T-shirt")),
                          .putProduct(try Product(sku: "MUG-CERAMIC", name: "Mug"))])
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
            let body = Data(PlatformFixtures.shopifyOrder().utf8)
            #expect(try await FakeShopify.deliver(topic: "orders/create", body: body, eventID: "evt-1", secret: "another app's secret", to: "\(base)/hooks/shopify") == 401)
            #expect(try await FakeShopify.deliver(topic: "orders/create", body: body, eventID: "evt-1", secret: secret, to: "\(base)/hooks/shopify") == 200)
            let webhookOrder = OrderID.derived(channel: "web-us", channelOrderID: "820982911946154508")
            try await hub.eventually("the webhook's order") { try await call(base, "GET", "/v1/orders/\(webhookOrder.rawValue)", key: key).0 == 200 }
            let polledOrder = OrderID.derived(channel: "web-us", channelOrderID: "450789469")
            try await hub.eventually("the polled order") { try await call(base, "GET", "/v1/orders/\(polledOrder.rawValue)", key: key).0 == 200 }

            let now = Date().ISO8601Format()
            let (moved, _) = try await call(base, "POST", "/v1/inventory/movements", key: key, #"""
                {"movements":[{"sku":"MUG-CERAMIC","location":"dc-1","delta":25,"reason":"receipt","occurred_at":"\#(now)","source":"erp","source_key":"r1"}]}
                """#)
            #expect(moved == 200)
            var hubFigure: Int64 = -1
            try await hub.eventually("the hub's MUG-CERAMIC figure in the shop") {
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
