import Foundation
import TillwireDomain
import TillwireStorage

/// One location's business day in finance: the source documents' totals per tender and per tax rate (rebuilt from
/// the orders and returns themselves), what was booked, and what the ERP has; and every document where they differ.
public struct FinanceReconciliation: Sendable, Hashable {
    /// One total: a tender's money or a tax rate's tax, in minor units of `currency`, signed as the ERP sees it
    /// (a tender's debit positive, a refund negative; tax collected positive).
    public struct Total: Sendable, Hashable {
        public enum Basis: Hashable, Sendable, Comparable {
            case tender(String)
            case taxRate(Int64?)

            /// Tenders first, by name; then tax rates, lowest first (unknown last).
            public static func < (a: Basis, b: Basis) -> Bool {
                switch (a, b) {
                case let (.tender(x), .tender(y)): x < y
                case (.tender, .taxRate): true
                case (.taxRate, .tender): false
                case let (.taxRate(x), .taxRate(y)): (x ?? .max) < (y ?? .max)
                }
            }
        }

        public let currency: String
        public let basis: Basis
        /// Rebuilt from the source documents (the order's shipment, the return).
        public var source: Int64 = 0
        public var booked: Int64 = 0
        /// Posted to the ERP: on its own, or in a posted summary of the day.
        public var posted: Int64 = 0
    }

    /// A document whose figures are not where they should be.
    public struct Difference: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable {
            /// Booked, queued for the ERP, not posted yet.
            case unposted
            /// Booked for a daily summary whose day has not closed yet.
            case awaitingDayClose = "awaiting_day_close"
            /// The entry no longer matches its source document.
            case amountDiffers = "amount_differs"
            /// The source document cannot be read back.
            case sourceMissing = "source_missing"
        }

