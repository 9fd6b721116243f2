import Foundation
import Logging
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Applies a channel order's state, as a platform reports it at a moment, to the hub: a new order is captured (the
/// hub's gate, reservation and fulfilment follow as for any channel); for a known one the payment figures only move
/// forward and a cancellation cancels it. Because each report is the whole order, reports that come late, twice or
/// out of order change nothing a later one did not. Edits of a captured order's lines are logged, not applied.
public struct ChannelOrderIntake: Sendable {
    let orders: OrderService
    let system: SystemID
    let logger: Logger

    public init(orders: OrderService, system: SystemID, logger: Logger) {
        self.orders = orders
        self.system = system
        self.logger = logger
    }

    /// `status` is what the platform's status means in the hub's (nil: not an order yet, nothing is kept).
    public func apply(_ canonical: Order, status: OrderStatus?, cause: String) async throws {
        guard let status else { return }
        guard let record = try await orders.record(canonical.id) else {
            guard status != .cancelled else {
                logger.info("channel order cancelled before the hub took it", metadata: ["order": "\(canonical.id)", "cause": "\(cause)"])
                return
            }
            do {
                _ = try await orders.capture(canonical, source: system, causation: cause)
            } catch let conflict as OrderService.ConflictingCapture {
                throw JobError.terminal("\(conflict)")
            }
            return
        }
        if record.order.lines.map(\.sku) != canonical.lines.map(\.sku) || record.order.lines.map(\.quantity) != canonical.lines.map(\.quantity) {
            logger.warning("the order's lines were edited in the channel; the hub keeps the lines it took", metadata: ["order": "\(canonical.id)", "cause": "\(cause)"])
        }
        let known = record.payments
        let merged = try known.movedForward(by: canonical.payments)
        if merged != known {
            _ = try await orders.updatePayments(canonical.id, merged, cause: cause, source: system)
        }
        if record.lifecycle.status == .cancelled, status != .cancelled, merged.captured.minorUnits > 0 {
            // A paid order the hub cancelled (deleted, then restored in the shop): the hub does not reopen orders.
            logger.error("the channel reports a paid order the hub has cancelled; people must look (refund it, or place it again)", metadata: [
                "order": "\(canonical.id)", "status": "\(status.rawValue)", "cause": "\(cause)",
            ])
        }
        if status == .cancelled { try await cancel(canonical.id, reason: "cancelled in the channel (\(system))", cause: cause) }
    }

    /// Cancels an order the channel cancelled (or deleted). One the hub never took, or cancelled already, is left as
    /// it is; one the hub can no longer cancel (shipped) keeps the hub's record, with a warning for people to look.
    public func cancel(_ id: OrderID, reason: String, cause: String) async throws {
        guard let record = try await orders.record(id), record.lifecycle.status != .cancelled else { return }
        do {
            _ = try await orders.cancel(id, reason: reason, source: system)
        } catch let refused as DomainError {
            logger.warning("the channel cancelled an order the hub cannot cancel", metadata: ["order": "\(id)", "reason": "\(refused)", "cause": "\(cause)"])
        }
    }
}

/// One page of a platform's orders for the reconciliation poll, each order as the exact bytes it sent.
public struct OrderPage: Sendable {
    public struct Entry: Sendable {
        public let id: String
        /// The platform's modification time, as sent (part of the delivery id).
        public let updatedAt: String
        public let body: Data

        public init(id: String, updatedAt: String, body: Data) {
            self.id = id
            self.updatedAt = updatedAt
            self.body = body
        }
    }

    public let orders: [Entry]
    /// Where the next page is (a URL, a page number); nil after the last.
    public let next: String?

    public init(orders: [Entry], next: String?) {
        self.orders = orders
        self.next = next
    }
}

/// A platform's orders by modification time, for `OrderPoll`.
public protocol OrderPollSource: Sendable {
    var system: SystemID { get }
    /// The topic the polled orders are stored under, so their processing job takes them as that delivery.
    var topic: String { get }
    /// The orders modified at or after `since`, from `next` (nil: the first page).
    func page(since: Date, next: String?) async throws -> OrderPage
    /// The partition the processing job of `order` runs in: the same as its webhooks', to keep them in order.
    func partition(order: String) -> String
    /// A modification time as the platform writes it.
    func time(_ text: String) -> Date?
}

/// The reconciliation poll: webhooks can come late, out of order or never, so every `interval` the hub asks the
/// platform for the orders modified since its cursor and feeds each into the same intake as a delivery
/// (`poll/order/<id>/<modified>`), where it is applied as state. The cursor is the latest modification time seen,
/// recorded on the stream `poll/<system>/orders` in the same commit as the deliveries found, and each poll reaches
/// back `overlap` before it, so a crash mid-poll repeats the poll and loses nothing. One poll is pending at a time
/// (coalesced), whichever instance runs it.
public struct OrderPoll: JobHandler {

    public struct CursorAdvanced: VersionedPayload, Hashable {
        public static let eventType = "connector.poll_cursor_advanced"
        public static let schemaVersion = 1
        public let system: SystemID
        /// The latest modification time seen so far.
        public let cursor: Date
        public let orders: Int
        /// Where a run that stopped at its page limit left off: the next run goes on from there, not from the
        /// cursor (more orders than one run reads may share one overlap window).
        public let resume: Resume?

        public struct Resume: Codable, Hashable, Sendable {
            public let from: Date
            public let next: String
        }
    }

