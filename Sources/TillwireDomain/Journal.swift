import Foundation

/// One line of a journal entry: an amount on one side of one account, in the entry's currency's minor units.
public struct JournalLine: Hashable, Sendable, Codable {
    public let account: String
    public let debit: Int64
    public let credit: Int64
    /// The tax rate in basis points, on tax lines: the reconciliation sums tax per rate.
    public let taxRate: Int64?
    /// The tender, on lines of a tender's account: the reconciliation sums per tender.
    public let tender: String?
    public let memo: String?

    public init(account: String, debit: Int64 = 0, credit: Int64 = 0, taxRate: Int64? = nil, tender: String? = nil, memo: String? = nil) {
        self.account = account
        self.debit = debit
        self.credit = credit
        self.taxRate = taxRate
        self.tender = tender
        self.memo = memo
    }

    /// Debit minus credit.
    public var net: Int64 { debit - credit }
}

/// Where a journal entry comes from: a document of a flow (an order, a return, a store day) or an event.
public struct JournalSource: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case order, `return`, event, entry, movement
    }

    public let kind: Kind
    public let id: String

    public init(_ kind: Kind, _ id: String) {
        self.kind = kind
        self.id = id
    }
}

/// A balanced journal entry in one currency: the debits equal the credits, in minor units. Built by
/// `JournalBuilder` from what happened (a shipment, a refund, a stock correction) and posted to the ERP.
public struct JournalEntry: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Goods left the retailer (shipped or collected): revenue, tax and the tender's receivable.
        case sale
        /// Money given back for a return: the credit note.
        case refund
        /// A count or damage changed the stock's value.
        case stockCorrection = "stock_correction"
        /// Several entries of one store and business day, summed per account.
        case summary
    }

    public let id: String
    public let kind: Kind
    public let currency: Currency
    /// The business day the entry belongs to, `YYYY-MM-DD` (the day of the shipment, refund, or count).
    public let businessDay: String
    /// The store or location the entry is booked for (the receiving store of a return, the shipping location of a
    /// sale); nil for a channel's own entries.
    public let location: LocationID?
    public let channel: ChannelID?
    public let lines: [JournalLine]
    public let sources: [JournalSource]
    public let memo: String

    /// Refused unless every line is on one side with a positive amount, and the debits equal the credits.
    public init(id: String, kind: Kind, currency: Currency, businessDay: String, location: LocationID?, channel: ChannelID?,
                lines: [JournalLine], sources: [JournalSource], memo: String) throws(DomainError) {
        guard lines.count >= 2 else { throw .unbalancedEntry("an entry has at least two lines") }
        var debits: Int64 = 0
        var credits: Int64 = 0
        for line in lines {
            guard (line.debit > 0 && line.credit == 0) || (line.credit > 0 && line.debit == 0) else {
                throw .unbalancedEntry("line on \(line.account) has debit \(line.debit) and credit \(line.credit): one positive side per line")
            }
            let (d, o1) = debits.addingReportingOverflow(line.debit)
            let (c, o2) = credits.addingReportingOverflow(line.credit)
            guard !o1, !o2 else { throw .amountOverflow }
            debits = d
            credits = c
        }
        guard debits == credits else {
            throw .unbalancedEntry("debits \(debits) and credits \(credits) differ by \(debits - credits) \(currency.code) minor units")
        }
        self.id = id
        self.kind = kind
        self.currency = currency
        self.businessDay = businessDay
        self.location = location
        self.channel = channel
        self.lines = lines
        self.sources = sources
        self.memo = memo
    }

    /// The sum of the debits (equal to the credits).
    public var total: Int64 { lines.reduce(0) { $0 + $1.debit } }
}

/// Which ERP account each part of a retail transaction is booked on. Every account has a default, so a hub works
/// before finance has mapped its chart; `finance.accounts.*` in the config replaces them.
public struct ChartOfAccounts: Hashable, Sendable, Codable {
    /// Sales of goods, net of tax. Default `4000`.
    public var revenue = "4000"
    /// Shipping charged to customers, net of tax. Default `4010`.
    public var shippingRevenue = "4010"
    /// Sales returns and allowances (contra revenue), net of tax. Default `4090`.
    public var salesReturns = "4090"
    /// Tax collected and owed. Default `2200`.
    public var taxPayable = "2200"
    /// What a tender's money sits on until it is settled, by tender (`card`, `cash`, `web`, a channel's id).
    /// A tender without its own account uses `receivable`.
    public var tenders: [String: String] = [:]
    /// Default `1200`.
    public var receivable = "1200"
    /// Stock at cost. Default `1300`.
    public var inventory = "1300"
    /// Cost of goods sold. Default `5000`.
    public var costOfGoodsSold = "5000"
    /// Stock lost or found by counts, and goods written off. Default `5100`.
    public var shrinkage = "5100"

