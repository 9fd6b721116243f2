import Foundation
import TillwireDomain
import TillwireStorage

/// A document an ERP holds for a posted entry: its id and its total (the sum of its debits, in minor units).
public struct LedgerDocument: Sendable, Hashable, Codable {
    public let document: String
    public let total: Int64

    public init(document: String, total: Int64) {
        self.document = document
        self.total = total
    }
}

/// An ERP that can say what it holds for an entry: what `ERPDiff` compares.
public protocol LedgerReader: LedgerClient {
    /// The posted document made with `reference`, if the ERP has one.
    func document(reference: String) async throws -> LedgerDocument?
}

/// `finance.journal_shadow_posted` on the entry's stream: the shadow ERP's document for it. The primary's
/// (`finance.journal_posted`) is the one the hub goes by.
public struct JournalShadowPosted: VersionedPayload, Hashable {
    public static let eventType = "finance.journal_shadow_posted"
    public static let schemaVersion = 1
    public let system: SystemID
    public let document: String
    public let found: Bool
}

extension Ledger {
    public static func shadowPostKind(_ system: SystemID) -> String { "\(system.rawValue).journal_shadow_post" }

    /// The posting of an entry to the shadow ERP, after the primary took it (`<shadow>.journal_shadow_post`). In a
    /// partition of its own: a shadow that is down or refuses never holds up the primary's postings; its dead letters
    /// are the shadow's, and `ERPDiff` shows the entries it lacks.
    public static func shadowJob(_ entry: String, shadow: SystemID, at: Date) -> NewJob {
        NewJob(kind: shadowPostKind(shadow), payload: Data(entry.utf8), partitionKey: "journal-shadow/\(entry)",
               uniqueKey: "journal_shadow_post/\(entry)", runAt: at, maxAttempts: 1_000)
    }

    /// Posts an entry to the shadow ERP once, as `Post` does to the primary: found by its reference first.
    public struct ShadowPost: JobHandler {
        let store: any Store
        let system: SystemID
        let client: any LedgerClient
        let now: @Sendable () -> Date
        public var kind: String { Ledger.shadowPostKind(system) }

        public init(store: any Store, system: SystemID, client: any LedgerClient, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.system = system
            self.client = client
            self.now = now
        }

        public func handle(_ job: Job) async throws -> Commit {
            let id = String(decoding: job.payload, as: UTF8.self)
            guard let (entry, _, _) = try await Ledger.entry(id, store: store) else { throw JobError.terminal("journal entry \(id) does not exist") }
            let events = try await store.readStream(Ledger.stream(id), fromVersion: 1, limit: 20)
            if events.contains(where: { $0.type == JournalShadowPosted.eventType }) { return Commit() }
            let reference = Post.reference(entry)
            var document = try await client.find(reference: reference)
            let found = document != nil
            if document == nil { document = try await client.post(entry, reference: reference) }
            let event = try NewEvent(stream: Ledger.stream(id), correlationID: events[0].event.correlationID, causationID: job.id.rawValue,
                                     occurredAt: now(), source: system,
                                     payload: JournalShadowPosted(system: system, document: document ?? "", found: found))
            return Commit(events: [EventAppend(event, expected: .any)])
        }
    }
}

/// Where the shadow ERP disagrees with the primary during a migration: for each entry the primary has posted in a
/// window of business days, both ERPs are asked what they hold for it. An entry the shadow lacks, one the primary
/// lacks (someone deleted it there), and totals that differ (between the ERPs, or from the hub's entry) are listed.
/// Entries not yet posted to the primary are counted, not compared. Read-only: asks the ERPs, changes nothing.
public struct ERPDiff: Sendable {
    public struct Difference: Sendable, Hashable, Codable {
        public let entry: String
        public let businessDay: String
        public let location: String?
        /// The hub's entry total, minor units.
        public let hubTotal: Int64
        public let currency: String
        public let primary: LedgerDocument?
        public let shadow: LedgerDocument?
        public let problem: String
    }

    public struct Report: Sendable, Hashable {
        public let primary: SystemID
        public let shadow: SystemID
        public let from: String
        public let to: String
        public let compared: Int
        public let notPostedYet: Int
        public let differences: [Difference]
        /// More posted entries than `limit` were in the window: the rest were not compared.
        public let truncated: Bool

