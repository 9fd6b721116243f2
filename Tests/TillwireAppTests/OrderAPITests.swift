import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// Orders over HTTP: capture once, the gate at capture, a repeat and a conflicting repeat, the lookup by either id
/// with its history, the gate run again after a fix, and bad bodies that store nothing.
@Suite struct OrderAPITests {
    struct Fixture {
        let store: SQLiteStore
        let keys: [String: String]
    }

    func fixture() async throws -> Fixture {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        var keys: [String: String] = [:]
        var changes: [AccessChange] = []
        for (role, scopes) in [("shop", ["orders:read", "orders:write"]), ("reader", ["orders:read"]), ("inventory", ["inventory:read", "inventory:write"]),
                               ("catalog", ["catalog:write"])] {
            let (record, key) = ApiKeys.generate(client: role, scopes: scopes, locations: nil, ratePerSecond: 10_000, burst: 10_000, now: Date())
            keys[role] = key
            changes.append(.createKey(record))
        }
        _ = try await store.commit(Commit(catalog: [.putProduct(try Product(sku: "SHIRT-M", name: "Shirt M"))], access: changes))
        return Fixture(store: store, keys: keys)
    }

    func app(_ fixture: Fixture) -> some ApplicationProtocol {
        let policy = OrderService.Policy(taxRules: ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 500, 2000])],
                                         strictChannels: ["amazon-uk"], homeCountry: "GB")
        return Application(router: HubRouter.build(store: fixture.store, metrics: PrometheusCollectorRegistry(),
                                                   orders: OrderService(store: fixture.store, policy: policy)),
                           logger: Logger(label: "orders-test"))
    }

    func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String?, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:], response.headers)
        }
    }

    /// A Shopify-shaped UK order: 2 × SHIRT-M at £24.00 less a £4.00 coupon, £3.95 shipping, VAT 20 % included.
    func order(channel: String = "web-uk", id: String = "450789469412345678", sku: String = "SHIRT-M", total: String = "47.95",
               lineID: String = "11", extra: String = "") -> String {
        """
        {"channel":"\(channel)","channel_order_id":"\(id)","placed_at":"2026-11-27T10:00:00Z","currency":"GBP","taxes_included":true,
         "customer":{"id":"207119551","email":"ann@example.org","name":"Ann"},"ship_to":{"country":"GB","postal_code":"LS1 4AP"},
         "lines":[{"id":"\(lineID)","sku":"\(sku)","quantity":2,"unit_price":"24.00","discounts":[{"amount":"4.00","code":"WINTER"}],
                   "tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"7.33"}]}],
         "shipping":{"price":"3.95","tax_lines":[{"title":"VAT","rate_bp":2000,"amount":"0.66"}]},
         "payments":{"authorized":"47.95"},"fulfilment":{"mode":"ship_from_dc"},"total":"\(total)"\(extra)}
        """
    }

    @Test func anOrderIsCapturedOnceValidatedAndFoundByEitherId() async throws {
        let fixture = try await fixture()
        let id = OrderID.derived(channel: "web-uk", channelOrderID: "450789469412345678").rawValue
        try await app(fixture).test(.router) { client in
            let (created, view, headers) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], order())
            #expect(created == .created, "\(view)")
            #expect(view["id"] as? String == id && headers[.location] == "/v1/orders/\(id)")
            #expect(view["status"] as? String == "validated" && view["channel_order_id"] as? String == "450789469412345678",
                    "the 18-digit id comes back exactly, as a string")

            let (repeated, again, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], order())
            #expect(repeated == .ok && again["id"] as? String == id && (again["history"] as? [Any])?.count == 1, "a repeat changes nothing")
            let (conflict, problem, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], order(total: "49.95"))
            #expect(conflict == .conflict, "\(problem)")

            for path in ["/v1/orders/\(id)", "/v1/orders?channel=web-uk&channel_order_id=450789469412345678"] {
                let (status, found, _) = try await send(client, .get, path, key: fixture.keys["reader"])
                #expect(status == .ok && found["id"] as? String == id, "\(path): \(found)")
                let history = found["history"] as? [[String: Any]] ?? []
                #expect(history.map { "\($0["from"] ?? "") → \($0["to"] ?? "")" } == ["captured → validated"])
                let events = (found["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
                #expect(events == ["order.captured", "order.status_changed"], "the order's flow: \(events)")
            }
            let (missing, _, _) = try await send(client, .get, "/v1/orders?channel=web-uk&channel_order_id=1", key: fixture.keys["reader"])
            #expect(missing == .notFound)
        }
        #expect(try await fixture.store.readStream(OrderService.stream(OrderID(trusted: id)), fromVersion: 1, limit: 10).count == 2,
                "the repeat and the conflict appended nothing")
    }

    @Test func theGateHoldsAnOrderWithEveryReasonAndAFixReleasesIt() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            // An unknown SKU and a payment short of the total.
            let body = order(id: "1001", sku: "SCARF").replacingOccurrences(of: #""authorized":"47.95""#, with: #""authorized":"40.00""#)
            let (status, held, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], body)
            #expect(status == .created && held["status"] as? String == "on_hold", "\(held)")
            let codes = (held["hold_reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
            #expect(Set(codes) == ["unknown_sku", "payment_not_authorized"], "\(held)")
            let id = try #require(held["id"] as? String)

            // The product arrives; the payment is still short.
            let (added, _, _) = try await send(client, .post, "/v1/products", key: fixture.keys["catalog"], #"{"products":[{"sku":"SCARF","name":"Scarf"}]}"#)
            #expect(added == .ok)
            let (_, still, _) = try await send(client, .post, "/v1/orders/\(id)/validate", key: fixture.keys["shop"], #"{"reason":"SCARF added to the master"}"#)
            #expect(still["status"] as? String == "on_hold")
            #expect((still["hold_reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String } == ["payment_not_authorized"])

            // A well-paid order whose only problem was the SKU goes through once it is added.
            let (_, second, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], order(id: "1002", sku: "GLOVES"))
            #expect(second["status"] as? String == "on_hold")
            _ = try await send(client, .post, "/v1/products", key: fixture.keys["catalog"], #"{"products":[{"sku":"GLOVES","name":"Gloves"}]}"#)
            let (_, released, _) = try await send(client, .post, "/v1/orders/\(second["id"] as? String ?? "")/validate", key: fixture.keys["shop"], "{}")
            #expect(released["status"] as? String == "validated" && (released["hold_reasons"] as? [Any])?.isEmpty == true, "\(released)")
            let history = (released["history"] as? [[String: Any]] ?? []).map { "\($0["from"] ?? "") → \($0["to"] ?? "")" }
            #expect(history == ["captured → on_hold", "on_hold → captured", "captured → validated"])
        }
    }

    @Test func aMarketplaceOrderIsHeldUntilItsPaymentIsCapturedAndThePaymentUpdateReleasesIt() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            let (_, held, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], order(channel: "amazon-uk", id: "026-1234567-1234567"))
            #expect(held["status"] as? String == "on_hold")
            #expect((held["hold_reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String } == ["payment_not_captured"])
            let id = try #require(held["id"] as? String)

            let (short, stillHeld, _) = try await send(client, .post, "/v1/orders/\(id)/payments", key: fixture.keys["shop"],
                                                       #"{"authorized":"47.95","captured":"20.00","reason":"partial capture"}"#)
            #expect(short == .ok && stillHeld["status"] as? String == "on_hold", "\(stillHeld)")
            let (_, released, _) = try await send(client, .post, "/v1/orders/\(id)/payments", key: fixture.keys["shop"],
                                                  #"{"authorized":"47.95","captured":"47.95","reason":"captured at dispatch approval"}"#)
            #expect(released["status"] as? String == "validated", "\(released)")
            #expect((released["payments"] as? [String: Any])?["captured"] as? String == "47.95")
            let causes = (released["history"] as? [[String: Any]] ?? []).compactMap { $0["cause"] as? String }
            #expect(causes.last == "the validation gate passed" && causes.contains { $0.contains("captured at dispatch approval") }, "\(causes)")

            let (bad, problem, _) = try await send(client, .post, "/v1/orders/\(id)/payments", key: fixture.keys["shop"],
                                                   #"{"authorized":"47.95","captured":"10.00","refunded":"11.00"}"#)
            #expect(bad == .badRequest && problem["field"] as? String == "refunded", "\(problem)")
            let (missing, _, _) = try await send(client, .post, "/v1/orders/o-0/payments", key: fixture.keys["shop"], #"{"authorized":"1.00"}"#)
            #expect(missing == .notFound)
        }
        let events = try await fixture.store.readStream(OrderService.stream(.derived(channel: "amazon-uk", channelOrderID: "026-1234567-1234567")), fromVersion: 1, limit: 20)
        #expect(events.filter { $0.type == "order.payments_updated" }.count == 2, "the refused update stored nothing")
    }

    @Test func anOrderIsCancelledOnceWithItsReason() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            let (_, captured, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], order(id: "2001"))
            let id = try #require(captured["id"] as? String)
            let (missingReason, problem, _) = try await send(client, .post, "/v1/orders/\(id)/cancel", key: fixture.keys["shop"], "{}")
            #expect(missingReason == .badRequest && problem["field"] as? String == "reason")
            let (status, cancelled, _) = try await send(client, .post, "/v1/orders/\(id)/cancel", key: fixture.keys["shop"], #"{"reason":"customer asked"}"#)
            #expect(status == .ok && cancelled["status"] as? String == "cancelled", "\(cancelled)")
            let last = (cancelled["history"] as? [[String: Any]])?.last
            #expect(last?["from"] as? String == "validated" && last?["cause"] as? String == "cancelled: customer asked (shop)")
            let (again, same, _) = try await send(client, .post, "/v1/orders/\(id)/cancel", key: fixture.keys["shop"], #"{"reason":"twice"}"#)
            #expect(again == .ok && (same["history"] as? [Any])?.count == 2, "a second cancel changes nothing")
            let (_, paid, _) = try await send(client, .post, "/v1/orders/\(id)/payments", key: fixture.keys["shop"], #"{"authorized":"47.95","captured":"47.95"}"#)
            #expect(paid["status"] as? String == "cancelled", "a payment does not bring a cancelled order back")
        }
    }

    @Test(arguments: [
        (#""currency":"GBP""#, #""currency":"XYZ""#, "currency"),
        (#""total":"47.95""#, #""total":"47.9x""#, "total"),
        (#""total":"47.95""#, #""total":"47.955""#, "total"),
        (#""quantity":2"#, #""quantity":0"#, "lines[0]"),
        (#""quantity":2"#, #""quantity":1e30"#, "lines[0].quantity"),
        (#""mode":"ship_from_dc""#, #""mode":"by_drone""#, "fulfilment.mode"),
        (#""mode":"ship_from_dc""#, #""mode":"pick_up_in_store""#, "fulfilment"),
        (#""ship_to":{"country":"GB","postal_code":"LS1 4AP"}"#, #""ship_to":{"country":"uk"}"#, "ship_to.country"),
        (#""placed_at":"2026-11-27T10:00:00Z""#, #""placed_at":"yesterday""#, "placed_at"),
        (#""rate_bp":2000,"amount":"7.33""#, #""rate_bp":20000,"amount":"7.33""#, "lines[0].tax_lines[0].rate_bp"),
        (#""channel_order_id":"450789469412345678""#, #""channel_order_id":450789469412345678"#, "channel_order_id"),
    ])
    func aBadOrderIs400NamingItsFieldAndStoresNothing(original: String, replacement: String, field: String) async throws {
        let fixture = try await fixture()
        let body = order().replacingOccurrences(of: original, with: replacement)
        #expect(body != order(), "the case changes the body")
        try await app(fixture).test(.router) { client in
            let (status, problem, _) = try await send(client, .post, "/v1/orders", key: fixture.keys["shop"], body)
            #expect(status == .badRequest, "\(replacement): \(problem)")
            #expect(problem["field"] as? String == field, "\(replacement): \(problem)")
        }
        #expect(try await fixture.store.readStream(OrderService.stream(.derived(channel: "web-uk", channelOrderID: "450789469412345678")), fromVersion: 1, limit: 10).isEmpty)
    }

    @Test func ordersNeedTheirScopes() async throws {
        let fixture = try await fixture()
        try await app(fixture).test(.router) { client in
            let cases: [(HTTPRequest.Method, String, String?, String?, HTTPResponse.Status)] = [
                (.post, "/v1/orders", fixture.keys["inventory"], order(), .forbidden),
                (.post, "/v1/orders", fixture.keys["reader"], order(), .forbidden),
                (.post, "/v1/orders", nil, order(), .unauthorized),
                (.get, "/v1/orders/o-0", fixture.keys["inventory"], nil, .forbidden),
            ]
            for (method, path, key, body, expected) in cases {
                let (status, problem, _) = try await send(client, method, path, key: key, body)
                #expect(status == expected, "\(method) \(path): \(problem)")
            }
        }
    }
}
