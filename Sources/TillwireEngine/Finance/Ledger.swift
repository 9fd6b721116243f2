import Foundation
import Logging
import Metrics
import TillwireDomain
import TillwireStorage

/// The ERP as financial posting needs it. Connectors implement it; calls run in jobs of kind `<system>.journal_post`,
/// behind that system's breaker, rate limit and maintenance windows.
public protocol LedgerClient: Sendable {
    /// Posts an entry as one ERP document and returns the document's id. `reference` is the entry's idempotency
    /// reference: the ERP stores it on the document.
    func post(_ entry: JournalEntry, reference: String) async throws -> String
    /// The document an earlier post with `reference` created, if the ERP has one: asked before every post, so that
    /// an ERP that accepted a post and then timed out does not get it twice.
    func find(reference: String) async throws -> String?
}

/// Builds journal entries into commits and posts them with guaranteed, ordered delivery. An entry is its stream
/// (`journal/<id>`): `finance.journal_recorded`, then `finance.journal_posted` with the ERP's document id. The entry's
/// id is derived from what it books (`je-sale-<order>-<n>`, `je-refund-<return>`), so booking the same thing again
/// finds the entry there and adds nothing.
public struct Ledger: Sendable, Hashable {
    public struct Policy: Sendable, Hashable {
        /// The system entries are posted to (`finance.system`). Default `erp`.
        public var system: SystemID = "erp"
        public var chart = ChartOfAccounts()
        /// The time zone of business days (`finance.time_zone`). Default UTC.
        public var timeZone = TimeZone(identifier: "UTC")!
        /// Locations whose entries are posted summarised per business day rather than one by one
        /// (`finance.daily_posting_locations`); `*` stands for every location. Default none.
        public var dailyLocations: Set<String> = []
        /// How long after a business day ends its summary is built, so late documents of the day join it
        /// (`finance.day_close_minutes`). Default 60 minutes.
        public var dayCloseDelay: Duration = .seconds(3_600)

        public init() {}

        /// Whether an entry waits for its store's day to be summarised.
        public func isDaily(_ entry: JournalEntry) -> Bool {
            guard entry.kind != .summary, let location = entry.location else { return false }
            return dailyLocations.contains("*") || dailyLocations.contains(location.rawValue)
        }
    }

    /// The summary recorded on daily entries whose day nets to zero on every account.
    public static let nothingToPost = "none: the day nets to zero"

    /// The job that summarises a location's business day: `finance.close_day`.
    public static let closeDayKind = "finance.close_day"

    public static func stream(_ entry: String) -> StreamID { StreamID(trusted: "journal/\(entry)") }
    public static func postKind(_ system: SystemID) -> String { "\(system.rawValue).journal_post" }

    /// Entries of one location (or of a channel without one) are posted in the order they were booked.
    static func partition(_ entry: JournalEntry) -> String {
        "journal/" + (entry.location.map { "location/\($0.rawValue)" } ?? "channel/\(entry.channel?.rawValue ?? "-")")
    }

    public let policy: Policy

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    public func businessDay(_ date: Date) -> String { JournalBuilder.businessDay(date, in: policy.timeZone) }

