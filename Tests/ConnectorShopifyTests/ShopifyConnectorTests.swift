import ConnectorShopify
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

/// The Shopify connector against `FakeShopify` (a local server that behaves as Shopify documents its Admin API, not
/// Shopify) over real HTTP, and its intake on a real SQLite store.
@Suite struct ShopifyConnectorTests {
    static let secret = "shpss_test_secret"
    let logger = Logger(label: "shopify-test")

    struct Rig {
        let store: SQLiteStore
        let configuration: ShopifyConfiguration
        let admin: ShopifyAdmin
        let binder: ExternalBinder
        let orders: OrderService
        let publisher: ShopifyInventoryPublisher
        let logger: Logger

        var webhookJob: ShopifyWebhookJob {
            ShopifyWebhookJob(configuration: configuration, orders: orders, admin: admin, binder: binder, logger: logger)
        }

        func work(_ handlers: [any JobHandler]) async throws {
            let worker = JobWorker(store: store, handlers: handlers, logger: logger)
            while try await worker.runOnce() > 0 {}
        }
    }

    func withShop(_ fake: FakeShopify = FakeShopify(), _ body: @escaping @Sendable (FakeShopify, Rig) async throws -> Void) async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        try await Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let configuration = ShopifyConfiguration(channel: "web", shopURL: "http://127.0.0.1:\(try #require(client.port))", accessToken: fake.accessToken,
                                                     webhookSecret: Self.secret, location: ShopifyID(fake.location))
            let admin = ShopifyAdmin(configuration: configuration)
            let binder = ExternalBinder(store: store, system: configuration.system)
            try await body(fake, Rig(store: store, configuration: configuration, admin: admin, binder: binder, orders: OrderService(store: store),
                                     publisher: ShopifyInventoryPublisher(configuration: configuration, admin: admin, binder: binder), logger: logger))
        }
    }

    func delivery(_ body: String, topic: String, event: String, signature: String? = nil) -> WebhookDelivery {
        let data = Data(body.utf8)
        var headers = ["X-Shopify-Topic": topic, "X-Shopify-Event-Id": event, "X-Shopify-Webhook-Id": UUID().uuidString]
        headers["X-Shopify-Hmac-Sha256"] = signature ?? WebhookSignature.sign(data, secret: Self.secret)
        return WebhookDelivery(headers: headers, body: data, receivedAt: Date())
    }

    @Test func deliveriesAreVerifiedDeduplicatedByEventIdAndABadBodyIsADeadLetterThatKeepsIt() async throws {
        try await withShop { _, rig in
            let receiver = ShopifyWebhookReceiver(configuration: rig.configuration, store: rig.store)
            let body = PlatformFixtures.shopifyOrder()
            await #expect(throws: WebhookRefused.self) { try await receiver.receive(delivery(body, topic: "orders/create", event: "e1", signature: "bm9wZQ==")) }
            await #expect(throws: WebhookRefused.self) {
                try await receiver.receive(delivery(body, topic: "orders/create", event: "e1", signature: WebhookSignature.sign(Data(body.utf8), secret: "another app")))
            }
            #expect(try await rig.store.jobs(in: .pending, limit: 10).isEmpty, "nothing stored for a delivery that does not verify")
            #expect(try await receiver.receive(delivery(body, topic: "orders/create", event: "e1")) == .stored)
            #expect(try await receiver.receive(delivery(body, topic: "orders/create", event: "e1")) == .duplicate,
                    "Shopify's retry: a new X-Shopify-Webhook-Id, the same X-Shopify-Event-Id")
            let broken = #"{"id": 77, "line_items": "not a list"}"#
            #expect(try await receiver.receive(delivery(broken, topic: "orders/updated", event: "e2")) == .stored)
            #expect(try await receiver.receive(delivery("{}", topic: "shop/update", event: "e3")) == .stored)
            try await rig.work([rig.webhookJob])
            let dead = try await rig.store.jobs(in: .dead, limit: 10)
            #expect(dead.count == 1, "only the broken body fails; an unknown topic is acknowledged: \(dead.map { $0.lastError ?? "" })")
            #expect(dead.first?.lastError?.contains("orders/updated: the body does not parse") == true)
            #expect(try dead.first.map { try StoredDelivery.decode($0).body } == Data(broken.utf8), "the raw body is kept for a replay after a fix")
            #expect(try await rig.orders.record(.derived(channel: "web", channelOrderID: "820982911946154508")) != nil)
        }
    }

    @Test func lateDuplicateAndOutOfOrderDeliveriesEndInTheShopsState() async throws {
        try await withShop { _, rig in
            let receiver = ShopifyWebhookReceiver(configuration: rig.configuration, store: rig.store)
            let id = OrderID.derived(channel: "web", channelOrderID: "820982911946154508")
            // orders/paid arrives before orders/create; then orders/create (pending) arrives late, and twice.
            _ = try await receiver.receive(delivery(PlatformFixtures.shopifyOrder(financial: "paid", updatedAt: "2026-11-29T10:01:00-05:00"), topic: "orders/paid", event: "paid"))
            _ = try await receiver.receive(delivery(PlatformFixtures.shopifyOrder(financial: "pending", updatedAt: "2026-11-29T10:00:00-05:00"), topic: "orders/create", event: "create"))
            _ = try await receiver.receive(delivery(PlatformFixtures.shopifyOrder(financial: "pending", updatedAt: "2026-11-29T10:00:00-05:00"), topic: "orders/create", event: "create"))
            try await rig.work([rig.webhookJob])
            let record = try #require(try await rig.orders.record(id))
            #expect(record.payments.captured == record.order.total, "the late pending state does not undo the payment")
            #expect(record.lifecycle.status != .cancelled)
            _ = try await receiver.receive(delivery(PlatformFixtures.shopifyOrder(cancelledAt: #""2026-11-29T11:00:00-05:00""#), topic: "orders/cancelled", event: "cancel"))
            try await rig.work([rig.webhookJob])
            #expect(try await rig.orders.record(id)?.lifecycle.status == .cancelled)
            #expect(try await rig.store.jobs(in: .dead, limit: 10).isEmpty)
        }
    }

    @Test func availabilityIsSetWithChangeFromQuantityAndReadAgainWhenASaleMovedIt() async throws {
        try await withShop { fake, rig in
            fake.addItem(sku: "TSHIRT-M-BLUE", id: "30322695", available: 10)
            fake.addItem(sku: "MUG-CERAMIC", id: "30322696", available: nil)
            try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 7)
            #expect(fake.available("TSHIRT-M-BLUE") == 7)
            // A sale in the shop lands between the read and the write: the write is refused as stale, read again.
            fake.sellBeforeNextSet("TSHIRT-M-BLUE", 1)
            let outcome = try await rig.publisher.set([("TSHIRT-M-BLUE", 5)])
            #expect(outcome == .init(changed: 1, unchanged: 0, mutations: 2) && fake.available("TSHIRT-M-BLUE") == 5)
            let before = fake.requests.filter { $0 == "inventorySetQuantities" }.count
            try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 5)
            #expect(fake.requests.filter { $0 == "inventorySetQuantities" }.count == before, "already right: nothing sent")
            try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: -3)
            #expect(fake.available("TSHIRT-M-BLUE") == 0, "an oversold figure is published as zero")
            await #expect { try await rig.publisher.set([("TSHIRT-M-BLUE", 4), ("MUG-CERAMIC", 3), ("NOT-IN-SHOP", 1)]) } throws: { error in
                guard case .terminal(let why) = error as? JobError else { return false }
                return why.contains("MUG-CERAMIC, NOT-IN-SHOP")
            }
            #expect(fake.available("TSHIRT-M-BLUE") == 4, "the SKUs the shop has are set before the others are reported")
            #expect(try await rig.binder.canonical(ShopifyInventoryPublisher.bindingKind, external: "30322695") == "TSHIRT-M-BLUE")
        }
    }

    @Test func manyFiguresGoInChunksOf250() async throws {
        try await withShop(FakeShopify(maximumAvailable: 100_000, restoreRate: 10_000)) { fake, rig in
            for index in 0..<600 { fake.addItem(sku: "SKU-\(index)", id: "\(4_000_000_000_000 + index)", available: 0) }
            let outcome = try await rig.publisher.set((0..<600).map { (SKU(trusted: "SKU-\($0)"), Int64($0 % 7)) })
            #expect(fake.mutationSizes == [214, 214, 86], "at most 250 per mutation; those already at their figure are not sent")
            #expect(outcome.changed == 514 && outcome.unchanged == 86)
            #expect((0..<600).allSatisfy { fake.available("SKU-\($0)") == Int64($0 % 7) })
        }
    }

    @Test func throttledAnd429AnswersWaitAsTheShopSays() async throws {
        try await withShop(FakeShopify(maximumAvailable: 100, restoreRate: 200)) { fake, rig in
            fake.addItem(sku: "TSHIRT-M-BLUE", id: "30322695", available: 10)
            fake.drainBudget()
            await #expect { try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 7) } throws: { error in
                guard case let .retryable(why, after) = error as? JobError else { return false }
                return why.contains("THROTTLED") && (after ?? .zero) > .zero
            }
            // The budget the shop reported is kept: the next call waits for its points instead of being throttled.
            try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 7)
            #expect(fake.available("TSHIRT-M-BLUE") == 7 && fake.throttledCount == 1)
            fake.queue429(count: 1, retryAfter: 3)
            await #expect { try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 6) } throws: { error in
                guard case let .retryable(why, after) = error as? JobError else { return false }
                return why.contains("HTTP 429") && after == .seconds(3)
            }
            let wrongToken = ShopifyAdmin(configuration: ShopifyConfiguration(channel: "web", shopURL: rig.configuration.shopURL, accessToken: "revoked",
                                                                              webhookSecret: Self.secret, location: rig.configuration.location))
            await #expect { try await ShopifyInventoryPublisher(configuration: rig.configuration, admin: wrongToken, binder: rig.binder).publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 6) }
                throws: { error in if case .terminal = error as? JobError { true } else { false } }
        }
    }

    @Test func aHandEditInShopifyIsPutBackToTheHubsFigure() async throws {
        try await withShop { fake, rig in
            fake.addItem(sku: "TSHIRT-M-BLUE", id: "30322695", available: 10)
            try await rig.publisher.publish(channel: "web", sku: "TSHIRT-M-BLUE", available: 7)
            let receiver = ShopifyWebhookReceiver(configuration: rig.configuration, store: rig.store)
            let level = #"{"inventory_item_id": 30322695, "location_id": \#(fake.location), "available": 50, "updated_at": "2026-11-29T10:00:00-05:00"}"#
            _ = try await receiver.receive(delivery(level, topic: "inventory_levels/update", event: "level-1"))
            let elsewhere = #"{"inventory_item_id": 30322695, "location_id": 1, "available": 50}"#
            _ = try await receiver.receive(delivery(elsewhere, topic: "inventory_levels/update", event: "level-2"))
            try await rig.work([rig.webhookJob])
            let queued = try await rig.store.jobs(in: .pending, limit: 10)
            #expect(queued.map(\.kind) == [ChannelAvailabilitySubscriber.jobKind("web")], "one republish, for the hub's location only")
        }
    }

    @Test func fulfilmentAndRefundsReachTheOrderOnceEach() async throws {
        try await withShop { fake, rig in
            fake.addOrder(id: "820982911946154508", json: PlatformFixtures.shopifyOrder(), updatedAt: Date(), lines: [("466157049", 2), ("518995019", 1)])
            let order = try ShopifyMapping.canonical(try ShopifyMappingTests.parsed(PlatformFixtures.shopifyOrder()), channel: "web")
            let client = ShopifyOrderClient(configuration: rig.configuration, admin: rig.admin, logger: rig.logger)
            try await client.notify(order, status: .released, tracking: nil, key: "n1")
            #expect(fake.fulfillments.isEmpty, "only a fulfilled order is sent")
            try await client.notify(order, status: .fulfilled, tracking: Tracking(carrier: "UPS", number: "1Z999AA10123456784"), key: "n2")
            try await client.notify(order, status: .fulfilled, tracking: Tracking(carrier: "UPS", number: "1Z999AA10123456784"), key: "n2-retry")
            #expect(fake.fulfillments == [.init(order: "820982911946154508", lines: ["gid://shopify/FulfillmentOrderLineItem/466157049": 2, "gid://shopify/FulfillmentOrderLineItem/518995019": 1],
                                                trackingNumber: "1Z999AA10123456784", trackingCompany: "UPS")], "the repeat finds nothing left to fulfil")

            let authorization = try ReturnAuthorization.forTest(order: order)
            let first = try await client.refund(order, amount: Money(minorUnits: 2_159, currency: .usd), for: authorization, key: "refund/R1")
            let again = try await client.refund(order, amount: Money(minorUnits: 2_159, currency: .usd), for: authorization, key: "refund/R1")
            #expect(first == again && fake.refunds.count == 1, "the same key is one refund: \(fake.refunds)")
            #expect(fake.refunds.first?.amount == "21.59" && fake.refunds.first?.parent == "gid://shopify/OrderTransaction/8209829119461545087")
        }
    }

    @Test func theReconciliationPollBringsWhatWebhooksMissedOnceAndMovesItsCursor() async throws {
        try await withShop(FakeShopify(pageSize: 2)) { fake, rig in
            let now = Date()
            for (index, id) in ["1001", "1002", "1003"].enumerated() {
                fake.addOrder(id: id, json: PlatformFixtures.shopifyOrder(id: id, updatedAt: now.addingTimeInterval(Double(index) - 60).ISO8601Format()),
                              updatedAt: now.addingTimeInterval(Double(index) - 60), lines: [])
            }
            fake.addOrder(id: "999", json: PlatformFixtures.shopifyOrder(id: "999"), updatedAt: now.addingTimeInterval(-86_400), lines: [])
            let poll = ShopifyOrderSource.poll(configuration: rig.configuration, admin: rig.admin, store: rig.store, logger: rig.logger)
            _ = try await rig.store.commit(Commit(jobs: [OrderPoll.job(rig.configuration.system, at: now)]))
            _ = try await rig.store.commit(Commit(jobs: [OrderPoll.job(rig.configuration.system, at: now)]))
            try await rig.work([poll, rig.webhookJob])
            for id in ["1001", "1002", "1003"] {
                #expect(try await rig.orders.record(.derived(channel: "web", channelOrderID: id)) != nil, "order \(id)")
            }
            #expect(try await rig.orders.record(.derived(channel: "web", channelOrderID: "999")) == nil, "older than the first poll reaches back")
            #expect(fake.requests.filter { $0 == "GET orders.json" }.count == 2, "one poll (the second was absorbed), two pages")
            let cursor = try #require(try await poll.cursor())
            #expect(abs(cursor.timeIntervalSince(now.addingTimeInterval(-58))) < 1, "the cursor is the latest updated_at seen")
            let next = try await rig.store.jobs(in: .pending, limit: 10)
            #expect(next.map(\.kind) == [OrderPoll.kind(rig.configuration.system)] && next[0].runAt > now.addingTimeInterval(200), "the next poll is due later")
        }
    }

    @Test func aPollStoppedAtItsPageLimitGoesOnFromThereAndAFailedPollDoesNotStopPolling() async throws {
        try await withShop(FakeShopify(pageSize: 1)) { fake, rig in
            let now = Date()
            for (index, id) in ["2001", "2002", "2003"].enumerated() {
                // One second apart, so a poll restarted from its cursor would read them again and again.
                fake.addOrder(id: id, json: PlatformFixtures.shopifyOrder(id: id, updatedAt: now.addingTimeInterval(Double(index) - 30).ISO8601Format()),
                              updatedAt: now.addingTimeInterval(Double(index) - 30), lines: [])
            }
            let poll = OrderPoll(source: ShopifyOrderSource(configuration: rig.configuration, admin: rig.admin), store: rig.store, interval: .seconds(300),
                                 overlap: .seconds(600), pagesPerRun: 2, logger: rig.logger)
            _ = try await rig.store.commit(Commit(jobs: [OrderPoll.job(rig.configuration.system, at: now)]))
            try await rig.work([poll, rig.webhookJob])
            #expect(fake.requests.filter { $0 == "GET orders.json" }.count == 3, "two pages, then the third from where the first run stopped")
            for id in ["2001", "2002", "2003"] {
                #expect(try await rig.orders.record(.derived(channel: "web", channelOrderID: id)) != nil, "order \(id)")
            }

            let revoked = ShopifyConfiguration(channel: "web", shopURL: rig.configuration.shopURL, accessToken: "revoked", webhookSecret: Self.secret,
                                               location: rig.configuration.location)
            let failing = OrderPoll(source: ShopifyOrderSource(configuration: revoked, admin: ShopifyAdmin(configuration: revoked)), store: rig.store,
                                    interval: .seconds(300), overlap: .seconds(600), logger: rig.logger)
            let pending = try await rig.store.jobs(in: .pending, limit: 10)
            _ = try await rig.store.commit(Commit(jobs: [OrderPoll.job(rig.configuration.system, at: Date())]))
            #expect(pending.count == 1, "the next poll was already pending")
            try await JobWorker(store: rig.store, handlers: [failing], logger: rig.logger, now: { Date().addingTimeInterval(400) }).runOnce()
            #expect(try await rig.store.jobs(in: .dead, limit: 10).isEmpty, "a 401 does not end the polling")
            let stream = try await rig.store.readStream(StreamID(trusted: "poll/shopify/orders"), fromVersion: 1, limit: 100)
            let failure = try #require(stream.last)
            #expect(failure.type == OrderPoll.Failed.eventType)
            #expect(try failure.decode(OrderPoll.Failed.self).reason.contains("401"))
            #expect(try await rig.store.jobs(in: .pending, limit: 10).map(\.kind) == [OrderPoll.kind(rig.configuration.system)], "the next poll is due")
        }
    }

    @Test func tillSalesAreNotOrdersAndAnOrderWithoutAnAddressSaysWhy() async throws {
        try await withShop { _, rig in
            let receiver = ShopifyWebhookReceiver(configuration: rig.configuration, store: rig.store)
            let pos = PlatformFixtures.shopifyOrder(id: "3001").replacingOccurrences(of: #""refunds": []"#, with: #""refunds": [], "source_name": "pos""#)
            let pickup = PlatformFixtures.shopifyOrder(id: "3002").replacingOccurrences(of: #""country_code": "US""#, with: #""country_code": null"#)
            _ = try await receiver.receive(delivery(pos, topic: "orders/create", event: "pos"))
            _ = try await receiver.receive(delivery(pickup, topic: "orders/create", event: "pickup"))
            try await rig.work([rig.webhookJob])
            #expect(try await rig.orders.record(.derived(channel: "web", channelOrderID: "3001")) == nil, "a till sale comes through the store's intake")
            let dead = try await rig.store.jobs(in: .dead, limit: 10)
            #expect(dead.count == 1 && dead.first?.lastError?.contains("order 3002 has no shipping address") == true, "\(dead.map { $0.lastError ?? "" })")
        }
    }
}

extension ReturnAuthorization {
    /// A return the rules accept, for the refund call (which reads only its id).
    static func forTest(order: Order) throws -> ReturnAuthorization {
        var policy = ReturnPolicy()
        policy.acceptUnreferenced = true
        let line = try ReturnRequestLine(orderLine: nil, sku: order.lines[0].sku, quantity: 1, reason: .changedMind, condition: .unopened,
                                         unitPrice: Money(minorUnits: 1_999, currency: order.currency), taxRate: 0)
        let request = try ReturnRequest(channel: order.channel, channelReturnID: "R1", order: nil, location: "store-1", lines: [line], refund: .storeTender, tender: "card")
        return try ReturnRules.authorize(request, id: "R1", order: nil, policy: policy, now: Date())
    }
}
