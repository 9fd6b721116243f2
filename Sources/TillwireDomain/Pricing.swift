import Foundation

/// One price of a SKU on a channel in a country, from `from` until `until` (open-ended when nil). Prices are
/// versioned: a change is a new entry with a higher version, and the entries are never edited, so the price at any
/// past time can be read back.
public struct PriceEntry: Hashable, Sendable, Codable {
    public let sku: SKU
    public let channel: ChannelID
    /// ISO 3166-1 alpha-2.
    public let country: String
    /// The unit price as the channel shows it: tax included where the country's prices include it.
    public let price: Money
    public let from: Date
    public let until: Date?
    public let version: Int64

    public init(sku: SKU, channel: ChannelID, country: String, price: Money, from: Date, until: Date? = nil, version: Int64) throws(DomainError) {
        guard (0...PriceEntry.maximum).contains(price.minorUnits) else {
            throw .invalidPricing("a price is between 0 and \(PriceEntry.maximum) minor units: \(sku) at \(price)")
        }
        if let until, until <= from { throw .invalidPricing("a price's window ends after it starts (\(sku))") }
        self.sku = sku
        self.channel = channel
        self.country = country
        self.price = price
        self.from = from
        self.until = until
        self.version = version
    }

    public func applies(at time: Date) -> Bool { from <= time && until.map { time < $0 } ?? true }

    /// The largest unit price or promotion amount, in minor units (1 billion in a two-digit currency): with at most
    /// 10,000 units a line and 500 lines, every amount pricing computes stays inside 64 bits.
    public static let maximum: Int64 = 100_000_000_000
}

/// The prices of a channel and country, as of any time: the entry of the highest version whose window holds that time.
public struct PriceBook: Sendable {
    let entries: [SKU: [PriceEntry]]

    public init(_ entries: [PriceEntry]) {
        self.entries = Dictionary(grouping: entries, by: \.sku).mapValues { $0.sorted { $0.version > $1.version } }
    }

    public func price(of sku: SKU, channel: ChannelID, country: String, at time: Date) -> PriceEntry? {
        entries[sku]?.first { $0.channel == channel && $0.country == country && $0.applies(at: time) }
    }
}

/// Where a promotion applies; nil in a dimension means everywhere in it.
public struct PromotionScope: Hashable, Sendable, Codable {
    public var channels: Set<ChannelID>?
    public var stores: Set<LocationID>?
    public var countries: Set<String>?
    public var skus: Set<SKU>?
    public var categories: Set<String>?

    public init(channels: Set<ChannelID>? = nil, stores: Set<LocationID>? = nil, countries: Set<String>? = nil, skus: Set<SKU>? = nil,
                categories: Set<String>? = nil) {
        self.channels = channels
        self.stores = stores
        self.countries = countries
        self.skus = skus
        self.categories = categories
    }

    /// Whether the basket's channel, store and country are in scope.
    func admits(_ basket: Basket) -> Bool {
        (channels.map { $0.contains(basket.channel) } ?? true)
            && (stores.map { store in basket.store.map { store.contains($0) } ?? false } ?? true)
            && (countries.map { $0.contains(basket.country) } ?? true)
    }

    /// Whether two scopes can both apply to one line: every dimension intersects. A SKU scope and a category scope
    /// are taken to meet (whether a SKU is in a category is the catalog's to say, and may change).
    func overlaps(_ other: PromotionScope) -> Bool {
        func meet<T>(_ a: Set<T>?, _ b: Set<T>?) -> Bool { guard let a, let b else { return true }; return !a.isDisjoint(with: b) }
        let items: Bool
        if (skus == nil && categories == nil) || (other.skus == nil && other.categories == nil) {
            items = true
        } else if categories == nil && other.categories == nil {
            items = meet(skus, other.skus)
        } else if skus == nil && other.skus == nil {
            items = meet(categories, other.categories)
        } else {
            items = true
        }
        return meet(channels, other.channels) && meet(stores, other.stores) && meet(countries, other.countries) && items
    }
}

