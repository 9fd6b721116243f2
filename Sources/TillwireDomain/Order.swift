import Foundation

/// A canonical order, as every channel's order becomes it: who bought what at what price, with which discounts and
/// taxes, how it is paid, and how it reaches the customer. Amounts are `Money` in the order's currency; the channel's
/// order id stays a string (an 18-digit Shopify id must never pass through a Double).
public struct Order: Hashable, Sendable, Codable {
    public let id: OrderID
    public let channel: ChannelID
    /// The order's id in its channel, exactly as the channel sent it.
    public let channelOrderID: String
    public let placedAt: Date
    public let currency: Currency
    /// Whether unit prices include tax (VAT-style) or tax comes on top (US sales-tax style).
    public let taxesIncluded: Bool
    public let customer: Customer
    /// Where it ships to; nil for a pickup in store.
    public let shipTo: Address?
    public let lines: [OrderLine]
    public let shipping: Shipping?
    /// Discounts on the whole order (a basket threshold, a coupon), beside the lines' own.
    public let orderDiscounts: [Discount]
    public private(set) var payments: Payments
    public let fulfilment: Fulfilment
    /// The total the channel states; checked against the parts by `amountProblems()`.
    public let total: Money

    public init(
        id: OrderID, channel: ChannelID, channelOrderID: String, placedAt: Date, currency: Currency, taxesIncluded: Bool,
        customer: Customer, shipTo: Address?, lines: [OrderLine], shipping: Shipping?, orderDiscounts: [Discount] = [],
        payments: Payments, fulfilment: Fulfilment, total: Money
    ) throws(DomainError) {
        guard (1...100).contains(channelOrderID.utf8.count), !channelOrderID.contains(where: \.isNewline) else {
            throw .invalidOrder("a channel order id is 1-100 bytes on one line")
        }
        guard !lines.isEmpty, lines.count <= Self.maximumLines else { throw .invalidOrder("an order has 1-\(Self.maximumLines) lines") }
        guard Set(lines.map(\.id)).count == lines.count else { throw .invalidOrder("line ids repeat within the order") }
        if fulfilment.mode == .shipFromDC || fulfilment.mode == .shipFromStore, shipTo == nil {
            throw .invalidOrder("an order that ships needs a ship-to address")
        }
        self.id = id
        self.channel = channel
        self.channelOrderID = channelOrderID
        self.placedAt = placedAt
        self.currency = currency
        self.taxesIncluded = taxesIncluded
        self.customer = customer
        self.shipTo = shipTo
        self.lines = lines
        self.shipping = shipping
        self.orderDiscounts = orderDiscounts
        self.payments = payments
        self.fulfilment = fulfilment
        self.total = total
    }

    public static let maximumLines = 500

    /// The same order with the payment side's current figures (the order as captured keeps its own).
    public func with(payments: Payments) -> Order {
        var order = self
        order.payments = payments
        return order
    }

    /// Every amount of the order, for the currency check.
    var amounts: [Money] {
        var amounts = [payments.authorized, payments.captured, payments.refunded, total]
        for line in lines {
            amounts.append(line.unitPrice)
            amounts += line.discounts.map(\.amount)
            amounts += line.taxLines.map(\.amount)
        }
        if let shipping {
            amounts.append(shipping.price)
            amounts += shipping.discounts.map(\.amount)
            amounts += shipping.taxLines.map(\.amount)
        }
        return amounts + orderDiscounts.map(\.amount)
    }

    /// The total the parts add up to: each line's price less its discounts, shipping less its discounts, less the
    /// order's discounts, plus tax unless prices include it.
    public func computedTotal() throws(DomainError) -> Money {
        var sum = Money.zero(currency)
        for line in lines {
            sum = try sum.adding(try line.net())
            if !taxesIncluded { sum = try sum.adding(try line.tax()) }
        }
        if let shipping {
            sum = try sum.adding(try shipping.net())
            if !taxesIncluded { sum = try sum.adding(try shipping.tax()) }
        }
        return try sum.less(orderDiscounts)
    }

