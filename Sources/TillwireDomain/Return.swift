import Foundation

public enum ReturnTag {}
/// The hub's id of a return: derived from where it was taken and that system's return number.
public typealias ReturnID = Identifier<ReturnTag>

/// Why the customer brings it back.
public enum ReturnReason: String, Sendable, Codable, CaseIterable {
    case changedMind = "changed_mind"
    case wrongSize = "wrong_size"
    case defective
    case arrivedDamaged = "arrived_damaged"
    case notAsDescribed = "not_as_described"
    case other

    /// The retailer's fault: a damaged item is still taken back, and shipping may be refunded.
    public var isFault: Bool { [.defective, .arrivedDamaged, .notAsDescribed].contains(self) }
}

/// The state of the returned item as the person receiving it sees it.
public enum ItemCondition: String, Sendable, Codable, CaseIterable {
    case unopened, opened, damaged
}

/// What happens to a returned item at the receiving location.
public enum Disposition: String, Sendable, Codable, CaseIterable {
    /// Back into sellable stock at the receiving location (a `return` movement there, not at the origin).
    case restock
    /// Written off: received and removed again (`return` then `damage` movements), its cost to shrinkage.
    case damaged
    /// Received and held out of stock until someone decides; neither restocked nor written off yet.
    case inspect
}

/// How the money goes back.
public enum RefundMethod: String, Sendable, Codable, CaseIterable {
    /// To the tender the customer paid with, through the order's channel (its connector refunds the payment).
    case originalTender = "original_tender"
    /// Paid out at the till (cash, card, a gift card): done when the till confirms the return.
    case storeTender = "store_tender"
}

/// One line of a return as asked for.
public struct ReturnRequestLine: Hashable, Sendable, Codable {
    /// The order line returned; nil for a return without an order the hub knows (a legacy till sale).
    public let orderLine: String?
    public let sku: SKU
    public let quantity: Int64
    public let reason: ReturnReason
    public let condition: ItemCondition
    public let disposition: Disposition
    /// For a return without an order: the unit price paid, tax included, as on the customer's receipt.
    public let unitPrice: Money?
    /// For a return without an order: the tax rate in basis points on the receipt.
    public let taxRate: Int64?

    public init(orderLine: String?, sku: SKU, quantity: Int64, reason: ReturnReason, condition: ItemCondition, disposition: Disposition? = nil,
                unitPrice: Money? = nil, taxRate: Int64? = nil) throws(DomainError) {
        guard (1...InventoryMovement.maximumMagnitude).contains(quantity) else {
            throw .invalidQuantity(quantity, reason: "a returned quantity is between 1 and \(InventoryMovement.maximumMagnitude)")
        }
        if let orderLine, !(1...100).contains(orderLine.utf8.count) { throw .invalidReturn("an order line id is 1-100 bytes") }
        if let unitPrice, unitPrice.minorUnits < 0 { throw .invalidAmount(unitPrice.decimalString, reason: "a unit price is not negative") }
        if let taxRate, !(0...10_000).contains(taxRate) { throw .invalidAmount("\(taxRate)", reason: "a tax rate is between 0 and 10000 basis points") }
        self.orderLine = orderLine
        self.sku = sku
        self.quantity = quantity
        self.reason = reason
        self.condition = condition
        self.disposition = disposition ?? (condition == .damaged ? .damaged : .restock)
        self.unitPrice = unitPrice
        self.taxRate = taxRate
    }
}

/// A return as a channel or a till asks for it.
public struct ReturnRequest: Hashable, Sendable, Codable {
    /// Where the return is taken: a store's POS, a web shop's returns portal.
    public let channel: ChannelID
    /// The return's number in that system (the till's return receipt, an RMA number).
    public let channelReturnID: String
    /// The order returned; nil for a return without an order the hub knows.
    public let order: OrderID?
    /// Where the items are received: the store taking them, or the returns warehouse. Required for a store tender
    /// refund; a return sent by post may name it when it is received.
    public let location: LocationID?
    public let lines: [ReturnRequestLine]
    public let refund: RefundMethod
    /// For a store tender refund: the tender paid out (`cash`, `card`, `gift_card`).
    public let tender: String?