/// A promotion: what it takes off, where, when, and how it combines with others.
public struct Promotion: Hashable, Sendable, Codable {
    public enum Kind: Hashable, Sendable, Codable {
        /// A percentage off each unit in scope (basis points: 2000 = 20 %).
        case percentOff(basisPoints: Int64)
        /// An amount off each unit in scope.
        case amountOff(Money)
        /// Each unit in scope at this price (when it is lower).
        case fixedPrice(Money)
        /// For every `buy` units in scope, the next `get` cheapest are `basisPoints` off (10000: free).
        case buyXGetY(buy: Int64, get: Int64, basisPoints: Int64)
        /// These SKUs in these quantities together for `price`.
        case bundle(items: [SKU: Int64], price: Money)
        /// Off the basket once what is in scope comes to `minimum` (after line discounts): an amount or a percentage.
        case threshold(minimum: Money, off: Money?, basisPoints: Int64?)
    }

    public enum Stacking: String, Hashable, Sendable, Codable {
        /// Alone on the lines it applies to (on the basket, for a threshold).
        case exclusive
        /// On top of the promotions applied before it, on what is left of the price.
        case stackable
    }

    public let id: String
    public let name: String
    public let kind: Kind
    public let scope: PromotionScope
    public let from: Date
    public let until: Date
    /// Higher goes first. Two exclusive promotions that can meet need different priorities.
    public let priority: Int
    public let stacking: Stacking
    /// The code the customer gives; nil: automatic.
    public let coupon: String?
    /// How many baskets a coupon may be redeemed in; nil: unlimited.
    public let usageLimit: Int?

    public init(id: String, name: String, kind: Kind, scope: PromotionScope = PromotionScope(), from: Date, until: Date, priority: Int = 0,
                stacking: Stacking = .stackable, coupon: String? = nil, usageLimit: Int? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.scope = scope
        self.from = from
        self.until = until
        self.priority = priority
        self.stacking = stacking
        self.coupon = coupon
        self.usageLimit = usageLimit
    }

    public func isActive(at time: Date) -> Bool { from <= time && time < until }

    var isBasketLevel: Bool { if case .threshold = kind { true } else { false } }
}

/// A promotion rule that cannot be accepted, or a conflict with an existing promotion.
public struct PromotionProblem: Hashable, Sendable, Codable, CustomStringConvertible {
    public let field: String
    public let detail: String
    /// The existing promotion it conflicts with.
    public let conflictsWith: String?

    public var description: String { "\(field): \(detail)" }
}

public enum PromotionRules {
    /// Every problem of a new promotion: amounts and windows that make no sense, and exclusive promotions that could
    /// meet on one line at one time with the same priority (which one wins must be said, not guessed).
    public static func problems(_ promotion: Promotion, existing: [Promotion], now: Date) -> [PromotionProblem] {
        var problems: [PromotionProblem] = []
        func refuse(_ field: String, _ detail: String) { problems.append(PromotionProblem(field: field, detail: detail, conflictsWith: nil)) }
        func bounded(_ money: Money?, _ field: String) {
            if let money, money.minorUnits > PriceEntry.maximum { refuse(field, "at most \(PriceEntry.maximum) minor units") }
        }
        if promotion.until <= promotion.from { refuse("until", "the window ends after it starts") }
        if promotion.until <= now { refuse("until", "the window is in the past") }
        switch promotion.kind {
        case .percentOff(let bp): if !(1...10_000).contains(bp) { refuse("kind.basis_points", "a percentage is 1-10000 basis points") }
        case .amountOff(let amount):
            if amount.minorUnits <= 0 { refuse("kind.amount", "an amount off is positive") }
            bounded(amount, "kind.amount")
        case .fixedPrice(let price):
            if price.minorUnits < 0 { refuse("kind.price", "a price is not negative") }
            bounded(price, "kind.price")
        case let .buyXGetY(buy, get, bp):
            if !(1...1_000).contains(buy) || !(1...1_000).contains(get) { refuse("kind", "buy and get are 1-1000") }
            if !(1...10_000).contains(bp) { refuse("kind.basis_points", "the discount on the free units is 1-10000 basis points") }
        case let .bundle(items, price):
            if !(1...50).contains(items.count) || items.values.contains(where: { !(1...1_000).contains($0) }) {
                refuse("kind.items", "a bundle has 1-50 SKUs with quantities of 1-1000")
            }
            if price.minorUnits < 0 { refuse("kind.price", "a price is not negative") }
            bounded(price, "kind.price")
        case let .threshold(minimum, off, bp):
            if minimum.minorUnits <= 0 { refuse("kind.minimum", "a threshold is positive") }
            if (off == nil) == (bp == nil) { refuse("kind", "a threshold takes off an amount or a percentage, one of them") }
            if let off, off.minorUnits <= 0 { refuse("kind.off", "an amount off is positive") }
            if let bp, !(1...10_000).contains(bp) { refuse("kind.basis_points", "a percentage is 1-10000 basis points") }
            if let off, off.currency != minimum.currency { refuse("kind.off", "the amount off and the minimum are in one currency") }
            bounded(off, "kind.off")
        }
        if let limit = promotion.usageLimit, limit < 1 { refuse("usage_limit", "a usage limit is at least 1") }
        if promotion.usageLimit != nil && promotion.coupon == nil { refuse("usage_limit", "only a coupon has a usage limit") }
        // A code names one promotion: its uses are counted per code.
        if let code = promotion.coupon, let other = existing.first(where: { $0.id != promotion.id && $0.coupon == code }) {
            problems.append(PromotionProblem(field: "coupon", detail: "the code \(code) is \(other.id)'s (\(other.name)): a code names one promotion",
                                             conflictsWith: other.id))
        }
        if promotion.stacking == .exclusive {
            for other in existing where other.id != promotion.id && other.stacking == .exclusive && other.priority == promotion.priority
                && other.isBasketLevel == promotion.isBasketLevel
                && other.from < promotion.until && promotion.from < other.until && other.scope.overlaps(promotion.scope) {
                problems.append(PromotionProblem(
                    field: "priority", detail: "exclusive like \(other.id) (\(other.name)), on an overlapping scope and window, with the same priority \(other.priority): give one a higher priority",
                    conflictsWith: other.id))
            }
        }
        return problems
    }
}

