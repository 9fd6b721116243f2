import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TillwireDomain
import TillwireStorage

/// One system's state as the gate sees it.
public struct SystemReading: Sendable {
    public let name: String
    public let breaker: CircuitBreaker.State?
    /// Why work toward it is held now (a maintenance window, an open circuit, a `Retry-After`), nil when it is not.
    public let block: SystemBlock?
}

/// One reading of the hub's flow and business figures: what `/metrics` and the operations pages show.
public struct OperationsSnapshot: Sendable {
    public let at: Date
    public let jobs: [JobQueueStatistic]
    public let orders: [OrderStatus: OrderStatistic]
    /// Orders waiting on the estate (not on a customer) that have not changed for `agingAfter`.
    public let agingAfter: Duration
    public let journal: JournalBacklog
    /// Events in the log that each subscription has not handled yet.
    public let subscriptionLag: [String: Int64]
    public let systems: [SystemReading]
    public let serviceLevels: [ServiceLevelReading]

    /// Jobs waiting to run (pending), all kinds.
    public var backlog: Int { jobs.filter { $0.state == .pending }.reduce(0) { $0 + $1.count } }
    /// Dead jobs by the system their kind names.
    public var deadLetters: [String: Int] {
        jobs.filter { $0.state == .dead }.reduce(into: [:]) { $0[SystemGate.system(ofKind: $1.kind), default: 0] += $1.count }
    }
    public var ordersAging: Int {
        orders.filter { $0.key.waitsOnTheEstate }.reduce(0) { $0 + $1.value.unchanged }
    }
    /// How long the longest-waiting due job has waited (timers for later do not count).
    public var oldestPending: Duration {
        jobs.filter { $0.state == .pending }.compactMap(\.oldestDueAt).map { .seconds(max(0, at.timeIntervalSince($0))) }.max() ?? .zero
    }
}

/// The last readings, for the operations pages' charts (the monitor adds one every interval).
public final class OperationsHistory: Sendable {
    public let capacity: Int
    private let snapshots = Mutex<[OperationsSnapshot]>([])

    /// `capacity` 240 readings: an hour at the default 15 s.
    public init(capacity: Int = 240) {
        self.capacity = capacity
    }

    public var latest: OperationsSnapshot? { snapshots.withLock { $0.last } }
    /// Oldest first.
    public var all: [OperationsSnapshot] { snapshots.withLock { $0 } }

    func append(_ snapshot: OperationsSnapshot) {
        snapshots.withLock { snapshots in
            snapshots.append(snapshot)
            if snapshots.count > capacity { snapshots.removeFirst(snapshots.count - capacity) }
        }
    }
}

/// Reads the flow and business figures every `interval` (15 s) and publishes them as gauges: the job queue by kind
/// and state with its oldest pending job, dead letters per system, breakers and blocks per system, subscription lag,
/// orders by status with their age and those aging, the journal not yet in the ERP, and the objectives' compliance.
/// Every instance reads the same database, so every instance shows the same figures (the objectives excepted: each
/// judges its own recordings).
public final class OperationsMonitor: Service {
    let store: any Store
    let systems: SystemGate?
    let subscriptions: [String]
    let tracker: ServiceLevelTracker?
    public let history: OperationsHistory
    let agingAfter: Duration
    public let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Date
    /// Label values published before: one that is gone is set to 0, not left at its last figure.
    private let published = Mutex<Set<[String]>>([])