    /// Why the amounts cannot be trusted: another currency inside the order, or parts that do not add up to the
    /// stated total. Empty when they are consistent. The order is put on hold with these reasons, not refused:
    /// the channel has taken the customer's money already.
    public func amountProblems() -> [HoldReason] {
        if let other = amounts.first(where: { $0.currency != currency }) {
            return [HoldReason(.currencyMismatch, "an amount is in \(other.currency.code), the order in \(currency.code)")]
        }
        do {
            let computed = try computedTotal()
            guard computed == total else {
                return [HoldReason(.amountsMismatch, "the lines, discounts, tax and shipping add up to \(computed), the order states \(total)")]
            }
            return []
        } catch {
            return [HoldReason(.amountsMismatch, "the amounts cannot be added up: \(error)")]
        }
    }
}

public struct OrderLine: Hashable, Sendable, Codable {
    /// The line's id in its channel (a Shopify line item id, a WooCommerce item id), or its position.
    public let id: String
    public let sku: SKU
    public let quantity: Int64
    public let unitPrice: Money
    public let discounts: [Discount]
    public let taxLines: [TaxLine]

    public init(id: String, sku: SKU, quantity: Int64, unitPrice: Money, discounts: [Discount] = [], taxLines: [TaxLine] = []) throws(DomainError) {
        guard (1...100).contains(id.utf8.count) else { throw .invalidOrder("a line id is 1-100 bytes") }
        guard (1...InventoryMovement.maximumMagnitude).contains(quantity) else {
            throw .invalidQuantity(quantity, reason: "a line's quantity is between 1 and \(InventoryMovement.maximumMagnitude)")
        }
        guard unitPrice.minorUnits >= 0 else { throw .invalidAmount(unitPrice.decimalString, reason: "a unit price is not negative") }
        self.id = id
        self.sku = sku
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.discounts = discounts
        self.taxLines = taxLines
    }

    /// Quantity × unit price, less the line's discounts.
    public func net() throws(DomainError) -> Money {
        try unitPrice.multiplied(by: quantity).less(discounts)
    }

    public func tax() throws(DomainError) -> Money {
        try taxLines.total(in: unitPrice.currency)
    }
}

/// An amount taken off; positive. `code` names the coupon or promotion when the channel says which.
public struct Discount: Hashable, Sendable, Codable {
    public let amount: Money
    public let code: String?

    public init(amount: Money, code: String? = nil) throws(DomainError) {
        guard amount.minorUnits >= 0 else { throw .invalidAmount(amount.decimalString, reason: "a discount is a positive amount taken off") }
        self.amount = amount
        self.code = code
    }
}

/// One tax on a line or on shipping, as the channel computed it. `rateBasisPoints`: 2000 for 20 %.
public struct TaxLine: Hashable, Sendable, Codable {
    public let title: String
    public let rateBasisPoints: Int64?
    public let amount: Money

    public init(title: String, rateBasisPoints: Int64?, amount: Money) throws(DomainError) {
        if let rate = rateBasisPoints, !(0...10_000).contains(rate) {
            throw .invalidAmount("\(rate)", reason: "a tax rate is between 0 and 10000 basis points")
        }
        guard amount.minorUnits >= 0 else { throw .invalidAmount(amount.decimalString, reason: "a tax amount is not negative") }
        self.title = title
        self.rateBasisPoints = rateBasisPoints
        self.amount = amount
    }
}

public struct Shipping: Hashable, Sendable, Codable {
    public let price: Money
    public let discounts: [Discount]
    public let taxLines: [TaxLine]

    public init(price: Money, discounts: [Discount] = [], taxLines: [TaxLine] = []) throws(DomainError) {
        guard price.minorUnits >= 0 else { throw .invalidAmount(price.decimalString, reason: "a shipping price is not negative") }
        self.price = price
        self.discounts = discounts
        self.taxLines = taxLines
    }

    public func net() throws(DomainError) -> Money {
        try price.less(discounts)
    }

    public func tax() throws(DomainError) -> Money {
        try taxLines.total(in: price.currency)
    }
}

/// What the payment side holds for the order. `authorized` counts everything authorized, captured amounts included.
public struct Payments: Hashable, Sendable, Codable {
    public let authorized: Money
    public let captured: Money
    public let refunded: Money

