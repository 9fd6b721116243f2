import Foundation
import Logging
import TillwireDomain
import TillwireStorage

/// The jobs that carry an order's calls to external systems. Each job's partition key is `<order>/<system>`, so one
/// system's calls for one order run in the order they were enqueued (a cancel after the release it cancels), and a
/// dead call to one system does not hold up another's. Each success is recorded on the order's stream: the order's
/// lineage shows every call that went out, and the jobs still queued or dead show what is owed.
public enum OrderJobs {
    struct Payload: Codable {
        var order: String
        var run: String?
        var lines: [String]?
        var reason: String?
        var status: OrderStatus?
        var tracking: Tracking?
    }

    public static func releaseKind(_ system: SystemID) -> String { "\(system.rawValue).order_release" }
    public static func cancelKind(_ system: SystemID) -> String { "\(system.rawValue).order_cancel" }
    public static func notifyKind(_ system: SystemID) -> String { "\(system.rawValue).order_notify" }

    /// The partition key of an order's jobs to a system; `partitionPrefix` finds all of an order's.
    static func partition(_ order: OrderID, _ system: SystemID) -> String { "\(partitionPrefix(order))\(system.rawValue)" }
    public static func partitionPrefix(_ order: OrderID) -> String { "\(order.rawValue)/" }

    static func job(_ kind: String, _ payload: Payload, partition: String, unique: String?, at: Date) -> NewJob {
        NewJob(kind: kind, payload: (try? JSONEncoder().encode(payload)) ?? Data(), partitionKey: partition, uniqueKey: unique,
               runAt: at, maxAttempts: 12)
    }

    static func release(_ service: OrderService, order: OrderID, run: WorkflowRunID, at: Date) -> NewJob {
        let system = service.policy.fulfilmentSystem
        return job(releaseKind(system), Payload(order: order.rawValue, run: run.rawValue), partition: partition(order, system),
                   unique: "order_release/\(order.rawValue)/\(run.rawValue)", at: at)
    }

    static func cancelFulfilment(_ service: OrderService, order: OrderID, lines: [String]?, reason: String, at: Date) -> NewJob {
        let system = service.policy.fulfilmentSystem
        return job(cancelKind(system), Payload(order: order.rawValue, lines: lines, reason: reason), partition: partition(order, system),
                   unique: nil, at: at)
    }

    static func notify(_ service: OrderService, order: Order, status: OrderStatus, tracking: Tracking?, at: Date) -> NewJob {
        let system = service.policy.system(of: order.channel)
        return job(notifyKind(system), Payload(order: order.id.rawValue, status: status, tracking: tracking),
                   partition: partition(order.id, system), unique: nil, at: at)
    }

    static func decode(_ job: Job) throws -> (Payload, OrderID) {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: job.payload), let id = try? OrderID(payload.order) else {
            throw JobError.terminal("not an order job payload")
        }
        return (payload, id)
    }

    /// The handlers for one fulfilling system's jobs.
    public static func fulfilmentHandlers(_ service: OrderService, client: any FulfilmentClient) -> [any JobHandler] {
        [Release(service: service, client: client), Cancel(service: service, client: client)]
    }

    /// Releases an allocated order to the fulfilling system; an order no longer allocated (cancelled meanwhile) is
    /// not sent. The system's document id comes back on `order.released`, with the move to `released`.
    struct Release: JobHandler {
        let service: OrderService
        let client: any FulfilmentClient
        var kind: String { OrderJobs.releaseKind(service.policy.fulfilmentSystem) }

        func handle(_ job: Job) async throws -> Commit {
            let (payload, id) = try OrderJobs.decode(job)
            let record = try await service.existing(id)
            guard record.lifecycle.status == .allocated, record.run?.rawValue == payload.run else { return Commit() }
            var reservations: [Reservation] = []
            for line in record.openLines {
                if let reservation = try await service.store.reservation(record.reservationID(of: line)) { reservations.append(reservation) }
            }
            let system = service.policy.fulfilmentSystem
            let document = try await client.release(record.current, lines: record.openLines, reservations: reservations,
                                                    key: "release/\(id.rawValue)/\(payload.run ?? "")")
            var change = OrderChange(record, at: service.now(), source: system, causation: job.id.rawValue)
            try change.append(OrderReleased(system: system, document: document))
            try change.move(to: .released, cause: "accepted by \(system) as \(document)")
            change.notifyChannel(service, status: .released, tracking: nil)
            return change.finish()
        }
    }

    /// Tells the fulfilling system to stop; skipped when the order never reached it.
    struct Cancel: JobHandler {
        let service: OrderService
        let client: any FulfilmentClient
        var kind: String { OrderJobs.cancelKind(service.policy.fulfilmentSystem) }

        func handle(_ job: Job) async throws -> Commit {
            let (payload, id) = try OrderJobs.decode(job)
            let record = try await service.existing(id)
            let system = service.policy.fulfilmentSystem
            guard let document = record.releases.last(where: { $0.system == system })?.document else { return Commit() }
            try await client.cancel(id, document: document, lines: payload.lines, reason: payload.reason ?? "cancelled",
                                    key: "cancel/\(job.id.rawValue)")
            var change = OrderChange(record, at: service.now(), source: system, causation: job.id.rawValue)
            try change.note(OrderSystemCalled(system: system, action: .cancelFulfilment, lines: payload.lines), source: system)
            return change.commit
        }
    }

    /// Tells a channel an order's status and tracking.
    public struct Notify: JobHandler {
        let service: OrderService
        let system: SystemID
        let client: any ChannelOrderClient
        public var kind: String { OrderJobs.notifyKind(system) }

        public init(service: OrderService, system: SystemID, client: any ChannelOrderClient) {
            self.service = service
            self.system = system
            self.client = client
        }

        public func handle(_ job: Job) async throws -> Commit {
            let (payload, id) = try OrderJobs.decode(job)
            let record = try await service.existing(id)
            guard let status = payload.status else { throw JobError.terminal("an order notification without a status") }
            try await client.notify(record.current, status: status, tracking: payload.tracking, key: "notify/\(job.id.rawValue)")
            var change = OrderChange(record, at: service.now(), source: system, causation: job.id.rawValue)
            try change.note(OrderSystemCalled(system: system, action: .notifyChannel, status: status, tracking: payload.tracking), source: system)
            return change.commit
        }
    }
}

