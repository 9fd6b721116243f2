import Foundation
import Logging
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Confirms the hub's shipments from the ERP's: an order released to the ERP is watched (a `<system>.shipment_watch`
/// job, due every `interval`) until every line has shipped or the order leaves `released`; each shipment the ERP has
/// done is recorded as the hub's shipment of the same id (the stock leaves, the channel is told, the sale is
/// booked), once: a shipment the order already has is not recorded again.
public struct ERPShipmentWatch: JobHandler {
    struct Payload: Codable {
        let order: String
        let document: String
    }

    let erp: any ERPConnector
    let orders: OrderService
    let interval: Duration
    let logger: Logger
    public var kind: String { Self.kind(erp.system) }

    public init(erp: any ERPConnector, orders: OrderService, interval: Duration = .seconds(60), logger: Logger) {
        self.erp = erp
        self.orders = orders
        self.interval = interval
        self.logger = logger
    }

    public static func kind(_ system: SystemID) -> String { "\(system.rawValue).shipment_watch" }

    static func job(_ system: SystemID, order: OrderID, document: String, at: Date) -> NewJob {
        let key = "\(kind(system))/\(order.rawValue)"
        return NewJob(kind: kind(system), payload: (try? JSONEncoder().encode(Payload(order: order.rawValue, document: document))) ?? Data(),
                      // Its own partition: a dead release or cancellation of the order must not hold up the watch.
                      partitionKey: "\(order.rawValue)/\(system.rawValue).watch", coalesceKey: key, runAt: at, maxAttempts: 50)
    }

    public func handle(_ job: Job) async throws -> Commit {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: job.payload), let id = try? OrderID(payload.order) else {
            throw JobError.terminal("not a shipment watch payload")
        }
        guard var record = try await orders.record(id) else { return Commit() }
        guard [.released, .partiallyFulfilled].contains(record.lifecycle.status) else { return Commit() }
        for shipment in try await erp.shipments(of: payload.document, order: record.order) where !record.shipments.contains(where: { $0.shipment == shipment.id }) {
            let open = Set(record.openLines.map(\.id))
            let lines = shipment.lines.filter { open.contains($0) }
            guard !lines.isEmpty else { continue }
            record = try await orders.ship(id, shipment: shipment.id, lines: lines, tracking: shipment.tracking, source: erp.system)
            logger.info("shipment confirmed by the ERP", metadata: ["order": "\(id)", "shipment": "\(shipment.id)", "lines": "\(lines)"])
        }
        guard [.released, .partiallyFulfilled].contains(record.lifecycle.status) else { return Commit() }
        return Commit(jobs: [Self.job(erp.system, order: id, document: payload.document, at: Date().addingTimeInterval(interval.timeInterval))])
    }

    /// Starts a watch for each order released to the ERP (`order.released` naming its system).
    public struct Starter: EventHandler {
        public static let subscriberName = "erp.shipment_watch"
        let system: SystemID

        public init(system: SystemID) {
            self.system = system
        }

        public var commitsInBatches: Bool { true }

        public func handle(_ event: EventEnvelope) async throws -> Commit {
            guard event.type == OrderReleased.eventType else { return Commit() }
            let released = try event.decode(OrderReleased.self)
            guard released.system == system, let order = try? OrderID(event.event.correlationID.rawValue) else { return Commit() }
            return Commit(jobs: [ERPShipmentWatch.job(system, order: order, document: released.document, at: event.recordedAt)])
        }
    }
}
