import Foundation

/// What a store agent says about itself when it reports to the hub (docs/store-agent.md).
public struct StoreAgentReport: Hashable, Sendable, Codable {
    /// Transactions taken at the store and not yet acknowledged by the hub.
    public let queueDepth: Int
    /// When the oldest of them was taken at the till; nil when the queue is empty.
    public let oldestUnsentAt: Date?
    /// The agent's sequence number of the last transaction the hub acknowledged.
    public let forwardedThrough: Int64
    /// Transactions the hub refused for good (kept at the agent with the reason).
    public let refused: Int

    public init(queueDepth: Int, oldestUnsentAt: Date?, forwardedThrough: Int64, refused: Int) {
        self.queueDepth = queueDepth
        self.oldestUnsentAt = oldestUnsentAt
        self.forwardedThrough = forwardedThrough
        self.refused = refused
    }
}

/// A store agent's report, as recorded (at most once per `store_agents.record_every`, and whenever its backlog
/// empties or starts): the hub's durable memory of when it last heard from the store.
public struct StoreAgentReported: VersionedPayload, Hashable {
    public static let eventType = "store_agent.reported"
    public static let schemaVersion = 1
    public let store: LocationID
    public let report: StoreAgentReport
    public let receivedAt: Date

    public init(store: LocationID, report: StoreAgentReport, receivedAt: Date) {
        self.store = store
        self.report = report
        self.receivedAt = receivedAt
    }
}

/// A store agent has not reported for longer than `store_agents.alert_after`: an alert, raised once per outage.
public struct StoreAgentOffline: VersionedPayload, Hashable {
    public static let eventType = "store_agent.offline"
    public static let schemaVersion = 1
    public let store: LocationID
    public let lastContactAt: Date
    /// Transactions the agent held at its last report (more may have been taken since).
    public let backlog: Int
    public let alert: Bool

    public init(store: LocationID, lastContactAt: Date, backlog: Int) {
        self.store = store
        self.lastContactAt = lastContactAt
        self.backlog = backlog
        alert = true
    }
}

/// A store agent reported again after an offline alert.
public struct StoreAgentBackOnline: VersionedPayload, Hashable {
    public static let eventType = "store_agent.back_online"
    public static let schemaVersion = 1
    public let store: LocationID
    public let offlineSince: Date
    public let backlog: Int

    public init(store: LocationID, offlineSince: Date, backlog: Int) {
        self.store = store
        self.offlineSince = offlineSince
        self.backlog = backlog
    }
}