    public init(channel: ChannelID, channelReturnID: String, order: OrderID?, location: LocationID?, lines: [ReturnRequestLine],
                refund: RefundMethod, tender: String? = nil) throws(DomainError) {
        guard (1...100).contains(channelReturnID.utf8.count), !channelReturnID.contains(where: \.isNewline) else {
            throw .invalidReturn("a channel return id is 1-100 bytes on one line")
        }
        guard (1...Order.maximumLines).contains(lines.count) else { throw .invalidReturn("a return has 1-\(Order.maximumLines) lines") }
        if refund == .storeTender {
            guard location != nil else { throw .invalidReturn("a store tender refund names the store that pays it (location)") }
            guard let tender, (1...50).contains(tender.utf8.count) else { throw .invalidReturn("a store tender refund names its tender (cash, card, ...)") }
        }
        self.channel = channel
        self.channelReturnID = channelReturnID
        self.order = order
        self.location = location
        self.lines = lines
        self.refund = refund
        self.tender = refund == .storeTender ? tender : nil
    }

    /// The tender the refund goes to: the till's, or the order's channel for the original tender.
    public func refundTender(orderChannel: ChannelID?) -> String {
        tender ?? orderChannel?.rawValue ?? channel.rawValue
    }
}

/// What the return policy allows (`returns.*` in the config).
public struct ReturnPolicy: Hashable, Sendable {
    /// How shipping is refunded.
    public enum ShippingRefund: String, Sendable, Codable, CaseIterable {
        /// Never.
        case never
        /// With the return that brings back the order's last unit.
        case fullReturn = "full_return"
        /// With the first return of the order whose reason is the retailer's fault.
        case fault
    }

    /// How long after a line left (shipped or collected) it may be returned. Default 30 days.
    public var window: Duration = .seconds(30 * 86_400)
    /// How long after it left a line may be returned for a fault. Default 365 days.
    public var faultWindow: Duration = .seconds(365 * 86_400)
    /// Default `never`.
    public var shipping: ShippingRefund = .never
    /// Whether a store takes back goods without an order the hub knows (a legacy till's sale), refunded as store
    /// tender at the price on the customer's receipt, up to `unreferencedLimit` per return. Default false.
    public var acceptUnreferenced = false
    /// The most refunded for one return without an order, in minor units of its currency. Default 100.00.
    public var unreferencedLimit: Int64 = 10_000

    public init() {}
}

/// A line the return policy accepted, with what it refunds.
public struct AuthorizedReturnLine: Hashable, Sendable, Codable {
    public let index: Int
    public let orderLine: String?
    public let sku: SKU
    public let quantity: Int64
    public let reason: ReturnReason
    public let condition: ItemCondition
    public let disposition: Disposition
    /// Refunded for these units, tax included, in minor units.
    public let gross: Int64
    public let tax: Int64
    public let taxRate: Int64?
}

/// A return the policy accepted: the payload of `return.authorized`, the first event of the return's stream.
public struct ReturnAuthorization: Hashable, Sendable, Codable {
    public let id: ReturnID
    public let request: ReturnRequest
    public let currency: Currency
    public let lines: [AuthorizedReturnLine]
    /// The channel of the order returned (its connector refunds an original tender); nil without an order.
    public let orderChannel: ChannelID?
    public let shippingGross: Int64
    public let shippingTax: Int64
    public let shippingTaxRate: Int64?

    /// Everything refunded, tax included.
    public var refundTotal: Int64 { lines.reduce(shippingGross) { $0 + $1.gross } }
    public var refundTax: Int64 { lines.reduce(shippingTax) { $0 + $1.tax } }
}

