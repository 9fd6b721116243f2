import Foundation
import Metrics
import TillwireDomain
import TillwireStorage

/// Price lists and promotions as commands, and the checkout quote. Prices and promotions are owned by the system of
/// record named in the config (`pricing.owner`): a change from any other system is refused naming the owner.
/// Each change is also an event (`pricing.prices_changed` on `prices/<channel>/<country>`, `pricing.promotion_changed`
/// on `promotion/<id>`), for the channels' propagation to read.
public struct PricingService: Sendable {
    public struct Policy: Sendable, Hashable {
        /// The system of record for prices and promotions (`pricing.owner`); nil: any client with `prices:write`.
        public var owner: SystemID?
        /// Tax rules by country (`tax.countries`): whether prices include tax, and the rates.
        public var taxRules: [String: TaxRule] = [:]
        /// The channels promotions are pushed to, with the system that takes each channel's pushes (the configured
        /// channels). Default none.
        public var channels: [ChannelID: SystemID] = [:]
        /// How soon a promotion changed by another hub instance reaches this one's quotes (`pricing.promotion_refresh_ms`);
        /// this instance's own changes count at once. Default 1 s.
        public var promotionRefresh: Duration = .seconds(1)

        public init(owner: SystemID? = nil) {
            self.owner = owner
        }
    }

    /// A change from a system that does not own prices.
    public struct NotOwner: Error, CustomStringConvertible {
        public let owner: SystemID
        public let source: SystemID
        public var description: String { "prices and promotions are owned by \(owner) (pricing.owner); \(source) may not change them" }
    }

    /// A promotion that breaks the rules, or conflicts with one that exists.
    public struct PromotionRefused: Error, CustomStringConvertible {
        public let problems: [PromotionProblem]
        /// Only conflicts with existing promotions (a 409); a rule broken is a 422.
        public var conflict: Bool { problems.allSatisfy { $0.conflictsWith != nil } }
        public var description: String { "promotion refused: " + problems.map(\.description).joined(separator: "; ") }
    }

    /// One new price, as the owner sends it.
    public struct NewPrice: Sendable {
        public let sku: SKU
        public let price: Money
        public let from: Date
        public let until: Date?

        public init(sku: SKU, price: Money, from: Date, until: Date?) {
            self.sku = sku
            self.price = price
            self.from = from
            self.until = until
        }
    }

    let store: any Store
    public let policy: Policy
    let now: @Sendable () -> Date
    let cache: PromotionCache

    public init(store: any Store, policy: Policy = Policy(), now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.policy = policy
        self.now = now
        cache = PromotionCache(store: store, refresh: policy.promotionRefresh)
    }

    func checkOwner(_ source: SystemID) throws {
        if let owner = policy.owner, owner != source { throw NotOwner(owner: owner, source: source) }
    }

    /// Records new prices for a channel and country, all or none: each is the next version of its SKU there. Returns
    /// the entries and the change's id (its `pricing.prices_changed` event), by which its push to the channel is followed.
    public func setPrices(_ prices: [NewPrice], channel: ChannelID, country: String, source: SystemID) async throws -> (entries: [PriceEntry], change: EventID) {
        try checkOwner(source)
        let existing = try await store.priceEntries(channel: channel, country: country, skus: prices.map(\.sku))
        var versions = Dictionary(existing.map { ($0.sku, $0.version) }) { max($0, $1) }
        var entries: [PriceEntry] = []
        for item in prices {
            let version = versions[item.sku, default: 0] + 1
            versions[item.sku] = version
            entries.append(try PriceEntry(sku: item.sku, channel: channel, country: country, price: item.price, from: item.from, until: item.until,
                                          version: version))
        }
        let change = EventID.random()
        var commit = Commit()
        commit.pricing = entries.map { .price($0) }
        commit.events = [EventAppend(try NewEvent(id: change, stream: StreamID(trusted: "prices/\(channel.rawValue)/\(country)"),
                                                  correlationID: PricingPropagation.priceChangeCorrelation(change), occurredAt: now(),
                                                  source: source, payload: PricesChanged(channel: channel, country: country, entries: entries)))]
        commit.jobs = PricingPropagation.jobs(prices: change, channel: channel, country: country, channels: policy.channels, at: now())
        _ = try await store.commit(commit)
        return (entries, change)
    }

