import Foundation
import Logging
import Metrics
import TillwireDomain
import TillwireStorage

/// Sends a channel the figure it may sell of a SKU. Each shop connector implements it (`LoggingPublisher` stands in
/// for a channel without one); the call runs inside a job, so it is retried, rate limited and paused like every call
/// to an external system.
public protocol AvailabilityPublisher: Sendable {
    func publish(channel: ChannelID, sku: SKU, available: Int64) async throws
}

/// A channel with no connector yet: logs the figure it would send, so the flow can be seen working.
public struct LoggingPublisher: AvailabilityPublisher {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func publish(channel: ChannelID, sku: SKU, available: Int64) async throws {
        logger.info("channel availability (no connector configured for this channel)", metadata: [
            "channel": "\(channel)", "sku": "\(sku)", "available": "\(available)",
        ])
    }
}

/// Channel availability, end to end: this subscription turns each `availability.changed` at a location that feeds
/// a channel into a publish job for (channel, SKU); the job reads the figure when it runs and publishes it.
///
/// Coalescing: a change enqueues a job due `window` after it, unless a job for the same (channel, SKU) is still
/// pending: that one absorbs the change. The job reads the figure when it runs, so a burst of sales makes one call
/// with the latest figure, and under load (jobs claimed later) more changes join each call. Order: the jobs of one
/// (channel, SKU) share a partition key and run in order. Rate: the job kind is `<channel>.availability`, so `systems.<channel>`
/// limits the calls.
public struct ChannelAvailabilitySubscriber: EventHandler {
    public static let subscriberName = "channel.availability"
    let channels: [ChannelPolicy]
    let window: Duration

    public init(channels: [ChannelPolicy], window: Duration = .milliseconds(50)) {
        self.channels = channels
        self.window = window
    }

    public static func jobKind(_ channel: ChannelID) -> String { "\(channel.rawValue).availability" }

    /// Its jobs follow from each event alone.
    public var commitsInBatches: Bool { true }

    public func handle(_ event: EventEnvelope) async throws -> Commit {
        guard event.type == AvailabilityChanged.eventType else { return Commit() }
        let change = try event.decode(AvailabilityChanged.self)
        let jobs = channels.filter { $0.feeds(from: change.location) }.map { channel in
            Self.publishJob(channel: channel.channel, sku: change.sku, at: event.recordedAt, window: window)
        }
        return Commit(jobs: jobs)
    }

    /// The job that publishes a (channel, SKU) figure `window` after `at`; one still pending absorbs it. Also for a
    /// connector that sees the channel's figure moved by hand and wants the hub's put back.
    public static func publishJob(channel: ChannelID, sku: SKU, at: Date, window: Duration = .zero) -> NewJob {
        let key = "availability/\(channel.rawValue)/\(sku.rawValue)"
        return NewJob(kind: jobKind(channel), payload: (try? EventCoding.encode(PublishRequest(sku: sku, changedAt: at))) ?? Data(), partitionKey: key,
                      coalesceKey: key, runAt: at + window.timeInterval)
    }

    struct PublishRequest: Codable {
        let sku: SKU
        /// When the first change of the window was recorded: the publish lag is measured from it.
        let changedAt: Date
    }
}

/// Publishes one (channel, SKU) figure: computed from the positions when the job runs (the latest wins), sent
/// through the channel's publisher, and recorded as a `channel.availability_published` event.
public struct ChannelAvailabilityJob: JobHandler {
    public let kind: String
    let policy: ChannelPolicy
    let store: any Store
    let publisher: any AvailabilityPublisher

    public init(policy: ChannelPolicy, store: any Store, publisher: any AvailabilityPublisher) {
        kind = ChannelAvailabilitySubscriber.jobKind(policy.channel)
        self.policy = policy
        self.store = store
        self.publisher = publisher
    }

    public struct Published: VersionedPayload, Hashable {
        public static let eventType = "channel.availability_published"
        public static let schemaVersion = 1
        public let channel: ChannelID
        public let sku: SKU
        public let available: Int64
        public let changedAt: Date
    }

    public func handle(_ job: Job) async throws -> Commit {
        let request = try EventCoding.decoder.decode(ChannelAvailabilitySubscriber.PublishRequest.self, from: job.payload)
        let available = policy.available(from: try await store.positions(sku: request.sku))
        try await publisher.publish(channel: policy.channel, sku: request.sku, available: available)
        let now = Date()
        Timer(label: "tillwire_availability_publish_lag_seconds", dimensions: [("channel", policy.channel.rawValue)])
            .recordNanoseconds(Int64(max(0, now.timeIntervalSince(request.changedAt)) * 1e9))
        return Commit(events: [EventAppend(try NewEvent(
            stream: StreamID(trusted: "channel/\(policy.channel.rawValue)"), correlationID: CorrelationID(trusted: "availability/\(request.sku.rawValue)"),
            occurredAt: now, source: SystemID(trusted: policy.channel.rawValue),
            payload: Published(channel: policy.channel, sku: request.sku, available: available, changedAt: request.changedAt)))])
    }
}
