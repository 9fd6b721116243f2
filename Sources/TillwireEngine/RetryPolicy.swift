import Foundation
import TillwireStorage

/// When a failed job runs again.
///
/// Delay before attempt n+1, after n failed attempts: `d = min(maximum, base × 2^(n−1))`, then "equal jitter":
/// a uniformly random value in `[d/2, d]`, so that jobs that failed together do not retry together. An external
/// system's `Retry-After` is a floor: the job never runs before it.
/// Defaults: base 1 s, maximum 1 h, so attempts 1…10 wait about 1, 2, 4 … 256, 512 s.
public struct RetryPolicy: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration = .seconds(1), maximum: Duration = .seconds(3600)) {
        self.base = base
        self.maximum = maximum
    }

    /// The delay after `failedAttempts` (≥ 1) failures, before jitter.
    public func ceiling(afterFailedAttempts failedAttempts: Int) -> Duration {
        let exponent = min(max(failedAttempts - 1, 0), 40)
        let scaled = base * (1 << exponent)
        return min(scaled, maximum)
    }

    /// The time of the next attempt, with jitter drawn from `random` and `retryAfter` as a floor.
    public func nextAttempt<R: RandomNumberGenerator>(
        after failedAttempts: Int, now: Date, retryAfter: Duration? = nil, using random: inout R
    ) -> Date {
        let ceiling = ceiling(afterFailedAttempts: failedAttempts).timeInterval
        var delay = Double.random(in: (ceiling / 2)...ceiling, using: &random)
        if let retryAfter { delay = max(delay, retryAfter.timeInterval) }
        return now + delay
    }
}
