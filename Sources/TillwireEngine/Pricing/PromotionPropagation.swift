import Foundation
import TillwireDomain
import TillwireStorage

/// A sales channel, as promotions reach it (jobs `<system>.promotion_push`, behind that system's breaker and limits).
public protocol ChannelPromotionClient: Sendable {
    /// Puts the promotion on the channel as it now is (created, changed, or ended early). The same `key` again must
    /// not create a second one.
    func push(_ promotion: Promotion, to channel: ChannelID, key: String) async throws
}

/// Where a promotion stands on one channel.
public struct PromotionChannelState: Hashable, Sendable {
    public enum State: String, Sendable {
        /// The channel has not acknowledged the promotion's current version yet (its push is queued or retrying).
        case pending
        /// The channel acknowledged the current version.
        case live
        /// The push failed for good: in the dead letters, with the reason.
        case failed
    }

    public let channel: ChannelID
    public let state: State
    public let reason: String?
}

/// Pushes each promotion change to every configured channel it applies to, one job per channel and change; a
/// channel's acknowledgment is `pricing.promotion_acknowledged` on the promotion's stream. A channel that is down
/// gets the push when it is back (the job retries, then waits in the dead letters for a replay); the promotion is
/// live there only once acknowledged.
public enum PromotionPropagation {
    public static func pushKind(_ system: SystemID) -> String { "\(system.rawValue).promotion_push" }
    static func partitionPrefix(_ id: String) -> String { "promotion/\(id)/" }

    struct Payload: Codable {
        let promotion: String
        let channel: String
        let change: String
    }

    /// The push jobs for a change (the event `change`) of `promotion`, one per channel in its scope.
    static func jobs(_ promotion: Promotion, change: EventID, channels: [ChannelID: SystemID], at: Date) -> [NewJob] {
        channels.filter { promotion.scope.channels?.contains($0.key) ?? true }.sorted { $0.key < $1.key }.map { channel, system in
            NewJob(kind: pushKind(system),
                   payload: (try? JSONEncoder().encode(Payload(promotion: promotion.id, channel: channel.rawValue, change: change.rawValue))) ?? Data(),
                   partitionKey: partitionPrefix(promotion.id) + channel.rawValue, uniqueKey: "promotion_push/\(change.rawValue)/\(channel.rawValue)",
                   runAt: at, maxAttempts: 50)
        }
    }

    /// Each channel's state for the promotion's current version.
    public static func states(of id: String, channels: [ChannelID: SystemID], store: any Store) async throws -> [PromotionChannelState] {
        guard let promotion = try await store.promotion(id) else { return [] }
        let events = try await store.readStream(StreamID(trusted: "promotion/\(id)"), fromVersion: 1, limit: 10_000)
        guard let change = events.last(where: { $0.type == PromotionChanged.eventType })?.id else { return [] }
        var acknowledged: Set<ChannelID> = []
        for event in events where event.type == PromotionAcknowledged.eventType {
            let ack = try event.decode(PromotionAcknowledged.self)
            if ack.change == change { acknowledged.insert(ack.channel) }
        }
        let jobs = try await store.jobs(partitionKeyPrefix: partitionPrefix(id), limit: 1_000)
        return channels.keys.filter { promotion.scope.channels?.contains($0) ?? true }.sorted().map { channel in
            if acknowledged.contains(channel) { return PromotionChannelState(channel: channel, state: .live, reason: nil) }
            let job = jobs.last { $0.partitionKey == partitionPrefix(id) + channel.rawValue }
            if let job, job.state == .dead { return PromotionChannelState(channel: channel, state: .failed, reason: job.lastError) }
            return PromotionChannelState(channel: channel, state: .pending, reason: job?.lastError)
        }
    }

    /// Pushes one promotion change to one channel and records the acknowledgment. A push of a change that is no
    /// longer the current one is skipped: the newer change's push carries the promotion as it is.
    public struct Push: JobHandler {
        let store: any Store
        let system: SystemID
        let client: any ChannelPromotionClient
        let now: @Sendable () -> Date
        public var kind: String { PromotionPropagation.pushKind(system) }

        public init(store: any Store, system: SystemID, client: any ChannelPromotionClient, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.system = system
            self.client = client
            self.now = now
        }

        public func handle(_ job: Job) async throws -> Commit {
            guard let payload = try? JSONDecoder().decode(Payload.self, from: job.payload), let channel = try? ChannelID(payload.channel) else {
                throw JobError.terminal("not a promotion push")
            }
            let stream = StreamID(trusted: "promotion/\(payload.promotion)")
            let events = try await store.readStream(stream, fromVersion: 1, limit: 10_000)
            guard events.last(where: { $0.type == PromotionChanged.eventType })?.id.rawValue == payload.change,
                  let promotion = try await store.promotion(payload.promotion) else { return Commit() }
            try await client.push(promotion, to: channel, key: "promotion/\(payload.change)/\(channel.rawValue)")
            let ack = try NewEvent(stream: stream, correlationID: CorrelationID(trusted: "promotion/\(payload.promotion)"), causationID: job.id.rawValue,
                                   occurredAt: now(), source: system,
                                   payload: PromotionAcknowledged(channel: channel, change: EventID(trusted: payload.change)))
            return Commit(events: [EventAppend(ack, expected: .any)])
        }
    }
}
