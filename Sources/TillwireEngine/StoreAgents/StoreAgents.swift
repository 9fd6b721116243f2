import Foundation
import Logging
import Metrics
import ServiceLifecycle
import TillwireDomain
import TillwireStorage

/// The hub's view of its stores' agents (docs/store-agent.md): what each last reported, whether it is online, and
/// the alert when one stays away. Reports land in memory at once and in the event log (`store_agent.reported`) at
/// most once per `recordEvery` per store, and at once when a backlog starts or empties; the log is what every hub
/// instance reads, so the status survives a restart and is the same from each instance (up to `recordEvery`).
public actor StoreAgents {
    public struct Policy: Sendable, Hashable {
        /// An agent not heard from for this long is shown offline. Default 90 s (an agent reports every `--contact-seconds`, 10 by default).
        public var offlineAfter: Duration
        /// An agent not heard from for this long raises `store_agent.offline` (an alert), once per outage. Default 15 min.
        public var alertAfter: Duration
        /// The longest gap between two recorded reports of one store (a record waits for the next report after it,
        /// so at most half of `offlineAfter`). Default 30 s.
        public var recordEvery: Duration

        public init(offlineAfter: Duration = .seconds(90), alertAfter: Duration = .seconds(900), recordEvery: Duration = .seconds(30)) {
            self.offlineAfter = offlineAfter
            self.alertAfter = alertAfter
            self.recordEvery = recordEvery
        }
    }

    /// One store's agent as the hub sees it.
    public struct Status: Sendable, Hashable {
        public enum State: String, Sendable { case online, offline }
        public let store: LocationID
        public let state: State
        public let lastContactAt: Date
        /// The last contact, when the agent is offline.
        public var offlineSince: Date? { state == .offline ? lastContactAt : nil }
        public let report: StoreAgentReport
        /// Whether the offline alert was raised for the current outage.
        public let alerted: Bool
    }

    /// What the log holds for a store: its last report and whether its last event is an open alert.
    struct Recorded {
        var version: Int64
        var lastReport: StoreAgentReported?
        var alertOpen: Bool
    }

    struct Heard {
        var at: Date
        var report: StoreAgentReport
    }

    let store: any Store
    public nonisolated let policy: Policy
    let now: @Sendable () -> Date
    var heard: [LocationID: Heard] = [:]
    var recorded: [LocationID: Recorded] = [:]

    public init(store: any Store, policy: Policy = Policy(), now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.policy = policy
        self.now = now
    }

    public static func stream(_ store: LocationID) -> StreamID {
        StreamID(trusted: "store-agent/\(store.rawValue)")
    }

    /// Takes an agent's report: remembered at once, recorded when due, and closes an open offline alert.
    @discardableResult
    public func report(_ report: StoreAgentReport, from location: LocationID) async throws -> Status {
        let at = now()
        let previous = heard[location]
        heard[location] = Heard(at: at, report: report)
        var known = try await recordedState(location)
        let due = known.lastReport.map { at.timeIntervalSince($0.receivedAt) >= policy.recordEvery.timeInterval } ?? true
        let backlogTurned = (previous?.report.queueDepth ?? known.lastReport?.report.queueDepth ?? 0 == 0) != (report.queueDepth == 0)
        if due || backlogTurned || known.alertOpen {
            var events: [EventAppend] = []
            var version = known.version
            let correlation = CorrelationID(trusted: "store-agent/\(location.rawValue)")
            if known.alertOpen {
                let since = known.lastReport?.receivedAt ?? at
                events.append(EventAppend(try NewEvent(stream: Self.stream(location), correlationID: correlation, occurredAt: at, source: InventoryService.hub,
                                                       payload: StoreAgentBackOnline(store: location, offlineSince: since, backlog: report.queueDepth)),
                                          expected: .exactly(version)))
                version += 1
            }
            let reported = StoreAgentReported(store: location, report: report, receivedAt: at)
            events.append(EventAppend(try NewEvent(stream: Self.stream(location), correlationID: correlation, occurredAt: at, source: InventoryService.hub,
                                                   payload: reported), expected: .exactly(version)))
            do {
                _ = try await store.commit(Commit(events: events))
                known = Recorded(version: version + 1, lastReport: reported, alertOpen: false)
                recorded[location] = known
            } catch StorageError.versionConflict {
                // Another instance recorded meanwhile: read the log again next time; this report is in memory.
                recorded[location] = nil
            }
        }
        publish(location, at: at)
        return status(location, at: at)!
    }

    /// Every store that has an agent, as of now.
    public func statuses() async throws -> [Status] {
        let at = now()
        var result: [Status] = []
        for location in try await store.locations() where location.kind == .store {
            _ = try await recordedState(location.id)
            if let status = status(location.id, at: at) { result.append(status) }
        }
        return result
    }

    /// One store's agent; nil when it never reported.
    public func status(of location: LocationID) async throws -> Status? {
        _ = try await recordedState(location)
        return status(location, at: now())
    }

    /// Raises the offline alert for every agent away longer than `alertAfter` (once per outage, whichever hub
    /// instance gets there first) and sets the gauges. Returns the alerts raised.
    @discardableResult
    public func sweep() async throws -> [StoreAgentOffline] {
        let at = now()
        var raised: [StoreAgentOffline] = []
        var offline = 0
        for location in try await store.locations() where location.kind == .store {
            // The log is read again each sweep: another instance may have heard from the store.
            recorded[location.id] = nil
            let known = try await recordedState(location.id)
            guard let status = status(location.id, at: at) else { continue }
            publish(location.id, at: at)
            guard status.state == .offline else { continue }
            offline += 1
            guard !known.alertOpen, at.timeIntervalSince(status.lastContactAt) >= policy.alertAfter.timeInterval else { continue }
            let alert = StoreAgentOffline(store: location.id, lastContactAt: status.lastContactAt, backlog: status.report.queueDepth)
            let event = try NewEvent(stream: Self.stream(location.id), correlationID: CorrelationID(trusted: "store-agent/\(location.id.rawValue)"),
                                     occurredAt: at, source: InventoryService.hub, payload: alert)
            do {
                _ = try await store.commit(Commit(events: [EventAppend(event, expected: .exactly(known.version))]))
                recorded[location.id] = Recorded(version: known.version + 1, lastReport: known.lastReport, alertOpen: true)
                raised.append(alert)
            } catch StorageError.versionConflict {
                recorded[location.id] = nil
            }
        }
        Gauge(label: "tillwire_store_agents_offline").record(offline)
        return raised
    }

    // MARK: Inside

    func status(_ location: LocationID, at: Date) -> Status? {
        let fromLog = recorded[location]?.lastReport.map { Heard(at: $0.receivedAt, report: $0.report) }
        let fromMemory = heard[location]
        guard let latest = [fromLog, fromMemory].compactMap({ $0 }).max(by: { $0.at < $1.at }) else { return nil }
        let away = at.timeIntervalSince(latest.at)
        return Status(store: location, state: away >= policy.offlineAfter.timeInterval ? .offline : .online, lastContactAt: latest.at,
                      report: latest.report, alerted: recorded[location]?.alertOpen ?? false)
    }

    func recordedState(_ location: LocationID) async throws -> Recorded {
        if let known = recorded[location] { return known }
        let stream = Self.stream(location)
        let version = try await store.streamVersion(stream)
        var known = Recorded(version: version, lastReport: nil, alertOpen: false)
        if version > 0 {
            // The last report and whether an alert came after it: reports are frequent, so a short tail holds both.
            let tail = try await store.readStream(stream, fromVersion: max(1, version - 19), limit: 20)
            known.alertOpen = tail.last?.type == StoreAgentOffline.eventType
            known.lastReport = try tail.last { $0.type == StoreAgentReported.eventType }.map { try $0.decode(StoreAgentReported.self) }
            if known.lastReport == nil, version > 20 {
                // A long run of alerts and returns without a report between them cannot happen; read further to be sure.
                known.lastReport = try await store.readStream(stream, fromVersion: 1, limit: Int(version)).last { $0.type == StoreAgentReported.eventType }
                    .map { try $0.decode(StoreAgentReported.self) }
            }
        }
        recorded[location] = known
        return known
    }

    func publish(_ location: LocationID, at: Date) {
        guard let status = status(location, at: at) else { return }
        let dimensions = [("store", location.rawValue)]
        Gauge(label: "tillwire_store_agent_backlog", dimensions: dimensions).record(status.report.queueDepth)
        Gauge(label: "tillwire_store_agent_contact_age_seconds", dimensions: dimensions).record(max(0, at.timeIntervalSince(status.lastContactAt)))
        Gauge(label: "tillwire_store_agent_oldest_unsent_seconds", dimensions: dimensions)
            .record(status.report.oldestUnsentAt.map { max(0, at.timeIntervalSince($0)) } ?? 0)
        Gauge(label: "tillwire_store_agent_online", dimensions: dimensions).record(status.state == .online ? 1 : 0)
    }
}

/// Sweeps the store agents every `interval`: offline alerts and the gauges (`StoreAgents.sweep`).
public struct StoreAgentMonitor: Service {
    let agents: StoreAgents
    let interval: Duration
    let logger: Logger

    public init(agents: StoreAgents, interval: Duration = .seconds(15), logger: Logger) {
        self.agents = agents
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                for alert in try await agents.sweep() {
                    logger.warning("store agent offline", metadata: [
                        "store": "\(alert.store)", "last_contact": "\(alert.lastContactAt.ISO8601Format())", "backlog": "\(alert.backlog)",
                    ])
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("store agents could not be swept", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