    public init() {}

    public func tender(_ name: String) -> String { tenders[name] ?? receivable }
}

/// Builds balanced journal entries from what happened. Pure: amounts come from `OrderPricing` and the return's
/// authorized amounts, costs from the caller (`COGS` lines only where the cost is known). Lines with a zero amount
/// are left out; an entry whose every amount is zero is nil.
public enum JournalBuilder {
    /// Goods left for the customer: the tender is debited with what they paid; revenue, shipping revenue and tax are
    /// credited. With costs, stock moves to the cost of goods sold.
    public static func sale(id: String, order: Order, pricing: OrderPricing, lines: [String], includeShipping: Bool, tender: String,
                            costs: [SKU: Money], businessDay: String, location: LocationID?, sources: [JournalSource],
                            chart: ChartOfAccounts) throws(DomainError) -> JournalEntry? {
        var book = Book(chart: chart)
        for id in lines {
            guard let line = pricing.line(id) else { throw .invalidOrder("the order has no line \(id)") }
            book.credit(chart.revenue, line.gross - line.tax, memo: "line \(id)")
            book.tax(line.tax, rate: line.taxRate, debit: false)
            book.debit(chart.tender(tender), line.gross, tender: tender)
            try book.cost(costs[line.sku], units: line.quantity, currency: pricing.currency, sold: true)
        }
        if includeShipping {
            book.credit(chart.shippingRevenue, pricing.shippingGross - pricing.shippingTax, memo: "shipping")
            book.tax(pricing.shippingTax, rate: pricing.shippingTaxRate, debit: false)
            book.debit(chart.tender(tender), pricing.shippingGross, tender: tender)
        }
        return try book.entry(id: id, kind: .sale, currency: pricing.currency, businessDay: businessDay, location: location,
                              channel: order.channel, sources: sources, memo: "sale of order \(order.channelOrderID) (\(order.channel))")
    }

    /// The credit note of a return: sales returns and tax are debited, the refund's tender credited. Restocked units
    /// go back to stock at cost; written-off units' cost goes to shrinkage.
    public static func refund(id: String, authorization: ReturnAuthorization, tender: String, costs: [SKU: Money], restocked: [SKU: Int64],
                              businessDay: String, location: LocationID?, sources: [JournalSource],
                              chart: ChartOfAccounts) throws(DomainError) -> JournalEntry? {
        var book = Book(chart: chart)
        for line in authorization.lines {
            book.debit(chart.salesReturns, line.gross - line.tax, memo: "returned \(line.quantity) × \(line.sku)")
            book.tax(line.tax, rate: line.taxRate, debit: true)
            book.credit(chart.tender(tender), line.gross, tender: tender)
        }
        if authorization.shippingGross > 0 {
            book.debit(chart.shippingRevenue, authorization.shippingGross - authorization.shippingTax, memo: "shipping refunded")
            book.tax(authorization.shippingTax, rate: authorization.shippingTaxRate, debit: true)
            book.credit(chart.tender(tender), authorization.shippingGross, tender: tender)
        }
        for (sku, units) in restocked.sorted(by: { $0.key < $1.key }) {
            try book.cost(costs[sku], units: units, currency: authorization.currency, sold: false)
        }
        return try book.entry(id: id, kind: .refund, currency: authorization.currency, businessDay: businessDay, location: location,
                              channel: authorization.request.channel, sources: sources,
                              memo: "refund of return \(authorization.request.channelReturnID) (\(authorization.request.channel))")
    }

    /// Stock found (positive units) or lost (negative) at a location, valued at cost: nil without a cost.
    public static func stockCorrection(id: String, sku: SKU, units: Int64, unitCost: Money?, businessDay: String, location: LocationID,
                                       sources: [JournalSource], chart: ChartOfAccounts) throws(DomainError) -> JournalEntry? {
        guard let unitCost, units != 0 else { return nil }
        let value = try unitCost.multiplied(by: abs(units)).minorUnits
        var book = Book(chart: chart)
        if units > 0 {
            book.debit(chart.inventory, value, memo: "\(units) × \(sku) found")
            book.credit(chart.shrinkage, value)
        } else {
            book.debit(chart.shrinkage, value, memo: "\(-units) × \(sku) lost")
            book.credit(chart.inventory, value)
        }
        return try book.entry(id: id, kind: .stockCorrection, currency: unitCost.currency, businessDay: businessDay, location: location,
                              channel: nil, sources: sources, memo: "stock correction of \(sku) at \(location)")
    }