/// Why a return line (or the whole return, `line` nil) was refused.
public struct ReturnRefusal: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable, CaseIterable {
        case orderNotReturnable = "order_not_returnable"
        case unknownLine = "unknown_line"
        case skuMismatch = "sku_mismatch"
        case notShipped = "not_shipped"
        case exceedsReturnable = "exceeds_returnable"
        case windowClosed = "window_closed"
        case conditionNotAccepted = "condition_not_accepted"
        case unreferencedRefused = "unreferenced_refused"
        case priceRequired = "price_required"
        case overLimit = "over_limit"
        case exceedsPaid = "exceeds_paid"
    }

    public let code: Code
    /// The index of the refused line in the request; nil for the return as a whole.
    public let line: Int?
    public let detail: String

    public init(_ code: Code, line: Int?, _ detail: String) {
        self.code = code
        self.line = line
        self.detail = detail
    }

    public var description: String { "\(line.map { "line \($0): " } ?? "")\(code.rawValue): \(detail)" }
}

/// The refusals of a return request; nothing is stored for it.
public struct ReturnRefused: Error, Hashable, Sendable, CustomStringConvertible {
    public let refusals: [ReturnRefusal]
    public var description: String { "return refused: " + refusals.map(\.description).joined(separator: "; ") }
}

/// What the return rules need to know of the order returned.
public struct ReturnedOrderFacts: Sendable {
    public let order: Order
    public let status: OrderStatus
    /// When each line left (shipped or collected), by line id; a line not in it has not left.
    public let leftAt: [String: Date]
    /// Units of each line already in returns that were not voided, by line id.
    public let returned: [String: Int64]
    /// Whether an earlier return refunded the shipping.
    public let shippingRefunded: Bool
    /// Lines cancelled before they shipped: they never come back.
    public let cancelled: Set<String>
    /// What returns not voided refund already, in minor units.
    public let refundedByReturns: Int64

    public init(order: Order, status: OrderStatus, leftAt: [String: Date], returned: [String: Int64], shippingRefunded: Bool,
                cancelled: Set<String> = [], refundedByReturns: Int64 = 0) {
        self.order = order
        self.status = status
        self.leftAt = leftAt
        self.returned = returned
        self.shippingRefunded = shippingRefunded
        self.cancelled = cancelled
        self.refundedByReturns = refundedByReturns
    }
}

