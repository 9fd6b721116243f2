import Foundation
import TillwireDomain
import TillwireStorage

/// Where financial postings come from and where they went: for an entry, the events it was built from and the ERP's
/// document; for an order or a return, its entries and their postings.
public enum FinanceLineage {
    public struct Posting: Sendable {
        public let entry: JournalEntry
        public let posted: JournalPosted?
        /// The summary entry that carried it to the ERP, for an entry posted with its store's day.
        public let summary: String?
    }

    /// The events an entry was built from, in log order: the order's capture and the shipment, the return's
    /// authorization, receipt and refund, or the entries a summary sums.
    public static func sourceEvents(of entry: JournalEntry, store: any Store) async throws -> [EventEnvelope] {
        var events: [EventEnvelope] = []
        let eventIDs = Set(entry.sources.filter { $0.kind == .event }.map(\.id))
        for source in entry.sources {
            switch source.kind {
            case .order:
                let stream = try await store.readStream(StreamID(trusted: "order/\(source.id)"), fromVersion: 1, limit: 10_000)
                events += stream.filter { $0.type == OrderCaptured.eventType || eventIDs.contains($0.id.rawValue) }
            case .return:
                let stream = try await store.readStream(StreamID(trusted: "return/\(source.id)"), fromVersion: 1, limit: 1_000)
                events += stream.filter { [ReturnAuthorized.eventType, ReturnReceived.eventType, ReturnRefunded.eventType].contains($0.type) }
            case .entry:
                events += try await store.readStream(Ledger.stream(source.id), fromVersion: 1, limit: 1)
            case .event, .movement:
                continue
            }
        }
        var seen = Set<Int64>()
        return events.filter { seen.insert($0.position).inserted }.sorted { $0.position < $1.position }
    }

    /// The entries booked for a flow (an order's sales, a return's credit note), with their postings.
    public static func postings(of correlation: CorrelationID, store: any Store) async throws -> [Posting] {
        var result: [Posting] = []
        for (entry, posted) in try await Ledger.entries(of: correlation, store: store) {
            let row = try await store.journalRows(location: entry.location, businessDay: entry.businessDay).first { $0.id == entry.id }
            result.append(Posting(entry: entry, posted: posted, summary: row?.summary))
        }
        return result
    }

    /// An order's postings: its sales, then each of its returns' credit notes.
    public static func postings(ofOrder record: OrderRecord, store: any Store) async throws -> [Posting] {
        var result = try await postings(of: CorrelationID(trusted: record.order.id.rawValue), store: store)
        for id in record.returns.keys.sorted() {
            result += try await postings(of: CorrelationID(trusted: id.rawValue), store: store)
        }
        return result
    }

    /// One posting as a line of text: entry, kind, day, total, and where it is.
    public static func line(_ posting: Posting) -> String {
        let entry = posting.entry
        let state = posting.posted.map { "posted to \($0.system) as \($0.document)" }
            ?? posting.summary.map { "in daily summary \($0)" } ?? "queued for the ERP"
        return "\(entry.id)  \(entry.kind.rawValue)  \(entry.businessDay)  \(entry.location?.rawValue ?? "-")  "
            + "\(Money(minorUnits: entry.total, currency: entry.currency))  \(state)"
    }
}
