import Foundation

extension Duration {
    /// The duration in seconds, as Foundation dates count.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
