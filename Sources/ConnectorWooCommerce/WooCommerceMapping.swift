import Foundation
import TillwireConnectors
import TillwireDomain

/// A WooCommerce id: a JSON number (the REST API and the webhooks send numbers), kept as its digits.
public struct WooID: Decodable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { rawValue = text } else { rawValue = String(try container.decode(Int64.self)) }
    }

    public var description: String { rawValue }
    /// 0 is WooCommerce's "none" (a line that is not a variation, a guest customer).
    public var isNone: Bool { rawValue == "0" }
}

/// A WooCommerce order as REST API v3 and the `order.*` webhooks send it. Money is decimal strings; line amounts are
/// without tax (`subtotal` before discounts, `total` after), whatever `prices_include_tax` says.
public struct WooOrder: Decodable, Sendable, Equatable {
    public struct Party: Decodable, Sendable, Equatable {
        public let first_name: String?
        public let last_name: String?
        public let email: String?
        public let state: String?
        public let postcode: String?
        public let country: String?
    }

    public struct LineItem: Decodable, Sendable, Equatable {
        public let id: WooID
        public let product_id: WooID?
        public let variation_id: WooID?
        public let sku: String?
        public let quantity: Int64
        public let subtotal: String
        public let total: String
        public let total_tax: String?
        /// The tax rates applied, by the rate's id (`tax_lines[].rate_id`).
        public let taxes: [AppliedTax]?
    }

    public struct ShippingLine: Decodable, Sendable, Equatable {
        public let total: String
        public let total_tax: String?
        public let taxes: [AppliedTax]?
    }

    public struct AppliedTax: Decodable, Sendable, Equatable {
        public let id: WooID
    }

    /// One tax rate the order used: its id and percentage (`20`, `19`). The hub's rates are whole basis points, so
    /// `8.875` becomes 888 (docs/orders.md, "Rates are whole basis points").
    public struct TaxRate: Decodable, Sendable, Equatable {
        public let rate_id: WooID?
        public let rate_percent: Double?
    }

    public struct FeeLine: Decodable, Sendable, Equatable {
        public let name: String?
        public let total: String
    }

    public struct Refund: Decodable, Sendable, Equatable {
        public let id: WooID
        /// Negative, as WooCommerce lists refunds on an order ("-10.00").
        public let total: String
    }

    public let id: WooID
    public let number: String?
    public let status: String
    public let currency: String
    public let date_created_gmt: String
    public let date_modified_gmt: String?
    public let date_paid_gmt: String?
    public let total: String
    public let customer_id: WooID?
    public let billing: Party?
    public let shipping: Party?
    public let line_items: [LineItem]
    public let shipping_lines: [ShippingLine]?
    public let fee_lines: [FeeLine]?
    public let tax_lines: [TaxRate]?
    public let refunds: [Refund]?
}

/// What a WooCommerce webhook is about, parsed from its verified body. Pure: tested on recorded bodies.
public enum WooEvent: Sendable, Equatable {
    /// `order.created`, `order.updated`, `order.restored`: the order's state at `date_modified_gmt`.
    case order(WooOrder)
    /// `order.deleted`: the order is gone from the shop (trashed or deleted).
    case orderDeleted(WooID)
    /// Any other topic (`product.updated`, `customer.created`, ...): acknowledged and logged.
    case other(String)
}

/// A body that verified but cannot be taken: the reason goes to the dead letter with the raw body.
public struct WooPayloadError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

public enum WooMapping {
    struct Deleted: Decodable {
        let id: WooID
    }

    public static func parse(topic: String, body: Data) throws -> WooEvent {
        do {
            switch topic {
            case "order.created", "order.updated", "order.restored": return .order(try JSONDecoder().decode(WooOrder.self, from: body))
            case "order.deleted": return .orderDeleted(try JSONDecoder().decode(Deleted.self, from: body).id)
            default: return .other(topic)
            }
        } catch let error as DecodingError {
            throw WooPayloadError("\(topic): the body does not parse: \(PayloadDecoding.describe(error))")
        }
    }

    /// What the order's WooCommerce `status` means in the canonical one (nil: not an order yet).
    public static func meaning(_ order: WooOrder) throws -> ChannelStatusMeaning {
        do { return try ChannelStatusMapping.meaning(.woocommerce, [order.status]) } catch { throw WooPayloadError("order \(order.id): \(error)") }
    }