    /// A price change and where it stands on its channel; nil when there is no such change.
    public func priceChange(_ change: EventID) async throws -> (prices: PricesChanged, channels: [PricingChannelState])? {
        try await PricingPropagation.priceChange(change, channels: policy.channels, store: store)
    }

    /// The price of a SKU on a channel in a country at a time, with its version; nil when it has none then.
    public func price(of sku: SKU, channel: ChannelID, country: String, at time: Date) async throws -> PriceEntry? {
        PriceBook(try await store.priceEntries(channel: channel, country: country, skus: [sku])).price(of: sku, channel: channel, country: country, at: time)
    }

    /// Checks the price a channel shows (read back from it, or reported by it) against the book: a difference is a
    /// `pricing.drift_detected` event (on `drift/<channel>`) and `tillwire_price_drift_total{channel}`. Returns the
    /// book's price and whether it drifted.
    public func observe(sku: SKU, channel: ChannelID, country: String, price observed: Money, at time: Date, source: SystemID) async throws -> (expected: PriceEntry?, drifted: Bool) {
        let expected = try await price(of: sku, channel: channel, country: country, at: time)
        guard expected?.price != observed else { return (expected, false) }
        let drift = PriceDriftDetected(sku: sku, channel: channel, country: country, expected: expected?.price, observed: observed, observedAt: time)
        _ = try await store.commit(Commit(events: [EventAppend(try NewEvent(
            stream: StreamID(trusted: "drift/\(channel.rawValue)"), correlationID: CorrelationID(trusted: "prices/\(channel.rawValue)/\(country)"),
            occurredAt: now(), source: source, payload: drift))]))
        Counter(label: "tillwire_price_drift_total", dimensions: [("channel", channel.rawValue)]).increment()
        return (expected, true)
    }

    /// Records a promotion after checking its rules against the promotions that exist (`PromotionRefused`). The same
    /// promotion again changes nothing (`created` false); a promotion with the id of another replaces it.
    public func putPromotion(_ promotion: Promotion, source: SystemID) async throws -> (promotion: Promotion, created: Bool) {
        try checkOwner(source)
        let previous = try await store.promotion(promotion.id)
        if previous == promotion { return (promotion, false) }
        let problems = PromotionRules.problems(promotion, existing: try await store.promotions(activeAt: nil), now: now())
        guard problems.isEmpty else { throw PromotionRefused(problems: problems) }
        var commit = Commit()
        commit.pricing = [.promotion(promotion, at: now())]
        let changed = try NewEvent(stream: StreamID(trusted: "promotion/\(promotion.id)"), correlationID: CorrelationID(trusted: "promotion/\(promotion.id)"),
                                   occurredAt: now(), source: source, payload: PromotionChanged(promotion: promotion))
        commit.events = [EventAppend(changed)]
        commit.jobs = PricingPropagation.jobs(promotion, change: changed.id, channels: policy.channels, at: now())
        _ = try await store.commit(commit)
        cache.invalidate()
        return (promotion, previous == nil)
    }

    /// Where the promotion stands on each channel it applies to, and in its window; nil when there is none.
    public func standing(of id: String) async throws -> PromotionStanding? {
        try await PricingPropagation.standing(of: id, channels: policy.channels, store: store)
    }

    public func channelStates(of id: String) async throws -> [PricingChannelState] {
        try await standing(of: id)?.channels ?? []
    }

    public func window(of id: String) async throws -> (activated: Date?, ended: Date?) {
        let standing = try await standing(of: id)
        return (standing?.activated, standing?.ended)
    }