    /// A poll that could not run: its reason, on the poll's stream, while the next poll is due as usual.
    public struct Failed: VersionedPayload, Hashable {
        public static let eventType = "connector.poll_failed"
        public static let schemaVersion = 1
        public let system: SystemID
        public let reason: String
    }

    let source: any OrderPollSource
    let store: any Store
    let interval: Duration
    let overlap: Duration
    /// Pages read per run; more, and the next run starts at once from where this one stopped. Default 20.
    let pagesPerRun: Int
    let logger: Logger
    public var kind: String { Self.kind(source.system) }

    public init(source: any OrderPollSource, store: any Store, interval: Duration, overlap: Duration, pagesPerRun: Int = 20, logger: Logger) {
        self.source = source
        self.store = store
        self.interval = interval
        self.overlap = overlap
        self.pagesPerRun = max(1, pagesPerRun)
        self.logger = logger
    }

    public static func kind(_ system: SystemID) -> String { "\(system.rawValue).order_poll" }

    /// The next poll, due at `at`; a poll already pending absorbs it.
    public static func job(_ system: SystemID, at: Date) -> NewJob {
        NewJob(kind: kind(system), partitionKey: kind(system), coalesceKey: kind(system), runAt: at, maxAttempts: 50)
    }

    var stream: StreamID { StreamID(trusted: "poll/\(source.system.rawValue)/orders") }

    /// The latest modification time a poll has seen, if any poll ran.
    public func cursor() async throws -> Date? {
        try await position()?.cursor
    }

    /// The last cursor recorded (a failure records none).
    func position() async throws -> CursorAdvanced? {
        var version = try await store.streamVersion(stream)
        while version > 0 {
            guard let event = try await store.readStream(stream, fromVersion: version, limit: 1).last else { return nil }
            if event.type == CursorAdvanced.eventType { return try event.decode(CursorAdvanced.self) }
            version -= 1
        }
        return nil
    }

    /// Every run ends with the next poll due, whatever happened: a poll that gives up on a terminal answer (a
    /// revoked key, a page that does not parse) records why on its stream and in the log, and the next one tries
    /// again after `interval`, so one bad answer never stops the polling. Retryable answers are retried as usual.
    public func handle(_ job: Job) async throws -> Commit {
        do {
            return try await poll(job)
        } catch let error as JobError {
            guard case .terminal(let reason) = error else { throw error }
            logger.error("reconciliation poll failed; the next one is due as usual", metadata: ["system": "\(source.system)", "reason": "\(reason)"])
            let correlation = CorrelationID(trusted: "poll/\(source.system.rawValue)")
            var events = [EventAppend(try NewEvent(stream: stream, correlationID: correlation, causationID: job.id.rawValue,
                                                   occurredAt: Date(), source: source.system, payload: Failed(system: source.system, reason: reason)))]
            // A page to resume from that fails (an expired page cursor) is given up: the next poll starts afresh.
            if let position = try await position(), position.resume != nil {
                events.append(EventAppend(try NewEvent(stream: stream, correlationID: correlation, causationID: job.id.rawValue, occurredAt: Date(),
                                                       source: source.system,
                                                       payload: CursorAdvanced(system: source.system, cursor: position.cursor, orders: 0, resume: nil))))
            }
            return Commit(events: events, jobs: [Self.job(source.system, at: Date().addingTimeInterval(interval.timeInterval))])
        }
    }

    func poll(_ job: Job) async throws -> Commit {
        let now = Date()
        let position = try await position()
        // The first poll reaches back `overlap`; later ones `overlap` before their cursor, or go on where the last
        // one stopped at its page limit.
        let since = position?.cursor ?? now.addingTimeInterval(-overlap.timeInterval)
        let from = position?.resume?.from ?? (position == nil ? since : since.addingTimeInterval(-overlap.timeInterval))
        var next: String? = position?.resume?.next
        var latest = since
        var jobs: [NewJob] = []
        var pages = 0
        repeat {
            let page = try await source.page(since: from, next: next)
            for order in page.orders {
                if let time = source.time(order.updatedAt), time > latest { latest = time }
                let delivery = StoredDelivery(topic: source.topic, deliveryID: "poll/order/\(order.id)/\(order.updatedAt)", receivedAt: now, body: order.body)
                jobs.append(try WebhookInbox.job(delivery, system: source.system, partition: source.partition(order: order.id)))
            }
            next = page.next
            pages += 1
        } while next != nil && pages < pagesPerRun
        let more = next != nil
        if !jobs.isEmpty || more {
            logger.info("reconciliation poll", metadata: ["system": "\(source.system)", "orders": "\(jobs.count)", "since": "\(from.ISO8601Format())", "more": "\(more)"])
        }
        let found = jobs.count
        jobs.append(Self.job(source.system, at: more ? now : now.addingTimeInterval(interval.timeInterval)))
        var events: [EventAppend] = []
        if latest > since || found > 0 || more || position?.resume != nil {
            let resume = next.map { CursorAdvanced.Resume(from: from, next: $0) }
            events.append(EventAppend(try NewEvent(stream: stream, correlationID: CorrelationID(trusted: "poll/\(source.system.rawValue)"), causationID: job.id.rawValue,
                                                   occurredAt: now, source: source.system,
                                                   payload: CursorAdvanced(system: source.system, cursor: latest, orders: found, resume: resume))))
        }
        return Commit(events: events, jobs: jobs)
    }
}