/// A basket to price: where it is bought and what is in it.
public struct Basket: Hashable, Sendable {
    public struct Line: Hashable, Sendable {
        public let sku: SKU
        public let quantity: Int64
        public static let maximumQuantity: Int64 = 10_000

        public init(sku: SKU, quantity: Int64) throws(DomainError) {
            guard (1...Self.maximumQuantity).contains(quantity) else { throw .invalidPricing("a quantity is 1-\(Self.maximumQuantity)") }
            self.sku = sku
            self.quantity = quantity
        }
    }

    public let channel: ChannelID
    public let store: LocationID?
    public let country: String
    public let currency: Currency
    public let lines: [Line]
    public let coupons: Set<String>

    public init(channel: ChannelID, store: LocationID?, country: String, currency: Currency, lines: [Line], coupons: Set<String> = []) throws(DomainError) {
        guard (1...500).contains(lines.count) else { throw .invalidPricing("a basket has 1-500 lines") }
        self.channel = channel
        self.store = store
        self.country = country
        self.currency = currency
        self.lines = lines
        self.coupons = coupons
    }
}

/// What pricing knows besides the basket.
public struct PricingFacts: Sendable {
    public var prices: PriceBook
    public var promotions: [Promotion]
    /// Each SKU's categories, for promotions scoped by category.
    public var categories: [SKU: Set<String>]
    /// The country's tax rule (VAT-inclusive prices, or sales tax on top).
    public var taxRule: TaxRule
    /// Each SKU's tax rate in basis points; `defaultTaxRate` for the others.
    public var taxRates: [SKU: Int64]
    public var defaultTaxRate: Int64
    /// Baskets each coupon has been redeemed in so far.
    public var couponUses: [String: Int]

    public init(prices: PriceBook, promotions: [Promotion], categories: [SKU: Set<String>] = [:], taxRule: TaxRule, taxRates: [SKU: Int64] = [:],
                defaultTaxRate: Int64, couponUses: [String: Int] = [:]) {
        self.prices = prices
        self.promotions = promotions
        self.categories = categories
        self.taxRule = taxRule
        self.taxRates = taxRates
        self.defaultTaxRate = defaultTaxRate
        self.couponUses = couponUses
    }
}

/// A priced basket.
public struct Quote: Hashable, Sendable {
    public struct Discount: Hashable, Sendable {
        public let promotion: String
        public let amount: Int64

        public init(promotion: String, amount: Int64) {
            self.promotion = promotion
            self.amount = amount
        }
    }

