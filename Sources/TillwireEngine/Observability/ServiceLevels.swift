import CoreMetrics
import Foundation
import Synchronization

/// A service-level objective: of the durations a histogram records (with the dimensions in `match`), the share
/// `objective` must be at most `threshold`. `availability_inquiry`: of `GET /v1/availability` requests, 99% answer
/// within 50 ms.
public struct ServiceLevelObjective: Sendable, Hashable {
    public var name: String
    /// The duration metric it watches, as exported (`http_server_request_duration`).
    public var metric: String
    /// Dimensions a recording must have to count (`http_route: /v1/availability`); empty counts every recording.
    public var match: [String: String]
    public var threshold: Duration
    /// The share of recordings that must be within `threshold`, below 1 (0.99).
    public var objective: Double

    public init(name: String, metric: String, match: [String: String] = [:], threshold: Duration, objective: Double) {
        self.name = name
        self.metric = metric
        self.match = match
        self.threshold = threshold
        self.objective = objective
    }

    /// The hub's objectives unless the configuration changes them (`slos.<name>`).
    public static let defaults: [ServiceLevelObjective] = [
        .init(name: "availability_inquiry", metric: "http_server_request_duration", match: ["http_route": "/v1/availability"],
              threshold: .milliseconds(50), objective: 0.99),
        .init(name: "sale_to_channel", metric: "tillwire_availability_publish_lag_seconds", threshold: .seconds(5), objective: 0.99),
        .init(name: "financial_posting", metric: "tillwire_journal_posting_delay_seconds", threshold: .seconds(15 * 60), objective: 0.99),
        .init(name: "refund", metric: "tillwire_refund_latency_seconds", threshold: .seconds(24 * 3600), objective: 0.99),
    ]

    /// The duration metrics an objective may watch (the ones the hub records), with the dimensions each has.
    public static let watchableDimensions: [String: [String]] = [
        "http_server_request_duration": ["http_route", "http_request_method", "http_response_status_code"],
        "tillwire_availability_publish_lag_seconds": ["channel"],
        "tillwire_journal_posting_delay_seconds": [],
        "tillwire_refund_latency_seconds": ["method"],
        "tillwire_job_duration_seconds": ["kind"],
        "tillwire_storage_commit_seconds": ["backend"],
    ]
    public static var watchable: [String] { watchableDimensions.keys.sorted() }
}

/// Where an objective stands over the tracker's window.
public struct ServiceLevelReading: Sendable, Hashable {
    public let objective: ServiceLevelObjective
    /// The window the counts cover.
    public let window: Duration
    public let good: Int
    public let bad: Int
    /// good / (good + bad); 1 when nothing was recorded in the window.
    public var compliance: Double { good + bad == 0 ? 1 : Double(good) / Double(good + bad) }
    /// How fast the error budget is spent: the bad share over the allowed bad share. 1 spends it exactly over the
    /// window; above 1 it runs out early.
    public var burnRate: Double { (1 - compliance) / (1 - objective.objective) }
    public var met: Bool { compliance >= objective.objective }
}

/// Counts good and bad recordings per objective, in one-minute buckets over a rolling window, in memory (per
/// instance, since start). `tillwire_slo_events_total{slo, outcome}` carries the same counts to Prometheus, which
/// can judge any window across all instances.
public final class ServiceLevelTracker: Sendable {
    public let objectives: [ServiceLevelObjective]
    public let window: Duration
    private let minutes: Int
    private let tallies: Mutex<[[Tally]]>
    /// `tillwire_slo_events_total` per objective: [good, bad], made at the first recording (after the metrics system
    /// is set up), not asked of the factory on every one.
    private let counters = Mutex<[Int: [Counter]]>([:])
    private let now: @Sendable () -> Date

    struct Tally {
        var minute: Int64 = -1
        var good = 0
        var bad = 0
    }

    public init(objectives: [ServiceLevelObjective], window: Duration = .seconds(3600), now: @escaping @Sendable () -> Date = Date.init) {
        self.objectives = objectives
        self.window = window
        let minutes = max(1, Int(window.components.seconds / 60))
        self.minutes = minutes
        self.tallies = Mutex(Array(repeating: Array(repeating: Tally(), count: minutes), count: objectives.count))
        self.now = now
    }