    public init(authorized: Money, captured: Money, refunded: Money) throws(DomainError) {
        guard authorized.minorUnits >= 0, captured.minorUnits >= 0, refunded.minorUnits >= 0 else {
            throw .invalidAmount("\(authorized.decimalString)/\(captured.decimalString)/\(refunded.decimalString)", reason: "payment amounts are not negative")
        }
        guard refunded.minorUnits <= captured.minorUnits else {
            throw .invalidAmount(refunded.decimalString, reason: "more refunded than captured (\(captured.decimalString))")
        }
        self.authorized = authorized
        self.captured = captured
        self.refunded = refunded
    }

    /// What the order may be fulfilled against: the larger of authorized and captured, less refunds.
    public var covered: Int64 { max(authorized.minorUnits, captured.minorUnits) - refunded.minorUnits }

    /// Each figure at the larger of the two: a channel's payment figures only move forward, so a report that comes
    /// late (pending after paid) takes nothing back.
    public func movedForward(by report: Payments) throws(DomainError) -> Payments {
        func larger(_ a: Money, _ b: Money) -> Money { a.minorUnits >= b.minorUnits ? a : b }
        return try Payments(authorized: larger(authorized, report.authorized), captured: larger(captured, report.captured),
                            refunded: larger(refunded, report.refunded))
    }
}

public struct Customer: Hashable, Sendable, Codable {
    /// The customer's id in the channel, if it has accounts.
    public let id: String?
    public let email: String?
    public let name: String?

    public init(id: String? = nil, email: String? = nil, name: String? = nil) {
        self.id = id
        self.email = email
        self.name = name
    }
}

public struct Address: Hashable, Sendable, Codable {
    /// ISO 3166-1 alpha-2, upper case ("GB", "DE", "US").
    public let country: String
    /// A state or province code where the country has them ("CA", "NY"); sales tax depends on it.
    public let region: String?
    public let postalCode: String?

    public init(country: String, region: String? = nil, postalCode: String? = nil) throws(DomainError) {
        guard country.count == 2, country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw .invalidOrder("a country is an ISO 3166-1 alpha-2 code like GB, not '\(country.prefix(8))'")
        }
        self.country = country
        self.region = region
        self.postalCode = postalCode
    }
}

/// How the order reaches the customer. A pickup names its store.
public struct Fulfilment: Hashable, Sendable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        case shipFromDC = "ship_from_dc"
        case shipFromStore = "ship_from_store"
        case pickUpInStore = "pick_up_in_store"
    }

    public let mode: Mode
    public let pickupStore: LocationID?

    public init(_ mode: Mode, pickupStore: LocationID? = nil) throws(DomainError) {
        guard (mode == .pickUpInStore) == (pickupStore != nil) else {
            throw .invalidOrder(mode == .pickUpInStore ? "a pickup in store names its store" : "only a pickup in store names a pickup store")
        }
        self.mode = mode
        self.pickupStore = pickupStore
    }
}

/// Why an order is on hold, for machines (`code`) and people (`detail`).
public struct HoldReason: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable, CaseIterable {
        case amountsMismatch = "amounts_mismatch"
        case currencyMismatch = "currency_mismatch"
        case taxMissing = "tax_missing"
        case taxInconsistent = "tax_inconsistent"
        case paymentNotAuthorized = "payment_not_authorized"
        case paymentNotCaptured = "payment_not_captured"
        case unknownSKU = "unknown_sku"
        case notSellable = "not_sellable"
        case stockNotReserved = "stock_not_reserved"
        /// Units reserved for the order were sold at the till meanwhile (the store was offline): the order waits
        /// until the store has them again.
        case stockOversold = "stock_oversold"
        case customerIncomplete = "customer_incomplete"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

extension Money {
    /// This amount less each discount.
    func less(_ discounts: [Discount]) throws(DomainError) -> Money {
        var net = self
        for discount in discounts { net = try net.subtracting(discount.amount) }
        return net
    }
}

extension [TaxLine] {
    /// The sum of the tax lines' amounts.
    func total(in currency: Currency) throws(DomainError) -> Money {
        var sum = Money.zero(currency)
        for line in self { sum = try sum.adding(line.amount) }
        return sum
    }
}
