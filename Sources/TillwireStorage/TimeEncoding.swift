import Foundation

extension Duration {
    /// The duration in seconds, as Foundation dates count.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension Date {
    /// How every backend stores a time: integer epoch milliseconds (cheaper than date formatting, and one encoding
    /// for SQLite and PostgreSQL alike).
    public var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
