import Foundation
import TillwireDomain
import TillwireStorage

/// A sales channel, as prices and promotions reach it (jobs `<system>.price_push` and `<system>.promotion_push`,
/// behind that system's breaker and limits).
public protocol ChannelPricingClient: Sendable {
    /// Puts the promotion on the channel as it now is (created, changed, or ended early), with its window. The same
    /// `key` again must not create a second one.
    func push(_ promotion: Promotion, to channel: ChannelID, key: String) async throws
    /// Puts new price versions on the channel for one country (the entries of one change). The same `key` again must
    /// not apply them twice.
    func push(_ prices: [PriceEntry], to channel: ChannelID, country: String, key: String) async throws
}

/// Where a price or promotion change stands on one channel.
public struct PricingChannelState: Hashable, Sendable {
    public enum State: String, Sendable {
        /// The channel has not acknowledged the change yet (its push is queued or retrying).
        case pending
        /// The channel acknowledged the change.
        case live
        /// The push failed for good: in the dead letters, with the reason (a replay sends it again).
        case failed
    }

    public let channel: ChannelID
    public let state: State
    public let reason: String?
}

/// A promotion as it stands: on each channel it applies to, and in its window.
public struct PromotionStanding: Sendable {
    public let promotion: Promotion
    public let channels: [PricingChannelState]
    /// When the window's timers fired for the current version (nil: not yet).
    public let activated: Date?
    public let ended: Date?

    public init(promotion: Promotion, channels: [PricingChannelState], activated: Date?, ended: Date?) {
        self.promotion = promotion
        self.channels = channels
        self.activated = activated
        self.ended = ended
    }
}

/// Pushes each price and promotion change to every configured channel it applies to, one job per channel and
/// change; a channel's acknowledgment is an event (`pricing.promotion_acknowledged` on the promotion's stream,
/// `pricing.prices_acknowledged` on the price list's). A channel that is down gets the push when it is back (the job
/// retries, then waits in the dead letters for a replay); the change is live there only once acknowledged.
///
/// A promotion's window is kept by two durable timers (jobs `pricing.promotion_window` due at its start and at its
/// end): each records `pricing.promotion_window_reached` (start or end) once, for the hub's subscribers
/// (store POS feeds, webhooks) and the promotion's record. Channels get the window with the push itself.
public enum PricingPropagation {
    public static func promotionPushKind(_ system: SystemID) -> String { "\(system.rawValue).promotion_push" }
    public static func pricePushKind(_ system: SystemID) -> String { "\(system.rawValue).price_push" }
    public static let windowKind = "pricing.promotion_window"
    static func promotionPartition(_ id: String) -> String { "promotion/\(id)/" }
    static func priceListPartition(_ channel: ChannelID, _ country: String) -> String { "prices/\(channel.rawValue)/\(country)" }
    /// A price change's flow: its `pricing.prices_changed` and the channel's acknowledgment.
    public static func priceChangeCorrelation(_ change: EventID) -> CorrelationID { CorrelationID(trusted: "price-change/\(change.rawValue)") }

    struct PromotionPayload: Codable {
        let promotion: String
        let channel: String
        let change: String
    }

    struct PricePayload: Codable {
        let change: String
        let channel: String
        let country: String
    }

    struct WindowPayload: Codable {
        let promotion: String
        let change: String
        /// `start` or `end`.
        let edge: String
    }

    static func encode(_ value: some Encodable) -> Data { (try? JSONEncoder().encode(value)) ?? Data() }