    /// Prices a basket as of `time` with the prices and the promotions active then. The country's tax rule must be
    /// configured; a line's tax rate is `taxRates[sku]`, else the rule's highest rate. Coupons are checked against
    /// their redemptions so far, and not redeemed (see `redeem`).
    public func quote(_ basket: Basket, taxRates: [SKU: Int64] = [:], at time: Date) async throws -> Quote {
        try await priced(basket, taxRates: taxRates, at: time).quote
    }

    func priced(_ basket: Basket, taxRates: [SKU: Int64], at time: Date) async throws -> (quote: Quote, promotions: [Promotion], uses: [String: Int64]) {
        guard let rule = policy.taxRules[basket.country] else {
            throw DomainError.invalidPricing("no tax rule for \(basket.country): configure tax.countries.\(basket.country)")
        }
        let skus = basket.lines.map(\.sku)
        let entries = try await store.priceEntries(channel: basket.channel, country: basket.country, skus: skus)
        let promotions = try await cache.promotions(activeAt: time, now: now())
        // Categories only matter when a promotion is scoped by them, and redemptions only for coupons given.
        let categories = promotions.contains { $0.scope.categories != nil } ? try await store.products(skus).mapValues(\.categories) : [:]
        var uses: [String: Int64] = [:]
        for code in basket.coupons where promotions.contains(where: { $0.coupon == code && $0.usageLimit != nil }) {
            uses[code] = try await store.streamVersion(Self.couponStream(code))
        }
        let facts = PricingFacts(prices: PriceBook(entries), promotions: promotions, categories: categories, taxRule: rule,
                                 taxRates: taxRates, defaultTaxRate: rule.rates.max() ?? 0, couponUses: uses.mapValues { Int($0) })
        return (try PricingEngine.quote(basket, facts: facts, at: time), promotions, uses)
    }

    static func couponStream(_ code: String) -> StreamID { StreamID(trusted: "coupon/\(code)") }

    /// Coupons already redeemed for this reference.
    public struct AlreadyRedeemed: Error, CustomStringConvertible {
        public let reference: String
        public var description: String { "the coupons of \(reference) were redeemed already; a reference redeems once" }
    }

    /// Prices a basket and redeems the coupons that gave a discount, for `reference` (the order), once: a coupon at its
    /// usage limit is refused in the quote (`rejectedCoupons`), and two baskets racing for its last use cannot both
    /// get it (each redemption appends to the coupon's stream at the version it counted). A reference redeems once
    /// (`AlreadyRedeemed` after).
    public func redeem(_ basket: Basket, taxRates: [SKU: Int64] = [:], at time: Date, reference: String, source: SystemID) async throws -> Quote {
        for _ in 0..<10 {
            let (quote, promotions, uses) = try await priced(basket, taxRates: taxRates, at: time)
            var commit = Commit(inbox: InboxKey(source: "pricing", messageKey: "redemption/\(reference)"))
            for discount in quote.applied {
                guard let promotion = promotions.first(where: { $0.id == discount.promotion }), let code = promotion.coupon else { continue }
                let redeemed = try NewEvent(stream: Self.couponStream(code), correlationID: CorrelationID(trusted: "promotion/\(promotion.id)"),
                                            occurredAt: now(), source: source,
                                            payload: CouponRedeemed(code: code, promotion: promotion.id, reference: reference,
                                                                    discount: Money(minorUnits: discount.amount, currency: quote.currency)))
                // Counted for a limited coupon: a redemption that raced this one makes the commit fail, and it is priced again.
                commit.events.append(EventAppend(redeemed, expected: promotion.usageLimit == nil ? .any : .exactly(uses[code] ?? 0)))
            }
            do {
                if case .duplicate = try await store.commit(commit) { throw AlreadyRedeemed(reference: reference) }
                return quote
            } catch StorageError.versionConflict {
                continue
            }
        }
        throw StorageError.conflict("coupon redemptions for \(reference) kept racing others; try again")
    }
}
