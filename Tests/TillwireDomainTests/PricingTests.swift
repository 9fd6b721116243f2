import Foundation
import Testing
import TillwireDomain
import TillwireTesting

/// Price lists, promotions and the one pricing engine every channel uses.
@Suite struct PricingTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400
    let vat = TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 2000])

    func gbp(_ text: String) -> Money { try! Money(parsing: text, currency: .gbp) }

    func prices(channels: [ChannelID] = ["web", "pos"]) throws -> PriceBook {
        var entries: [PriceEntry] = []
        for channel in channels {
            entries.append(try PriceEntry(sku: "SHIRT", channel: channel, country: "GB", price: gbp("20.00"), from: t0 - day, version: 1))
            entries.append(try PriceEntry(sku: "MUG", channel: channel, country: "GB", price: gbp("6.00"), from: t0 - day, version: 1))
            entries.append(try PriceEntry(sku: "SOCKS", channel: channel, country: "GB", price: gbp("3.00"), from: t0 - day, version: 1))
        }
        return PriceBook(entries)
    }

    func basket(_ lines: [(SKU, Int64)], channel: ChannelID = "web", store: LocationID? = nil, coupons: Set<String> = []) throws -> Basket {
        try Basket(channel: channel, store: store, country: "GB", currency: .gbp, lines: lines.map { try Basket.Line(sku: $0.0, quantity: $0.1) },
                   coupons: coupons)
    }

    func promotion(_ id: String, _ kind: Promotion.Kind, scope: PromotionScope = PromotionScope(), priority: Int = 0,
                   stacking: Promotion.Stacking = .stackable, coupon: String? = nil, limit: Int? = nil) -> Promotion {
        Promotion(id: id, name: id, kind: kind, scope: scope, from: t0 - day, until: t0 + 7 * day, priority: priority, stacking: stacking,
                  coupon: coupon, usageLimit: limit)
    }

    func quote(_ basket: Basket, _ promotions: [Promotion], couponUses: [String: Int] = [:], rule: TaxRule? = nil) throws -> Quote {
        try PricingEngine.quote(basket, facts: PricingFacts(prices: try prices(), promotions: promotions, categories: ["SOCKS": ["accessories"]],
                                                            taxRule: rule ?? vat, defaultTaxRate: 2000, couponUses: couponUses), at: t0)
    }

    @Test func thePriceAtAnyTimeIsTheLatestVersionWhoseWindowHoldsIt() throws {
        let book = PriceBook([
            try PriceEntry(sku: "SHIRT", channel: "web", country: "GB", price: gbp("20.00"), from: t0 - 10 * day, version: 1),
            try PriceEntry(sku: "SHIRT", channel: "web", country: "GB", price: gbp("15.00"), from: t0, until: t0 + day, version: 2),
            try PriceEntry(sku: "SHIRT", channel: "web", country: "DE", price: Money(minorUnits: 2_200, currency: .eur), from: t0 - 10 * day, version: 1),
        ])
        #expect(book.price(of: "SHIRT", channel: "web", country: "GB", at: t0 - day)?.price == gbp("20.00"))
        #expect(book.price(of: "SHIRT", channel: "web", country: "GB", at: t0 + 3_600)?.price == gbp("15.00"), "the sale price in its window")
        #expect(book.price(of: "SHIRT", channel: "web", country: "GB", at: t0 + 2 * day)?.price == gbp("20.00"), "back after it")
        #expect(book.price(of: "SHIRT", channel: "pos", country: "GB", at: t0) == nil)
        #expect(throws: DomainError.self) { try PriceEntry(sku: "X", channel: "web", country: "GB", price: gbp("-1.00"), from: t0, version: 1) }
    }

    @Test func eachKindOfPromotionTakesOffWhatItSays() throws {
        let lines: [(SKU, Int64)] = [("SHIRT", 2), ("MUG", 3), ("SOCKS", 1)]
        let percent = try quote(try basket(lines), [promotion("p20", .percentOff(basisPoints: 2000), scope: PromotionScope(skus: ["SHIRT"]))])
        #expect(percent.lines[0].net == 3_200 && percent.lines[1].net == 1_800 && percent.discountTotal == 800)
        let amount = try quote(try basket(lines), [promotion("a1", .amountOff(gbp("1.00")), scope: PromotionScope(skus: ["MUG"]))])
        #expect(amount.lines[1].net == 1_500 && amount.applied == [Quote.Discount(promotion: "a1", amount: 300)])
        let fixed = try quote(try basket(lines), [promotion("f", .fixedPrice(gbp("15.00")), scope: PromotionScope(skus: ["SHIRT"]))])
        #expect(fixed.lines[0].net == 3_000)
        let twoForOne = try quote(try basket([("MUG", 3), ("SOCKS", 4)]), [promotion("b2g1", .buyXGetY(buy: 2, get: 1, basisPoints: 10_000))])
        // 7 units earn 2 free, the cheapest: two pairs of socks.
        #expect(twoForOne.discountTotal == 600 && twoForOne.lines[1].net == 600)
        let bundle = try quote(try basket([("SHIRT", 1), ("MUG", 2)]), [promotion("kit", .bundle(items: ["SHIRT": 1, "MUG": 1], price: gbp("22.00")))])
        #expect(bundle.discountTotal == 400, "one bundle: 26.00 for 22.00")
        #expect(bundle.lines[0].discounts.first?.amount == 250 && bundle.lines[1].discounts.first?.amount == 150, "spread over the lines by their amounts")
        let threshold = try quote(try basket(lines), [promotion("t", .threshold(minimum: gbp("50.00"), off: gbp("5.00"), basisPoints: nil))])
        #expect(threshold.discountTotal == 500 && threshold.lines.map(\.net).reduce(0, +) == 6_100 - 500)
        let under = try quote(try basket([("MUG", 1)]), [promotion("t", .threshold(minimum: gbp("50.00"), off: gbp("5.00"), basisPoints: nil))])
        #expect(under.discountTotal == 0 && under.applied.isEmpty)
        let byCategory = try quote(try basket(lines), [promotion("acc", .percentOff(basisPoints: 5000), scope: PromotionScope(categories: ["accessories"]))])
        #expect(byCategory.lines[2].net == 150 && byCategory.discountTotal == 150)
    }

    @Test func stackingAndPriorityDecideWhoGetsALine() throws {
        let lines: [(SKU, Int64)] = [("SHIRT", 1), ("MUG", 1)]
        let exclusive = promotion("vip", .percentOff(basisPoints: 3000), scope: PromotionScope(skus: ["SHIRT"]), priority: 10, stacking: .exclusive)
        let stackable = promotion("all10", .percentOff(basisPoints: 1000), priority: 1)
        let first = try quote(try basket(lines), [stackable, exclusive])
        #expect(first.lines[0].discounts.map(\.promotion) == ["vip"], "the exclusive one, higher, keeps the shirt to itself")
        #expect(first.lines[1].discounts.map(\.promotion) == ["all10"])
        let lowExclusive = promotion("vip", .percentOff(basisPoints: 3000), scope: PromotionScope(skus: ["SHIRT"]), priority: 0, stacking: .exclusive)
        let second = try quote(try basket(lines), [promotion("all10", .percentOff(basisPoints: 1000), priority: 5), lowExclusive])
        #expect(second.lines[0].discounts.map(\.promotion) == ["all10"], "a line already discounted is not the exclusive one's")
        let stacked = try quote(try basket([("SHIRT", 1)]), [promotion("a", .percentOff(basisPoints: 1000), priority: 2),
                                                             promotion("b", .percentOff(basisPoints: 1000), priority: 1)])
        #expect(stacked.lines[0].net == 1_620, "10 % then 10 % of what is left")
    }

    @Test func couponsAreNeededAndUsedUp() throws {
        let coupon = promotion("c", .amountOff(gbp("2.00")), coupon: "SAVE2", limit: 100)
        #expect(try quote(try basket([("MUG", 1)]), [coupon]).discountTotal == 0, "no code, no discount")
        #expect(try quote(try basket([("MUG", 1)], coupons: ["SAVE2"]), [coupon]).discountTotal == 200)
        let usedUp = try quote(try basket([("MUG", 1)], coupons: ["SAVE2", "BOGUS"]), [coupon], couponUses: ["SAVE2": 100])
        #expect(usedUp.discountTotal == 0 && usedUp.rejectedCoupons == ["SAVE2": "used up (100 uses)", "BOGUS": "no promotion has this code"])
    }

    @Test func taxIsInsideVATPricesAndOnTopOfSalesTaxPrices() throws {
        let inclusive = try quote(try basket([("SHIRT", 1), ("MUG", 1)]), [])
        #expect(inclusive.taxTotal == 333 + 100 && inclusive.total == 2_600)
        let exclusive = try quote(try basket([("SHIRT", 1), ("MUG", 1)]), [], rule: TaxRule(country: "US", kind: .salesTaxExclusive))
        #expect(exclusive.taxTotal == 400 + 120 && exclusive.total == 2_600 + 520)
    }

    @Test func theSameBasketCostsTheSameInEveryChannelThePromotionCovers() throws {
        let promotions = [promotion("winter", .percentOff(basisPoints: 1500), scope: PromotionScope(channels: ["web", "pos"])),
                          promotion("web-only", .amountOff(gbp("1.00")), scope: PromotionScope(channels: ["web"]), priority: -1)]
        let web = try quote(try basket([("SHIRT", 2)]), promotions.filter { $0.id == "winter" })
        let pos = try quote(try basket([("SHIRT", 2)], channel: "pos", store: "store-1"), promotions)
        #expect(web == pos, "one engine, one price")
        let webWithItsOwn = try quote(try basket([("SHIRT", 2)]), promotions)
        #expect(webWithItsOwn.total == web.total - 200)
    }

    @Test func pricingRulesHoldForRandomBasketsAndPromotions() throws {
        var generator = SeededGenerator(seed: 42)
        let skus: [SKU] = ["SHIRT", "MUG", "SOCKS"]
        for round in 0..<400 {
            var promotions: [Promotion] = []
            for index in 0..<Int.random(in: 0...6, using: &generator) {
                let scope = switch Int.random(in: 0...2, using: &generator) {
                case 0: PromotionScope(skus: [skus.randomElement(using: &generator)!])
                case 1: PromotionScope(categories: ["accessories"])
                default: PromotionScope()
                }
                let kind: Promotion.Kind = switch Int.random(in: 0...5, using: &generator) {
                case 0: .percentOff(basisPoints: Int64.random(in: 1...10_000, using: &generator))
                case 1: .amountOff(Money(minorUnits: Int64.random(in: 1...3_000, using: &generator), currency: .gbp))
                case 2: .fixedPrice(Money(minorUnits: Int64.random(in: 0...2_500, using: &generator), currency: .gbp))
                case 3: .buyXGetY(buy: Int64.random(in: 1...3, using: &generator), get: Int64.random(in: 1...2, using: &generator),
                                  basisPoints: Int64.random(in: 1...10_000, using: &generator))
                case 4: .bundle(items: ["SHIRT": 1, "MUG": Int64.random(in: 1...2, using: &generator)], price: Money(minorUnits: Int64.random(in: 0...4_000, using: &generator), currency: .gbp))
                default: .threshold(minimum: Money(minorUnits: Int64.random(in: 1...10_000, using: &generator), currency: .gbp),
                                    off: Bool.random(using: &generator) ? Money(minorUnits: Int64.random(in: 1...5_000, using: &generator), currency: .gbp) : nil,
                                    basisPoints: nil)
                }
                let fixedKind: Promotion.Kind
                if case let .threshold(minimum, off, _) = kind, off == nil {
                    fixedKind = .threshold(minimum: minimum, off: nil, basisPoints: Int64.random(in: 1...5_000, using: &generator))
                } else {
                    fixedKind = kind
                }
                promotions.append(promotion("p\(index)", fixedKind, scope: scope, priority: Int.random(in: 0...3, using: &generator),
                                            stacking: Bool.random(using: &generator) ? .exclusive : .stackable))
            }
            let lines = try (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                (skus.randomElement(using: &generator)!, Int64.random(in: 1...6, using: &generator))
            }
            let rule = round % 2 == 0 ? vat : TaxRule(country: "US", kind: .salesTaxExclusive)
            let priced = try quote(try basket(lines), promotions, rule: rule)
            #expect(try quote(try basket(lines), promotions, rule: rule) == priced, "deterministic")
            for line in priced.lines {
                #expect(line.net >= 0 && line.net <= line.gross, "a discount never exceeds the price (round \(round))")
                #expect(line.gross - line.discounts.reduce(0) { $0 + $1.amount } == line.net, "the line adds up (round \(round))")
                let rank = Dictionary(uniqueKeysWithValues: promotions.map { ($0.id, $0.priority) })
                #expect(zip(line.discounts, line.discounts.dropFirst()).allSatisfy { rank[$0.promotion]! >= rank[$1.promotion]! },
                        "promotions take a line in priority order (round \(round))")
                if promotions.contains(where: { $0.scope.categories != nil }) && line.sku != "SOCKS" {
                    #expect(!line.discounts.contains { id in promotions.first { $0.id == id.promotion }?.scope.categories != nil },
                            "a category scope takes only the SKUs in it (round \(round))")
                }
                let exclusive = Set(promotions.filter { $0.stacking == .exclusive && !isThreshold($0) }.map(\.id))
                if line.discounts.contains(where: { exclusive.contains($0.promotion) }) {
                    #expect(line.discounts.filter { !isThresholdID($0.promotion, promotions) }.count == 1, "an exclusive promotion is alone on its line (round \(round))")
                }
            }
            #expect(priced.subtotal - priced.discountTotal == priced.lines.reduce(0) { $0 + $1.net })
            #expect(priced.applied.reduce(0) { $0 + $1.amount } == priced.discountTotal, "each discount names its promotion")
            #expect(priced.total == priced.lines.reduce(0) { $0 + $1.net } + (rule.kind == .salesTaxExclusive ? priced.taxTotal : 0))
        }
    }

    func isThreshold(_ promotion: Promotion) -> Bool { if case .threshold = promotion.kind { true } else { false } }
    func isThresholdID(_ id: String, _ promotions: [Promotion]) -> Bool { promotions.first { $0.id == id }.map(isThreshold) ?? false }

    @Test func theLargestBasketAtTheLargestPricesNeverLeaves64Bits() throws {
        let book = PriceBook([try PriceEntry(sku: "GOLD", channel: "web", country: "GB", price: Money(minorUnits: PriceEntry.maximum, currency: .gbp),
                                             from: t0 - day, version: 1)])
        let lines = try (0..<500).map { _ in try Basket.Line(sku: "GOLD", quantity: Basket.Line.maximumQuantity) }
        let basket = try Basket(channel: "web", store: nil, country: "GB", currency: .gbp, lines: lines)
        let promotions = [
            promotion("bundle", .bundle(items: ["GOLD": 1], price: Money.zero(.gbp)), priority: 3),
            promotion("b1g1", .buyXGetY(buy: 1, get: 1, basisPoints: 10_000), priority: 2),
            promotion("half", .threshold(minimum: gbp("1.00"), off: nil, basisPoints: 5_000), priority: 1),
            promotion("off", .amountOff(Money(minorUnits: PriceEntry.maximum, currency: .gbp))),
        ]
        for rule in [vat, TaxRule(country: "US", kind: .salesTaxExclusive)] {
            let quote = try PricingEngine.quote(basket, facts: PricingFacts(prices: book, promotions: promotions, taxRule: rule, defaultTaxRate: 2000), at: t0)
            #expect(quote.subtotal == 500 * Basket.Line.maximumQuantity * PriceEntry.maximum)
            #expect(quote.subtotal - quote.discountTotal == quote.lines.reduce(0) { $0 + $1.net })
            #expect(quote.lines.allSatisfy { $0.net >= 0 })
        }
        #expect(throws: DomainError.self) { try Basket.Line(sku: "GOLD", quantity: Basket.Line.maximumQuantity + 1) }
        let tooMuch = promotion("x", .amountOff(Money(minorUnits: PriceEntry.maximum + 1, currency: .gbp)))
        #expect(PromotionRules.problems(tooMuch, existing: [], now: t0).map(\.field) == ["kind.amount"])
    }

    @Test func promotionRulesAreCheckedAndConflictsReported() {
        let running = promotion("vip", .percentOff(basisPoints: 3000), scope: PromotionScope(skus: ["SHIRT"]), priority: 5, stacking: .exclusive)
        let clash = promotion("staff", .percentOff(basisPoints: 2000), scope: PromotionScope(channels: ["pos"]), priority: 5, stacking: .exclusive)
        let problems = PromotionRules.problems(clash, existing: [running], now: t0)
        #expect(problems.map(\.conflictsWith) == ["vip"])
        let higher = promotion("staff", .percentOff(basisPoints: 2000), scope: PromotionScope(channels: ["pos"]), priority: 6, stacking: .exclusive)
        #expect(PromotionRules.problems(higher, existing: [running], now: t0).isEmpty, "an explicit priority settles it")
        let elsewhere = promotion("socks", .percentOff(basisPoints: 2000), scope: PromotionScope(skus: ["SOCKS"]), priority: 5, stacking: .exclusive)
        #expect(PromotionRules.problems(elsewhere, existing: [running], now: t0).isEmpty, "scopes that never meet")
        let past = Promotion(id: "old", name: "old", kind: .percentOff(basisPoints: 1000), from: t0 - 9 * day, until: t0 - day)
        #expect(PromotionRules.problems(past, existing: [], now: t0).map(\.field) == ["until"])
        let nonsense = promotion("x", .fixedPrice(Money(minorUnits: -1, currency: .gbp)), limit: 5)
        #expect(PromotionRules.problems(nonsense, existing: [], now: t0).map(\.field) == ["kind.price", "usage_limit"])
    }
}
