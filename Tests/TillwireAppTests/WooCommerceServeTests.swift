import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TillwireAPI
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire serve` with a WooCommerce store configured, against `FakeWooCommerce` (a local server that behaves as
/// WooCommerce documents its REST API and webhooks; not WooCommerce): the ping of a saved webhook is answered, a
/// forged delivery is refused, an order arrives by webhook and another by the poll, and the hub's figure reaches
/// the store's stock.
@Suite struct WooCommerceServeTests {
    @Test func ordersArriveByWebhookAndByPollAndTheHubsFigureReachesTheStore() async throws {
        let fake = FakeWooCommerce()
        fake.addProduct(sku: "TSHIRT-M-BLUE", id: 93, stock: 0)
        let recent = Date().addingTimeInterval(-30)
        fake.addOrder(PlatformFixtures.wooOrder(id: 900, modified: String(recent.ISO8601Format().dropLast())), modified: recent)
        try await Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let folder = try TemporaryFolder()
            let (path, key) = try await preparedHubStore(in: folder, catalog: [.putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")), .putProduct(try Product(sku: "TSHIRT-M-BLUE", name: "T-shirt")),
                          .putProduct(try Product(sku: "MUG-BLUE", name: "Mug"))])
            let configuration = folder.path("hub.yaml")
            try """
                channels:
                  web-uk:
                    locations: [dc-1]
                inventory:
                  publish_window_ms: 20
                woocommerce:
                  url: http://127.0.0.1:\(try #require(client.port))
                  channel: web-uk
                  consumer_key: \(fake.consumerKey)
                """.write(toFile: configuration, atomically: true, encoding: .utf8)
            let secret = "wc_serve_test"
            let hub = try ChildProcess(try tillwireExecutable(), ["serve", "--config", configuration], environment: [
                "TILLWIRE_HTTP_PORT": "0", "TILLWIRE_STORAGE_SQLITE_PATH": path, "TILLWIRE_LOG_LEVEL": "info",
                "TILLWIRE_WOOCOMMERCE_CONSUMER_SECRET": fake.consumerSecret, "TILLWIRE_WOOCOMMERCE_WEBHOOK_SECRET": secret,
            ])
            let base = try await hub.servingAddress()
            let hook = "\(base)/hooks/woocommerce"
            let (pinged, answer) = try await FakeWooCommerce.ping(to: hook)
            #expect(pinged == 200 && answer.contains("ignored"), "saving the webhook in WooCommerce succeeds: \(answer)")
            let body = Data(PlatformFixtures.wooOrder().utf8)
            #expect(try await FakeWooCommerce.deliver(topic: "order.created", body: body, secret: "not the secret", to: hook) == 401)
            #expect(try await FakeWooCommerce.deliver(topic: "order.created", body: body, secret: secret, to: hook) == 200)
            for id in ["727", "900"] {
                let order = OrderID.derived(channel: "web-uk", channelOrderID: id)
                try await hub.eventually("order \(id)") { try await call(base, "GET", "/v1/orders/\(order.rawValue)", key: key).0 == 200 }
            }
            let now = Date().ISO8601Format()
            let (moved, _) = try await call(base, "POST", "/v1/inventory/movements", key: key, #"""
                {"movements":[{"sku":"TSHIRT-M-BLUE","location":"dc-1","delta":25,"reason":"receipt","occurred_at":"\#(now)","source":"erp","source_key":"r1"}]}
                """#)
            #expect(moved == 200)
            try await hub.eventually("the hub's TSHIRT-M-BLUE figure in the store") {
                let (_, view) = try await call(base, "GET", "/v1/availability?sku=TSHIRT-M-BLUE&location=dc-1", key: key)
                let figure = ((view["positions"] as? [[String: Any]])?.first?["available"] as? Int).map(Int64.init) ?? -1
                return figure > 0 && fake.stock("TSHIRT-M-BLUE") == figure
            }
            hub.signal(SIGTERM)
            #expect(try await hub.exit() == 0)
        }
    }
}
