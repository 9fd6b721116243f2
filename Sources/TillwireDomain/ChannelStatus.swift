/// What a channel's own statuses say in the canonical status, per platform. The tables are data: a rule matches the
/// platform's fields (nil matches anything) and the first match wins. A status no rule knows is an error naming it,
/// so that a connector sends the message to the dead letters instead of guessing. docs/orders.md prints the tables.
public struct ChannelStatusRule: Hashable, Sendable {
    /// The platform's fields this rule matches, in the platform's order; nil matches any value.
    public let fields: [String?]
    /// nil: not an order yet (a draft, a quotation); the hub keeps nothing.
    public let status: OrderStatus?
    /// For `on_hold`: why.
    public let holdReason: String?

    public init(_ fields: [String?], _ status: OrderStatus?, hold: String? = nil) {
        self.fields = fields
        self.status = status
        self.holdReason = hold
    }

    func matches(_ values: [String]) -> Bool {
        zip(fields, values).allSatisfy { field, value in field == nil || field == value }
    }
}

/// A channel status as the hub reads it.
public struct ChannelStatusMeaning: Hashable, Sendable {
    /// nil: not an order yet.
    public let status: OrderStatus?
    public let holdReason: String?

    public init(status: OrderStatus?, holdReason: String? = nil) {
        self.status = status
        self.holdReason = holdReason
    }
}

public enum ChannelStatusMapping {
    public enum Platform: String, Sendable, CaseIterable {
        case shopify, woocommerce, tryton, pos

        /// The fields a rule of this platform matches, in order.
        public var fields: [String] {
            switch self {
            case .shopify: ["cancelled", "financial_status", "fulfillment_status"]
            case .woocommerce: ["status"]
            case .tryton: ["state", "shipment_state"]
            case .pos: ["transaction_status"]
            }
        }

        public var rules: [ChannelStatusRule] {
            switch self {
            case .shopify: ChannelStatusMapping.shopify
            case .woocommerce: ChannelStatusMapping.wooCommerce
            case .tryton: ChannelStatusMapping.tryton
            case .pos: ChannelStatusMapping.pos
            }
        }

        /// The values each field may take; anything else is refused.
        public var knownValues: [[String]] {
            switch self {
            case .shopify: [["yes", "no"],
                            ["pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided", "expired"],
                            ["unfulfilled", "partial", "fulfilled", "restocked"]]
            case .woocommerce: [["pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft", "trash"]]
            case .tryton: [["draft", "quotation", "confirmed", "processing", "done", "cancelled"],
                           ["none", "waiting", "partially shipped", "sent", "exception"]]
            case .pos: [["completed", "voided", "suspended"]]
            }
        }
    }

    /// Shopify REST `orders`: `cancelled_at` (set or not: "yes"/"no"), `financial_status`, `fulfillment_status`
    /// (null is "unfulfilled"). A refund on a fulfilled order is a return; on an unfulfilled one a cancellation.
    public static let shopify: [ChannelStatusRule] = [
        .init(["yes", nil, nil], .cancelled),
        .init([nil, nil, "restocked"], .cancelled),
        .init([nil, "refunded", "fulfilled"], .returned),
        .init([nil, "partially_refunded", "fulfilled"], .partiallyReturned),
        .init([nil, nil, "fulfilled"], .fulfilled),
        .init([nil, nil, "partial"], .partiallyFulfilled),
        .init([nil, "refunded", "unfulfilled"], .cancelled),
        .init([nil, "voided", "unfulfilled"], .cancelled),
        .init([nil, "expired", "unfulfilled"], .onHold, hold: "the payment authorization expired in Shopify"),
        // pending, authorized, partially_paid, paid, partially_refunded: captured; the gate checks the payment.
        .init([nil, nil, "unfulfilled"], .captured),
    ]

    /// WooCommerce order statuses (`status` of the REST API's order).
    public static let wooCommerce: [ChannelStatusRule] = [
        .init(["checkout-draft"], nil),
        .init(["pending"], .captured),
        .init(["processing"], .captured),
        .init(["on-hold"], .onHold, hold: "awaiting payment confirmation in WooCommerce"),
        .init(["completed"], .fulfilled),
        .init(["cancelled"], .cancelled),
        // A declined payment the customer may retry: the order waits, and a later `processing` releases it.
        .init(["failed"], .onHold, hold: "the payment failed in WooCommerce"),
        .init(["trash"], .cancelled),
        .init(["refunded"], .returned),
    ]

    /// Tryton `sale.sale`: `state` and `shipment_state`.
    public static let tryton: [ChannelStatusRule] = [
        .init(["draft", nil], nil),
        .init(["quotation", nil], nil),
        .init(["cancelled", nil], .cancelled),
        .init(["confirmed", nil], .validated),
        .init(["processing", "partially shipped"], .partiallyFulfilled),
        .init(["processing", "sent"], .fulfilled),
        .init(["processing", "exception"], .onHold, hold: "a shipment exception in Tryton"),
        .init(["processing", nil], .released),
        .init(["done", nil], .completed),
    ]

    /// A till transaction: a completed sale is paid and handed over at once.
    public static let pos: [ChannelStatusRule] = [
        .init(["completed"], .completed),
        .init(["voided"], .cancelled),
        .init(["suspended"], nil),
    ]

    /// The canonical reading of a platform's status fields (in `platform.fields` order). An unknown value or
    /// combination is refused, naming it.
    public static func meaning(_ platform: Platform, _ values: [String]) throws(DomainError) -> ChannelStatusMeaning {
        guard values.count == platform.fields.count else {
            throw .invalidOrder("\(platform.rawValue) status needs \(platform.fields.joined(separator: ", "))")
        }
        for (index, value) in values.enumerated() where !platform.knownValues[index].contains(value) {
            throw .invalidOrder("unknown \(platform.rawValue) \(platform.fields[index]) '\(value.prefix(40))'")
        }
        guard let rule = platform.rules.first(where: { $0.matches(values) }) else {
            throw .invalidOrder("no mapping for \(platform.rawValue) status \(values.joined(separator: " / "))")
        }
        return ChannelStatusMeaning(status: rule.status, holdReason: rule.holdReason)
    }

    /// The platform's rules as a Markdown table, first match first (docs/orders.md embeds these).
    public static func markdownTable(_ platform: Platform) -> String {
        var lines = ["| " + platform.fields.map { "`\($0)`" }.joined(separator: " | ") + " | canonical status |",
                     "|" + String(repeating: "---|", count: platform.fields.count + 1)]
        for rule in platform.rules {
            let fields = rule.fields.map { $0.map { "`\($0)`" } ?? "any" }
            let status = rule.status.map { "`\($0.rawValue)`" + (rule.holdReason.map { " (\($0))" } ?? "") } ?? "not an order yet"
            lines.append("| " + fields.joined(separator: " | ") + " | \(status) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Shopify's three fields as the REST API sends them.
    public static func shopify(financialStatus: String, fulfillmentStatus: String?, cancelledAt: String?) throws(DomainError) -> ChannelStatusMeaning {
        try meaning(.shopify, [cancelledAt == nil ? "no" : "yes", financialStatus, fulfillmentStatus ?? "unfulfilled"])
    }
}