    /// The jobs for a change (the event `change`) of `promotion`: a push per channel in its scope, and the window's two
    /// timers.
    static func jobs(_ promotion: Promotion, change: EventID, channels: [ChannelID: SystemID], at: Date) -> [NewJob] {
        let pushes = channels.filter { promotion.scope.channels?.contains($0.key) ?? true }.sorted { $0.key < $1.key }.map { channel, system in
            NewJob(kind: promotionPushKind(system),
                   payload: encode(PromotionPayload(promotion: promotion.id, channel: channel.rawValue, change: change.rawValue)),
                   partitionKey: promotionPartition(promotion.id) + channel.rawValue, uniqueKey: "promotion_push/\(change.rawValue)/\(channel.rawValue)",
                   runAt: at, maxAttempts: 50)
        }
        let timers = [("start", promotion.from), ("end", promotion.until)].map { edge, time in
            // No partition: a change's timers must not wait behind an earlier change's (a promotion ended early would
            // otherwise end when its old window said).
            NewJob(kind: windowKind, payload: encode(WindowPayload(promotion: promotion.id, change: change.rawValue, edge: edge)),
                   uniqueKey: "promotion_window/\(change.rawValue)/\(edge)", runAt: max(at, time), maxAttempts: 50)
        }
        return pushes + timers
    }

    /// The push job of a price change, when the channel is configured.
    static func jobs(prices change: EventID, channel: ChannelID, country: String, channels: [ChannelID: SystemID], at: Date) -> [NewJob] {
        guard let system = channels[channel] else { return [] }
        return [NewJob(kind: pricePushKind(system), payload: encode(PricePayload(change: change.rawValue, channel: channel.rawValue, country: country)),
                       partitionKey: priceListPartition(channel, country), uniqueKey: "price_push/\(change.rawValue)", runAt: at, maxAttempts: 50)]
    }

    /// The state of a change on a channel: live once acknowledged, else from its push job.
    static func state(_ channel: ChannelID, acknowledged: Bool, job: Job?) -> PricingChannelState {
        if acknowledged { return PricingChannelState(channel: channel, state: .live, reason: nil) }
        if let job, job.state == .dead { return PricingChannelState(channel: channel, state: .failed, reason: job.lastError) }
        return PricingChannelState(channel: channel, state: .pending, reason: job?.lastError)
    }

    /// Where a promotion's current version stands, from one read of its stream: each channel's state (live once
    /// acknowledged, else from its push job), and when its window timers activated and ended it. Nil: no such promotion.
    public static func standing(of id: String, channels: [ChannelID: SystemID], store: any Store) async throws -> PromotionStanding? {
        guard let promotion = try await store.promotion(id) else { return nil }
        let events = try await store.readStream(StreamID(trusted: "promotion/\(id)"), fromVersion: 1, limit: 10_000)
        guard let change = events.last(where: { $0.type == PromotionChanged.eventType })?.id else {
            return PromotionStanding(promotion: promotion, channels: [], activated: nil, ended: nil)
        }
        var acknowledged: Set<ChannelID> = []
        var activated: Date?
        var ended: Date?
        for event in events {
            switch event.type {
            case PromotionAcknowledged.eventType:
                let ack = try event.decode(PromotionAcknowledged.self)
                if ack.change == change { acknowledged.insert(ack.channel) }
            case PromotionWindowReached.eventType:
                let reached = try event.decode(PromotionWindowReached.self)
                guard reached.change == change else { continue }
                if reached.edge == .start { activated = event.event.occurredAt } else { ended = event.event.occurredAt }
            default:
                continue
            }
        }
        let jobs = try await store.jobs(partitionKeyPrefix: promotionPartition(id), limit: 1_000)
        let states = channels.keys.filter { promotion.scope.channels?.contains($0) ?? true }.sorted().map { channel in
            state(channel, acknowledged: acknowledged.contains(channel),
                  job: jobs.last { $0.uniqueKey == "promotion_push/\(change.rawValue)/\(channel.rawValue)" })
        }
        return PromotionStanding(promotion: promotion, channels: states, activated: activated, ended: ended)
    }

    /// A price change as recorded, with its state on its channel (none when the hub pushes to no such channel).
    public static func priceChange(_ change: EventID, channels: [ChannelID: SystemID], store: any Store) async throws -> (PricesChanged, [PricingChannelState])? {
        let events = try await store.readCorrelation(priceChangeCorrelation(change), limit: 100)
        guard let recorded = events.first(where: { $0.id == change && $0.type == PricesChanged.eventType }) else { return nil }
        let prices = try recorded.decode(PricesChanged.self)
        guard channels[prices.channel] != nil else { return (prices, []) }
        let acknowledged = events.contains { $0.type == PricesAcknowledged.eventType }
        let job = acknowledged ? nil : try await store.jobs(partitionKeyPrefix: priceListPartition(prices.channel, prices.country), limit: 1_000)
            .last { $0.uniqueKey == "price_push/\(change.rawValue)" }
        return (prices, [state(prices.channel, acknowledged: acknowledged, job: job)])
    }