    /// The objectives a recording of `metric` with `dimensions` counts toward (names as exported: dots are underscores).
    func objectives(for metric: String, dimensions: [(String, String)]) -> [Int] {
        let metric = Self.exported(metric)
        return objectives.indices.filter { index in
            let objective = objectives[index]
            guard objective.metric == metric else { return false }
            return objective.match.allSatisfy { key, value in dimensions.contains { Self.exported($0.0) == key && $0.1 == value } }
        }
    }

    func record(_ nanoseconds: Int64, toward indices: [Int]) {
        let minute = Int64(now().timeIntervalSince1970 / 60)
        let slot = Int(minute % Int64(minutes))
        let outcomes = indices.map { (index: $0, good: nanoseconds <= Self.nanoseconds(objectives[$0].threshold)) }
        tallies.withLock { tallies in
            for (index, good) in outcomes {
                if tallies[index][slot].minute != minute { tallies[index][slot] = Tally(minute: minute) }
                if good { tallies[index][slot].good += 1 } else { tallies[index][slot].bad += 1 }
            }
        }
        for (index, good) in outcomes {
            counter(index, good: good).increment()
        }
    }

    private func counter(_ index: Int, good: Bool) -> Counter {
        counters.withLock { counters in
            if counters[index] == nil {
                counters[index] = ["good", "bad"].map {
                    Counter(label: "tillwire_slo_events_total", dimensions: [("slo", objectives[index].name), ("outcome", $0)])
                }
            }
            return counters[index]![good ? 0 : 1]
        }
    }

    /// Every objective's counts over the window that ends now.
    public func readings() -> [ServiceLevelReading] {
        let current = Int64(now().timeIntervalSince1970 / 60)
        return tallies.withLock { tallies in
            objectives.indices.map { index in
                let live = tallies[index].filter { $0.minute > current - Int64(minutes) && $0.minute <= current }
                return ServiceLevelReading(objective: objectives[index], window: window, good: live.reduce(0) { $0 + $1.good }, bad: live.reduce(0) { $0 + $1.bad })
            }
        }
    }

    /// Sets the objective, compliance and burn-rate gauges from `readings()`.
    public func publish() {
        for reading in readings() {
            let dimensions = [("slo", reading.objective.name)]
            // Both outcomes exist from the start: Prometheus's rate() misses a series' first sample.
            for outcome in ["good", "bad"] {
                Counter(label: "tillwire_slo_events_total", dimensions: dimensions + [("outcome", outcome)]).increment(by: 0)
            }
            Gauge(label: "tillwire_slo_objective", dimensions: dimensions).record(reading.objective.objective)
            Gauge(label: "tillwire_slo_compliance", dimensions: dimensions).record(reading.compliance)
            Gauge(label: "tillwire_slo_error_budget_burn_rate", dimensions: dimensions).record(reading.burnRate)
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// A metric or dimension name as Prometheus shows it.
    static func exported(_ name: String) -> String {
        name.replacingOccurrences(of: ".", with: "_")
    }
}

/// A metrics factory that passes everything to `base` and also shows each duration to the tracker: the objectives
/// are judged on exactly the recordings the histograms get.
public struct ServiceLevelMetricsFactory: MetricsFactory {
    let base: any MetricsFactory
    let tracker: ServiceLevelTracker

    public init(base: any MetricsFactory, tracker: ServiceLevelTracker) {
        self.base = base
        self.tracker = tracker
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let handler = base.makeTimer(label: label, dimensions: dimensions)
        let indices = tracker.objectives(for: label, dimensions: dimensions)
        return indices.isEmpty ? handler : TrackedTimer(base: handler, tracker: tracker, indices: indices)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        base.makeCounter(label: label, dimensions: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        base.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        base.makeMeter(label: label, dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    public func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    public func destroyTimer(_ handler: any TimerHandler) {
        base.destroyTimer((handler as? TrackedTimer)?.base ?? handler)
    }
}

final class TrackedTimer: TimerHandler, Sendable {
    let base: any TimerHandler
    let tracker: ServiceLevelTracker
    let indices: [Int]

    init(base: any TimerHandler, tracker: ServiceLevelTracker, indices: [Int]) {
        self.base = base
        self.tracker = tracker
        self.indices = indices
    }

    func recordNanoseconds(_ duration: Int64) {
        base.recordNanoseconds(duration)
        tracker.record(duration, toward: indices)
    }

    func preferDisplayUnit(_ unit: TimeUnit) { base.preferDisplayUnit(unit) }
}
