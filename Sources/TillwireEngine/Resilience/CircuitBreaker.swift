import Foundation

/// When a circuit toward an external system opens and how it recovers. Defaults: 50 % failures over the last 20
/// calls (counted once at least 10 calls were made) open the circuit for 30 s; then 3 probe calls are let through,
/// and all 3 must succeed to close it.
public struct CircuitBreakerPolicy: Sendable, Hashable {
    /// Failure rate (0…1] over the window at or above which the circuit opens. Default 0.5.
    public var failureRateThreshold: Double
    /// Calls the sliding window holds. Default 20.
    public var windowSize: Int
    /// Calls the window must hold before the rate counts. Default 10.
    public var minimumCalls: Int
    /// How long the circuit stays open before probing. Default 30 s.
    public var openDuration: Duration
    /// Probe calls let through while half-open; all must succeed to close. Default 3.
    public var halfOpenProbes: Int

    public init(
        failureRateThreshold: Double = 0.5, windowSize: Int = 20, minimumCalls: Int = 10,
        openDuration: Duration = .seconds(30), halfOpenProbes: Int = 3
    ) {
        self.failureRateThreshold = failureRateThreshold
        self.windowSize = windowSize
        self.minimumCalls = min(minimumCalls, windowSize)
        self.openDuration = openDuration
        self.halfOpenProbes = halfOpenProbes
    }
}

/// A circuit breaker as a pure state machine: `decide` before a call, `record` its outcome after.
///
/// 5xx answers, timeouts and 429 are failures; other 4xx answers are the caller's fault and do not count.
public struct CircuitBreaker: Sendable {
    public enum State: Hashable, Sendable {
        case closed
        /// No call goes through until this time; then the circuit is half-open.
        case open(until: Date)
        case halfOpen
    }

    public enum Outcome: Sendable {
        case success
        /// A 5xx, a timeout, a 429: the system is in trouble.
        case failure
        /// A 4xx other than 408/429, or a call abandoned by the caller: says nothing about the system.
        case ignored
    }

    public enum Decision: Hashable, Sendable {
        case allow
        /// Not now; try again at this time.
        case reject(until: Date)
    }

    public let policy: CircuitBreakerPolicy
    public private(set) var state: State = .closed
    /// The last calls' outcomes while closed, oldest first; true is a failure.
    private var window: [Bool] = []
    private var probesInFlight = 0
    private var probeSuccesses = 0

    public init(policy: CircuitBreakerPolicy = CircuitBreakerPolicy()) {
        self.policy = policy
    }

    /// The failure rate over the window, nil until it holds `minimumCalls`.
    public var failureRate: Double? {
        window.count >= policy.minimumCalls ? Double(window.filter { $0 }.count) / Double(window.count) : nil
    }

    public mutating func decide(now: Date) -> Decision {
        if case .open(let until) = state {
            guard now >= until else { return .reject(until: until) }
            state = .halfOpen
            probesInFlight = 0
            probeSuccesses = 0
        }
        if state == .halfOpen {
            guard probesInFlight < policy.halfOpenProbes else { return .reject(until: now + 1) }
            probesInFlight += 1
        }
        return .allow
    }

    public mutating func record(_ outcome: Outcome, now: Date) {
        switch state {
        case .closed:
            guard case .ignored = outcome else {
                window.append(outcome == .failure)
                if window.count > policy.windowSize { window.removeFirst(window.count - policy.windowSize) }
                if let rate = failureRate, rate >= policy.failureRateThreshold { open(now: now) }
                return
            }
        case .halfOpen:
            switch outcome {
            case .success:
                probeSuccesses += 1
                if probeSuccesses >= policy.halfOpenProbes {
                    state = .closed
                    window = []
                }
            case .failure:
                open(now: now)
            case .ignored:
                probesInFlight -= 1
            }
        case .open:
            break  // a call let through before the circuit opened; it changes nothing now
        }
    }

    private mutating func open(now: Date) {
        state = .open(until: now + policy.openDuration.timeInterval)
        window = []
    }
}

extension CircuitBreaker.Outcome: Equatable {}