        public let entry: String
        public let kind: Kind
        public let detail: String
    }

    public let location: LocationID?
    public let businessDay: String
    public let totals: [Total]
    public let differences: [Difference]
    public let documents: Int

    /// Builds the report from the finance projection, each entry's stream, and the source documents.
    public static func build(location: LocationID?, businessDay: String, store: any Store, orders: OrderService, returns: ReturnService,
                             chart: ChartOfAccounts, now: Date) async throws -> FinanceReconciliation {
        let rows = try await store.journalRows(location: location, businessDay: businessDay)
        let summaries = Dictionary(rows.filter { $0.kind == .summary }.map { ($0.id, $0) }) { first, _ in first }
        var totals: [String: [Total.Basis: Total]] = [:]
        var differences: [Difference] = []
        func add(_ entry: JournalEntry, _ keyPath: WritableKeyPath<Total, Int64>) {
            for line in entry.lines {
                let basis: Total.Basis
                if let tender = line.tender { basis = .tender(tender) } else if line.account == chart.taxPayable { basis = .taxRate(line.taxRate) } else { continue }
                let signed = line.tender != nil ? line.net : -line.net
                totals[entry.currency.code, default: [:]][basis, default: Total(currency: entry.currency.code, basis: basis)][keyPath: keyPath] += signed
            }
        }
        var documents = 0
        for row in rows where row.kind != .summary {
            documents += 1
            guard let (entry, _, posted) = try await Ledger.entry(row.id, store: store) else {
                differences.append(Difference(entry: row.id, kind: .sourceMissing, detail: "the entry's stream is missing"))
                continue
            }
            add(entry, \.booked)
            let summaryPosted = row.summary.flatMap { summaries[$0]?.document } != nil || row.summary == Ledger.nothingToPost
            if posted != nil || summaryPosted {
                add(entry, \.posted)
            } else if row.daily && row.summary == nil {
                differences.append(Difference(entry: row.id, kind: .awaitingDayClose, detail: "waits for the close of \(businessDay)"))
            } else {
                let age = Int(now.timeIntervalSince(row.recordedAt) / 60)
                let via = row.summary.map { " (in summary \($0))" } ?? ""
                differences.append(Difference(entry: row.id, kind: .unposted, detail: "booked \(age) min ago, not in the ERP yet\(via)"))
            }
            switch try await rebuild(entry, orders: orders, returns: returns, chart: chart) {
            case .some(let source):
                add(source, \.source)
                if source.lines != entry.lines {
                    differences.append(Difference(entry: row.id, kind: .amountDiffers,
                                                  detail: "booked \(entry.total), its source now gives \(source.total) (\(entry.currency.code) minor units)"))
                }
            case .none:
                differences.append(Difference(entry: row.id, kind: .sourceMissing, detail: "its source document (\(entry.sources.map { "\($0.kind.rawValue) \($0.id)" }.joined(separator: ", "))) cannot be read back"))
            }
        }
        let flat = totals.keys.sorted().flatMap { currency in totals[currency]!.values.sorted { $0.basis < $1.basis } }
        return FinanceReconciliation(location: location, businessDay: businessDay, totals: flat, differences: differences, documents: documents)
    }

    /// The entry as its source document gives it now; nil when the source cannot be read.
    static func rebuild(_ entry: JournalEntry, orders: OrderService, returns: ReturnService, chart: ChartOfAccounts) async throws -> JournalEntry? {
        switch entry.kind {
        case .sale:
            guard let orderID = entry.sources.first(where: { $0.kind == .order }).flatMap({ try? OrderID($0.id) }),
                  let record = try await orders.record(orderID),
                  let count = Int(entry.id.split(separator: "-").last ?? ""), count >= 1, count <= record.shipments.count else { return nil }
            let shipment = record.shipments[count - 1]
            return try JournalBuilder.sale(id: entry.id, order: record.order, pricing: try OrderPricing(record.order), lines: shipment.lines,
                                           includeShipping: count == 1, tender: record.order.channel.rawValue, costs: [:],
                                           businessDay: entry.businessDay, location: entry.location, sources: entry.sources, chart: chart)
        case .refund:
            guard let returnID = entry.sources.first(where: { $0.kind == .return }).flatMap({ try? ReturnID($0.id) }),
                  let record = try await returns.record(returnID), let refund = record.refund else { return nil }
            let restocked = (record.received?.restocked ?? [:]).reduce(into: [SKU: Int64]()) { $0[SKU(trusted: $1.key)] = $1.value }
            return try JournalBuilder.refund(id: entry.id, authorization: record.authorization, tender: refund.tender, costs: [:], restocked: restocked,
                                             businessDay: entry.businessDay, location: entry.location, sources: entry.sources, chart: chart)
        case .stockCorrection, .summary:
            return entry
        }
    }

    /// The report as text, for the CLI.
    public func text() -> String {
        func money(_ units: Int64, _ currency: String) -> String {
            (try? Currency(currency)).map { Money(minorUnits: units, currency: $0).decimalString } ?? "\(units)"
        }
        var out = "finance reconciliation of \(location?.rawValue ?? "the channels") on \(businessDay): \(documents) document(s)\n\n"
        out += "currency  basis              source       booked       posted\n"
        for total in totals {
            let basis = switch total.basis {
            case .tender(let tender): "tender \(tender)"
            case .taxRate(let rate): "tax \(rate.map { "\(Double($0) / 100)%" } ?? "rate unknown")"
            }
            out += "\(total.currency.padding(toLength: 10, withPad: " ", startingAt: 0))\(basis.padding(toLength: 17, withPad: " ", startingAt: 0))"
            for value in [total.source, total.booked, total.posted] {
                let text = money(value, total.currency)
                out += String(repeating: " ", count: max(1, 13 - text.count)) + text
            }
            out += total.source == total.posted ? "\n" : "   ≠\n"
        }
        if differences.isEmpty {
            out += "\nno differences: every document is booked as its source says and posted\n"
        } else {
            out += "\n\(differences.count) difference(s):\n"
            for difference in differences { out += "  \(difference.entry)  \(difference.kind.rawValue): \(difference.detail)\n" }
        }
        return out
    }
}