    /// Adds the entry, its row in the finance projection and its posting to `commit`: a posting job, or for a
    /// location posted daily, the job that closes the entry's business day (one per location and day). The entry's
    /// stream must not exist: a commit that books the same thing twice fails with `StorageError.versionConflict`
    /// (callers check first).
    public func book(_ entry: JournalEntry, into commit: inout Commit, correlation: CorrelationID, causation: String?, at: Date) throws {
        let event = try NewEvent(stream: Self.stream(entry.id), correlationID: correlation, causationID: causation, occurredAt: at,
                                 source: InventoryService.hub, payload: JournalRecorded(entry: entry, system: policy.system))
        commit.events.append(EventAppend(event, expected: .noStream))
        let daily = policy.isDaily(entry)
        commit.journal.append(.record(JournalRow(entry, recordedAt: at, daily: daily)))
        if daily, let location = entry.location {
            // One close per location and day while it is pending; an entry booked while the close runs enqueues the
            // next one (coalescing, not unique), so nothing booked during a close is left behind. Closes have a
            // partition of their own: tomorrow's close, due after tomorrow, must not hold up today's summary.
            let close = max(at, dayEnd(entry.businessDay) + policy.dayCloseDelay.timeInterval)
            commit.jobs.append(NewJob(kind: Self.closeDayKind, payload: Data("\(location.rawValue)\n\(entry.businessDay)".utf8),
                                      partitionKey: "journal-close/\(location.rawValue)/\(entry.businessDay)",
                                      coalesceKey: "close_day/\(location.rawValue)/\(entry.businessDay)", runAt: close, maxAttempts: 100))
        } else {
            commit.jobs.append(NewJob(kind: Self.postKind(policy.system), payload: Data(entry.id.utf8), partitionKey: Self.partition(entry),
                                      uniqueKey: "journal_post/\(entry.id)", runAt: at, maxAttempts: 1_000))
        }
    }

