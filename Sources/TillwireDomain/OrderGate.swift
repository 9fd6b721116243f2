/// How a country taxes the orders shipped (or picked up) there.
public struct TaxRule: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Prices include tax (VAT, GST): an order must say `taxesIncluded`.
        case vatInclusive = "vat_inclusive"
        /// Tax comes on top of prices (US sales tax).
        case salesTaxExclusive = "sales_tax_exclusive"
        /// The hub does not check tax for this country.
        case unchecked
    }

    /// ISO 3166-1 alpha-2.
    public let country: String
    public let kind: Kind
    /// The rates that may appear, in basis points (2000 for 20 %). Empty: any rate. A line without tax is allowed
    /// only where 0 is among them.
    public let rates: Set<Int64>

    public init(country: String, kind: Kind, rates: Set<Int64> = []) {
        self.country = country
        self.kind = kind
        self.rates = rates
    }

    /// The tax on `net` at `rate`, as the hub expects it (half up, one rounding per line); nil when the product
    /// does not fit in 64 bits.
    public static func expected(net: Int64, rate: Int64, included: Bool) -> Int64? {
        let (product, overflow) = net.multipliedReportingOverflow(by: rate)
        guard !overflow else { return nil }
        return RoundingRule.halfUp.divide(product, by: included ? 10_000 + rate : 10_000)
    }
}

/// What the hub knows when it decides whether an order may go to fulfilment.
public struct GateFacts: Sendable {
    /// The product master; a SKU missing here is unknown.
    public var products: [SKU: Product]
    /// The SKUs the order's channel may sell; nil: every known product.
    public var assortment: Set<SKU>?
    /// Tax rules by country.
    public var taxRules: [String: TaxRule]
    /// The pickup store's country, for a pickup in store (its tax applies).
    public var pickupCountry: String?
    /// Units reserved per order line id.
    public var reserved: [String: Int64]
    /// A marketplace channel's stricter checks: the payment captured, not only authorized, and the customer's email.
    public var strict: Bool

    public init(
        products: [SKU: Product], assortment: Set<SKU>? = nil, taxRules: [String: TaxRule], pickupCountry: String? = nil,
        reserved: [String: Int64] = [:], strict: Bool = false
    ) {
        self.products = products
        self.assortment = assortment
        self.taxRules = taxRules
        self.pickupCountry = pickupCountry
        self.reserved = reserved
        self.strict = strict
    }
}

/// The validation gate: no order goes to fulfilment until its amounts add up, tax is present and consistent for the
/// country it goes to, the payment covers the total, every SKU is known and sellable on its channel, and its stock
/// is reserved. Every failing check is a reason; the order is held with all of them, and the gate runs again when a
/// fact changes (a payment authorization arrives, a product is added, stock is reserved).
public enum OrderGate {
    /// Which checks to run. Stock comes last in the order saga: it is reserved only once the rest holds.
    public enum Stage: Sendable {
        case beforeReservation
        case beforeRelease
    }

    public static func reasons(_ order: Order, facts: GateFacts, stage: Stage = .beforeRelease) -> [HoldReason] {
        var reasons = order.amountProblems()
        if reasons.contains(where: { $0.code == .currencyMismatch }) { return reasons }
        reasons += taxReasons(order, facts: facts)
        reasons += paymentReasons(order, strict: facts.strict)
        if facts.strict, order.customer.email?.contains("@") != true {
            reasons.append(HoldReason(.customerIncomplete, "a marketplace order needs the customer's email"))
        }
        for line in order.lines {
            guard let product = facts.products[line.sku] else {
                reasons.append(HoldReason(.unknownSKU, "line \(line.id): SKU \(line.sku) is not in the product master"))
                continue
            }
            if let assortment = facts.assortment, !assortment.contains(product.sku) {
                reasons.append(HoldReason(.notSellable, "line \(line.id): SKU \(line.sku) is not sold on channel \(order.channel)"))
            }
        }
        if stage == .beforeRelease {
            for line in order.lines where facts.reserved[line.id, default: 0] < line.quantity {
                reasons.append(HoldReason(.stockNotReserved, "line \(line.id): \(facts.reserved[line.id, default: 0]) of \(line.quantity) × \(line.sku) reserved"))
            }
        }
        return reasons
    }

