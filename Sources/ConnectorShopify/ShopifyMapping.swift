import Foundation
import TillwireConnectors
import TillwireDomain

/// A Shopify id exactly as sent: a JSON number (REST, webhooks), a string, or a GraphQL global id
/// (`gid://shopify/Order/820982911946154508`), kept as its decimal digits. Never through a `Double`: Shopify's ids
/// have 18 digits and more, past the 2^53 a double holds exactly.
public struct ShopifyID: Decodable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue.split(separator: "/").last.map(String.init) ?? rawValue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(text)
        } else {
            self.init(String(try container.decode(Int64.self)))
        }
    }

    public var description: String { rawValue }
    /// The GraphQL global id of this id as a `type` (`Order`, `InventoryItem`, `Location`).
    public func gid(_ type: String) -> String { "gid://shopify/\(type)/\(rawValue)" }
}

/// A Shopify order as the REST Admin API and the `orders/*` webhooks send it. Money is decimal strings in the shop's
/// currency; `*_set` fields carry the shop and the presentment (customer's) currency, and the shop's is used.
public struct ShopifyOrder: Decodable, Sendable, Equatable {
    public struct MoneySet: Decodable, Sendable, Equatable {
        public struct Amount: Decodable, Sendable, Equatable {
            public let amount: String
            public let currency_code: String
        }
        public let shop_money: Amount
        public let presentment_money: Amount?
    }

    public struct TaxLine: Decodable, Sendable, Equatable {
        public let title: String?
        public let price: String
        public let price_set: MoneySet?
        /// A fraction: 0.2 is 20 %.
        public let rate: Double?
    }

    public struct DiscountAllocation: Decodable, Sendable, Equatable {
        public let amount: String
        public let amount_set: MoneySet?
    }

    public struct LineItem: Decodable, Sendable, Equatable {
        public let id: ShopifyID
        public let variant_id: ShopifyID?
        public let sku: String?
        public let title: String?
        public let quantity: Int64
        public let price: String
        public let price_set: MoneySet?
        public let tax_lines: [TaxLine]?
        public let discount_allocations: [DiscountAllocation]?
    }

    public struct ShippingLine: Decodable, Sendable, Equatable {
        public let code: String?
        public let price: String
        public let price_set: MoneySet?
        public let tax_lines: [TaxLine]?
        public let discount_allocations: [DiscountAllocation]?
    }

    public struct Address: Decodable, Sendable, Equatable {
        public let first_name: String?
        public let last_name: String?
        public let province_code: String?
        public let zip: String?
        public let country_code: String?
    }

    public struct Customer: Decodable, Sendable, Equatable {
        public let id: ShopifyID?
        public let email: String?
        public let first_name: String?
        public let last_name: String?
    }

    public struct Refund: Decodable, Sendable, Equatable {
        public struct Transaction: Decodable, Sendable, Equatable {
            public let amount: String
            /// The transaction's currency: the customer's (presentment) one on a multi-currency shop.
            public let currency: String?
            public let kind: String
            public let status: String
        }
        public let id: ShopifyID
        public let transactions: [Transaction]?
    }

    public let id: ShopifyID
    /// `#1001`: what people call the order.
    public let name: String?
    public let email: String?
    public let created_at: String
    public let updated_at: String?
    public let cancelled_at: String?
    public let currency: String
    public let presentment_currency: String?
    public let taxes_included: Bool?
    public let total_price: String
    public let total_price_set: MoneySet?
    public let total_outstanding: String?
    public let financial_status: String?
    public let fulfillment_status: String?
    public let customer: Customer?
    public let shipping_address: Address?
    public let line_items: [LineItem]
    public let shipping_lines: [ShippingLine]?
    public let refunds: [Refund]?
    /// `web`, `pos`, an app's name: where the order was placed.
    public let source_name: String?
}

