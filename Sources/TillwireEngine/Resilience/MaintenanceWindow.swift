import Foundation

/// A time when an external system is down on purpose. Its jobs wait instead of failing, and spend no attempt.
public enum MaintenanceWindow: Sendable, Hashable, CustomStringConvertible {
    /// One period, `[from, until)`.
    case once(from: Date, until: Date)
    /// Every week on `weekday` (1 = Sunday … 7 = Saturday), from `start` to `end` minutes after midnight in
    /// `timeZone`; an `end` at or before `start` runs into the next day.
    case weekly(weekday: Int, start: Int, end: Int, timeZone: TimeZone)

    /// The end of the window that contains `now`; nil when `now` is outside it.
    public func end(containing now: Date) -> Date? {
        switch self {
        case let .once(from, until):
            return now >= from && now < until ? until : nil
        case let .weekly(weekday, start, end, timeZone):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            let length = (end > start ? end - start : end + 1_440 - start)
            // The window may have started today or (running past midnight) yesterday.
            for daysBack in 0...1 {
                guard let day = calendar.date(byAdding: .day, value: -daysBack, to: calendar.startOfDay(for: now)),
                      calendar.component(.weekday, from: day) == weekday,
                      let opens = calendar.date(byAdding: .minute, value: start, to: day),
                      let closes = calendar.date(byAdding: .minute, value: length, to: opens)
                else { continue }
                if now >= opens && now < closes { return closes }
            }
            return nil
        }
    }

    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses `weekly sun 02:00-04:00 [Time/Zone]` (UTC unless a zone is named) or an ISO 8601 interval
    /// `2026-12-01T02:00:00Z/2026-12-01T04:00:00Z`.
    public init(parsing text: String) throws(MaintenanceWindowError) {
        let words = text.split(separator: " ").map(String.init)
        if words.first == "weekly" {
            guard words.count == 3 || words.count == 4,
                  let weekday = Self.weekdays.firstIndex(of: words[1].prefix(3).lowercased()) else {
                throw MaintenanceWindowError(text: text, reason: "expected 'weekly <day> HH:MM-HH:MM [time zone]', e.g. 'weekly sun 02:00-04:00 Europe/Berlin'")
            }
            let times = words[2].split(separator: "-").map(String.init)
            guard times.count == 2, let start = Self.minutes(times[0]), let end = Self.minutes(times[1]), start != end else {
                throw MaintenanceWindowError(text: text, reason: "expected a time range like 02:00-04:00")
            }
            let zoneName = words.count == 4 ? words[3] : "UTC"
            guard let zone = TimeZone(identifier: zoneName) else {
                throw MaintenanceWindowError(text: text, reason: "unknown time zone '\(zoneName)'")
            }
            self = .weekly(weekday: weekday + 1, start: start, end: end, timeZone: zone)
            return
        }
        let ends = text.split(separator: "/").map(String.init)
        let parser = ISO8601DateFormatter()
        guard ends.count == 2, let from = parser.date(from: ends[0]), let until = parser.date(from: ends[1]) else {
            throw MaintenanceWindowError(text: text, reason: "expected 'weekly <day> HH:MM-HH:MM [time zone]' or an interval 'FROM/UNTIL' in ISO 8601 with a zone, e.g. 2026-12-01T02:00:00Z/2026-12-01T04:00:00Z")
        }
        guard until > from else { throw MaintenanceWindowError(text: text, reason: "the window ends before it starts") }
        self = .once(from: from, until: until)
    }

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...24).contains(hours), (0..<60).contains(minutes), hours * 60 + minutes <= 1_440 else { return nil }
        return hours * 60 + minutes
    }

    public var description: String {
        switch self {
        case let .once(from, until):
            "\(from.ISO8601Format())/\(until.ISO8601Format())"
        case let .weekly(weekday, start, end, timeZone):
            "weekly \(Self.weekdays[weekday - 1]) \(String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, end / 60, end % 60)) \(timeZone.identifier)"
        }
    }
}

public struct MaintenanceWindowError: Error, CustomStringConvertible, Equatable {
    public let text: String
    public let reason: String
    public var description: String { "maintenance window '\(text)': \(reason)" }
}
