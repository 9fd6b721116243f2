import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The reconciliation poll: webhooks can come late, out of order or never, so every `pollInterval` the hub asks the
/// shop for the orders updated since its cursor (REST `orders.json?updated_at_min=`, the same JSON as the webhooks)
/// and feeds each into the same intake as a delivery (`poll/order/<id>/<updated_at>`). An order a webhook already
/// brought is applied again as state and changes nothing. The cursor is the latest `updated_at` seen, recorded on
/// the stream `poll/<system>/orders` in the same commit as the deliveries it found, and each poll reaches back
/// `pollOverlap` before it. One poll job is pending at a time (coalesced), whichever instance runs it.
public struct ShopifyOrderPoll: JobHandler {
    /// Pages of 250 orders read per run; more, and the next run starts at once from where this one stopped.
    static let pagesPerRun = 20

    public struct CursorAdvanced: VersionedPayload, Hashable {
        public static let eventType = "connector.poll_cursor_advanced"
        public static let schemaVersion = 1
        public let system: SystemID
        /// The latest `updated_at` seen so far.
        public let cursor: Date
        public let orders: Int
    }

    let configuration: ShopifyConfiguration
    let admin: ShopifyAdmin
    let store: any Store
    let logger: Logger
    public var kind: String { Self.kind(configuration.system) }

    public init(configuration: ShopifyConfiguration, admin: ShopifyAdmin, store: any Store, logger: Logger) {
        self.configuration = configuration
        self.admin = admin
        self.store = store
        self.logger = logger
    }

    public static func kind(_ system: SystemID) -> String { "\(system.rawValue).order_poll" }

    /// The next poll, due at `at`; a poll already pending absorbs it.
    public static func job(_ system: SystemID, at: Date) -> NewJob {
        NewJob(kind: kind(system), partitionKey: kind(system), coalesceKey: kind(system), runAt: at, maxAttempts: 50)
    }

    var stream: StreamID { StreamID(trusted: "poll/\(configuration.system.rawValue)/orders") }

    /// The cursor: the latest `updated_at` a poll has seen, if any poll ran.
    public func cursor() async throws -> Date? {
        let version = try await store.streamVersion(stream)
        guard version > 0 else { return nil }
        return try await store.readStream(stream, fromVersion: version, limit: 1).last?.decode(CursorAdvanced.self).cursor
    }

    struct Stamp: Decodable {
        let id: ShopifyID
        let updated_at: String?
    }

    public func handle(_ job: Job) async throws -> Commit {
        let now = Date()
        let since = try await cursor() ?? now.addingTimeInterval(-configuration.pollOverlap.timeInterval)
        let from = since.addingTimeInterval(-configuration.pollOverlap.timeInterval)
        var next: String? = "/orders.json?status=any&limit=250&order=updated_at%20asc&updated_at_min=\(Self.timestamp(from))"
        var latest = since
        var jobs: [NewJob] = []
        var pages = 0
        while let page = next, pages < Self.pagesPerRun {
            let reply = try await admin.get(page, what: "orders updated since \(Self.timestamp(from))")
            let orders: [Data]
            do { orders = try JSONSlices.elements(of: "orders", in: reply.body) } catch { throw JobError.terminal("shopify orders page: \(error)") }
            for body in orders {
                guard let stamp = try? JSONDecoder().decode(Stamp.self, from: body) else {
                    throw JobError.terminal("shopify orders page: an order without an id: \(String(decoding: body.prefix(200), as: UTF8.self))")
                }
                let updated = stamp.updated_at ?? ""
                if let time = ShopifyMapping.parseTime(updated), time > latest { latest = time }
                let delivery = StoredDelivery(topic: "orders/updated", deliveryID: "poll/order/\(stamp.id.rawValue)/\(updated)", receivedAt: now, body: body)
                jobs.append(try WebhookInbox.job(delivery, system: configuration.system,
                                                 partition: ShopifyWebhookReceiver.orderPartition(configuration.system, stamp.id)))
            }
            next = ShopifyAdmin.nextPage(reply.header("Link"))
            pages += 1
        }
        let more = next != nil
        if !jobs.isEmpty || more {
            logger.info("shopify reconciliation poll", metadata: ["orders": "\(jobs.count)", "since": "\(Self.timestamp(from))", "more": "\(more)"])
        }
        jobs.append(Self.job(configuration.system, at: more ? now : now.addingTimeInterval(configuration.pollInterval.timeInterval)))
        var events: [EventAppend] = []
        if latest > since || jobs.count > 1 {
            events.append(EventAppend(try NewEvent(stream: stream, correlationID: CorrelationID(trusted: "poll/\(configuration.system.rawValue)"), causationID: job.id.rawValue,
                                                   occurredAt: now, source: configuration.system,
                                                   payload: CursorAdvanced(system: configuration.system, cursor: latest, orders: jobs.count - 1))))
        }
        return Commit(events: events, jobs: jobs)
    }

    /// `updated_at_min`'s format: ISO 8601 in UTC, percent-encoded for a query string.
    static func timestamp(_ date: Date) -> String {
        date.ISO8601Format().replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "+", with: "%2B")
    }
}