    /// Pushes one promotion change to one channel and records the acknowledgment. A push of a change that is no
    /// longer the current one is skipped: the newer change's push carries the promotion as it is.
    public struct PushPromotion: JobHandler {
        let store: any Store
        let system: SystemID
        let client: any ChannelPricingClient
        let now: @Sendable () -> Date
        public var kind: String { PricingPropagation.promotionPushKind(system) }

        public init(store: any Store, system: SystemID, client: any ChannelPricingClient, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.system = system
            self.client = client
            self.now = now
        }

        public func handle(_ job: Job) async throws -> Commit {
            guard let payload = try? JSONDecoder().decode(PromotionPayload.self, from: job.payload), let channel = try? ChannelID(payload.channel) else {
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

    /// Pushes one price change to its channel and records the acknowledgment. Changes of one price list go out in
    /// order (one partition per channel and country), each one, since each holds other versions.
    public struct PushPrices: JobHandler {
        let store: any Store
        let system: SystemID
        let client: any ChannelPricingClient
        let now: @Sendable () -> Date
        public var kind: String { PricingPropagation.pricePushKind(system) }

        public init(store: any Store, system: SystemID, client: any ChannelPricingClient, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.system = system
            self.client = client
            self.now = now
        }

        public func handle(_ job: Job) async throws -> Commit {
            guard let payload = try? JSONDecoder().decode(PricePayload.self, from: job.payload), let channel = try? ChannelID(payload.channel) else {
                throw JobError.terminal("not a price push")
            }
            let change = EventID(trusted: payload.change)
            let correlation = priceChangeCorrelation(change)
            guard let recorded = try await store.readCorrelation(correlation, limit: 100).first(where: { $0.id == change }) else {
                throw JobError.terminal("no price change \(payload.change)")
            }
            let prices = try recorded.decode(PricesChanged.self)
            try await client.push(prices.entries, to: channel, country: prices.country, key: "prices/\(payload.change)")
            let ack = try NewEvent(stream: recorded.stream, correlationID: correlation, causationID: job.id.rawValue, occurredAt: now(), source: system,
                                   payload: PricesAcknowledged(channel: channel, country: prices.country, change: change))
            return Commit(events: [EventAppend(ack, expected: .any)])
        }
    }

    /// A promotion's window timer: records its activation or its end once, unless the promotion changed since (the
    /// change scheduled timers of its own).
    public struct Window: JobHandler {
        let store: any Store
        let now: @Sendable () -> Date
        public var kind: String { PricingPropagation.windowKind }

        public init(store: any Store, now: @escaping @Sendable () -> Date = Date.init) {
            self.store = store
            self.now = now
        }

        public func handle(_ job: Job) async throws -> Commit {
            guard let payload = try? JSONDecoder().decode(WindowPayload.self, from: job.payload),
                  let edge = PromotionWindowReached.Edge(rawValue: payload.edge) else {
                throw JobError.terminal("not a promotion window timer")
            }
            let stream = StreamID(trusted: "promotion/\(payload.promotion)")
            let events = try await store.readStream(stream, fromVersion: 1, limit: 10_000)
            guard events.last(where: { $0.type == PromotionChanged.eventType })?.id.rawValue == payload.change else { return Commit() }
            let reached = try NewEvent(stream: stream, correlationID: CorrelationID(trusted: "promotion/\(payload.promotion)"), causationID: job.id.rawValue,
                                       occurredAt: now(), source: "tillwire",
                                       payload: PromotionWindowReached(promotion: payload.promotion, change: EventID(trusted: payload.change), edge: edge))
            return Commit(events: [EventAppend(reached, expected: .any)])
        }
    }
}