    public static func paymentReasons(_ order: Order, strict: Bool) -> [HoldReason] {
        let payments = order.payments
        if strict {
            guard payments.captured.minorUnits - payments.refunded.minorUnits >= order.total.minorUnits else {
                return [HoldReason(.paymentNotCaptured, "captured \(payments.captured) (less \(payments.refunded) refunded) of \(order.total); this channel requires capture")]
            }
            return []
        }
        guard payments.covered >= order.total.minorUnits else {
            return [HoldReason(.paymentNotAuthorized, "authorized \(payments.authorized), captured \(payments.captured), refunded \(payments.refunded): less than the total \(order.total)")]
        }
        return []
    }

    public static func taxReasons(_ order: Order, facts: GateFacts) -> [HoldReason] {
        guard let country = order.shipTo?.country ?? facts.pickupCountry else {
            return [HoldReason(.taxMissing, "the order has no ship-to country and its pickup store no country")]
        }
        guard let rule = facts.taxRules[country] else {
            return [HoldReason(.taxMissing, "no tax rule is configured for \(country) (tax.\(country))")]
        }
        if rule.kind == .unchecked { return [] }
        // VAT is the same money whether a channel states prices with it or adds it on top (WooCommerce reports every
        // line net of tax): the amounts are checked the way the order states them. Sales tax only ever comes on top.
        let included = order.taxesIncluded
        if rule.kind == .salesTaxExclusive, included {
            return [HoldReason(.taxInconsistent, "\(country) taxes come on top of prices; the order says its prices include them")]
        }
        var reasons: [HoldReason] = []
        var taxed: [(label: String, net: Money, lines: [TaxLine], tolerance: Int64)] = order.lines.compactMap { line in
            (try? line.net()).map { ("line \(line.id)", $0, line.taxLines, max(1, line.quantity)) }
        }
        if let shipping = order.shipping, shipping.price.minorUnits > 0, let net = try? shipping.net() {
            taxed.append(("shipping", net, shipping.taxLines, 1))
        }
        for item in taxed {
            if item.lines.isEmpty {
                if !rule.rates.isEmpty, !rule.rates.contains(0), item.net.minorUnits > 0 {
                    reasons.append(HoldReason(.taxMissing, "\(item.label) has no tax; \(country) taxes it"))
                }
                continue
            }
            for tax in item.lines {
                guard let rate = tax.rateBasisPoints else {
                    reasons.append(HoldReason(.taxInconsistent, "\(item.label): \(tax.title) has no rate, so it cannot be checked"))
                    continue
                }
                if !rule.rates.isEmpty, !rule.rates.contains(rate) {
                    reasons.append(HoldReason(.taxInconsistent, "\(item.label): rate \(percent(rate)) is not a rate of \(country) (\(rule.rates.sorted().map(percent).joined(separator: ", ")))"))
                    continue
                }
                guard let expected = TaxRule.expected(net: item.net.minorUnits, rate: rate, included: included) else {
                    reasons.append(HoldReason(.taxInconsistent, "\(item.label): \(item.net) is too large to check its tax"))
                    continue
                }
                let (difference, overflow) = tax.amount.minorUnits.subtractingReportingOverflow(expected)
                if overflow || difference.magnitude > item.tolerance.magnitude {
                    reasons.append(HoldReason(.taxInconsistent, "\(item.label): \(tax.title) is \(tax.amount), \(percent(rate)) of \(item.net) is \(Money(minorUnits: expected, currency: order.currency))"))
                }
            }
        }
        return reasons
    }

    static func percent(_ basisPoints: Int64) -> String {
        let fraction = basisPoints % 100
        return fraction == 0 ? "\(basisPoints / 100) %" : "\(basisPoints / 100).\(fraction < 10 ? "0" : "")\(fraction) %"
    }
}
