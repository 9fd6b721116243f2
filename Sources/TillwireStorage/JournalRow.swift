import Foundation
import TillwireDomain

/// A journal entry's row in the finance projection: where it is booked, for how much, and how far its posting got.
/// Written in the same commit as the entry's events; the entry's stream (`journal/<id>`) stays the source of truth.
public struct JournalRow: Sendable, Hashable {
    public let id: String
    public let kind: JournalEntry.Kind
    public let location: LocationID?
    public let channel: ChannelID?
    public let businessDay: String
    public let currency: String
    /// The entry's total (its debits), in minor units.
    public let total: Int64
    public let recordedAt: Date
    /// Posted with its store's day in a summary entry, rather than on its own.
    public let daily: Bool
    /// The summary entry that carries it, once its day is closed.
    public var summary: String?
    /// The ERP's document, once posted.
    public var document: String?
    public var postedAt: Date?

    public init(id: String, kind: JournalEntry.Kind, location: LocationID?, channel: ChannelID?, businessDay: String, currency: String,
                total: Int64, recordedAt: Date, daily: Bool, summary: String? = nil, document: String? = nil, postedAt: Date? = nil) {
        self.id = id
        self.kind = kind
        self.location = location
        self.channel = channel
        self.businessDay = businessDay
        self.currency = currency
        self.total = total
        self.recordedAt = recordedAt
        self.daily = daily
        self.summary = summary
        self.document = document
        self.postedAt = postedAt
    }

    public init(_ entry: JournalEntry, recordedAt: Date, daily: Bool) {
        self.init(id: entry.id, kind: entry.kind, location: entry.location, channel: entry.channel, businessDay: entry.businessDay,
                  currency: entry.currency.code, total: entry.total, recordedAt: recordedAt, daily: daily)
    }
}

/// A change to the finance projection, in a commit.
public enum JournalChange: Sendable, Hashable {
    /// A new entry (a repeat of the same id changes nothing).
    case record(JournalRow)
    /// The ERP accepted the entry as `document`.
    case posted(id: String, document: String, at: Date)
    /// Daily entries carried by a summary entry.
    case summarised([String], into: String)
}

/// How far posting has got, for the metrics and the operations pages.
public struct JournalBacklog: Sendable, Hashable {
    /// Entries queued for the ERP (posted on their own, or summaries), not posted yet.
    public let queued: Int
    /// When the oldest of them was booked.
    public let oldestQueued: Date?
    /// Daily entries waiting for their store's day to close.
    public let awaitingDayClose: Int
    /// Past store business days with something the ERP does not have yet (an entry queued, or the day not closed).
    public let unpostedStoreDays: Int

    public init(queued: Int, oldestQueued: Date?, awaitingDayClose: Int, unpostedStoreDays: Int) {
        self.queued = queued
        self.oldestQueued = oldestQueued
        self.awaitingDayClose = awaitingDayClose
        self.unpostedStoreDays = unpostedStoreDays
    }
}

/// The finance projection (changed through `Store.commit`'s `journal`).
public protocol JournalReader: Sendable {
    /// The entries of one location (nil: the channels' entries without one) and business day, in booking order.
    func journalRows(location: LocationID?, businessDay: String) async throws -> [JournalRow]
    /// Daily entries of a location and day that no summary carries yet, in booking order.
    func unsummarisedJournalRows(location: LocationID?, businessDay: String) async throws -> [JournalRow]
    /// What the ERP does not have yet; `unpostedStoreDays` counts the store business days before `storeDaysBefore`
    /// (`YYYY-MM-DD`): days that are over, whose entries should all be posted.
    func journalBacklog(storeDaysBefore: String) async throws -> JournalBacklog
}