        public func text() -> String {
            var lines = ["ERP diff \(from) … \(to): primary \(primary), shadow \(shadow)",
                         "\(compared) entries compared, \(compared - differences.count) agree, \(differences.count) differ; \(notPostedYet) not posted to the primary yet"
                            + (truncated ? " (stopped at the limit: narrow the days)" : "")]
            for difference in differences {
                func show(_ document: LedgerDocument?) -> String {
                    document.map { "\($0.document) \(Money(minorUnits: $0.total, currency: (try? Currency(difference.currency)) ?? .usd).decimalString)" } ?? "-"
                }
                lines.append("\(difference.businessDay)  \(difference.location ?? "(channels)")  \(difference.entry)  hub \(Money(minorUnits: difference.hubTotal, currency: (try? Currency(difference.currency)) ?? .usd).decimalString) \(difference.currency)  primary \(show(difference.primary))  shadow \(show(difference.shadow))  \(difference.problem)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// The longest window compared at once.
    public static let maximumDays = 31

    let store: any Store
    let primary: (system: SystemID, reader: any LedgerReader)
    let shadow: (system: SystemID, reader: any LedgerReader)

    public init(store: any Store, primary: (system: SystemID, reader: any LedgerReader), shadow: (system: SystemID, reader: any LedgerReader)) {
        self.store = store
        self.primary = primary
        self.shadow = shadow
    }

    /// Compares the entries of business days `from` … `to` (`YYYY-MM-DD`, at most `maximumDays`), at most `limit`.
    public func run(from: String, to: String, limit: Int = 500) async throws -> Report {
        let days = try Self.days(from: from, to: to)
        let locations: [LocationID?] = [nil] + (try await store.locations().map(\.id))
        var compared = 0, notPosted = 0
        var differences: [Difference] = []
        var truncated = false
        scan: for day in days {
            for location in locations {
                for row in try await store.journalRows(location: location, businessDay: day) {
                    // A daily entry is posted inside its day's summary, which is compared instead.
                    if row.summary != nil { continue }
                    guard row.document != nil else {
                        notPosted += 1
                        continue
                    }
                    guard compared < limit else {
                        truncated = true
                        break scan
                    }
                    compared += 1
                    let reference = "tillwire:\(row.id)"
                    let inPrimary = try await primary.reader.document(reference: reference)
                    let inShadow = try await shadow.reader.document(reference: reference)
                    let problem: String? = switch (inPrimary, inShadow) {
                    case (_, nil): "missing in the shadow"
                    case (nil, _): "missing in the primary"
                    case let (p?, s?) where p.total != s.total: "totals differ"
                    case let (p?, _) where p.total != row.total: "the primary's total differs from the hub's"
                    default: nil
                    }
                    if let problem {
                        differences.append(Difference(entry: row.id, businessDay: day, location: location?.rawValue, hubTotal: row.total,
                                                      currency: row.currency, primary: inPrimary, shadow: inShadow, problem: problem))
                    }
                }
            }
        }
        return Report(primary: primary.system, shadow: shadow.system, from: from, to: to, compared: compared, notPostedYet: notPosted,
                      differences: differences, truncated: truncated)
    }

    /// The business days `from` … `to`; refused when they are not days, out of order, or too many.
    public static func days(from: String, to: String) throws -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        func date(_ text: String) -> Date? {
            let parts = text.split(separator: "-").compactMap { Int($0) }
            guard text.count == 10, parts.count == 3 else { return nil }
            let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
            guard components.isValidDate(in: calendar) else { return nil }
            return calendar.date(from: components)
        }
        guard let start = date(from), let end = date(to) else { throw ERPDiffRefused("business days are YYYY-MM-DD, got \(from) and \(to)") }
        guard start <= end else { throw ERPDiffRefused("\(from) is after \(to)") }
        var days: [String] = []
        var day = start
        while day <= end {
            guard days.count < maximumDays else { throw ERPDiffRefused("at most \(maximumDays) business days at once") }
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            days.append(String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0))
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return days
    }
}

/// A window of days `ERPDiff` cannot compare, and why.
public struct ERPDiffRefused: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