/// The fulfilling system until a connector is configured for it: each release and cancellation is written to the
/// log (with the order id and lines, never customer details) and accepted, the document id being `log:<order>`.
/// It keeps the flow moving in a hub without an ERP or WMS; with one, its connector takes this place.
public struct LoggingFulfilment: FulfilmentClient {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func release(_ order: Order, lines: [OrderLine], reservations: [Reservation], key: String) async throws -> String {
        logger.info("order released (no fulfilment connector configured)", metadata: [
            "order": "\(order.id)", "lines": "\(lines.map(\.id))",
            "locations": "\(Set(reservations.map(\.location.rawValue)).sorted())", "key": "\(key)",
        ])
        return "log:\(order.id.rawValue)"
    }

    public func cancel(_ order: OrderID, document: String, lines: [String]?, reason: String, key: String) async throws {
        logger.info("order fulfilment cancelled (no fulfilment connector configured)", metadata: [
            "order": "\(order)", "document": "\(document)", "lines": "\(lines ?? [])", "reason": "\(reason)",
        ])
    }
}

/// A channel until a connector is configured for it: each notification and refund is written to the log (amounts
/// and ids, no customer details); a refund's id is `log:<key>`.
public struct LoggingChannelOrders: ChannelOrderClient, ChannelRefundClient, ChannelPricingClient {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func notify(_ order: Order, status: OrderStatus, tracking: Tracking?, key: String) async throws {
        logger.info("order status for its channel (no channel connector configured)", metadata: [
            "order": "\(order.id)", "channel": "\(order.channel)", "status": "\(status.rawValue)",
            "tracking": "\(tracking.map { "\($0.carrier) \($0.number)" } ?? "-")",
        ])
    }

    public func push(_ promotion: Promotion, to channel: ChannelID, key: String) async throws {
        logger.info("promotion for its channel (no channel connector configured)", metadata: [
            "promotion": "\(promotion.id)", "channel": "\(channel)", "from": "\(promotion.from.ISO8601Format())", "until": "\(promotion.until.ISO8601Format())",
        ])
    }

    public func push(_ prices: [PriceEntry], to channel: ChannelID, country: String, key: String) async throws {
        logger.info("prices for their channel (no channel connector configured)", metadata: [
            "channel": "\(channel)", "country": "\(country)", "prices": "\(prices.count)", "key": "\(key)",
        ])
    }

    public func refund(_ order: Order, amount: Money, for authorization: ReturnAuthorization, key: String) async throws -> String {
        logger.info("refund for its channel (no channel connector configured)", metadata: [
            "order": "\(order.id)", "channel": "\(order.channel)", "return": "\(authorization.id)", "amount": "\(amount)",
        ])
        return "log:\(key)"
    }
}
