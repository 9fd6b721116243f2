import ConnectorOscar
import Foundation
import Testing
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// The Oscar connector on the plugin's recorded bodies (the shape of `payloads.order_payload`), and its intake: a
/// bad signature stores nothing, a repeat changes nothing, a body that does not parse is a dead letter keeping it.
@Suite struct OscarConnectorTests {
    static let placed = Data("""
        {"id": "0b7f2f7e-5d0e-4a4e-9d1e-1f3c2a9b8c7d", "event": "order.placed", "created_at": "2026-11-29T10:00:01.5+00:00",
         "data": {"id": 1, "number": "100008", "status": "new", "currency": "USD", "total_incl_tax": "68.47", "total_excl_tax": "68.47",
                  "shipping_incl_tax": "0.00", "shipping_excl_tax": "0.00", "shipping_code": "free-shipping", "shipping_method": "Free shipping",
                  "date_placed": "2026-11-29T10:00:00.123456+00:00", "email": "jane@example.com", "user_id": null,
                  "shipping_address": {"first_name": "Jane", "last_name": "Doe", "line1": "1 Main St", "line2": "", "line3": "", "line4": "Springfield",
                                       "state": "IL", "postcode": "62701", "country": "US", "phone_number": "+12175550100"},
                  "billing_address": null,
                  "lines": [{"id": 1, "product_id": 1, "stockrecord_id": 1, "partner_sku": "TSHIRT-M-BLUE", "upc": "0001234500011", "title": "T-shirt",
                             "quantity": 3, "num_allocated": 3, "status": "new", "unit_price_incl_tax": "19.99", "unit_price_excl_tax": "19.99",
                             "line_price_incl_tax": "59.97", "line_price_excl_tax": "59.97"},
                            {"id": 2, "product_id": 2, "stockrecord_id": 2, "partner_sku": "MUG-CERAMIC", "upc": "0001234500028", "title": "Mug",
                             "quantity": 1, "num_allocated": 1, "status": "new", "unit_price_incl_tax": "8.50", "unit_price_excl_tax": "8.50",
                             "line_price_incl_tax": "8.50", "line_price_excl_tax": "8.50"}]}}
        """.utf8)

    @Test func anOrderPlacedInTheShopBecomesTheCanonicalOrder() throws {
        guard case .orderPlaced(let placed) = try OscarMapping.parse(topic: "order.placed", body: Self.placed) else {
            Issue.record("not an order placed")
            return
        }
        let order = try OscarMapping.canonical(placed, channel: "web")
        #expect(order.id == .derived(channel: "web", channelOrderID: "100008") && order.channelOrderID == "100008")
        #expect(order.lines.map { "\($0.id) \($0.sku) \($0.quantity) \($0.unitPrice)" } == ["1 TSHIRT-M-BLUE 3 19.99 USD", "2 MUG-CERAMIC 1 8.50 USD"])
        #expect(order.total == Money(minorUnits: 6_847, currency: .usd) && order.amountProblems().isEmpty, "the lines add up to the total")
        #expect(order.shipTo?.country == "US" && order.customer.email == "jane@example.com" && order.fulfilment.mode == .shipFromDC)
        #expect(order.lines.allSatisfy { $0.taxLines.isEmpty }, "the shop charged no tax")
        #expect(abs(order.placedAt.timeIntervalSince1970 - 1_795_946_400.123456) < 0.001, "Django's isoformat with microseconds: \(order.placedAt)")
    }