/// The return policy as pure rules.
public enum ReturnRules {
    /// Authorizes a return, or refuses it with every reason (`ReturnRefused`):
    /// - each line names a line of the order with the same SKU, that has left, within the window (the fault window
    ///   for a fault), for at most what is returnable (the line's quantity less what other returns took);
    /// - a damaged item is taken back only for a fault;
    /// - a return without an order needs `acceptUnreferenced`, a store tender, and each line's receipt price; its
    ///   refund is capped by `unreferencedLimit`.
    /// Refunds are each unit's cumulative share of what was paid for its line (`OrderPricing.Line.share`), tax
    /// included; shipping by `policy.shipping`.
    public static func authorize(_ request: ReturnRequest, id: ReturnID, order facts: ReturnedOrderFacts?, policy: ReturnPolicy,
                                 now: Date) throws(ReturnRefused) -> ReturnAuthorization {
        guard let facts else { return try unreferenced(request, id: id, policy: policy) }
        var refusals: [ReturnRefusal] = []
        let order = facts.order
        guard [.fulfilled, .collected, .completed, .partiallyFulfilled, .partiallyReturned].contains(facts.status) else {
            let why = facts.status == .returned ? "every unit of it has come back already" : "nothing of it has reached the customer"
            throw ReturnRefused(refusals: [ReturnRefusal(.orderNotReturnable, line: nil, "order \(order.channelOrderID) is \(facts.status.rawValue): \(why)")])
        }
        let pricing: OrderPricing
        do { pricing = try OrderPricing(order) } catch {
            throw ReturnRefused(refusals: [ReturnRefusal(.orderNotReturnable, line: nil, "the order's amounts cannot be added up: \(error)")])
        }
        var taken: [String: Int64] = [:]  // units this request takes of each line so far
        var lines: [AuthorizedReturnLine] = []
        for (index, line) in request.lines.enumerated() {
            guard let lineID = line.orderLine, let priced = pricing.line(lineID) else {
                refusals.append(ReturnRefusal(.unknownLine, line: index,
                                              line.orderLine.map { "order \(order.channelOrderID) has no line \($0)" } ?? "name the order line returned"))
                continue
            }
            guard priced.sku == line.sku else {
                refusals.append(ReturnRefusal(.skuMismatch, line: index, "order line \(lineID) is \(priced.sku), not \(line.sku)"))
                continue
            }
            guard let left = facts.leftAt[lineID] else {
                refusals.append(ReturnRefusal(.notShipped, line: index, "order line \(lineID) has not been shipped or collected"))
                continue
            }
            let window = line.reason.isFault ? policy.faultWindow : policy.window
            let closes = left + Self.seconds(window)
            if now > closes {
                refusals.append(ReturnRefusal(.windowClosed, line: index,
                                              "the return window of line \(lineID) (\(Int(Self.seconds(window) / 86_400)) days from \(Self.day(left))) closed on \(Self.day(closes))"))
            }
            if line.condition == .damaged && !line.reason.isFault {
                refusals.append(ReturnRefusal(.conditionNotAccepted, line: index,
                                              "a damaged item is taken back only for a fault (defective, arrived_damaged, not_as_described), not for \(line.reason.rawValue)"))
            }
            let before = facts.returned[lineID, default: 0] + taken[lineID, default: 0]
            let returnable = priced.quantity - before
            guard line.quantity <= returnable else {
                refusals.append(ReturnRefusal(.exceedsReturnable, line: index,
                                              "\(line.quantity) × \(line.sku) asked, \(returnable) returnable of line \(lineID) (\(priced.quantity) bought, \(before) returned)"))
                continue
            }
            taken[lineID, default: 0] += line.quantity
            let share = priced.share(after: before, count: line.quantity)
            lines.append(AuthorizedReturnLine(index: index, orderLine: lineID, sku: line.sku, quantity: line.quantity, reason: line.reason,
                                              condition: line.condition, disposition: line.disposition, gross: share.gross, tax: share.tax,
                                              taxRate: priced.taxRate))
        }
        guard refusals.isEmpty else { throw ReturnRefused(refusals: refusals) }
        var shippingGross: Int64 = 0
        var shippingTax: Int64 = 0
        if !facts.shippingRefunded {
            let everything = pricing.lines.allSatisfy {
                facts.cancelled.contains($0.id) || facts.returned[$0.id, default: 0] + taken[$0.id, default: 0] == $0.quantity
            }
            let refund = switch policy.shipping {
            case .never: false
            case .fullReturn: everything
            case .fault: request.lines.contains { $0.reason.isFault }
            }
            if refund {
                shippingGross = pricing.shippingGross
                shippingTax = pricing.shippingTax
            }
        }
        let authorization = ReturnAuthorization(id: id, request: request, currency: order.currency, lines: lines, orderChannel: order.channel,
                                                shippingGross: shippingGross, shippingTax: shippingTax, shippingTaxRate: pricing.shippingTaxRate)
        // Never more back than the payment side took: what it holds for the order, less what other returns refund.
        let paid = max(order.payments.authorized.minorUnits, order.payments.captured.minorUnits)
        let left = paid - facts.refundedByReturns
        guard authorization.refundTotal <= left else {
            throw ReturnRefused(refusals: [ReturnRefusal(.exceedsPaid, line: nil,
                                                         "the return would refund \(Money(minorUnits: authorization.refundTotal, currency: order.currency)); the order's payments hold \(Money(minorUnits: paid, currency: order.currency)), of which returns refund \(Money(minorUnits: facts.refundedByReturns, currency: order.currency)) already")])
        }
        return authorization
    }

