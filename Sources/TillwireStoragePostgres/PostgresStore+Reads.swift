import Foundation
import PostgresNIO
import TillwireDomain
import TillwireStorage

extension PostgresStore {
    public func readStream(_ stream: StreamID, fromVersion: Int64, limit: Int) async throws -> [EventEnvelope] {
        try await fetch("""
            SELECT * FROM events WHERE stream = \(stream.rawValue) AND stream_version >= \(fromVersion)
            ORDER BY stream_version LIMIT \(limit)
            """, Self.envelope(from:))
    }

    public func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope] {
        try await fetch(
            "SELECT * FROM events WHERE position > \(position) ORDER BY position LIMIT \(limit)", Self.envelope(from:))
    }

    public func streamVersion(_ stream: StreamID) async throws -> Int64 {
        try await fetch("SELECT max(stream_version) AS version FROM events WHERE stream = \(stream.rawValue)") {
            try $0.decode("version", as: Int64?.self)
        }.first.flatMap { $0 } ?? 0
    }

    public func headPosition() async throws -> Int64 {
        try await fetch("SELECT max(position) AS head FROM events") { try $0.decode("head", as: Int64?.self) }.first.flatMap { $0 } ?? 0
    }

    public func checkpoint(_ subscriber: String) async throws -> Int64 {
        try await fetch("SELECT position FROM subscription_checkpoints WHERE subscriber = \(subscriber)") {
            try $0.decode("position", as: Int64.self)
        }.first ?? 0
    }

    public func readCorrelation(_ correlationID: CorrelationID, limit: Int) async throws -> [EventEnvelope] {
        try await fetch(
            "SELECT * FROM events WHERE correlation_id = \(correlationID.rawValue) ORDER BY position LIMIT \(limit)",
            Self.envelope(from:))
    }

    static func envelope(from row: PostgresRandomAccessRow) throws -> EventEnvelope {
        let event = NewEvent(
            id: EventID(trusted: try row.decode("id", as: String.self)), type: try row.decode("type", as: String.self),
            schemaVersion: try row.decode("schema_version", as: Int.self),
            stream: StreamID(trusted: try row.decode("stream", as: String.self)),
            correlationID: CorrelationID(trusted: try row.decode("correlation_id", as: String.self)),
            causationID: try row.decode("causation_id", as: String?.self),
            occurredAt: Date(milliseconds: try row.decode("occurred_at", as: Int64.self)),
            source: SystemID(trusted: try row.decode("source", as: String.self)),
            payload: try row.decode("payload", as: Data.self))
        return EventEnvelope(
            event: event, streamVersion: try row.decode("stream_version", as: Int64.self),
            position: try row.decode("position", as: Int64.self),
            recordedAt: Date(milliseconds: try row.decode("recorded_at", as: Int64.self)))
    }

    // MARK: Inventory

    public func position(sku: SKU, location: LocationID) async throws -> InventoryPosition {
        try await fetch("""
            SELECT on_hand, reserved, safety_stock FROM inventory_positions
            WHERE sku = \(sku.rawValue) AND location = \(location.rawValue)
            """) { try Self.position(sku: sku, location: location, from: $0) }.first
            ?? InventoryPosition(sku: sku, location: location)
    }

    public func ledger(sku: SKU, location: LocationID) async throws -> [LedgerEntry] {
        try await fetch("""
            SELECT * FROM inventory_ledger WHERE sku = \(sku.rawValue) AND location = \(location.rawValue) ORDER BY sequence
            """) { row in
            LedgerEntry(
                sequence: try row.decode("sequence", as: Int64.self),
                movement: try InventoryMovement(
                    sku: sku, location: location, delta: try row.decode("delta", as: Int64.self),
                    reason: MovementReason(rawValue: try row.decode("reason", as: String.self)) ?? .countCorrection,
                    occurredAt: Date(milliseconds: try row.decode("occurred_at", as: Int64.self)),
                    source: SystemID(trusted: try row.decode("source", as: String.self)),
                    sourceKey: try row.decode("source_key", as: String.self),
                    transfer: try row.decode("transfer_id", as: String?.self).map { id in
                        try TransferLeg(id: id, destination: try row.decode("transfer_destination", as: String?.self).map(LocationID.init(trusted:)))
                    }),
                recordedAt: Date(milliseconds: try row.decode("recorded_at", as: Int64.self)))
        }
    }

    public func inTransit(sku: SKU) async throws -> [LocationID: Int64] {
        let rows = try await fetch("""
            SELECT destination, SUM(GREATEST(shipped - received, 0))::BIGINT AS units FROM transfers WHERE sku = \(sku.rawValue) GROUP BY destination
            """) { row in (LocationID(trusted: try row.decode("destination", as: String.self)), try row.decode("units", as: Int64.self)) }
        return Dictionary(rows.filter { $0.1 > 0 }) { first, _ in first }
    }

    public func balance(sku: SKU, location: LocationID, asOf: Date) async throws -> Int64 {
        try await transaction { session in
            try await Self.balance(sku: sku, location: location, asOf: asOf.millisecondsSince1970, in: session)
        }
    }

    public func reservation(_ id: ReservationID) async throws -> Reservation? {
        try await fetch("SELECT * FROM reservations WHERE id = \(id.rawValue)", Self.reservation(from:)).first
    }

    public func activeReservations(sku: SKU, location: LocationID) async throws -> [Reservation] {
        try await fetch("""
            SELECT * FROM reservations WHERE sku = \(sku.rawValue) AND location = \(location.rawValue) AND state = 'active'
            ORDER BY created_at, id
            """, Self.reservation(from:))
    }

    // MARK: Workflows

    public func workflowRun(_ id: WorkflowRunID) async throws -> (run: WorkflowRun, steps: [WorkflowStep])? {
        try await transaction { session -> WorkflowSnapshot? in
            // One snapshot for both reads, so the run and its steps agree.
            try await session.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            guard let row = try await session.rows("SELECT * FROM workflow_runs WHERE id = \(id.rawValue)").first else {
                return nil
            }
            let steps = try await session.rows(
                "SELECT * FROM workflow_steps WHERE run_id = \(id.rawValue) ORDER BY step_index"
            ).map { step in
                WorkflowStep(
                    index: try step.decode("step_index", as: Int.self), name: try step.decode("name", as: String.self),
                    status: try Self.decode(WorkflowStepStatus.self, try step.decode("status", as: String.self)),
                    output: try step.decode("output", as: Data.self),
                    recordedAt: Date(milliseconds: try step.decode("recorded_at", as: Int64.self)))
            }
            return WorkflowSnapshot(run: try Self.workflowRun(from: row), steps: steps)
        }.map { ($0.run, $0.steps) }
    }

    public func workflowRuns(in state: WorkflowRunState, limit: Int) async throws -> [WorkflowRun] {
        try await fetch("""
            SELECT * FROM workflow_runs WHERE state = \(state.rawValue) ORDER BY created_at, id LIMIT \(limit)
            """, Self.workflowRun(from:))
    }

    public func workflowRuns(waitingFor eventType: String, correlation: CorrelationID) async throws -> [WorkflowRunID] {
        try await fetch("""
            SELECT id FROM workflow_runs WHERE correlation_id = \(correlation.rawValue) AND wait_event = \(eventType) ORDER BY id
            """) { WorkflowRunID(trusted: try $0.decode("id", as: String.self)) }
    }

    // MARK: Orders

    public func orderSummaries(pickupStore: LocationID, statuses: Set<OrderStatus>, limit: Int) async throws -> [OrderSummary] {
        try await fetch("""
            SELECT * FROM orders WHERE pickup_store = \(pickupStore.rawValue) AND status = ANY(\(statuses.map(\.rawValue).sorted()))
            ORDER BY updated_at, id LIMIT \(limit)
            """, Self.orderSummary(from:)).compactMap { $0 }
    }

    public func orderSummaries(matching search: OrderSearch, limit: Int) async throws -> [OrderSummary] {
        switch search {
        case let .channelOrderID(number):
            try await fetch("SELECT * FROM orders WHERE channel_order_id = \(number) ORDER BY updated_at DESC, id LIMIT \(limit)",
                            Self.orderSummary(from:)).compactMap { $0 }
        case let .customerEmail(email):
            try await fetch("SELECT * FROM orders WHERE customer_email = \(email.lowercased()) ORDER BY updated_at DESC, id LIMIT \(limit)",
                            Self.orderSummary(from:)).compactMap { $0 }
        }
    }

    // MARK: Pricing

    public func priceEntries(channel: ChannelID, country: String, skus: [SKU]) async throws -> [PriceEntry] {
        guard !skus.isEmpty else { return [] }
        return try await fetch("""
            SELECT * FROM prices WHERE channel = \(channel.rawValue) AND country = \(country) AND sku = ANY(\(Array(Set(skus.map(\.rawValue))).sorted()))
            ORDER BY sku, version DESC
            """) { row in
            try PriceEntry(sku: SKU(trusted: try row.decode("sku", as: String.self)), channel: ChannelID(trusted: try row.decode("channel", as: String.self)),
                           country: try row.decode("country", as: String.self),
                           price: Money(minorUnits: try row.decode("price", as: Int64.self), currency: try Currency(try row.decode("currency", as: String.self))),
                           from: Date(milliseconds: try row.decode("valid_from", as: Int64.self)),
                           until: try row.decode("valid_until", as: Int64?.self).map { Date(milliseconds: $0) },
                           version: try row.decode("version", as: Int64.self))
        }
    }

    public func promotions(activeAt time: Date?) async throws -> [Promotion] {
        let bodies = if let time {
            try await fetch("""
                SELECT body FROM promotions WHERE valid_until > \(time.millisecondsSince1970) AND valid_from <= \(time.millisecondsSince1970) ORDER BY id
                """) { try $0.decode("body", as: String.self) }
        } else {
            try await fetch("SELECT body FROM promotions ORDER BY id") { try $0.decode("body", as: String.self) }
        }
        return try bodies.map(Promotion.fromStorage)
    }

    public func promotions(endingAfter time: Date) async throws -> [Promotion] {
        try await fetch("SELECT body FROM promotions WHERE valid_until > \(time.millisecondsSince1970) ORDER BY id") { try $0.decode("body", as: String.self) }
            .map(Promotion.fromStorage)
    }

    public func promotion(_ id: String) async throws -> Promotion? {
        try await fetch("SELECT body FROM promotions WHERE id = \(id)") { try $0.decode("body", as: String.self) }.first.map(Promotion.fromStorage)
    }

    // MARK: Finance

    // `location = $1` and `location IS NULL` apart: `IS NOT DISTINCT FROM` would not use the index.
    public func journalRows(location: LocationID?, businessDay: String) async throws -> [JournalRow] {
        let rows = if let location {
            try await fetch("SELECT * FROM journal WHERE location = \(location.rawValue) AND business_day = \(businessDay) ORDER BY seq",
                            Self.journalRow(from:))
        } else {
            try await fetch("SELECT * FROM journal WHERE location IS NULL AND business_day = \(businessDay) ORDER BY seq", Self.journalRow(from:))
        }
        return rows.compactMap { $0 }
    }

    public func unsummarisedJournalRows(location: LocationID?, businessDay: String) async throws -> [JournalRow] {
        try await journalRows(location: location, businessDay: businessDay).filter { $0.daily && $0.summary == nil }
    }

    public func journalBacklog(storeDaysBefore: String) async throws -> JournalBacklog {
        let queued = try await fetch("SELECT COUNT(*) AS n, MIN(recorded_at) AS oldest FROM journal WHERE document IS NULL AND NOT daily") {
            (Int(try $0.decode("n", as: Int64.self)), try $0.decode("oldest", as: Int64?.self))
        }.first
        let waiting = try await fetch("SELECT COUNT(*) AS n FROM journal WHERE daily AND summary IS NULL") { Int(try $0.decode("n", as: Int64.self)) }.first
        let days = try await fetch("""
            SELECT COUNT(*) AS n FROM (SELECT DISTINCT location, business_day FROM journal
            WHERE document IS NULL AND location IS NOT NULL AND (NOT daily OR summary IS NULL)
              AND business_day < \(storeDaysBefore)) AS days
            """) { Int(try $0.decode("n", as: Int64.self)) }.first
        return JournalBacklog(queued: queued?.0 ?? 0, oldestQueued: queued?.1.map { Date(milliseconds: $0) }, awaitingDayClose: waiting ?? 0,
                              unpostedStoreDays: days ?? 0)
    }

    static func journalRow(from row: PostgresRandomAccessRow) throws -> JournalRow? {
        guard let kind = JournalEntry.Kind(rawValue: try row.decode("kind", as: String.self)) else { return nil }
        return JournalRow(
            id: try row.decode("id", as: String.self), kind: kind,
            location: try row.decode("location", as: String?.self).map { LocationID(trusted: $0) },
            channel: try row.decode("channel", as: String?.self).map { ChannelID(trusted: $0) },
            businessDay: try row.decode("business_day", as: String.self), currency: try row.decode("currency", as: String.self),
            total: try row.decode("total", as: Int64.self), recordedAt: Date(milliseconds: try row.decode("recorded_at", as: Int64.self)),
            daily: try row.decode("daily", as: Bool.self), summary: try row.decode("summary", as: String?.self),
            document: try row.decode("document", as: String?.self),
            postedAt: try row.decode("posted_at", as: Int64?.self).map { Date(milliseconds: $0) })
    }

    public func orderCounts() async throws -> [OrderStatus: Int] {
        let rows = try await fetch("SELECT status, COUNT(*) AS n FROM orders GROUP BY status") {
            (OrderStatus(rawValue: try $0.decode("status", as: String.self)), Int(try $0.decode("n", as: Int64.self)))
        }
        var counts: [OrderStatus: Int] = [:]
        for (status, count) in rows { if let status { counts[status] = count } }
        return counts
    }

    public func orderStatistics(unchangedSince: Date) async throws -> [OrderStatus: OrderStatistic] {
        let rows = try await fetch("""
            SELECT status, COUNT(*) AS n, MIN(updated_at) AS oldest, COUNT(*) FILTER (WHERE updated_at < \(unchangedSince.millisecondsSince1970)) AS unchanged
            FROM orders GROUP BY status
            """) { row in
            (OrderStatus(rawValue: try row.decode("status", as: String.self)),
             OrderStatistic(count: Int(try row.decode("n", as: Int64.self)), oldestChange: Date(milliseconds: try row.decode("oldest", as: Int64.self)),
                            unchanged: Int(try row.decode("unchanged", as: Int64.self))))
        }
        var statistics: [OrderStatus: OrderStatistic] = [:]
        for (status, statistic) in rows { if let status { statistics[status] = statistic } }
        return statistics
    }

    public func jobs(partitionKeyPrefix prefix: String, limit: Int) async throws -> [Job] {
        try await fetch("""
            SELECT * FROM jobs WHERE starts_with(partition_key, \(prefix)) ORDER BY seq LIMIT \(limit)
            """, Self.job(from:))
    }

    static func orderSummary(from row: PostgresRandomAccessRow) throws -> OrderSummary? {
        guard let status = OrderStatus(rawValue: try row.decode("status", as: String.self)),
              let mode = Fulfilment.Mode(rawValue: try row.decode("mode", as: String.self)) else { return nil }
        return OrderSummary(
            id: OrderID(trusted: try row.decode("id", as: String.self)), channel: ChannelID(trusted: try row.decode("channel", as: String.self)),
            channelOrderID: try row.decode("channel_order_id", as: String.self), status: status, mode: mode,
            pickupStore: try row.decode("pickup_store", as: String?.self).map { LocationID(trusted: $0) },
            pickupBy: try row.decode("pickup_by", as: Int64?.self).map { Date(milliseconds: $0) },
            updatedAt: Date(milliseconds: try row.decode("updated_at", as: Int64.self)),
            customerEmail: try row.decode("customer_email", as: String?.self))
    }

    static func workflowRun(from row: PostgresRandomAccessRow) throws -> WorkflowRun {
        let waitStep = try row.decode("wait_step", as: Int?.self)
        let waitUntil = try row.decode("wait_until", as: Int64?.self)
        let waitEvent = try row.decode("wait_event", as: String?.self)
        return WorkflowRun(
            id: WorkflowRunID(trusted: try row.decode("id", as: String.self)), type: try row.decode("type", as: String.self),
            version: try row.decode("version", as: Int.self),
            state: try decode(WorkflowRunState.self, try row.decode("state", as: String.self)),
            correlationID: CorrelationID(trusted: try row.decode("correlation_id", as: String.self)),
            input: try row.decode("input", as: Data.self),
            wait: waitStep.flatMap { step in
                waitUntil.map { WorkflowWait(stepIndex: step, until: Date(milliseconds: $0), eventType: waitEvent) }
            },
            createdAt: Date(milliseconds: try row.decode("created_at", as: Int64.self)),
            updatedAt: Date(milliseconds: try row.decode("updated_at", as: Int64.self)))
    }

    /// A stored enum value this build does not know means the schema is not the one it expects.
    static func decode<T: RawRepresentable>(_ type: T.Type, _ raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else { throw StorageError.schemaMismatch("unknown \(T.self) '\(raw)'") }
        return value
    }
}

/// A run and its steps, as one `Sendable` value to carry out of a transaction.
private struct WorkflowSnapshot: Sendable {
    let run: WorkflowRun
    let steps: [WorkflowStep]
}