    /// Entries of one store, business day and currency summed per account (and tax rate and tender), each side
    /// netted: what a daily posting sends instead of every document. Its sources are the entries.
    public static func summary(id: String, of entries: [JournalEntry], businessDay: String, location: LocationID?,
                               currency: Currency) throws(DomainError) -> JournalEntry? {
        struct Key: Hashable, Comparable {
            let account: String
            let taxRate: Int64?
            let tender: String?
            static func < (a: Key, b: Key) -> Bool {
                (a.account, a.taxRate ?? -1, a.tender ?? "") < (b.account, b.taxRate ?? -1, b.tender ?? "")
            }
        }
        var sums: [Key: Int64] = [:]
        for entry in entries {
            guard entry.currency == currency else { throw .currencyMismatch(entry.currency, currency) }
            for line in entry.lines {
                sums[Key(account: line.account, taxRate: line.taxRate, tender: line.tender), default: 0] += line.net
            }
        }
        let lines = sums.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { key, net in
            JournalLine(account: key.account, debit: max(0, net), credit: max(0, -net), taxRate: key.taxRate, tender: key.tender)
        }
        guard !lines.isEmpty else { return nil }
        return try JournalEntry(id: id, kind: .summary, currency: currency, businessDay: businessDay, location: location, channel: nil,
                                lines: lines, sources: entries.map { JournalSource(.entry, $0.id) },
                                memo: "\(entries.count) entries of \(location?.rawValue ?? "the channels") on \(businessDay)")
    }

    /// The business day of an instant in a time zone, `YYYY-MM-DD`.
    public static func businessDay(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// Lines being gathered for one entry; amounts of zero are dropped.
    struct Book {
        let chart: ChartOfAccounts
        var lines: [JournalLine] = []

        mutating func debit(_ account: String, _ amount: Int64, tender: String? = nil, memo: String? = nil) {
            add(account, amount, tender: tender, memo: memo)
        }

        mutating func credit(_ account: String, _ amount: Int64, tender: String? = nil, memo: String? = nil) {
            add(account, -amount, tender: tender, memo: memo)
        }

        mutating func tax(_ amount: Int64, rate: Int64?, debit: Bool) {
            add(chart.taxPayable, debit ? amount : -amount, taxRate: rate)
        }

        /// Moves the value of `units` between stock and the cost of goods sold; nothing without a cost.
        mutating func cost(_ unitCost: Money?, units: Int64, currency: Currency, sold: Bool) throws(DomainError) {
            guard let unitCost else { return }
            guard unitCost.currency == currency else { throw .currencyMismatch(unitCost.currency, currency) }
            let value = try unitCost.multiplied(by: units).minorUnits
            add(chart.costOfGoodsSold, sold ? value : -value)
            add(chart.inventory, sold ? -value : value)
        }

        /// A signed amount (debit positive) on an account; a negative amount on the wrong side flips to the other.
        private mutating func add(_ account: String, _ signed: Int64, taxRate: Int64? = nil, tender: String? = nil, memo: String? = nil) {
            guard signed != 0 else { return }
            lines.append(JournalLine(account: account, debit: max(0, signed), credit: max(0, -signed), taxRate: taxRate, tender: tender, memo: memo))
        }

        func entry(id: String, kind: JournalEntry.Kind, currency: Currency, businessDay: String, location: LocationID?, channel: ChannelID?,
                   sources: [JournalSource], memo: String) throws(DomainError) -> JournalEntry? {
            guard !lines.isEmpty else { return nil }
            return try JournalEntry(id: id, kind: kind, currency: currency, businessDay: businessDay, location: location, channel: channel,
                                    lines: lines, sources: sources, memo: memo)
        }
    }
}

/// A journal entry was built: the first event of its stream (`journal/<id>`). Its correlation is the flow it
/// books (the order, the return), so the flow's lineage shows its postings.
public struct JournalRecorded: VersionedPayload, Hashable {
    public static let eventType = "finance.journal_recorded"
    public static let schemaVersion = 1
    public let entry: JournalEntry
    /// The system the entry is posted to.
    public let system: SystemID

    public init(entry: JournalEntry, system: SystemID) {
        self.entry = entry
        self.system = system
    }
}

/// The ERP accepted the entry as one of its documents.
public struct JournalPosted: VersionedPayload, Hashable {
    public static let eventType = "finance.journal_posted"
    public static let schemaVersion = 1
    public let system: SystemID
    public let document: String
    /// Whether the document was found by the entry's reference (the ERP had accepted an earlier attempt that timed
    /// out) rather than created by this attempt.
    public let found: Bool

    public init(system: SystemID, document: String, found: Bool) {
        self.system = system
        self.document = document
        self.found = found
    }
}
