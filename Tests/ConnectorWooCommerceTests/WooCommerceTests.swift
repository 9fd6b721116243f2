import ConnectorWooCommerce
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The WooCommerce connector: its mapping on bodies shaped as REST API v3 sends orders (written here from
/// WooCommerce's documented order resource), and its calls against `FakeWooCommerce` (a local server that behaves as
/// WooCommerce documents its API; not WooCommerce) over real HTTP, with its intake on a real SQLite store.
@Suite struct WooCommerceTests {
    static let secret = "wc_webhook_secret"

    /// A UK order as WooCommerce sends it (lines net of VAT, VAT on top) is VAT all the same: with the rate its tax
    /// line names, it passes the gate's tax check for a VAT-inclusive country; a wrong VAT amount does not.
    @Test func anOrderIntoAVATCountryIsTaxedAtTheRateItsTaxLineNames() throws {
        let vat = #""tax_lines": [{"id": 320, "rate_code": "GB-VAT-1", "rate_id": 1, "label": "VAT", "compound": false, "tax_total": "8.90", "shipping_tax_total": "0.98", "rate_percent": 20}], "fee_lines""#
        let body = PlatformFixtures.wooOrder().replacingOccurrences(of: #""fee_lines""#, with: vat)
        let order = try WooMapping.canonical(try Self.parsed(body), channel: "web-uk")
        #expect(order.lines.map { $0.taxLines.map { "\($0.amount.minorUnits) \($0.rateBasisPoints ?? -1)" } } == [["720 2000"], ["170 2000"]],
                "the rate named, not 20.01 % read back from 7.20 on 35.98")
        let facts = GateFacts(products: [:], taxRules: ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 500, 2000])])
        #expect(OrderGate.taxReasons(order, facts: facts).isEmpty, "\(OrderGate.taxReasons(order, facts: facts))")
        let wrong = try WooMapping.canonical(try Self.parsed(body.replacingOccurrences(of: #""total_tax": "7.20""#, with: #""total_tax": "6.00""#)), channel: "web-uk")
        #expect(OrderGate.taxReasons(wrong, facts: facts).map(\.code) == [.taxInconsistent])
    }

    @Test func anOrderBecomesTheCanonicalOrderWithItsTaxAndDiscount() throws {
        guard case .order(let placed) = try WooMapping.parse(topic: "order.created", body: Data(PlatformFixtures.wooOrder().utf8)) else {
            Issue.record("not an order")
            return
        }
        let order = try WooMapping.canonical(placed, channel: "web-uk")
        #expect(order.channelOrderID == "727" && order.currency.code == "GBP" && order.total.minorUnits == 5_926)
        #expect(order.lines.map { "\($0.id) \($0.sku) \($0.quantity) \($0.unitPrice.decimalString)" } == ["315 TSHIRT-M-BLUE 2 19.99", "316 MUG-BLUE 1 8.50"])
        #expect(order.lines[0].discounts.map(\.amount.minorUnits) == [400] && order.lines[0].taxLines.map { "\($0.amount.minorUnits) \($0.rateBasisPoints ?? -1)" } == ["720 2001"])
        #expect(order.shipping?.price.minorUnits == 490 && order.shipping?.taxLines.first?.amount.minorUnits == 98)
        #expect(order.amountProblems().isEmpty, "\(order.amountProblems())")
        #expect(order.payments.captured == order.total && order.customer.id == "26" && order.shipTo?.country == "GB")
        #expect(try WooMapping.meaning(placed).status == .captured)
        #expect(abs(order.placedAt.timeIntervalSince1970 - 1_795_964_400) < 1, "date_created_gmt is UTC without a zone")

        guard case .order(let unpaid) = try WooMapping.parse(topic: "order.updated", body: Data(PlatformFixtures.wooOrder(status: "pending", paid: nil).utf8)) else { return }
        #expect(try WooMapping.canonical(unpaid, channel: "web-uk").payments.captured.minorUnits == 0)
        guard case .order(let refunded) = try WooMapping.parse(topic: "order.updated", body: Data(PlatformFixtures.wooOrder(status: "refunded", refunds: #"[{"id": 730, "reason": "", "total": "-10.00"}]"#).utf8)) else { return }
        #expect(try WooMapping.canonical(refunded, channel: "web-uk").payments.refunded.minorUnits == 1_000 && (try WooMapping.meaning(refunded).status) == .returned)
        #expect(try WooMapping.meaning(try Self.parsed(PlatformFixtures.wooOrder(status: "failed", paid: nil))) == ChannelStatusMeaning(status: .onHold, holdReason: "the payment failed in WooCommerce"),
                "a declined payment the customer may retry: held, not cancelled")
        guard case .order(let draft) = try WooMapping.parse(topic: "order.created", body: Data(PlatformFixtures.wooOrder(status: "checkout-draft").utf8)) else { return }
        #expect(try WooMapping.meaning(draft).status == nil, "a checkout draft is not an order yet")
        #expect(throws: WooPayloadError.self) { try WooMapping.meaning(try Self.parsed(PlatformFixtures.wooOrder(status: "wc-mystery"))) }
        #expect(try WooMapping.parse(topic: "coupon.updated", body: Data("{}".utf8)) == .other("coupon.updated"))
        #expect { try WooMapping.parse(topic: "order.updated", body: Data(#"{"id": 1}"#.utf8)) } throws: { "\($0)".contains("missing") }
    }

    static func parsed(_ json: String) throws -> WooOrder {
        guard case .order(let order) = try WooMapping.parse(topic: "order.updated", body: Data(json.utf8)) else { throw NotAnOrder() }
        return order
    }

    struct NotAnOrder: Error {}

    struct Rig {
        let store: SQLiteStore
        let configuration: WooCommerceConfiguration
        let api: WooCommerceAPI
        let binder: ExternalBinder
        let orders: OrderService
        let logger: Logger

        var job: WooCommerceWebhookJob { WooCommerceWebhookJob(configuration: configuration, orders: orders, binder: binder, logger: logger) }
        var receiver: WooCommerceWebhookReceiver { WooCommerceWebhookReceiver(configuration: configuration, store: store) }

        func work(_ handlers: [any JobHandler]) async throws {
            let worker = JobWorker(store: store, handlers: handlers, logger: logger)
            while try await worker.runOnce() > 0 {}
        }
    }

    func withStore(_ fake: FakeWooCommerce = FakeWooCommerce(), _ body: @escaping @Sendable (FakeWooCommerce, Rig) async throws -> Void) async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        try await Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let configuration = WooCommerceConfiguration(channel: "web-uk", storeURL: "http://127.0.0.1:\(try #require(client.port))/", consumerKey: fake.consumerKey,
                                                         consumerSecret: fake.consumerSecret, webhookSecret: Self.secret)
            try await body(fake, Rig(store: store, configuration: configuration, api: WooCommerceAPI(configuration: configuration),
                                     binder: ExternalBinder(store: store, system: configuration.system), orders: OrderService(store: store),
                                     logger: Logger(label: "woo-test")))
        }
    }

    func delivery(_ body: String, topic: String, id: String = UUID().uuidString, signature: String? = nil) -> WebhookDelivery {
        let data = Data(body.utf8)
        return WebhookDelivery(headers: ["X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": String(topic.prefix { $0 != "." }), "X-WC-Webhook-Delivery-ID": id,
                                         "X-WC-Webhook-Signature": signature ?? WebhookSignature.sign(data, secret: Self.secret)],
                               body: data, receivedAt: Date())
    }

    @Test func deliveriesAreVerifiedAndOneSaveFiredTwiceIsOneDelivery() async throws {
        try await withStore { _, rig in
            let body = PlatformFixtures.wooOrder()
            await #expect(throws: WebhookRefused.self) { try await rig.receiver.receive(delivery(body, topic: "order.updated", signature: "AAAA")) }
            #expect(try await rig.store.jobs(in: .pending, limit: 10).isEmpty)
            #expect(try await rig.receiver.receive(WebhookDelivery(headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Data("webhook_id=7".utf8), receivedAt: Date())) == .ignored,
                    "the ping of a saved webhook: acknowledged, stored nowhere")
            #expect(try await rig.receiver.receive(delivery(body, topic: "order.created")) == .stored)
            #expect(try await rig.receiver.receive(delivery(body, topic: "order.updated")) == .duplicate,
                    "the same save fired again under a new delivery id: the same order and modification time")
            #expect(try await rig.receiver.receive(delivery(PlatformFixtures.wooOrder(status: "completed", modified: "2026-11-29T16:00:00"), topic: "order.updated")) == .stored)
            #expect(try await rig.receiver.receive(delivery(#"{"id": 727}"#, topic: "order.deleted", id: "d-9")) == .stored)
            #expect(try await rig.receiver.receive(delivery(#"{"id": 727}"#, topic: "order.deleted", id: "d-9")) == .duplicate, "no modification time: the delivery id")
            #expect(try await rig.receiver.receive(delivery(#"{"id": 729}"#, topic: "order.deleted", id: "d-9")) == .stored,
                    "WooCommerce's delivery id is the webhook and the second: another order deleted in the same second is another delivery")
            #expect(try await rig.receiver.receive(delivery(PlatformFixtures.wooOrder(status: "on-hold", modified: "2026-11-29T16:00:00"), topic: "order.updated")) == .stored,
                    "a second save in the same second: another body")
            let broken = #"{"id": 728, "date_modified_gmt": "2026-11-29T15:00:00", "line_items": 5}"#
            #expect(try await rig.receiver.receive(delivery(broken, topic: "order.created")) == .stored)
            try await rig.work([rig.job])
            let id = OrderID.derived(channel: "web-uk", channelOrderID: "727")
            #expect(try await rig.orders.record(id)?.lifecycle.status == .cancelled, "deleted in the shop: cancelled in the hub")
            #expect(try await rig.binder.external(WooCommerceStockPublisher.variationKind, canonical: "MUG-BLUE") == "22/23", "the order taught the variation")
            let dead = try await rig.store.jobs(in: .dead, limit: 10)
            #expect(dead.count == 1 && dead.first?.lastError?.contains("order.created: the body does not parse") == true)
            #expect(try dead.first.map { try StoredDelivery.decode($0).body } == Data(broken.utf8))
        }
    }

    @Test func stockGoesInBatchesOfAtMost100ToProductsAndVariations() async throws {
        try await withStore { fake, rig in
            for index in 0..<150 { fake.addProduct(sku: "SKU-\(index)", id: 1_000 + index, stock: 0) }
            fake.addVariation(sku: "MUG-BLUE", id: 23, parent: 22, stock: 5)
            try await rig.binder.record(WooCommerceStockPublisher.variationKind, [("22/23", "MUG-BLUE")])
            let publisher = WooCommerceStockPublisher(configuration: rig.configuration, api: rig.api, binder: rig.binder)
            let requests = try await publisher.set((0..<150).map { (SKU(trusted: "SKU-\($0)"), Int64($0)) } + [("MUG-BLUE", 2)])
            #expect(requests == 3 && fake.batchSizes == [100, 50, 1])
            #expect((0..<150).allSatisfy { fake.stock("SKU-\($0)") == Int64($0) } && fake.stock("MUG-BLUE") == 2)
            try await publisher.publish(channel: "web-uk", sku: "SKU-7", available: -2)
            #expect(fake.stock("SKU-7") == 0, "an oversold figure is published as zero")
            #expect(fake.requests.filter { $0 == "GET products" }.count == 2, "a product found once is bound: no second lookup")
            await #expect { try await publisher.set([("SKU-1", 3), ("NOT-IN-STORE", 1)]) } throws: { error in
                guard case .terminal(let why) = error as? JobError else { return false }
                return why.contains("NOT-IN-STORE")
            }
            #expect(fake.stock("SKU-1") == 3)
            // The store remade the product under another id: the stale id is forgotten and the retry finds the new one.
            fake.removeProduct(sku: "SKU-2")
            fake.addProduct(sku: "SKU-2", id: 5_002, stock: 0)
            await #expect { try await publisher.set([("SKU-2", 9)]) } throws: { error in
                guard case .retryable(let why, _) = error as? JobError else { return false }
                return why.contains("1002")
            }
            try await publisher.set([("SKU-2", 9)])
            #expect(fake.stock("SKU-2") == 9)
            let wrongKey = WooCommerceAPI(configuration: WooCommerceConfiguration(channel: "web-uk", storeURL: rig.configuration.storeURL, consumerKey: "ck_old",
                                                                                  consumerSecret: "cs_old", webhookSecret: Self.secret))
            await #expect { try await WooCommerceStockPublisher(configuration: rig.configuration, api: wrongKey, binder: ExternalBinder(store: rig.store, system: "other")).publish(channel: "web-uk", sku: "SKU-2", available: 1) }
                throws: { error in if case .terminal(let why) = error as? JobError { why.contains("401") } else { false } }
        }
    }

    @Test func fulfilmentNotesAndRefundsReachTheOrderOnceEach() async throws {
        try await withStore { fake, rig in
            fake.addOrder(PlatformFixtures.wooOrder(), modified: Date())
            let order = try WooMapping.canonical(try Self.parsed(PlatformFixtures.wooOrder()), channel: "web-uk")
            let client = WooCommerceOrderClient(configuration: rig.configuration, api: rig.api, logger: rig.logger)
            let tracking = Tracking(carrier: "Royal Mail", number: "RM123456785GB")
            try await client.notify(order, status: .released, tracking: nil, key: "n0")
            #expect(fake.orderStatus(727) == "processing")
            try await client.notify(order, status: .fulfilled, tracking: tracking, key: "n1")
            try await client.notify(order, status: .fulfilled, tracking: tracking, key: "n1")
            #expect(fake.orderStatus(727) == "completed" && fake.notes(727) == ["Shipped with Royal Mail, tracking number RM123456785GB"], "one note for the repeat")
            try await client.notify(order, status: .cancelled, tracking: nil, key: "n2")
            #expect(fake.orderStatus(727) == "completed", "a completed order is not cancelled by the hub's later word")
            let authorization = try ReturnRules.authorize(
                try ReturnRequest(channel: "web-uk", channelReturnID: "R1", order: nil, location: "store-1",
                                  lines: [try ReturnRequestLine(orderLine: nil, sku: "TSHIRT-M-BLUE", quantity: 1, reason: .changedMind, condition: .unopened,
                                                                unitPrice: Money(minorUnits: 1_999, currency: order.currency), taxRate: 0)],
                                  refund: .storeTender, tender: "card"),
                id: "R1", order: nil, policy: { var policy = ReturnPolicy(); policy.acceptUnreferenced = true; return policy }(), now: Date())
            let first = try await client.refund(order, amount: Money(minorUnits: 2_159, currency: order.currency), for: authorization, key: "refund/R1")
            let again = try await client.refund(order, amount: Money(minorUnits: 2_159, currency: order.currency), for: authorization, key: "refund/R1")
            #expect(first == again && fake.refunds(727) == ["21.59"], "the hub's key in the reason: one refund")
        }
    }

    @Test func thePollBringsOrdersWhoseWebhooksNeverCame() async throws {
        try await withStore { fake, rig in
            let now = Date()
            for (index, id) in [801, 802, 803].enumerated() {
                let modified = now.addingTimeInterval(Double(index) - 60)
                fake.addOrder(PlatformFixtures.wooOrder(id: id, modified: String(modified.ISO8601Format().dropLast())), modified: modified)
            }
            let poll = WooCommerceOrderSource.poll(configuration: rig.configuration, api: rig.api, store: rig.store, logger: rig.logger)
            _ = try await rig.store.commit(Commit(jobs: [OrderPoll.job(rig.configuration.system, at: now)]))
            try await rig.work([poll, rig.job])
            for id in [801, 802, 803] {
                #expect(try await rig.orders.record(.derived(channel: "web-uk", channelOrderID: "\(id)")) != nil, "order \(id)")
            }
            let cursor = try #require(try await poll.cursor())
            #expect(abs(cursor.timeIntervalSince(now.addingTimeInterval(-58))) < 1.5, "the latest date_modified_gmt seen")
        }
    }
}