    public init(store: any Store, systems: SystemGate?, subscriptions: [String], tracker: ServiceLevelTracker?, history: OperationsHistory,
                agingAfter: Duration = .seconds(2 * 3600), interval: Duration = .seconds(15), logger: Logger,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.systems = systems
        self.subscriptions = subscriptions
        self.tracker = tracker
        self.history = history
        self.agingAfter = agingAfter
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let snapshot = try await read()
                publish(snapshot)
                history.append(snapshot)
                // The gauges keep their last figures when a read fails: this says how old they are.
                Gauge(label: "tillwire_operations_read_timestamp_seconds").record(snapshot.at.timeIntervalSince1970)
            } catch is CancellationError {
                return
            } catch {
                Counter(label: "tillwire_operations_read_errors_total").increment()
                logger.warning("operations figures could not be read; the gauges keep their last figures", metadata: ["error": "\(error)"])
            }
            // A plain sleep outlasts a graceful shutdown: every stop of the hub waited for it (measured: 14 s of 15).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Reads the figures once.
    public func read() async throws -> OperationsSnapshot {
        let at = now()
        let head = try await store.headPosition()
        var lag: [String: Int64] = [:]
        for name in subscriptions { lag[name] = max(0, head - (try await store.checkpoint(name))) }
        return OperationsSnapshot(
            at: at, jobs: try await store.jobQueueStatistics(now: at),
            orders: try await store.orderStatistics(unchangedSince: at - agingAfter.timeInterval), agingAfter: agingAfter,
            journal: try await store.journalBacklog(storeDaysBefore: Self.pastDaysBefore(at)), subscriptionLag: lag,
            systems: (systems?.names ?? []).map { SystemReading(name: $0, breaker: systems?.breakerState($0), block: systems?.block($0, at: at)) },
            serviceLevels: tracker?.readings() ?? [])
    }

    /// Store days before yesterday (UTC) are over in every time zone, and their day close has run: the cut-off for
    /// `tillwire_store_days_unposted`.
    static func pastDaysBefore(_ now: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let yesterday = calendar.dateComponents([.year, .month, .day], from: now - 86_400)
        return String(format: "%04d-%02d-%02d", yesterday.year!, yesterday.month!, yesterday.day!)
    }

    /// Sets every gauge from `snapshot`.
    public func publish(_ snapshot: OperationsSnapshot) {
        var gauges: [(label: String, dimensions: [(String, String)], value: Double)] = []
        for job in snapshot.jobs {
            gauges.append(("tillwire_job_queue_depth", [("kind", job.kind), ("state", job.state.rawValue)], Double(job.count)))
            if job.state == .pending {
                let waited = job.oldestDueAt.map { max(0, snapshot.at.timeIntervalSince($0)) } ?? 0
                gauges.append(("tillwire_job_queue_oldest_seconds", [("kind", job.kind)], waited))
            }
        }
        for (system, count) in snapshot.deadLetters { gauges.append(("tillwire_dead_letters", [("system", system)], Double(count))) }
        for system in snapshot.systems {
            let state: Double = switch system.breaker {
            case .open: 2
            case .halfOpen: 1
            case .closed, nil: 0
            }
            gauges.append(("tillwire_breaker_state", [("system", system.name)], state))
            gauges.append(("tillwire_system_blocked", [("system", system.name)], system.block == nil ? 0 : 1))
        }
        for (name, lag) in snapshot.subscriptionLag { gauges.append(("tillwire_subscription_lag_events", [("subscription", name)], Double(lag))) }
        for (status, statistic) in snapshot.orders {
            let dimensions = [("status", status.rawValue)]
            gauges.append(("tillwire_orders", dimensions, Double(statistic.count)))
            gauges.append(("tillwire_order_oldest_seconds", dimensions, max(0, snapshot.at.timeIntervalSince(statistic.oldestChange))))
            if status.waitsOnTheEstate {
                gauges.append(("tillwire_orders_aging", dimensions, Double(statistic.unchanged)))
            }
        }
        let journal = snapshot.journal
        gauges.append(("tillwire_journal_unposted", [("state", "queued")], Double(journal.queued)))
        gauges.append(("tillwire_journal_unposted", [("state", "awaiting_day_close")], Double(journal.awaitingDayClose)))
        gauges.append(("tillwire_journal_oldest_unposted_seconds", [], journal.oldestQueued.map { max(0, snapshot.at.timeIntervalSince($0)) } ?? 0))
        gauges.append(("tillwire_store_days_unposted", [], Double(journal.unpostedStoreDays)))

        let now = Set(gauges.map { [$0.label] + $0.dimensions.flatMap { [$0.0, $0.1] } })
        let gone = published.withLock { published in
            defer { published = now }
            return published.subtracting(now)
        }
        for gauge in gauges { Gauge(label: gauge.label, dimensions: gauge.dimensions).record(gauge.value) }
        for key in gone {
            let dimensions = stride(from: 1, to: key.count, by: 2).map { (key[$0], key[$0 + 1]) }
            Gauge(label: key[0], dimensions: dimensions).record(0)
        }
        tracker?.publish()
    }
}