    public struct Line: Hashable, Sendable {
        public let sku: SKU
        public let quantity: Int64
        public let unitPrice: Int64
        /// Quantity × unit price.
        public let gross: Int64
        /// Each promotion's amount off this line (a basket promotion's share included).
        public let discounts: [Discount]
        /// Gross less discounts: what the customer pays for the line (tax included where prices include it).
        public let net: Int64
        public let taxRate: Int64
        /// The tax of the line: inside `net` where prices include tax, on top of it otherwise.
        public let tax: Int64
    }

    public let currency: Currency
    public let lines: [Line]
    /// The promotions that applied, each with its total.
    public let applied: [Discount]
    /// Coupons given that no promotion took, with why.
    public let rejectedCoupons: [String: String]
    public let subtotal: Int64
    public let discountTotal: Int64
    public let taxTotal: Int64
    /// What the customer pays: the lines' net, plus tax where it comes on top.
    public let total: Int64
}

/// One pricing engine for every channel: the same basket gets the same price wherever the same promotions apply.
///
/// Rounding (see docs/pricing.md): percentages are taken per line (the line's remaining amount × rate, half up),
/// never per unit; a basket discount is spread over its lines in proportion to their remaining amounts (largest
/// remainder), so the lines add up to the basket exactly; tax is computed once per line on its net, half up.
public enum PricingEngine {
    public static func quote(_ basket: Basket, facts: PricingFacts, at time: Date) throws(DomainError) -> Quote {
        var units: [Int64] = []
        for line in basket.lines {
            guard let entry = facts.prices.price(of: line.sku, channel: basket.channel, country: basket.country, at: time) else {
                throw .invalidPricing("no price for \(line.sku) on \(basket.channel) in \(basket.country) at \(time.ISO8601Format())")
            }
            guard entry.price.currency == basket.currency else { throw .currencyMismatch(entry.price.currency, basket.currency) }
            units.append(entry.price.minorUnits)
        }
        let gross = zip(basket.lines, units).map { $0.quantity * $1 }
        var remaining = gross
        var discounts: [[Quote.Discount]] = Array(repeating: [], count: basket.lines.count)
        var exclusiveLine = Array(repeating: false, count: basket.lines.count)
        var rejected: [String: String] = [:]
        for coupon in basket.coupons where !facts.promotions.contains(where: { $0.coupon == coupon }) {
            rejected[coupon] = "no promotion has this code"
        }
        let candidates = facts.promotions.filter { promotion in
            guard promotion.isActive(at: time), promotion.scope.admits(basket) else { return false }
            guard let code = promotion.coupon else { return true }
            guard basket.coupons.contains(code) else { return false }
            if let limit = promotion.usageLimit, facts.couponUses[code, default: 0] >= limit {
                rejected[code] = "used up (\(limit) uses)"
                return false
            }
            return true
        }.sorted { ($0.priority, $1.id) > ($1.priority, $0.id) }

        // The basket's lines by SKU and by category, so that a promotion's scope is matched through its own few SKUs
        // and categories rather than each line against each promotion.
        var linesBySKU: [SKU: [Int]] = [:]
        var linesByCategory: [String: [Int]] = [:]
        for (index, line) in basket.lines.enumerated() {
            linesBySKU[line.sku, default: []].append(index)
            for category in facts.categories[line.sku] ?? [] { linesByCategory[category, default: []].append(index) }
        }
        func eligible(_ promotion: Promotion) -> [Int] {
            let scope = promotion.scope
            var inScope: [Bool]
            if scope.skus == nil && scope.categories == nil {
                inScope = Array(repeating: true, count: basket.lines.count)
            } else {
                inScope = Array(repeating: false, count: basket.lines.count)
                for sku in scope.skus ?? [] { for index in linesBySKU[sku] ?? [] { inScope[index] = true } }
                for category in scope.categories ?? [] { for index in linesByCategory[category] ?? [] { inScope[index] = true } }
            }
            return basket.lines.indices.filter { index in
                inScope[index] && !exclusiveLine[index] && !(promotion.stacking == .exclusive && !discounts[index].isEmpty)
            }
        }
        func take(_ amount: Int64, from index: Int, by promotion: Promotion) {
            let off = min(max(0, amount), remaining[index])
            guard off > 0 else { return }
            remaining[index] -= off
            discounts[index].append(Quote.Discount(promotion: promotion.id, amount: off))
            if promotion.stacking == .exclusive { exclusiveLine[index] = true }
        }

        var basketExclusive = false
        for promotion in candidates {
            let lines = eligible(promotion)
            switch promotion.kind {
            case .percentOff(let bp):
                for index in lines { take(percent(remaining[index], bp), from: index, by: promotion) }
            case .amountOff(let amount):
                guard amount.currency == basket.currency else { continue }
                for index in lines { take(amount.minorUnits * basket.lines[index].quantity, from: index, by: promotion) }
            case .fixedPrice(let price):
                guard price.currency == basket.currency else { continue }
                for index in lines { take(remaining[index] - price.minorUnits * basket.lines[index].quantity, from: index, by: promotion) }
            case let .buyXGetY(buy, get, bp):
                // Of the units in scope, every (buy + get) earn `get` discounted units, and the cheapest are discounted.
                var free = lines.reduce(Int64(0)) { $0 + basket.lines[$1].quantity } / (buy + get) * get
                for index in lines.sorted(by: { (units[$0], $0) < (units[$1], $1) }) where free > 0 {
                    let count = min(free, basket.lines[index].quantity)
                    free -= count
                    take(percent(units[index] * count, bp), from: index, by: promotion)
                }
            case let .bundle(items, price):
                guard price.currency == basket.currency else { continue }
                var quantities: [SKU: Int64] = [:]
                for index in lines { quantities[basket.lines[index].sku, default: 0] += basket.lines[index].quantity }
                let count = items.map { sku, needed in quantities[sku, default: 0] / needed }.min() ?? 0
                guard count > 0 else { continue }
                let members = lines.filter { items[basket.lines[$0].sku] != nil }
                let regular = items.reduce(Int64(0)) { sum, item in
                    sum + item.value * (members.first { basket.lines[$0].sku == item.key }.map { units[$0] } ?? 0)
                }
                // Capped by what the bundle's lines have left (and so never past 64 bits).
                let (product, overflow) = (regular - price.minorUnits).multipliedReportingOverflow(by: count)
                let off = min(overflow ? .max : product, members.reduce(Int64(0)) { $0 + remaining[$1] })
                guard off > 0 else { continue }
                spread(off, over: members, weights: members.map { remaining[$0] }, promotion: promotion, take: take)
            case let .threshold(minimum, off, bp):
                guard !basketExclusive, minimum.currency == basket.currency else { continue }
                let inScope = lines
                let amount = inScope.reduce(Int64(0)) { $0 + remaining[$1] }
                guard amount >= minimum.minorUnits, amount > 0 else { continue }
                let total = off.map { $0.currency == basket.currency ? $0.minorUnits : 0 } ?? percent(amount, bp ?? 0)
                spread(min(total, amount), over: inScope, weights: inScope.map { remaining[$0] }, promotion: promotion, take: take)
                if promotion.stacking == .exclusive { basketExclusive = true }
            }
        }

        var quoted: [Quote.Line] = []
        var applied: [String: Int64] = [:]
        for (index, line) in basket.lines.enumerated() {
            let rate = facts.taxRates[line.sku] ?? facts.defaultTaxRate
            let net = remaining[index]
            let tax = TaxRule.expected(net: net, rate: rate, included: facts.taxRule.kind != .salesTaxExclusive) ?? 0
            for discount in discounts[index] { applied[discount.promotion, default: 0] += discount.amount }
            quoted.append(Quote.Line(sku: line.sku, quantity: line.quantity, unitPrice: units[index], gross: gross[index], discounts: discounts[index],
                                     net: net, taxRate: rate, tax: tax))
        }
        let subtotal = gross.reduce(0, +)
        let net = quoted.reduce(Int64(0)) { $0 + $1.net }
        let tax = quoted.reduce(Int64(0)) { $0 + $1.tax }
        return Quote(currency: basket.currency, lines: quoted,
                     applied: candidates.compactMap { promotion in applied[promotion.id].map { Quote.Discount(promotion: promotion.id, amount: $0) } },
                     rejectedCoupons: rejected, subtotal: subtotal, discountTotal: subtotal - net, taxTotal: tax,
                     total: net + (facts.taxRule.kind == .salesTaxExclusive ? tax : 0))
    }