    /// The canonical order of a WooCommerce order on `channel`: its channel order id is WooCommerce's order id (not
    /// `number`, which plugins rewrite). Amounts are without tax, with each line's tax as a tax line; a line's unit
    /// price is its `subtotal` over its quantity (rounded up to the cent), and what the line's `total` is below that
    /// is its discount. The order is paid once WooCommerce has a payment date (or is processing, completed or
    /// refunded); refunds are the order's refunds. Fees have no place in the canonical order: an order with fees
    /// does not add up and is held for review.
    public static func canonical(_ order: WooOrder, channel: ChannelID) throws -> Order {
        let currency: Currency
        do { currency = try Currency(order.currency) } catch { throw WooPayloadError("order \(order.id): currency \(order.currency) is not ISO 4217") }
        func minor(_ text: String?, _ field: String) throws -> Int64 {
            guard let text, !text.isEmpty else { return 0 }
            do { return try Money(parsing: text, currency: currency).minorUnits } catch { throw WooPayloadError("order \(order.id): \(field) '\(text)' is not an amount") }
        }
        func money(_ units: Int64) -> Money { Money(minorUnits: units, currency: currency) }
        // The rate a line was taxed at is the order's tax line it names; read back from rounded amounts it can be off
        // by a basis point (3.80 on 19.99 reads as 19.01 %), so that is the fallback for a line that names none.
        var rates: [String: Int64] = [:]
        for rate in order.tax_lines ?? [] {
            guard let id = rate.rate_id, let percent = rate.rate_percent, percent >= 0, percent <= 100 else { continue }
            rates[id.rawValue] = Int64((percent * 100).rounded())
        }
        func tax(_ amount: Int64, over net: Int64, applied: [WooOrder.AppliedTax]?) throws -> [TaxLine] {
            guard amount > 0 else { return [] }
            let named = Set((applied ?? []).compactMap { rates[$0.id.rawValue] })
            let rate = named.count == 1 && applied?.count == 1 ? named.first : net > 0 ? (amount * 10_000 + net / 2) / net : nil
            return [try TaxLine(title: "Tax", rateBasisPoints: rate.map { min($0, 10_000) }, amount: money(amount))]
        }
        do {
            let lines = try order.line_items.map { item -> OrderLine in
                guard let text = item.sku, !text.isEmpty, let sku = try? SKU(text) else {
                    throw WooPayloadError("order \(order.id): line item \(item.id) has no SKU (set one on the product in WooCommerce)")
                }
                guard item.quantity > 0 else { throw WooPayloadError("order \(order.id): line item \(item.id) has quantity \(item.quantity)") }
                let subtotal = try minor(item.subtotal, "line_items.subtotal")
                let total = try minor(item.total, "line_items.total")
                let unit = (subtotal + item.quantity - 1) / item.quantity
                let discount = unit * item.quantity - total
                guard discount >= 0 else { throw WooPayloadError("order \(order.id): line item \(item.id) costs more (\(item.total)) than its subtotal (\(item.subtotal))") }
                return try OrderLine(id: item.id.rawValue, sku: sku, quantity: item.quantity, unitPrice: money(unit),
                                     discounts: discount > 0 ? [try Discount(amount: money(discount))] : [],
                                     taxLines: try tax(try minor(item.total_tax, "line_items.total_tax"), over: total, applied: item.taxes))
            }
            var shipping: Shipping?
            if let shippingLines = order.shipping_lines, !shippingLines.isEmpty {
                let net = try shippingLines.reduce(Int64(0)) { $0 + (try minor($1.total, "shipping_lines.total")) }
                let shippingTax = try shippingLines.reduce(Int64(0)) { $0 + (try minor($1.total_tax, "shipping_lines.total_tax")) }
                shipping = try Shipping(price: money(net), taxLines: try tax(shippingTax, over: net,
                                                                             applied: shippingLines.count == 1 ? shippingLines[0].taxes : nil))
            }
            let total = money(try minor(order.total, "total"))
            let paid = order.date_paid_gmt.map { !$0.isEmpty } ?? false || ["processing", "completed", "refunded"].contains(order.status)
            let refunded = try (order.refunds ?? []).reduce(Int64(0)) { $0 + abs(try minor($1.total, "refunds.total")) }
            let payments = paid ? try Payments(authorized: total, captured: total, refunded: money(min(refunded, total.minorUnits)))
                : try Payments(authorized: Money.zero(currency), captured: Money.zero(currency), refunded: Money.zero(currency))
            let address = order.shipping?.country.flatMap { $0.isEmpty ? nil : order.shipping } ?? order.billing
            let shipTo = try address?.country.flatMap { $0.isEmpty ? nil : $0 }.map { try Address(country: $0, region: address?.state, postalCode: address?.postcode) }
            guard let placed = parseTime(order.date_created_gmt) else { throw WooPayloadError("order \(order.id): date_created_gmt '\(order.date_created_gmt)' is not a time") }
            let name = [order.billing?.first_name, order.billing?.last_name].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return try Order(
                id: .derived(channel: channel, channelOrderID: order.id.rawValue), channel: channel, channelOrderID: order.id.rawValue, placedAt: placed,
                currency: currency, taxesIncluded: false,
                customer: Customer(id: order.customer_id.flatMap { $0.isNone ? nil : $0.rawValue }, email: order.billing?.email, name: name.isEmpty ? nil : name),
                shipTo: shipTo, lines: lines, shipping: shipping, payments: payments, fulfilment: try Fulfilment(.shipFromDC), total: total)
        } catch let error as DomainError {
            throw WooPayloadError("order \(order.id): \(error)")
        }
    }

    /// WooCommerce's `*_gmt` times: `2026-11-29T15:00:00`, UTC without a zone.
    public static func parseTime(_ text: String) -> Date? {
        ISO8601DateFormatter().date(from: text.hasSuffix("Z") ? text : text + "Z")
    }
}