    /// A return without an order the hub knows: refunded as store tender at the receipt's price, within the limit.
    static func unreferenced(_ request: ReturnRequest, id: ReturnID, policy: ReturnPolicy) throws(ReturnRefused) -> ReturnAuthorization {
        guard policy.acceptUnreferenced else {
            throw ReturnRefused(refusals: [ReturnRefusal(.unreferencedRefused, line: nil,
                                                         "returns without an order the hub knows are not accepted (returns.accept_unreferenced); find the order by its channel order number or by the customer")])
        }
        guard request.refund == .storeTender else {
            throw ReturnRefused(refusals: [ReturnRefusal(.unreferencedRefused, line: nil,
                                                         "a return without an order is refunded as store tender: there is no original tender to refund")])
        }
        var refusals: [ReturnRefusal] = []
        var lines: [AuthorizedReturnLine] = []
        var currency: Currency?
        for (index, line) in request.lines.enumerated() {
            guard let price = line.unitPrice, let rate = line.taxRate else {
                refusals.append(ReturnRefusal(.priceRequired, line: index, "a return without an order gives each line's unit_price and tax_rate from the receipt"))
                continue
            }
            if let currency, currency != price.currency {
                refusals.append(ReturnRefusal(.priceRequired, line: index, "the receipt's prices are in one currency (\(currency.code), not \(price.currency.code))"))
                continue
            }
            currency = price.currency
            if line.condition == .damaged && !line.reason.isFault {
                refusals.append(ReturnRefusal(.conditionNotAccepted, line: index, "a damaged item is taken back only for a fault"))
                continue
            }
            let (gross, overflow) = price.minorUnits.multipliedReportingOverflow(by: line.quantity)
            guard !overflow else {
                refusals.append(ReturnRefusal(.overLimit, line: index, "the line's amount overflows"))
                continue
            }
            // Tax inside a VAT-inclusive gross: gross × rate / (10000 + rate), half up.
            let (scaled, tooLarge) = gross.multipliedReportingOverflow(by: rate)
            guard !tooLarge else {
                refusals.append(ReturnRefusal(.overLimit, line: index, "the line's amount overflows"))
                continue
            }
            let tax = RoundingRule.halfUp.divide(scaled, by: 10_000 + rate)
            lines.append(AuthorizedReturnLine(index: index, orderLine: nil, sku: line.sku, quantity: line.quantity, reason: line.reason,
                                              condition: line.condition, disposition: line.disposition, gross: gross, tax: tax, taxRate: rate))
        }
        guard refusals.isEmpty, let currency else { throw ReturnRefused(refusals: refusals) }
        var total: Int64 = 0
        for line in lines {
            let (sum, overflow) = total.addingReportingOverflow(line.gross)
            guard !overflow else {
                throw ReturnRefused(refusals: [ReturnRefusal(.overLimit, line: nil, "the return's amount overflows")])
            }
            total = sum
        }
        guard total <= policy.unreferencedLimit else {
            throw ReturnRefused(refusals: [ReturnRefusal(.overLimit, line: nil,
                                                         "\(Money(minorUnits: total, currency: currency)) is over the limit for a return without an order (\(Money(minorUnits: policy.unreferencedLimit, currency: currency)))")])
        }
        return ReturnAuthorization(id: id, request: request, currency: currency, lines: lines, orderChannel: nil,
                                   shippingGross: 0, shippingTax: 0, shippingTaxRate: nil)
    }

    static func seconds(_ duration: Duration) -> TimeInterval { TimeInterval(duration.components.seconds) }

    static func day(_ date: Date) -> String { JournalBuilder.businessDay(date, in: TimeZone(identifier: "UTC")!) }
}

extension Identifier where Tag == ReturnTag {
    /// The hub's id of a return taken by `channel` under its own number: `r-` and 32 hex digits.
    public static func derived(channel: ChannelID, channelReturnID: String) -> ReturnID {
        ReturnID(trusted: "r-" + String(OrderID.derived(channel: channel, channelOrderID: channelReturnID).rawValue.dropFirst(2)))
    }
}