    /// `amount × basisPoints / 10000`, half up, without overflow for any amount pricing computes.
    static func percent(_ amount: Int64, _ basisPoints: Int64) -> Int64 {
        (amount / 10_000) * basisPoints + RoundingRule.halfUp.divide((amount % 10_000) * basisPoints, by: 10_000)
    }

    /// Spreads `amount` over lines in proportion to `weights` (largest remainder), each share capped by the line.
    static func spread(_ amount: Int64, over lines: [Int], weights: [Int64], promotion: Promotion, take: (Int64, Int, Promotion) -> Void) {
        guard !lines.isEmpty, weights.contains(where: { $0 > 0 }),
              let shares = try? Money(minorUnits: amount, currency: .usd).allocated(proportionally: weights.map { max(0, $0) }) else { return }
        for (index, share) in zip(lines, shares) { take(share.minorUnits, index, promotion) }
    }
}

/// New price versions on a channel in a country (`prices/<channel>/<country>`).
public struct PricesChanged: VersionedPayload, Hashable {
    public static let eventType = "pricing.prices_changed"
    public static let schemaVersion = 1
    public let channel: ChannelID
    public let country: String
    public let entries: [PriceEntry]

    public init(channel: ChannelID, country: String, entries: [PriceEntry]) {
        self.channel = channel
        self.country = country
        self.entries = entries
    }
}

