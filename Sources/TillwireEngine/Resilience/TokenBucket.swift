import Foundation

/// A system's published request rate: `perSecond` on average, up to `burst` at once.
public struct RateLimit: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        precondition(perSecond > 0 && burst >= 1, "a rate limit needs a positive rate and a burst of at least 1")
        self.perSecond = perSecond
        self.burst = burst
    }
}

/// A token bucket as a pure value: `reserve` takes a token now or books the next free one, so concurrent callers
/// are served in order and never exceed the rate.
public struct TokenBucket: Sendable {
    public let limit: RateLimit
    /// May go negative: tokens already promised to waiting callers.
    private var tokens: Double
    private var last: Date

    public init(_ limit: RateLimit, now: Date) {
        self.limit = limit
        tokens = Double(limit.burst)
        last = now
    }

    /// Takes a token and returns how long the caller must wait before using it (zero when one was there).
    public mutating func reserve(now: Date) -> Duration {
        refill(now: now)
        tokens -= 1
        return tokens >= 0 ? .zero : .seconds(-tokens / limit.perSecond)
    }

    /// Takes a token if one is there now and returns nil; otherwise takes nothing and returns how long until one is.
    public mutating func take(now: Date) -> Duration? {
        refill(now: now)
        guard tokens < 1 else {
            tokens -= 1
            return nil
        }
        return .seconds((1 - tokens) / limit.perSecond)
    }

    /// Whole tokens left (after the last `take` or `reserve`).
    public var remaining: Int { max(0, Int(tokens)) }

    private mutating func refill(now: Date) {
        let elapsed = max(0, now.timeIntervalSince(last))
        tokens = min(Double(limit.burst), tokens + elapsed * limit.perSecond)
        last = max(last, now)
    }
}