    @Test func taxIsTheDifferenceBetweenTheShopsPricesWithAndWithoutIt() throws {
        let taxed = String(decoding: Self.placed, as: UTF8.self)
            .replacingOccurrences(of: #""line_price_incl_tax": "8.50""#, with: #""line_price_incl_tax": "10.20""#)
            .replacingOccurrences(of: #""total_incl_tax": "68.47""#, with: #""total_incl_tax": "70.17""#)
        guard case .orderPlaced(let placed) = try OscarMapping.parse(topic: "order.placed", body: Data(taxed.utf8)) else {
            Issue.record("not an order placed")
            return
        }
        let order = try OscarMapping.canonical(placed, channel: "web")
        #expect(order.lines[1].taxLines.map { "\($0.amount) \($0.rateBasisPoints ?? -1)" } == ["1.70 USD 2000"])
        #expect(order.amountProblems().isEmpty)
    }

    @Test func whatCannotBeTakenSaysWhy() throws {
        #expect(throws: OscarPayloadError.self) { try OscarMapping.parse(topic: "order.placed", body: Data("{\"id\":\"x\"".utf8)) }
        let noSKU = String(decoding: Self.placed, as: UTF8.self).replacingOccurrences(of: #""partner_sku": "MUG-CERAMIC""#, with: #""partner_sku": null"#)
        guard case .orderPlaced(let placed) = try OscarMapping.parse(topic: "order.placed", body: Data(noSKU.utf8)) else {
            Issue.record("not an order placed")
            return
        }
        #expect { try OscarMapping.canonical(placed, channel: "web") } throws: { "\($0)".contains("line 2 has no partner_sku") }
        #expect(try OscarMapping.parse(topic: "basket.abandoned", body: Data("{}".utf8)) == .other("basket.abandoned"), "unknown topics are not failures")
    }

    @Test func deliveriesAreVerifiedStoredOnceAndABadBodyIsADeadLetterThatKeepsIt() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let configuration = OscarConfiguration(channel: "web", baseURL: "http://127.0.0.1:1", username: "u", password: "p", webhookSecret: "s3cret")
        let receiver = OscarWebhookReceiver(configuration: configuration, store: store)
        func delivery(_ body: Data, id: String, signature: String?) -> WebhookDelivery {
            var headers = ["X-Oscar-Event": "order.placed", "X-Oscar-Delivery": id]
            headers["X-Oscar-Hmac-Sha256"] = signature
            return WebhookDelivery(headers: headers, body: body, receivedAt: Date())
        }
        let good = WebhookSignature.sign(Self.placed, secret: "s3cret")
        await #expect(throws: WebhookRefused.self) { try await receiver.receive(delivery(Self.placed, id: "d1", signature: nil)) }
        await #expect(throws: WebhookRefused.self) { try await receiver.receive(delivery(Self.placed, id: "d1", signature: WebhookSignature.sign(Self.placed, secret: "other"))) }
        var tampered = Self.placed
        tampered[tampered.count - 3] = UInt8(ascii: " ")
        await #expect(throws: WebhookRefused.self) { try await receiver.receive(delivery(tampered, id: "d1", signature: good)) }
        #expect(try await store.jobs(in: .pending, limit: 10).isEmpty, "nothing stored for a delivery that does not verify")

        #expect(try await receiver.receive(delivery(Self.placed, id: "d1", signature: good)) == .stored)
        #expect(try await receiver.receive(delivery(Self.placed, id: "d1", signature: good)) == .duplicate, "the plugin's retry")
        #expect(try await receiver.receive(delivery(Self.placed, id: "d-replayed", signature: good)) == .duplicate,
                "a captured body under a new X-Oscar-Delivery: the id that counts is the signed body's")
        #expect(try await store.jobs(in: .pending, limit: 10).count == 1)

        // Verified but not an order: the job gives up at once, and the dead letter holds the raw body.
        let broken = Data(#"{"id":"d2","event":"order.placed","data":{"number":"1"}}"#.utf8)
        let unparsable = Data("not json at all".utf8)
        #expect(try await receiver.receive(delivery(unparsable, id: "d3", signature: WebhookSignature.sign(unparsable, secret: "s3cret"))) == .stored,
                "signed but not JSON: stored, to be dead-lettered with its body")
        #expect(try await receiver.receive(delivery(broken, id: "d2", signature: WebhookSignature.sign(broken, secret: "s3cret"))) == .stored)
        let worker = JobWorker(store: store, handlers: [OscarWebhookJob(configuration: configuration, orders: OrderService(store: store), logger: .init(label: "t"))],
                               logger: .init(label: "t"))
        while try await worker.runOnce() > 0 {}
        let dead = try await store.jobs(in: .dead, limit: 10)
        #expect(dead.count == 2, "\(dead.map { $0.lastError ?? "" })")
        let kept = try dead.first { try StoredDelivery.decode($0).deliveryID == "d2" }
        #expect(kept?.lastError?.contains("missing data.id") == true, "\(kept?.lastError ?? "")")
        #expect(try kept.map { try StoredDelivery.decode($0).body } == broken, "kept for a replay after a fix")
        #expect(try await OrderService(store: store).record(.derived(channel: "web", channelOrderID: "100008")) != nil, "the good one was captured")
    }

    @Test func answersBecomeRetriesOrDeadLettersAndNoRetryAfterCrashesTheHub() {
        func wait(_ retryAfter: String?) -> Duration? {
            guard case let .retryable(_, after) = HTTPTransport.failure(.init(status: 429, headers: retryAfter.map { [("Retry-After", $0)] } ?? []), "x")
            else { return nil }
            return after
        }
        #expect(wait("7") == .seconds(7) && wait(nil) == .seconds(2) && wait("Wed, 21 Oct 2026 07:28:00 GMT") == .seconds(2))
        #expect(wait("nan") == .seconds(2) && wait("inf") == .seconds(2) && wait("-5") == .zero && wait("1e300") == .seconds(3600))
        if case .retryable = HTTPTransport.failure(.init(status: 503), "x") {} else { Issue.record("a 5xx is tried again") }
        if case .terminal(let why) = HTTPTransport.failure(.init(status: 404, body: Data("no such record".utf8)), "stock") {
            #expect(why == "stock: HTTP 404 no such record")
        } else {
            Issue.record("a 404 is terminal")
        }
    }
}