/// A promotion was created or changed (`promotion/<id>`).
public struct PromotionChanged: VersionedPayload, Hashable {
    public static let eventType = "pricing.promotion_changed"
    public static let schemaVersion = 1
    public let promotion: Promotion

    public init(promotion: Promotion) {
        self.promotion = promotion
    }
}

/// A channel shows a price other than the price book's for the same SKU, country and time.
public struct PriceDriftDetected: VersionedPayload, Hashable {
    public static let eventType = "pricing.drift_detected"
    public static let schemaVersion = 1
    public let sku: SKU
    public let channel: ChannelID
    public let country: String
    /// The book's price then; nil when the book has none for that time.
    public let expected: Money?
    public let observed: Money
    public let observedAt: Date

    public init(sku: SKU, channel: ChannelID, country: String, expected: Money?, observed: Money, observedAt: Date) {
        self.sku = sku
        self.channel = channel
        self.country = country
        self.expected = expected
        self.observed = observed
        self.observedAt = observedAt
    }
}

/// A channel confirmed it has a promotion as changed by the event `change` (the id of its `pricing.promotion_changed`).
public struct PromotionAcknowledged: VersionedPayload, Hashable {
    public static let eventType = "pricing.promotion_acknowledged"
    public static let schemaVersion = 1
    public let channel: ChannelID
    public let change: EventID

    public init(channel: ChannelID, change: EventID) {
        self.channel = channel
        self.change = change
    }
}

/// A channel confirmed it has the price versions of the event `change` (the id of its `pricing.prices_changed`).
public struct PricesAcknowledged: VersionedPayload, Hashable {
    public static let eventType = "pricing.prices_acknowledged"
    public static let schemaVersion = 1
    public let channel: ChannelID
    public let country: String
    public let change: EventID

    public init(channel: ChannelID, country: String, change: EventID) {
        self.channel = channel
        self.country = country
        self.change = change
    }
}

/// A promotion's window started or ended (its durable timer fired) for the version of the event `change`.
public struct PromotionWindowReached: VersionedPayload, Hashable {
    public static let eventType = "pricing.promotion_window_reached"
    public static let schemaVersion = 1
    public enum Edge: String, Hashable, Sendable, Codable {
        case start
        case end
    }
    public let promotion: String
    public let change: EventID
    public let edge: Edge

    public init(promotion: String, change: EventID, edge: Edge) {
        self.promotion = promotion
        self.change = change
        self.edge = edge
    }
}

/// A coupon was redeemed in a basket (`coupon/<code>`; the stream's version is the number of redemptions).
public struct CouponRedeemed: VersionedPayload, Hashable {
    public static let eventType = "pricing.coupon_redeemed"
    public static let schemaVersion = 1
    public let code: String
    public let promotion: String
    /// The order or basket it was redeemed for.
    public let reference: String
    public let discount: Money

    public init(code: String, promotion: String, reference: String, discount: Money) {
        self.code = code
        self.promotion = promotion
        self.reference = reference
        self.discount = discount
    }
}
