import Foundation
import Logging
import Metrics
import ServiceLifecycle
import TillwireStorage

/// Publishes how far financial posting has got, as gauges read from the finance projection every `interval`:
/// `tillwire_journal_unposted{state="queued"}` (entries the ERP does not have yet), `{state="awaiting_day_close"}`
/// (daily entries whose day has not closed), and `tillwire_journal_oldest_unposted_seconds` (how long the oldest
/// queued entry has waited: the posting delay an alert watches).
public struct FinanceMonitor: Service {
    let store: any Store
    let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    public init(store: any Store, interval: Duration = .seconds(15), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await publish()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("finance backlog could not be read", metadata: ["error": "\(error)"])
            }
            // A plain sleep outlasts a graceful shutdown: every stop of the hub waited for it (measured: 14 s of 15).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Reads the backlog once and sets the gauges.
    public func publish() async throws {
        let backlog = try await store.journalBacklog()
        Gauge(label: "tillwire_journal_unposted", dimensions: [("state", "queued")]).record(backlog.queued)
        Gauge(label: "tillwire_journal_unposted", dimensions: [("state", "awaiting_day_close")]).record(backlog.awaitingDayClose)
        Gauge(label: "tillwire_journal_oldest_unposted_seconds").record(backlog.oldestQueued.map { max(0, now().timeIntervalSince($0)) } ?? 0)
    }
}