    /// The instant a business day (`YYYY-MM-DD`) ends in the policy's time zone.
    public func dayEnd(_ businessDay: String) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = policy.timeZone
        let parts = businessDay.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
              let end = calendar.date(byAdding: .day, value: 1, to: start) else { return Date.distantPast }
        return end
    }

    /// Summarises a location's business day: the daily entries no summary carries yet, summed per account in one
    /// summary entry per currency, booked (and posted) like any entry; each member records the summary that carries
    /// it. A document of the day that arrives after the close gets a close of its own and a second summary.
    public struct CloseDay: JobHandler {
        let store: any Store
        let ledger: Ledger
        let now: @Sendable () -> Date
        public var kind: String { Ledger.closeDayKind }

        public init(store: any Store, ledger: Ledger, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.ledger = ledger
            self.now = now
        }

        public func handle(_ job: Job) async throws -> Commit {
            let parts = String(decoding: job.payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let location = try? LocationID(parts[0]) else { throw JobError.terminal("not a location and business day") }
            let day = parts[1]
            let rows = try await store.unsummarisedJournalRows(location: location, businessDay: day)
            guard !rows.isEmpty else { return Commit() }
            let earlier = try await store.journalRows(location: location, businessDay: day).filter { $0.kind == .summary }.count
            var commit = Commit()
            var entries: [JournalEntry] = []
            for row in rows {
                guard let (entry, _, _) = try await Ledger.entry(row.id, store: store) else { throw JobError.terminal("journal entry \(row.id) is missing") }
                entries.append(entry)
            }
            for (index, currency) in Set(entries.map(\.currency.code)).sorted().enumerated() {
                let members = entries.filter { $0.currency.code == currency }
                let id = "je-day-\(location.rawValue)-\(day)-\(currency)-\(earlier + index + 1)"
                guard let summary = try JournalBuilder.summary(id: id, of: members, businessDay: day, location: location, currency: members[0].currency) else {
                    // Every account nets to zero (a sale and its refund on one day): nothing to post, and nothing owed.
                    commit.journal.append(.summarised(members.map(\.id), into: Ledger.nothingToPost))
                    continue
                }
                try ledger.book(summary, into: &commit, correlation: CorrelationID(trusted: "storeday/\(location.rawValue)/\(day)"),
                                causation: job.id.rawValue, at: now())
                commit.journal.append(.summarised(members.map(\.id), into: id))
            }
            return commit
        }
    }

    /// The entry and, once posted, the ERP's document; nil when there is no such entry.
    public static func entry(_ id: String, store: any Store) async throws -> (entry: JournalEntry, recordedAt: Date, posted: JournalPosted?)? {
        let events = try await store.readStream(stream(id), fromVersion: 1, limit: 10)
        guard let first = events.first else { return nil }
        let recorded = try first.decode(JournalRecorded.self)
        let posted = try events.first { $0.type == JournalPosted.eventType }.map { try $0.decode(JournalPosted.self) }
        return (recorded.entry, first.event.occurredAt, posted)
    }

    /// The entries booked for a flow (an order, a return), with their postings, oldest first.
    public static func entries(of correlation: CorrelationID, store: any Store) async throws -> [(entry: JournalEntry, posted: JournalPosted?)] {
        let events = try await store.readCorrelation(correlation, limit: 10_000)
        var posted: [String: JournalPosted] = [:]
        for event in events where event.type == JournalPosted.eventType {
            posted[String(event.event.stream.rawValue.dropFirst("journal/".count))] = try event.decode(JournalPosted.self)
        }
        return try events.filter { $0.type == JournalRecorded.eventType }.map {
            let entry = try $0.decode(JournalRecorded.self).entry
            return (entry, posted[entry.id])
        }
    }

    /// Posts entries to the ERP, one job per entry, in order per location: a failing or maintained ERP delays the
    /// entries behind the first unposted one, never reorders or drops them. Before every post the ERP is asked
    /// whether it has the entry's reference already (it may have accepted an earlier post and timed out answering).
    public struct Post: JobHandler {
        let store: any Store
        let system: SystemID
        let client: any LedgerClient
        /// During an ERP migration, the shadow ERP each posted entry goes to next (`Ledger.ShadowPost`).
        let shadow: SystemID?
        let now: @Sendable () -> Date
        public var kind: String { Ledger.postKind(system) }

        public init(store: any Store, system: SystemID, client: any LedgerClient, shadow: SystemID? = nil, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.system = system
            self.client = client
            self.shadow = shadow
            self.now = now
        }

        /// The reference the ERP keeps for an entry.
        public static func reference(_ entry: JournalEntry) -> String { "tillwire:\(entry.id)" }

        public func handle(_ job: Job) async throws -> Commit {
            let id = String(decoding: job.payload, as: UTF8.self)
            guard let (entry, recordedAt, posted) = try await Ledger.entry(id, store: store) else {
                throw JobError.terminal("journal entry \(id) does not exist")
            }
            if posted != nil { return Commit() }
            let reference = Self.reference(entry)
            // Asked every time, not only on a retry: a replayed dead job starts its attempts again, and the ERP may
            // have accepted the post that timed out before it died.
            var document = try await client.find(reference: reference)
            let found = document != nil
            if document == nil { document = try await client.post(entry, reference: reference) }
            let events = try await store.readStream(Ledger.stream(id), fromVersion: 1, limit: 1)
            let at = now()
            let event = try NewEvent(stream: Ledger.stream(id), correlationID: events[0].event.correlationID, causationID: job.id.rawValue,
                                     occurredAt: at, source: system,
                                     payload: JournalPosted(system: system, document: document ?? "", found: found))
            var commit = Commit(events: [EventAppend(event, expected: .exactly(1))])
            commit.journal = [.posted(id: id, document: document ?? "", at: at)]
            Timer(label: "tillwire_journal_posting_delay_seconds", preferredDisplayUnit: .seconds)
                .record(duration: .milliseconds(max(0, at.millisecondsSince1970 - recordedAt.millisecondsSince1970)))
            if let shadow { commit.jobs.append(Ledger.shadowJob(id, shadow: shadow, at: at)) }
            return commit
        }
    }
}

/// The ERP until a connector is configured for it: each entry is written to the log (accounts and amounts, no
/// customer details) and accepted as document `log:<entry>`.
public struct LoggingLedger: LedgerClient {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func post(_ entry: JournalEntry, reference: String) async throws -> String {
        logger.info("journal entry (no ERP connector configured)", metadata: [
            "entry": "\(entry.id)", "kind": "\(entry.kind.rawValue)", "currency": "\(entry.currency.code)", "total": "\(entry.total)",
            "lines": "\(entry.lines.map { "\($0.account) \($0.debit)/\($0.credit)" })", "reference": "\(reference)",
        ])
        return "log:\(entry.id)"
    }

    public func find(reference: String) async throws -> String? { nil }
}
