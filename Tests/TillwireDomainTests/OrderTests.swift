import Foundation
import Testing
import TillwireDomain

/// The canonical order's amounts, the validation gate, and the channel status tables.
@Suite struct OrderTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let gbp = Currency.gbp, usd = Currency.usd

    func money(_ text: String, _ currency: Currency) -> Money { try! Money(parsing: text, currency: currency) }

    /// A UK web order: 2 shirts at £24.00 with a £4.00 discount, VAT 20 % included, £3.95 shipping (VAT included).
    func ukOrder(total: String = "47.95", lineTax: String = "7.33", authorized: String = "47.95", captured: String = "0",
                 currency: Currency? = nil, email: String? = "ann@example.org") throws -> Order {
        let line = try OrderLine(
            id: "11", sku: "SHIRT-M", quantity: 2, unitPrice: money("24.00", gbp),
            discounts: [try Discount(amount: money("4.00", gbp), code: "WINTER")],
            taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money(lineTax, currency ?? gbp))])
        return try Order(
            id: "o-1", channel: "web-uk", channelOrderID: "450789469412345678", placedAt: t0, currency: gbp, taxesIncluded: true,
            customer: Customer(id: "207119551", email: email, name: "Ann"), shipTo: try Address(country: "GB", postalCode: "LS1 4AP"),
            lines: [line], shipping: try Shipping(price: money("3.95", gbp), taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("0.66", gbp))]),
            payments: try Payments(authorized: money(authorized, gbp), captured: money(captured, gbp), refunded: money("0", gbp)),
            fulfilment: try Fulfilment(.shipFromDC), total: money(total, gbp))
    }

    /// A US order to California: 3 mugs at $10.00, 7.25 % sales tax on top, free shipping.
    func usOrder(taxLines: [TaxLine]? = nil, total: String = "32.18") throws -> Order {
        let line = try OrderLine(id: "1", sku: "MUG", quantity: 3, unitPrice: money("10.00", usd),
                                 taxLines: taxLines ?? [try TaxLine(title: "CA State Tax", rateBasisPoints: 725, amount: money("2.18", usd))])
        return try Order(
            id: "o-2", channel: "web-us", channelOrderID: "5001", placedAt: t0, currency: usd, taxesIncluded: false,
            customer: Customer(email: "bo@example.org"), shipTo: try Address(country: "US", region: "CA"), lines: [line], shipping: nil,
            payments: try Payments(authorized: money("32.18", usd), captured: money("0", usd), refunded: money("0", usd)),
            fulfilment: try Fulfilment(.shipFromStore), total: money(total, usd))
    }

    var facts: GateFacts {
        GateFacts(
            products: ["SHIRT-M": Product(trusted: "SHIRT-M", name: "Shirt", allowBackorder: false), "MUG": Product(trusted: "MUG", name: "Mug", allowBackorder: false)],
            taxRules: ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 500, 2000]),
                       "US": TaxRule(country: "US", kind: .salesTaxExclusive, rates: [725, 825, 888])],
            reserved: ["11": 2, "1": 3])
    }

    @Test func amountsThatAddUpPassAndOnesThatDoNotHoldTheOrderSayingWhy() throws {
        let order = try ukOrder()
        #expect(try order.computedTotal() == money("47.95", gbp), "2 × 24.00 − 4.00 + 3.95, VAT included")
        #expect(order.amountProblems().isEmpty)
        #expect(try usOrder().amountProblems().isEmpty, "30.00 + 2.18 tax on top")

        let off = try ukOrder(total: "49.95").amountProblems()
        #expect(off == [HoldReason(.amountsMismatch, "the lines, discounts, tax and shipping add up to 47.95 GBP, the order states 49.95 GBP")])
        #expect(try ukOrder(currency: .eur).amountProblems().map(\.code) == [.currencyMismatch])
    }

    @Test func theGateLetsAConsistentOrderThroughAndNamesEveryFailingCheck() throws {
        #expect(OrderGate.reasons(try ukOrder(), facts: facts).isEmpty)
        #expect(OrderGate.reasons(try usOrder(), facts: facts).isEmpty)

        var unreserved = facts
        unreserved.reserved = ["11": 1]
        #expect(OrderGate.reasons(try ukOrder(), facts: unreserved).map(\.code) == [.stockNotReserved])
        #expect(OrderGate.reasons(try ukOrder(), facts: unreserved, stage: .beforeReservation).isEmpty, "stock is checked only before release")

        #expect(OrderGate.reasons(try ukOrder(authorized: "40.00"), facts: facts).map(\.code) == [.paymentNotAuthorized])
        #expect(OrderGate.reasons(try ukOrder(authorized: "0", captured: "47.95"), facts: facts).isEmpty, "captured covers the total")

        var unknown = facts
        unknown.products["SHIRT-M"] = nil
        #expect(OrderGate.reasons(try ukOrder(), facts: unknown).map(\.code) == [.unknownSKU])
        var assortment = facts
        assortment.assortment = ["MUG"]
        #expect(OrderGate.reasons(try ukOrder(), facts: assortment).map(\.code) == [.notSellable])

        var noRule = facts
        noRule.taxRules["GB"] = nil
        #expect(OrderGate.reasons(try ukOrder(), facts: noRule) == [HoldReason(.taxMissing, "no tax rule is configured for GB (tax.GB)")])
    }

    @Test func aMarketplaceChannelRequiresCaptureAndTheCustomersEmail() throws {
        var strict = facts
        strict.strict = true
        #expect(Set(OrderGate.reasons(try ukOrder(email: nil), facts: strict).map(\.code)) == [.paymentNotCaptured, .customerIncomplete])
        #expect(OrderGate.reasons(try ukOrder(authorized: "47.95", captured: "47.95"), facts: strict).isEmpty)
    }

    @Test func taxMustBePresentAndMatchTheCountrysRates() throws {
        // VAT included: 20 % of 44.00 is 44.00 × 20/120 = 7.33.
        #expect(OrderGate.taxReasons(try ukOrder(lineTax: "7.33"), facts: facts).isEmpty)
        #expect(OrderGate.taxReasons(try ukOrder(lineTax: "8.80"), facts: facts).map(\.code) == [.taxInconsistent], "20 % on top is not VAT included")

        let wrongRate = try usOrder(taxLines: [try TaxLine(title: "Tax", rateBasisPoints: 1000, amount: money("3.00", usd))], total: "33.00")
        #expect(OrderGate.taxReasons(wrongRate, facts: facts) == [HoldReason(.taxInconsistent, "line 1: rate 10 % is not a rate of US (7.25 %, 8.25 %, 8.88 %)")])
        let untaxed = try usOrder(taxLines: [], total: "30.00")
        #expect(OrderGate.taxReasons(untaxed, facts: facts) == [HoldReason(.taxMissing, "line 1 has no tax; US taxes it")])

        let rateless = try usOrder(taxLines: [try TaxLine(title: "Tax", rateBasisPoints: nil, amount: money("0.01", usd))], total: "30.01")
        #expect(OrderGate.taxReasons(rateless, facts: facts).map(\.code) == [.taxInconsistent], "a tax line without a rate cannot pass unchecked")

        // VAT stated on top of net prices (as WooCommerce reports lines) is the same money: checked as stated.
        let netLine = try OrderLine(id: "11", sku: "SHIRT-M", quantity: 2, unitPrice: money("20.00", gbp),
                                    taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("8.00", gbp))])
        let net = try Order(
            id: "o-3", channel: "web-uk", channelOrderID: "728", placedAt: t0, currency: gbp, taxesIncluded: false,
            customer: Customer(email: "ann@example.org"), shipTo: try Address(country: "GB"), lines: [netLine], shipping: nil,
            payments: try Payments(authorized: money("48.00", gbp), captured: money("0", gbp), refunded: money("0", gbp)),
            fulfilment: try Fulfilment(.shipFromDC), total: money("48.00", gbp))
        #expect(OrderGate.reasons(net, facts: facts).isEmpty, "20 % on top of 40.00 is 8.00 of VAT")
        let netWrong = try Order(
            id: "o-3", channel: "web-uk", channelOrderID: "728", placedAt: t0, currency: gbp, taxesIncluded: false,
            customer: Customer(email: "ann@example.org"), shipTo: try Address(country: "GB"),
            lines: [try OrderLine(id: "11", sku: "SHIRT-M", quantity: 2, unitPrice: money("20.00", gbp),
                                  taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("6.67", gbp))])],
            shipping: nil, payments: try Payments(authorized: money("46.67", gbp), captured: money("0", gbp), refunded: money("0", gbp)),
            fulfilment: try Fulfilment(.shipFromDC), total: money("46.67", gbp))
        #expect(OrderGate.taxReasons(netWrong, facts: facts).map(\.code) == [.taxInconsistent], "VAT worked out as if included, on net prices")

        var flipped = facts
        flipped.taxRules["GB"] = TaxRule(country: "GB", kind: .salesTaxExclusive)
        #expect(OrderGate.taxReasons(try ukOrder(), facts: flipped).map(\.code) == [.taxInconsistent])
        flipped.taxRules["GB"] = TaxRule(country: "GB", kind: .unchecked)
        #expect(OrderGate.taxReasons(try ukOrder(lineTax: "0.01"), facts: flipped).isEmpty)
    }

    @Test func anOrderIsRefusedOnlyForWhatCannotBeAnOrder() throws {
        #expect(throws: DomainError.self) { try Fulfilment(.pickUpInStore) }
        #expect(throws: DomainError.self) { try Fulfilment(.shipFromDC, pickupStore: "store-12") }
        #expect(throws: DomainError.self) { try Address(country: "gb") }
        #expect(throws: DomainError.self) { try OrderLine(id: "1", sku: "MUG", quantity: 0, unitPrice: money("1", usd)) }
        #expect(throws: DomainError.self) { try Payments(authorized: money("10", usd), captured: money("5", usd), refunded: money("6", usd)) }
        let pickup = try Order(
            id: "o-3", channel: "web-uk", channelOrderID: "1001", placedAt: t0, currency: gbp, taxesIncluded: true, customer: Customer(),
            shipTo: nil, lines: [try OrderLine(id: "1", sku: "MUG", quantity: 1, unitPrice: money("5.00", gbp))], shipping: nil,
            payments: try Payments(authorized: money("5.00", gbp), captured: money("0", gbp), refunded: money("0", gbp)),
            fulfilment: try Fulfilment(.pickUpInStore, pickupStore: "store-12"), total: money("5.00", gbp))
        var facts = self.facts
        facts.pickupCountry = "GB"
        facts.reserved = ["1": 1]
        #expect(OrderGate.reasons(pickup, facts: facts).isEmpty, "GB has a 0 % rate, so an untaxed line passes; the pickup store's country applies")
        #expect(throws: DomainError.self, "a shipped order needs an address") {
            try Order(id: "o-4", channel: "web-uk", channelOrderID: "1002", placedAt: t0, currency: gbp, taxesIncluded: true, customer: Customer(),
                      shipTo: nil, lines: pickup.lines, shipping: nil, payments: pickup.payments, fulfilment: try Fulfilment(.shipFromDC), total: pickup.total)
        }
    }

    /// Every combination of every platform's known values maps to a status (or to "not an order yet"): no gaps.
    @Test(arguments: ChannelStatusMapping.Platform.allCases)
    func everyKnownStatusCombinationMaps(_ platform: ChannelStatusMapping.Platform) throws {
        var combinations: [[String]] = [[]]
        for values in platform.knownValues { combinations = combinations.flatMap { prefix in values.map { prefix + [$0] } } }
        for values in combinations {
            let meaning = try ChannelStatusMapping.meaning(platform, values)
            #expect((meaning.status == .onHold) == (meaning.holdReason != nil), "\(platform) \(values)")
        }
        #expect(throws: DomainError.invalidOrder("unknown \(platform.rawValue) \(platform.fields[0]) 'shipped-ish'")) {
            try ChannelStatusMapping.meaning(platform, ["shipped-ish"] + Array(repeating: platform.knownValues.last![0], count: platform.fields.count - 1))
        }
    }

    @Test(arguments: [
        ("paid", nil, nil, OrderStatus.captured),
        ("authorized", nil, nil, .captured),
        ("pending", nil, nil, .captured),
        ("paid", "partial", nil, .partiallyFulfilled),
        ("paid", "fulfilled", nil, .fulfilled),
        ("partially_refunded", "fulfilled", nil, .partiallyReturned),
        ("refunded", "fulfilled", nil, .returned),
        ("refunded", nil, nil, .cancelled),
        ("voided", nil, "2026-11-27T10:00:00Z", .cancelled),
        ("paid", "fulfilled", "2026-11-27T10:00:00Z", .cancelled),
        ("expired", nil, nil, .onHold),
    ] as [(String, String?, String?, OrderStatus)])
    func shopifyFinancialTimesFulfillmentTimesCancellation(financial: String, fulfillment: String?, cancelledAt: String?, status: OrderStatus) throws {
        #expect(try ChannelStatusMapping.shopify(financialStatus: financial, fulfillmentStatus: fulfillment, cancelledAt: cancelledAt).status == status)
    }

    @Test func wooCommerceTrytonAndPOS() throws {
        let woo = { (status: String) throws in try ChannelStatusMapping.meaning(.woocommerce, [status]) }
        #expect(try woo("processing").status == .captured)
        #expect(try woo("on-hold") == ChannelStatusMeaning(status: .onHold, holdReason: "awaiting payment confirmation in WooCommerce"))
        #expect(try woo("completed").status == .fulfilled)
        #expect(try woo("checkout-draft").status == nil, "a draft checkout is not an order yet")
        let tryton = { (state: String, shipment: String) throws in try ChannelStatusMapping.meaning(.tryton, [state, shipment]).status }
        #expect(try tryton("quotation", "none") == nil)
        #expect(try tryton("confirmed", "none") == .validated)
        #expect(try tryton("processing", "waiting") == .released)
        #expect(try tryton("processing", "partially shipped") == .partiallyFulfilled)
        #expect(try tryton("processing", "sent") == .fulfilled)
        #expect(try tryton("done", "sent") == .completed)
        #expect(try ChannelStatusMapping.meaning(.pos, ["completed"]).status == .completed)
    }
}

extension OrderTests {
    /// docs/orders.md prints each platform's table between `<!-- status:PLATFORM -->` markers; they are the code's.
    @Test(arguments: ChannelStatusMapping.Platform.allCases)
    func theDocumentedStatusTablesAreTheCodes(_ platform: ChannelStatusMapping.Platform) throws {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/orders.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let marker = "<!-- status:\(platform.rawValue) -->\n"
        guard let start = text.range(of: marker), let end = text.range(of: "\n<!-- end -->", range: start.upperBound..<text.endIndex) else {
            Issue.record("docs/orders.md has no \(marker) block")
            return
        }
        #expect(String(text[start.upperBound..<end.lowerBound]) == ChannelStatusMapping.markdownTable(platform),
                "regenerate the block from ChannelStatusMapping.markdownTable(.\(platform))")
    }
}