/// What a Shopify webhook is about, parsed from its verified body. Pure: tested on recorded bodies.
public enum ShopifyEvent: Sendable, Equatable {
    /// `orders/create`, `orders/updated`, `orders/paid`, `orders/cancelled`: the order's state at `updated_at`.
    case order(ShopifyOrder)
    /// `refunds/create`, `fulfillments/create`: about an order, whose current state is fetched.
    case orderActivity(order: ShopifyID, what: String)
    /// `inventory_levels/update`: Shopify's figure for an item at a location.
    case inventoryLevel(item: ShopifyID, location: ShopifyID, available: Int64?)
    /// A topic this connector takes no action on (`products/update` and any other): acknowledged and logged.
    case other(String)
}

/// A body that verified but cannot be taken: the reason goes to the dead letter with the raw body.
public struct ShopifyPayloadError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

public enum ShopifyMapping {
    struct Activity: Decodable {
        let order_id: ShopifyID
    }

    struct Level: Decodable {
        let inventory_item_id: ShopifyID
        let location_id: ShopifyID
        let available: Int64?
    }

    public static let orderTopics: Set<String> = ["orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "orders/partially_fulfilled"]

    public static func parse(topic: String, body: Data) throws -> ShopifyEvent {
        let decoder = JSONDecoder()
        do {
            switch topic {
            case _ where orderTopics.contains(topic): return .order(try decoder.decode(ShopifyOrder.self, from: body))
            case "refunds/create", "fulfillments/create", "fulfillments/update":
                return .orderActivity(order: try decoder.decode(Activity.self, from: body).order_id, what: topic)
            case "inventory_levels/update":
                let level = try decoder.decode(Level.self, from: body)
                return .inventoryLevel(item: level.inventory_item_id, location: level.location_id, available: level.available)
            default: return .other(topic)
            }
        } catch let error as DecodingError {
            throw ShopifyPayloadError("\(topic): the body does not parse: \(PayloadDecoding.describe(error))")
        }
    }

    /// What the order's Shopify status says in the canonical one (nil: not an order the hub keeps).
    public static func meaning(_ order: ShopifyOrder) throws -> ChannelStatusMeaning {
        do {
            return try ChannelStatusMapping.shopify(financialStatus: order.financial_status ?? "pending", fulfillmentStatus: order.fulfillment_status,
                                                    cancelledAt: order.cancelled_at)
        } catch {
            throw ShopifyPayloadError("order \(order.id): \(error)")
        }
    }

    /// The canonical order of a Shopify order on `channel`. Its channel order id is Shopify's order id (the number
    /// in the admin URL and the API, not the `#1001` name), its line ids Shopify's line item ids. Amounts are the
    /// shop's money; discounts are as Shopify allocated them to lines and shipping; the payment side follows
    /// `financial_status`.
    public static func canonical(_ order: ShopifyOrder, channel: ChannelID) throws -> Order {
        let currency: Currency
        do { currency = try Currency(order.currency) } catch { throw ShopifyPayloadError("order \(order.id): currency \(order.currency) is not ISO 4217") }
        func money(_ text: String, _ set: ShopifyOrder.MoneySet?, _ field: String) throws -> Money {
            let amount = set.map { $0.shop_money.amount } ?? text
            do { return try Money(parsing: amount, currency: currency) } catch { throw ShopifyPayloadError("order \(order.id): \(field) '\(amount)' is not an amount in \(currency.code)") }
        }
        func taxes(_ lines: [ShopifyOrder.TaxLine]?, _ field: String) throws -> [TaxLine] {
            try (lines ?? []).compactMap { line in
                let amount = try money(line.price, line.price_set, "\(field).tax_lines.price")
                guard amount.minorUnits != 0 else { return nil }
                let rate = line.rate.flatMap { $0.isFinite && (0...1).contains($0) ? Int64(($0 * 10_000).rounded()) : nil }
                return try TaxLine(title: line.title ?? "Tax", rateBasisPoints: rate, amount: amount)
            }
        }
        func discounts(_ allocations: [ShopifyOrder.DiscountAllocation]?, _ field: String) throws -> [Discount] {
            try (allocations ?? []).compactMap { allocation in
                let amount = try money(allocation.amount, allocation.amount_set, "\(field).discount_allocations.amount")
                return amount.minorUnits == 0 ? nil : try Discount(amount: amount)
            }
        }
        do {
            let lines = try order.line_items.map { item -> OrderLine in
                guard let text = item.sku, !text.isEmpty, let sku = try? SKU(text) else {
                    throw ShopifyPayloadError("order \(order.id): line item \(item.id) has no SKU (set one on the variant in Shopify)")
                }
                return try OrderLine(id: item.id.rawValue, sku: sku, quantity: item.quantity, unitPrice: try money(item.price, item.price_set, "line_items.price"),
                                     discounts: try discounts(item.discount_allocations, "line_items"), taxLines: try taxes(item.tax_lines, "line_items"))
            }
            var shipping: Shipping?
            if let shippingLines = order.shipping_lines, !shippingLines.isEmpty {
                var price = Money.zero(currency)
                for line in shippingLines { price = try price.adding(try money(line.price, line.price_set, "shipping_lines.price")) }
                shipping = try Shipping(price: price, discounts: try shippingLines.flatMap { try discounts($0.discount_allocations, "shipping_lines") },
                                        taxLines: try shippingLines.flatMap { try taxes($0.tax_lines, "shipping_lines") })
            }
            let total = try money(order.total_price, order.total_price_set, "total_price")
            let name = [order.customer?.first_name, order.customer?.last_name].compactMap { $0 }.joined(separator: " ")
            guard let country = order.shipping_address?.country_code else {
                throw ShopifyPayloadError("order \(order.id) has no shipping address: local pickup and digital-only orders are not taken yet")
            }
            let shipTo = try Address(country: country, region: order.shipping_address?.province_code, postalCode: order.shipping_address?.zip)
            guard let placed = parseTime(order.created_at) else { throw ShopifyPayloadError("order \(order.id): created_at '\(order.created_at)' is not an ISO 8601 time") }
            return try Order(
                id: .derived(channel: channel, channelOrderID: order.id.rawValue), channel: channel, channelOrderID: order.id.rawValue, placedAt: placed,
                currency: currency, taxesIncluded: order.taxes_included ?? false,
                customer: Customer(id: order.customer?.id?.rawValue, email: order.email ?? order.customer?.email, name: name.isEmpty ? nil : name),
                shipTo: shipTo, lines: lines, shipping: shipping, payments: try payments(order, total: total), fulfilment: try Fulfilment(.shipFromDC), total: total)
        } catch let error as DomainError {
            throw ShopifyPayloadError("order \(order.id): \(error)")
        }
    }

    /// The payment side as `financial_status` tells it: `authorized` is the total authorized, `paid` captured,
    /// `partially_paid` captured less what is outstanding, and refunds are the successful refund transactions.
    static func payments(_ order: ShopifyOrder, total: Money) throws -> Payments {
        let zero = Money.zero(total.currency)
        func amount(_ text: String?) -> Int64 { text.flatMap { try? Money(parsing: $0, currency: total.currency).minorUnits } ?? 0 }
        var refunded: Int64 = 0
        for refund in order.refunds ?? [] {
            // Only refunds in the shop's currency add up with its total; one in the customer's currency is left to
            // the hub's own record of the refunds it made.
            for transaction in refund.transactions ?? [] where transaction.kind == "refund" && transaction.status == "success"
                && (transaction.currency ?? order.currency) == order.currency {
                refunded += amount(transaction.amount)
            }
        }
        switch order.financial_status ?? "pending" {
        case "authorized": return try Payments(authorized: total, captured: zero, refunded: zero)
        case "partially_paid":
            let captured = Money(minorUnits: max(0, total.minorUnits - amount(order.total_outstanding)), currency: total.currency)
            return try Payments(authorized: total, captured: captured, refunded: zero)
        case "paid", "partially_refunded", "refunded":
            return try Payments(authorized: total, captured: total, refunded: Money(minorUnits: min(refunded, total.minorUnits), currency: total.currency))
        default: return try Payments(authorized: zero, captured: zero, refunded: zero)
        }
    }

    /// Shopify's times: ISO 8601 with an offset (`2026-11-29T10:00:00-05:00`), sometimes with milliseconds.
    public static func parseTime(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}
