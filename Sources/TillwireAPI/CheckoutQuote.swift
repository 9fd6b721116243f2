import Foundation
import Hummingbird
import TillwireDomain

/// The checkout pricing call (`POST /v1/pricing/quote`) for another server that prices as the hub does, with the same
/// request and answer: the store agent, pricing from its copy while its store is offline.
public enum CheckoutQuote {
    /// A quote request's body read: the basket, its lines' tax rates, and when to price it. Bad input throws a
    /// `Problem` (400) naming the field.
    public static func request(_ body: Data) throws -> (basket: Basket, taxRates: [SKU: Int64], at: Date) {
        let decoded: PricingRoutes.QuoteBody
        do {
            decoded = try JSONDecoder().decode(PricingRoutes.QuoteBody.self, from: body)
        } catch let error as DecodingError {
            throw Problem.decoding(error)
        }
        let (basket, rates, at) = try PricingRoutes.basket(decoded)
        return (basket, rates, at)
    }

    /// The quote as the hub answers it.
    public static func response(_ quote: Quote, taxesIncluded: Bool) -> some ResponseGenerator {
        PricingRoutes.QuoteView(quote, taxesIncluded: taxesIncluded)
    }
}

/// What a store agent keeps to price baskets as the hub does: its channel's prices in its country for the store's
/// SKUs, the promotions active now or later, the categories those promotions look at, and the country's tax rule.
public struct StorePricingCopy: Codable, Sendable {
    public let channel: ChannelID
    public let country: String
    public let taxRule: TaxRule?
    public let entries: [PriceEntry]
    public let promotions: [Promotion]
    public let categories: [SKU: Set<String>]
    public let asOf: Date

    public init(channel: ChannelID, country: String, taxRule: TaxRule?, entries: [PriceEntry], promotions: [Promotion],
                categories: [SKU: Set<String>], asOf: Date) {
        self.channel = channel
        self.country = country
        self.taxRule = taxRule
        self.entries = entries
        self.promotions = promotions
        self.categories = categories
        self.asOf = asOf
    }

    /// Prices a basket from the copy, with the same engine as the hub (coupons' usage limits are not known offline:
    /// a coupon is taken as not yet used up).
    public func quote(_ basket: Basket, taxRates: [SKU: Int64], at time: Date) throws -> Quote {
        guard let taxRule else {
            throw DomainError.invalidPricing("no tax rule for \(country) at the hub: configure tax.countries.\(country)")
        }
        let facts = PricingFacts(prices: PriceBook(entries), promotions: promotions.filter { $0.isActive(at: time) }, categories: categories,
                                 taxRule: taxRule, taxRates: taxRates, defaultTaxRate: taxRule.rates.max() ?? 0)
        return try PricingEngine.quote(basket, facts: facts, at: time)
    }
}
