import ConnectorShopify
import Foundation
import Testing
import TillwireConnectors
import TillwireDomain
import TillwireTesting

/// The Shopify mapping on bodies shaped as the REST Admin API and the `orders/*` webhooks send them (written here
/// from Shopify's documented order resource): exact ids, shop money, discounts and tax as allocated, statuses.
@Suite struct ShopifyMappingTests {
    static func parsed(_ json: String, topic: String = "orders/create") throws -> ShopifyOrder {
        guard case .order(let order) = try ShopifyMapping.parse(topic: topic, body: Data(json.utf8)) else { throw ShopifyPayloadErrorForTest() }
        return order
    }

    struct ShopifyPayloadErrorForTest: Error {}

    @Test func aPaidOrderBecomesTheCanonicalOrderInTheShopsMoney() throws {
        let order = try ShopifyMapping.canonical(try Self.parsed(PlatformFixtures.shopifyOrder()), channel: "web-us")
        #expect(order.channelOrderID == "820982911946154508" && order.id == .derived(channel: "web-us", channelOrderID: "820982911946154508"))
        #expect(order.currency == .usd && order.total == Money(minorUnits: 5_344, currency: .usd))
        #expect(order.lines.map { "\($0.id) \($0.sku) \($0.quantity) \($0.unitPrice)" } == ["466157049 TSHIRT-M-BLUE 2 19.99 USD", "518995019 MUG-CERAMIC 1 8.50 USD"])
        #expect(order.lines[0].discounts.map(\.amount) == [Money(minorUnits: 400, currency: .usd)])
        #expect(order.lines[0].taxLines.map { "\($0.title) \($0.rateBasisPoints ?? -1) \($0.amount)" } == ["IL State Tax 800 2.88 USD"])
        #expect(order.shipping?.price == Money(minorUnits: 500, currency: .usd) && order.shipping?.taxLines.count == 1)
        #expect(order.amountProblems().isEmpty, "lines less discounts, plus tax and shipping, are the total: \(order.amountProblems())")
        #expect(order.payments.captured == order.total && order.payments.refunded == Money.zero(.usd))
        #expect(order.shipTo?.country == "US" && order.shipTo?.region == "IL" && order.customer.id == "207119551" && order.customer.name == "Jane Doe")
    }

    @Test func idsPastWhatADoubleHoldsStayExact() throws {
        // 2^53 + 1: a Double would read it as 9007199254740992.
        let order = try Self.parsed(PlatformFixtures.shopifyOrder(id: "9007199254740993"))
        #expect(order.id.rawValue == "9007199254740993")
        #expect(try ShopifyMapping.canonical(order, channel: "web").channelOrderID == "9007199254740993")
        #expect(ShopifyID("gid://shopify/Order/1234567890123456789").rawValue == "1234567890123456789")
        let slices = try JSONSlices.elements(of: "orders", in: Data(#"{"orders":[{"id":9007199254740993,"note":"a ] or } in \"text\""},{"id":2}],"x":1}"#.utf8))
        #expect(slices.map { String(decoding: $0, as: UTF8.self) } == [#"{"id":9007199254740993,"note":"a ] or } in \"text\""}"#, #"{"id":2}"#],
                "each order's bytes exactly as sent")
    }

    @Test func statusesAndPaymentsFollowTheShop() throws {
        let pending = try ShopifyMapping.canonical(try Self.parsed(PlatformFixtures.shopifyOrder(financial: "pending")), channel: "web")
        #expect(pending.payments.authorized.minorUnits == 0 && pending.payments.captured.minorUnits == 0)
        let authorized = try ShopifyMapping.canonical(try Self.parsed(PlatformFixtures.shopifyOrder(financial: "authorized")), channel: "web")
        #expect(authorized.payments.authorized == authorized.total && authorized.payments.captured.minorUnits == 0)
        let refunds = #"[{"id": 509562969, "transactions": [{"amount": "10.00", "kind": "refund", "status": "success"}, {"amount": "5.00", "kind": "refund", "status": "failure"}]}]"#
        let refunded = try ShopifyMapping.canonical(try Self.parsed(PlatformFixtures.shopifyOrder(financial: "partially_refunded", fulfillment: #""fulfilled""#, refunds: refunds)), channel: "web")
        #expect(refunded.payments.refunded == Money(minorUnits: 1_000, currency: .usd), "only the successful refund counts")
        #expect(try ShopifyMapping.meaning(try Self.parsed(PlatformFixtures.shopifyOrder(cancelledAt: #""2026-11-29T11:00:00-05:00""#))).status == .cancelled)
        #expect(try ShopifyMapping.meaning(try Self.parsed(PlatformFixtures.shopifyOrder(financial: "partially_refunded", fulfillment: #""fulfilled""#))).status == .partiallyReturned)
        #expect(throws: ShopifyPayloadError.self, "a status no rule knows names itself") { try ShopifyMapping.meaning(try Self.parsed(PlatformFixtures.shopifyOrder(financial: "mystery"))) }
    }

    @Test func whatCannotBeTakenSaysWhyAndUnknownTopicsAreNoFailure() throws {
        #expect { try ShopifyMapping.parse(topic: "orders/create", body: Data(#"{"id": 1}"#.utf8)) } throws: { "\($0)".contains("missing") }
        let noSKU = PlatformFixtures.shopifyOrder().replacingOccurrences(of: #""sku": "MUG-CERAMIC""#, with: #""sku": """#)
        #expect { try ShopifyMapping.canonical(try Self.parsed(noSKU), channel: "web") } throws: { "\($0)".contains("line item 518995019 has no SKU") }
        #expect(try ShopifyMapping.parse(topic: "customers/create", body: Data("{}".utf8)) == .other("customers/create"))
        #expect(try ShopifyMapping.parse(topic: "refunds/create", body: Data(#"{"id": 5, "order_id": 820982911946154508}"#.utf8))
                == .orderActivity(order: ShopifyID("820982911946154508"), what: "refunds/create"))
        #expect(throws: JSONSlices.Malformed.self) { try JSONSlices.elements(of: "orders", in: Data(#"{"orders":[{"id":1}"#.utf8)) }
    }
}
