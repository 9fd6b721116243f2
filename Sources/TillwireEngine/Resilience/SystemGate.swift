import Foundation
import Metrics
import Synchronization
import TillwireStorage
import Tracing

/// How the hub treats one external system. Configured per system in the config file (`systems.<name>`).
public struct SystemPolicy: Sendable, Hashable {
    public var breaker: CircuitBreakerPolicy
    /// The system's published rate; nil for none. Default nil.
    public var rate: RateLimit?
    /// Calls in flight at once from one hub instance; nil for no limit. Default nil.
    public var concurrency: Int?
    /// Times the system is down on purpose. Default none.
    public var maintenance: [MaintenanceWindow]

    public init(
        breaker: CircuitBreakerPolicy = CircuitBreakerPolicy(), rate: RateLimit? = nil, concurrency: Int? = nil,
        maintenance: [MaintenanceWindow] = []
    ) {
        self.breaker = breaker
        self.rate = rate
        self.concurrency = concurrency
        self.maintenance = maintenance
    }
}

/// Why a system's jobs wait instead of running, and until when.
public struct SystemBlock: Sendable, Hashable, CustomStringConvertible {
    public enum Cause: String, Sendable {
        case maintenance = "maintenance window"
        case circuitOpen = "circuit open"
        case throttled = "throttled (Retry-After)"
    }

    public let system: String
    public let cause: Cause
    public let until: Date

    public var description: String { "\(system): \(cause.rawValue) until \(until.ISO8601Format())" }
}

/// The thrown value that sends a claimed job back to wait, without spending its attempt.
struct SystemDeferral: Error {
    let block: SystemBlock
}

/// Resilience toward external systems, per system, inside one hub instance: maintenance windows, a pause after a
/// 429 with `Retry-After`, a circuit breaker, a token bucket and a concurrency limit. A job's system is its kind's
/// prefix (`erp.post_sale` → `erp`); systems without a policy pass through untouched.
public final class SystemGate: Sendable {
    private struct SystemState {
        var policy: SystemPolicy
        var breaker: CircuitBreaker
        var bucket: TokenBucket?
        var inFlight = 0
        var pausedUntil: Date?
    }

    private let systems: Mutex<[String: SystemState]>
    private let now: @Sendable () -> Date

    public init(policies: [String: SystemPolicy], now: @escaping @Sendable () -> Date = Date.init) {
        let start = now()
        systems = Mutex(policies.mapValues { policy in
            SystemState(policy: policy, breaker: CircuitBreaker(policy: policy.breaker),
                        bucket: policy.rate.map { TokenBucket($0, now: start) })
        })
        self.now = now
    }

    /// Adds a maintenance window to `system` in this instance (a system without a policy gets the defaults): its jobs
    /// wait through it as through a configured one. For a window announced while the hub runs (`tillwire demo`); an
    /// operator's windows belong in `systems.<name>.maintenance`, where every instance reads them.
    public func addMaintenance(_ window: MaintenanceWindow, to system: String) {
        systems.withLock { systems in
            if systems[system] == nil {
                let policy = SystemPolicy()
                systems[system] = SystemState(policy: policy, breaker: CircuitBreaker(policy: policy.breaker), bucket: nil)
            }
            systems[system]!.policy.maintenance.append(window)
        }
    }

    /// The systems with a policy, by name.
    public var names: [String] {
        systems.withLock { $0.keys.sorted() }
    }

    /// The system a job kind belongs to.
    public static func system(ofKind kind: String) -> String {
        String(kind.prefix { $0 != "." })
    }

    /// Why the system's jobs cannot run now; nil when they can.
    public func block(_ system: String, at now: Date) -> SystemBlock? {
        systems.withLock { $0[system].flatMap { Self.block(system, $0, now: now) } }
    }

    private static func block(_ system: String, _ state: SystemState, now: Date) -> SystemBlock? {
        if let end = state.policy.maintenance.compactMap({ $0.end(containing: now) }).max() {
            return SystemBlock(system: system, cause: .maintenance, until: end)
        }
        if let until = state.pausedUntil, now < until {
            return SystemBlock(system: system, cause: .throttled, until: until)
        }
        if case .open(let until) = state.breaker.state, now < until {
            return SystemBlock(system: system, cause: .circuitOpen, until: until)
        }
        return nil
    }

    /// The circuit's state, for metrics and the dashboard.
    public func breakerState(_ system: String) -> CircuitBreaker.State? {
        systems.withLock { $0[system]?.breaker.state }
    }

    /// Runs one call toward `system`: waits for a concurrency slot and a rate token, asks the breaker, runs `body`
    /// and records its outcome. Throws `SystemDeferral` when the system is blocked (the call is not made).
    func call<T: Sendable>(_ system: String, _ body: () async throws -> T) async throws -> T {
        guard systems.withLock({ $0[system] != nil }) else { return try await body() }
        try await acquireSlot(system)
        defer { systems.withLock { $0[system]?.inFlight -= 1 } }

        let wait: Duration = try systems.withLock { systems throws(SystemDeferral) in
            let now = now()
            if let block = Self.block(system, systems[system]!, now: now) { throw SystemDeferral(block: block) }
            return systems[system]!.bucket?.reserve(now: now) ?? .zero
        }
        if wait > .zero {
            Counter(label: "tillwire_rate_limit_waits_total", dimensions: [("system", system)]).increment()
            Timer(label: "tillwire_rate_limit_wait_seconds", dimensions: [("system", system)], preferredDisplayUnit: .seconds)
                .record(duration: wait)
            try await Task.sleep(for: wait)
        }
        try systems.withLock { systems throws(SystemDeferral) in
            let now = now()
            if case .reject(let until) = systems[system]!.breaker.decide(now: now) {
                throw SystemDeferral(block: SystemBlock(system: system, cause: .circuitOpen, until: until))
            }
        }
        do {
            let result = try await withSpan("call \(system)", ofKind: .client) { span in
                span.attributes["tillwire.system"] = system
                return try await body()
            }
            record(system, .success)
            return result
        } catch {
            switch error {
            case JobError.retryable(_, let retryAfter?):
                record(system, .failure, pauseFor: retryAfter)
            case JobError.terminal, is CancellationError:
                record(system, .ignored)
            default:
                record(system, .failure)
            }
            throw error
        }
    }

    private func record(_ system: String, _ outcome: CircuitBreaker.Outcome, pauseFor retryAfter: Duration? = nil) {
        systems.withLock { systems in
            let now = now()
            systems[system]?.breaker.record(outcome, now: now)
            if let retryAfter {
                let until = now + retryAfter.timeInterval
                let paused = systems[system]?.pausedUntil ?? until
                systems[system]?.pausedUntil = max(until, paused)
            }
        }
    }

    /// Waits until fewer than the system's concurrency limit of calls are in flight, then takes a slot.
    private func acquireSlot(_ system: String) async throws {
        while true {
            let taken = systems.withLock { systems in
                guard let limit = systems[system]?.policy.concurrency, systems[system]!.inFlight >= limit else {
                    systems[system]?.inFlight += 1
                    return true
                }
                return false
            }
            if taken { return }
            // A short poll keeps this simple; a slot frees when a call to the same system ends.
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
