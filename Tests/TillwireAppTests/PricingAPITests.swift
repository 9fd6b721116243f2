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

/// Prices, promotions and quotes over HTTP: only the system of record changes them, past prices read back, promotion
/// rules and conflicts are refused with their reasons, and a basket is priced with each discount named.
@Suite struct PricingAPITests {
    func app() async throws -> (some ApplicationProtocol, [String: String], SQLiteStore) {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        var keys: [String: String] = [:]
        var changes: [AccessChange] = []
        for (role, scopes) in [("erp", ["prices:write", "prices:read", "catalog:write"]), ("shop", ["prices:write"]), ("till", ["prices:read", "orders:write"])] {
            let (record, key) = ApiKeys.generate(client: role, scopes: scopes, locations: nil, ratePerSecond: 10_000, burst: 10_000, now: Date())
            keys[role] = key
            changes.append(.createKey(record))
        }
        _ = try await store.commit(Commit(access: changes))
        var policy = PricingService.Policy(owner: "erp")
        policy.taxRules = ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 2000])]
        let router = HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), pricing: PricingService(store: store, policy: policy))
        return (Application(router: router, logger: Logger(label: "pricing-test")), keys, store)
    }

    func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, key: String?, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:])
        }
    }

    @Test func theOwnerSetsPricesAndPromotionsAndABasketIsPricedWithEachDiscountNamed() async throws {
        let (app, keys, store) = try await app()
        try await app.test(.router) { client in
            let prices = """
                {"channel":"web","country":"GB","currency":"GBP","prices":[{"sku":"SHIRT","price":"20.00","from":"2026-01-01T00:00:00Z"},
                 {"sku":"MUG","price":"6.00","from":"2026-01-01T00:00:00Z"}]}
                """
            let (refused, notOwner) = try await send(client, .put, "/v1/prices", key: keys["shop"], prices)
            #expect(refused == .forbidden && (notOwner["detail"] as? String)?.contains("owned by erp") == true, "\(notOwner)")
            let (set, first) = try await send(client, .put, "/v1/prices", key: keys["erp"], prices)
            #expect(set == .ok && (first["prices"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 1], "\(first)")
            let sale = #"{"channel":"web","country":"GB","currency":"GBP","prices":[{"sku":"SHIRT","price":"15.00","from":"2026-06-01T00:00:00Z","until":"2026-06-02T00:00:00Z"}]}"#
            let (_, second) = try await send(client, .put, "/v1/prices", key: keys["erp"], sale)
            #expect((second["prices"] as? [[String: Any]])?.first?["version"] as? Int == 2)
            let (_, during) = try await send(client, .get, "/v1/prices?sku=SHIRT&channel=web&country=GB&at=2026-06-01T12:00:00Z", key: keys["till"])
            #expect(during["price"] as? String == "15.00" && during["version"] as? Int == 2)
            let (_, before) = try await send(client, .get, "/v1/prices?sku=SHIRT&channel=web&country=GB&at=2026-05-01T12:00:00Z", key: keys["till"])
            #expect(before["price"] as? String == "20.00" && before["version"] as? Int == 1)
            let (none, _) = try await send(client, .get, "/v1/prices?sku=SHIRT&channel=pos&country=GB", key: keys["till"])
            #expect(none == .notFound)

            let vip = """
                {"id":"vip","name":"VIP shirts","type":"percent_off","basis_points":2000,"scope":{"skus":["SHIRT"]},
                 "from":"2026-01-01T00:00:00Z","until":"2099-01-01T00:00:00Z","priority":5,"stacking":"exclusive"}
                """
            let (created, promotion) = try await send(client, .post, "/v1/promotions", key: keys["erp"], vip)
            #expect(created == .created && promotion["active"] as? Bool == true, "\(promotion)")
            #expect(try await send(client, .post, "/v1/promotions", key: keys["erp"], vip).0 == .ok, "the same again")
            let clash = vip.replacingOccurrences(of: #""id":"vip""#, with: #""id":"staff""#)
            let (conflict, problem) = try await send(client, .post, "/v1/promotions", key: keys["erp"], clash)
            #expect(conflict == .conflict && (problem["errors"] as? [[String: Any]])?.first?["detail"] as? String != nil, "\(problem)")
            #expect(((problem["errors"] as? [[String: Any]])?.first?["detail"] as? String)?.contains("conflicts with vip") == true)
            let past = vip.replacingOccurrences(of: #""id":"vip""#, with: #""id":"old""#).replacingOccurrences(of: "2099-01-01", with: "2026-02-01")
            let (stale, why) = try await send(client, .post, "/v1/promotions", key: keys["erp"], past)
            #expect(stale == .unprocessableContent && why["field"] as? String == "until", "\(why)")
            let coupon = """
                {"id":"save2","name":"£2 off mugs","type":"amount_off","currency":"GBP","amount":"2.00","scope":{"skus":["MUG"]},
                 "from":"2026-01-01T00:00:00Z","until":"2099-01-01T00:00:00Z","coupon":"SAVE2","usage_limit":1000}
                """
            #expect(try await send(client, .post, "/v1/promotions", key: keys["erp"], coupon).0 == .created)
            let (_, read) = try await send(client, .get, "/v1/promotions/save2", key: keys["till"])
            #expect(read["coupon"] as? String == "SAVE2" && read["type"] as? String == "amount_off")

            let basket = """
                {"channel":"web","country":"GB","currency":"GBP","coupons":["SAVE2","NOPE"],"at":"2026-05-01T12:00:00Z",
                 "lines":[{"sku":"SHIRT","quantity":2},{"sku":"MUG","quantity":1}]}
                """
            let (quoted, quote) = try await send(client, .post, "/v1/pricing/quote", key: keys["till"], basket)
            #expect(quoted == .ok, "\(quote)")
            #expect(quote["subtotal"] as? String == "46.00" && quote["discount_total"] as? String == "10.00" && quote["total"] as? String == "36.00")
            let applied = (quote["promotions"] as? [[String: Any]])?.map { "\($0["promotion"] ?? "")=\($0["amount"] ?? "")" }
            #expect(applied == ["vip=8.00", "save2=2.00"], "\(applied ?? [])")
            #expect((quote["rejected_coupons"] as? [String: String]) == ["NOPE": "no promotion has this code"])
            #expect(quote["tax_total"] as? String == "6.00", "VAT inside 32.00 and 4.00")
            let (bad, field) = try await send(client, .post, "/v1/pricing/quote", key: keys["till"],
                                              basket.replacingOccurrences(of: #""quantity":1"#, with: #""quantity":0"#))
            #expect(bad == .badRequest && field["field"] as? String == "lines[1].quantity", "\(field)")
            // A channel showing another price than the book's drifts; the same price does not.
            let seen = #"{"sku":"SHIRT","channel":"web","country":"GB","currency":"GBP","price":"19.00","observed_at":"2026-05-01T12:00:00Z"}"#
            let (_, drift) = try await send(client, .post, "/v1/pricing/observations", key: keys["till"], seen)
            #expect(drift["drift"] as? Bool == true && drift["expected"] as? String == "20.00", "\(drift)")
            let (_, fine) = try await send(client, .post, "/v1/pricing/observations", key: keys["till"], seen.replacingOccurrences(of: "19.00", with: "20.00"))
            #expect(fine["drift"] as? Bool == false)
            let drifts = try await store.readStream("drift/web", fromVersion: 1, limit: 10)
            #expect(drifts.map(\.type) == ["pricing.drift_detected"])
            #expect(try drifts.first?.decode(PriceDriftDetected.self).observed == Money(minorUnits: 1_900, currency: .gbp))
            let (unpriced, missing) = try await send(client, .post, "/v1/pricing/quote", key: keys["till"],
                                                     basket.replacingOccurrences(of: #""channel":"web""#, with: #""channel":"pos""#))
            #expect(unpriced == .unprocessableContent && (missing["detail"] as? String)?.contains("no price for SHIRT") == true, "\(missing)")
        }
    }

    @Test func categoriesScopePromotionsCouponsRedeemToTheirLimitAndPriceChangesAreFollowed() async throws {
        let (app, keys, store) = try await app()
        try await app.test(.router) { client in
            let products = #"{"products":[{"sku":"SHIRT","name":"Shirt","categories":["tops","summer"]},{"sku":"MUG","name":"Mug","categories":["kitchen"]}]}"#
            let (stored, answer) = try await send(client, .post, "/v1/products", key: keys["erp"], products)
            #expect(stored == .ok, "\(answer)")
            let (badCategory, why) = try await send(client, .post, "/v1/products", key: keys["erp"],
                                                    #"{"products":[{"sku":"SOCKS","name":"Socks","categories":[""]}]}"#)
            #expect(badCategory == .badRequest && "\(why)".contains("products[0].categories"), "\(why)")
            #expect(try await store.products(["SHIRT"])["SHIRT"]?.categories == ["tops", "summer"])
            #expect(try await send(client, .post, "/v1/products", key: keys["erp"], #"{"products":[{"sku":"SHIRT","name":"Shirt (renamed)"}]}"#).0 == .ok)
            #expect(try await store.products(["SHIRT"])["SHIRT"]?.categories == ["tops", "summer"], "a product sent without categories keeps them")
            let (set, change) = try await send(client, .put, "/v1/prices", key: keys["erp"], """
                {"channel":"web","country":"GB","currency":"GBP","prices":[{"sku":"SHIRT","price":"20.00","from":"2026-01-01T00:00:00Z"},
                 {"sku":"MUG","price":"6.00","from":"2026-01-01T00:00:00Z"}]}
                """)
            let id = try #require(change["change"] as? String, "\(change)")
            #expect(set == .ok && change["channel"] as? String == "web" && (change["prices"] as? [Any])?.count == 2)
            let (found, again) = try await send(client, .get, "/v1/pricing/changes/\(id)", key: keys["till"])
            #expect(found == .ok && again["change"] as? String == id && (again["channels"] as? [Any])?.isEmpty == true, "no channel configured here")
            #expect(try await send(client, .get, "/v1/pricing/changes/evt_none", key: keys["till"]).0 == .notFound)

            let summer = """
                {"id":"summer","name":"Summer tops 50 %","type":"percent_off","basis_points":5000,"scope":{"categories":["summer"]},
                 "from":"2026-01-01T00:00:00Z","until":"2099-01-01T00:00:00Z","coupon":"SUN","usage_limit":3}
                """
            #expect(try await send(client, .post, "/v1/promotions", key: keys["erp"], summer).0 == .created)
            let (taken, codeProblem) = try await send(client, .post, "/v1/promotions", key: keys["erp"],
                                                      summer.replacingOccurrences(of: #""id":"summer""#, with: #""id":"summer2""#))
            #expect(taken == .conflict && codeProblem["field"] as? String == "coupon", "a code names one promotion: \(codeProblem)")
            let basket = { (reference: String) in """
                {"channel":"web","country":"GB","currency":"GBP","coupons":["SUN"],"reference":"\(reference)",
                 "lines":[{"sku":"SHIRT","quantity":1},{"sku":"MUG","quantity":1}]}
                """ }
            let (_, quote) = try await send(client, .post, "/v1/pricing/quote", key: keys["till"], basket("none"))
            #expect(quote["discount_total"] as? String == "10.00", "half off the summer shirt only: \(quote)")
            #expect(try await store.streamVersion("coupon/SUN") == 0, "a quote redeems nothing")
            // The quote's JSON is written by hand: what a client sends comes back escaped.
            let odd = basket("none").replacingOccurrences(of: #"["SUN"]"#, with: #"["say \"hi\" \\ \u0001 é"]"#)
            let (oddStatus, oddQuote) = try await send(client, .post, "/v1/pricing/quote", key: keys["till"], odd)
            #expect(oddStatus == .ok && (oddQuote["rejected_coupons"] as? [String: String])?["say \"hi\" \\ \u{01} é"] == "no promotion has this code", "\(oddQuote)")

            // Checkouts redeem the coupon to its limit of three; the fourth is priced without it.
            var results: [String] = []
            for order in 0..<4 {
                let (status, body) = try await send(client, .post, "/v1/pricing/redemptions", key: keys["till"], basket("order-\(order)"))
                #expect(status == .ok, "\(body)")
                results.append("\(body["discount_total"] ?? "-") \((body["rejected_coupons"] as? [String: String])?["SUN"] ?? "")")
            }
            #expect(results == ["10.00 ", "10.00 ", "10.00 ", "0.00 used up (3 uses)"], "\(results)")
            #expect(try await store.streamVersion("coupon/SUN") == 3)
            let (repeated, problem) = try await send(client, .post, "/v1/pricing/redemptions", key: keys["till"], basket("order-0"))
            #expect(repeated == .conflict && problem["field"] as? String == "reference", "\(problem)")
            #expect(try await send(client, .post, "/v1/pricing/redemptions", key: keys["till"], basket("")).0 == .badRequest)
            let backdated = basket("order-9").replacingOccurrences(of: #""reference":"order-9","#, with: #""reference":"order-9","at":"2026-05-01T12:00:00Z","#)
            let (refusedAt, atProblem) = try await send(client, .post, "/v1/pricing/redemptions", key: keys["till"], backdated)
            #expect(refusedAt == .badRequest && atProblem["field"] as? String == "at", "\(atProblem)")
            #expect(try await send(client, .post, "/v1/pricing/redemptions", key: keys["shop"], basket("order-10")).0 == .forbidden,
                    "spending coupon uses takes orders:write")
        }
    }

    @Test func checkoutsRacingForACouponsLastUsesNeverGetMoreThanItsLimit() async throws {
        let (_, _, store) = try await app()
        var policy = PricingService.Policy()
        policy.taxRules = ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [2000])]
        let service = PricingService(store: store, policy: policy)
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        _ = try await service.setPrices([.init(sku: "SHIRT", price: Money(minorUnits: 2_000, currency: .gbp), from: start, until: nil)],
                                        channel: "web", country: "GB", source: "erp")
        _ = try await service.putPromotion(Promotion(id: "five", name: "£5 off", kind: .amountOff(Money(minorUnits: 500, currency: .gbp)),
                                                     from: start, until: Date() + 86_400, coupon: "FIVE", usageLimit: 5), source: "erp")
        let basket = try Basket(channel: "web", store: nil, country: "GB", currency: .gbp, lines: [try .init(sku: "SHIRT", quantity: 1)], coupons: ["FIVE"])
        let totals = try await withThrowingTaskGroup(of: Int64.self) { group in
            for order in 0..<24 {
                group.addTask { try await service.redeem(basket, at: Date(), reference: "order-\(order)", source: "web").discountTotal }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(totals.filter { $0 == 500 }.count == 5 && totals.filter { $0 == 0 }.count == 19, "\(totals)")
        let redeemed = try await store.readStream("coupon/FIVE", fromVersion: 1, limit: 100)
        #expect(Set(try redeemed.map { try $0.decode(CouponRedeemed.self).reference }).count == 5, "five different orders, once each")
    }
}
