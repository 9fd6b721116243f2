import Foundation

/// What the customer paid for each line of an order, tax included, after the line's own discounts and its share of
/// the order's discounts; and the tax inside that. The basis of refunds and of the sale's journal entry.
///
/// An order discount is spread over the lines in proportion to their net amounts, so that the shares add up to it
/// exactly (largest remainder). The line amounts plus shipping add up to the order's total whenever the order's
/// amounts are consistent (`Order.amountProblems()` is empty).
public struct OrderPricing: Hashable, Sendable {
    public struct Line: Hashable, Sendable {
        public let id: String
        public let sku: SKU
        public let quantity: Int64
        /// What the customer paid for the whole line, tax included, in minor units.
        public let gross: Int64
        /// The tax inside `gross`.
        public let tax: Int64
        /// The line's combined tax rate in basis points (the sum of its tax lines' rates); nil when a rate is unknown.
        public let taxRate: Int64?

        public init(id: String, sku: SKU, quantity: Int64, gross: Int64, tax: Int64, taxRate: Int64?) {
            precondition(quantity > 0, "a line has a positive quantity")
            self.id = id
            self.sku = sku
            self.quantity = quantity
            self.gross = gross
            self.tax = tax
            self.taxRate = taxRate
        }

        /// Gross and tax for `count` units after the first `after` units of the line: each unit's share is
        /// cumulative (`round(gross × n / quantity)`, half up), so that returning the line in several visits refunds
        /// exactly what returning it at once would.
        public func share(after: Int64, count: Int64) -> (gross: Int64, tax: Int64) {
            precondition(after >= 0 && count >= 0 && after + count <= quantity, "a share within the line's quantity")
            let through = { (total: Int64, units: Int64) -> Int64 in
                (total / quantity) * units + RoundingRule.halfUp.divide((total % quantity) * units, by: quantity)
            }
            return (through(gross, after + count) - through(gross, after), through(tax, after + count) - through(tax, after))
        }
    }

    public let currency: Currency
    public let lines: [Line]
    public let shippingGross: Int64
    public let shippingTax: Int64
    public let shippingTaxRate: Int64?

    public init(_ order: Order) throws(DomainError) {
        currency = order.currency
        var nets: [Int64] = []
        for line in order.lines { nets.append(try line.net().minorUnits) }
        let orderDiscount = -(try Money.zero(order.currency).less(order.orderDiscounts).minorUnits)
        let shares: [Int64] = orderDiscount == 0 || nets.allSatisfy({ $0 <= 0 })
            ? Array(repeating: 0, count: nets.count)
            : try Money(minorUnits: orderDiscount, currency: order.currency).allocated(proportionally: nets.map { max(0, $0) }).map(\.minorUnits)
        var lines: [Line] = []
        for (index, line) in order.lines.enumerated() {
            let tax = try line.tax().minorUnits
            let gross = nets[index] - shares[index] + (order.taxesIncluded ? 0 : tax)
            lines.append(Line(id: line.id, sku: line.sku, quantity: line.quantity, gross: gross, tax: tax, taxRate: Self.rate(line.taxLines)))
        }
        self.lines = lines
        if let shipping = order.shipping {
            let tax = try shipping.tax().minorUnits
            shippingGross = try shipping.net().minorUnits + (order.taxesIncluded ? 0 : tax)
            shippingTax = tax
            shippingTaxRate = Self.rate(shipping.taxLines)
        } else {
            shippingGross = 0
            shippingTax = 0
            shippingTaxRate = nil
        }
    }

    public func line(_ id: String) -> Line? { lines.first { $0.id == id } }

    static func rate(_ taxLines: [TaxLine]) -> Int64? {
        guard !taxLines.isEmpty else { return 0 }
        var sum: Int64 = 0
        for line in taxLines {
            guard let rate = line.rateBasisPoints else { return nil }
            sum += rate
        }
        return sum
    }
}
