import Foundation
import GRDB
import TillwireDomain
import TillwireStorage

extension SQLiteStore {
    public func readStream(_ stream: StreamID, fromVersion: Int64, limit: Int) async throws -> [EventEnvelope] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?",
                arguments: [stream.rawValue, fromVersion, limit]
            ).map(Self.envelope(from:))
        }
    }

    public func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?", arguments: [position, limit]
            ).map(Self.envelope(from:))
        }
    }

    public func streamVersion(_ stream: StreamID) async throws -> Int64 {
        try await read { db in
            try Int64.fetchOne(
                db, sql: "SELECT stream_version FROM events WHERE stream = ? ORDER BY stream_version DESC LIMIT 1",
                arguments: [stream.rawValue]) ?? 0
        }
    }

    public func readCorrelation(_ correlationID: CorrelationID, limit: Int) async throws -> [EventEnvelope] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE correlation_id = ? ORDER BY position LIMIT ?",
                arguments: [correlationID.rawValue, limit]
            ).map(Self.envelope(from:))
        }
    }

    public func headPosition() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT MAX(position) FROM events") ?? 0 }
    }

    public func checkpoint(_ subscriber: String) async throws -> Int64 {
        try await read { db in
            try Int64.fetchOne(
                db, sql: "SELECT position FROM subscription_checkpoints WHERE subscriber = ?", arguments: [subscriber]) ?? 0
        }
    }

    static func envelope(from row: Row) -> EventEnvelope {
        let event = NewEvent(
            id: EventID(trusted: row["id"]), type: row["type"], schemaVersion: row["schema_version"],
            stream: StreamID(trusted: row["stream"]), correlationID: CorrelationID(trusted: row["correlation_id"]),
            causationID: row["causation_id"], occurredAt: Date(milliseconds: row["occurred_at"]),
            source: SystemID(trusted: row["source"]), payload: row["payload"])
        return EventEnvelope(
            event: event, streamVersion: row["stream_version"], position: row["position"],
            recordedAt: Date(milliseconds: row["recorded_at"]))
    }

    // MARK: Inventory

    /// From memory when it is there (`PositionCache`), else from the database, and then kept in memory.
    public func position(sku: SKU, location: LocationID) async throws -> InventoryPosition {
        guard let positionCache else { return try await read { db in try Self.position(sku: sku, location: location, in: db) } }
        switch positionCache.position(sku: sku, location: location) {
        case .success(let position):
            return position
        case .failure(let miss):
            let position = try await read { db in try Self.position(sku: sku, location: location, in: db) }
            positionCache.fill(position, after: miss)
            return position
        }
    }

    public func ledger(sku: SKU, location: LocationID) async throws -> [LedgerEntry] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM inventory_ledger WHERE sku = ? AND location = ? ORDER BY sequence",
                arguments: [sku.rawValue, location.rawValue]
            ).map { row in
                LedgerEntry(
                    sequence: row["sequence"],
                    movement: try InventoryMovement(
                        sku: sku, location: location, delta: row["delta"],
                        reason: MovementReason(rawValue: row["reason"]) ?? .countCorrection,
                        occurredAt: Date(milliseconds: row["occurred_at"]), source: SystemID(trusted: row["source"]),
                        sourceKey: row["source_key"],
                        transfer: try (row["transfer_id"] as String?).map { id in
                            try TransferLeg(id: id, destination: (row["transfer_destination"] as String?).map(LocationID.init(trusted:)))
                        }),
                    recordedAt: Date(milliseconds: row["recorded_at"]))
            }
        }
    }

    /// From memory when it is there (`PositionCache`), else from the database, and then kept in memory.
    public func inTransit(sku: SKU) async throws -> [LocationID: Int64] {
        guard let positionCache else { return try await readInTransit(sku: sku) }
        switch positionCache.inTransit(sku: sku) {
        case .success(let units):
            return units
        case .failure(let miss):
            let units = try await readInTransit(sku: sku)
            positionCache.fill(inTransit: units, of: sku, after: miss)
            return units
        }
    }

    private func readInTransit(sku: SKU) async throws -> [LocationID: Int64] {
        try await read { db in
            var units: [LocationID: Int64] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: """
                SELECT destination, SUM(MAX(shipped - received, 0)) AS units FROM transfers WHERE sku = ? GROUP BY destination
                """), arguments: [sku.rawValue]) where (row["units"] as Int64) > 0 {
                units[LocationID(trusted: row["destination"])] = row["units"]
            }
            return units
        }
    }

    public func balance(sku: SKU, location: LocationID, asOf: Date) async throws -> Int64 {
        try await read { db in try Self.balance(sku: sku, location: location, asOf: asOf.millisecondsSince1970, in: db) }
    }

    public func reservation(_ id: ReservationID) async throws -> Reservation? {
        try await read { db in try Self.loadReservation(id, in: db) }
    }

    public func activeReservations(sku: SKU, location: LocationID) async throws -> [Reservation] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM reservations WHERE sku = ? AND location = ? AND state = 'active' ORDER BY created_at, id",
                arguments: [sku.rawValue, location.rawValue]
            ).map(Self.reservation(from:))
        }
    }

    // MARK: Workflows

    public func workflowRun(_ id: WorkflowRunID) async throws -> (run: WorkflowRun, steps: [WorkflowStep])? {
        try await read { db -> (run: WorkflowRun, steps: [WorkflowStep])? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM workflow_runs WHERE id = ?", arguments: [id.rawValue]) else {
                return nil
            }
            let steps = try Row.fetchAll(
                db, sql: "SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY step_index", arguments: [id.rawValue]
            ).map { step in
                WorkflowStep(
                    index: step["step_index"], name: step["name"],
                    status: try Self.decode(WorkflowStepStatus.self, step["status"]), output: step["output"],
                    recordedAt: Date(milliseconds: step["recorded_at"]))
            }
            return (try Self.workflowRun(from: row), steps)
        }
    }

    public func workflowRuns(in state: WorkflowRunState, limit: Int) async throws -> [WorkflowRun] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM workflow_runs WHERE state = ? ORDER BY created_at, id LIMIT ?",
                arguments: [state.rawValue, limit]
            ).map(Self.workflowRun(from:))
        }
    }

    public func workflowRuns(waitingFor eventType: String, correlation: CorrelationID) async throws -> [WorkflowRunID] {
        try await read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM workflow_runs WHERE correlation_id = ? AND wait_event = ? ORDER BY id",
                arguments: [correlation.rawValue, eventType]
            ).map { WorkflowRunID(trusted: $0) }
        }
    }

    // MARK: Orders

    public func orderSummaries(pickupStore: LocationID, statuses: Set<OrderStatus>, limit: Int) async throws -> [OrderSummary] {
        let wanted = statuses.map(\.rawValue).sorted()
        return try await read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT * FROM orders WHERE pickup_store = ? AND status IN (\(wanted.map { _ in "?" }.joined(separator: ",")))
                    ORDER BY updated_at, id LIMIT ?
                    """,
                arguments: StatementArguments([pickupStore.rawValue] + wanted + [String(limit)])
            ).compactMap(Self.orderSummary(from:))
        }
    }

    public func orderSummaries(matching search: OrderSearch, limit: Int) async throws -> [OrderSummary] {
        let (column, value) = switch search {
        case let .channelOrderID(number): ("channel_order_id", number)
        case let .customerEmail(email): ("customer_email", email.lowercased())
        }
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE \(column) = ? ORDER BY updated_at DESC, id LIMIT ?", arguments: [value, limit])
                .compactMap(Self.orderSummary(from:))
        }
    }

    // MARK: Pricing

    public func priceEntries(channel: ChannelID, country: String, skus: [SKU]) async throws -> [PriceEntry] {
        guard !skus.isEmpty else { return [] }
        let wanted = Array(Set(skus.map(\.rawValue))).sorted()
        // A cached statement per basket size and columns by position: a checkout quote reads this on every call.
        return try await read { db in
            let statement = try db.cachedStatement(sql: """
                SELECT sku, version, price, currency, valid_from, valid_until FROM prices
                WHERE channel = ? AND country = ? AND sku IN (\(wanted.map { _ in "?" }.joined(separator: ",")))
                ORDER BY sku, version DESC
                """)
            var entries: [PriceEntry] = []
            let rows = try Row.fetchCursor(statement, arguments: StatementArguments([channel.rawValue, country] + wanted))
            while let row = try rows.next() {
                let until: Int64? = row[5]
                entries.append(try PriceEntry(sku: SKU(trusted: row[0]), channel: channel, country: country,
                                              price: Money(minorUnits: row[2], currency: try Currency(row[3])),
                                              from: Date(milliseconds: row[4]), until: until.map { Date(milliseconds: $0) }, version: row[1]))
            }
            return entries
        }
    }

    public func promotions(activeAt time: Date?) async throws -> [Promotion] {
        try await read { db in
            let rows = if let time {
                try Row.fetchAll(db, sql: "SELECT body FROM promotions WHERE valid_until > ? AND valid_from <= ? ORDER BY id",
                                 arguments: [time.millisecondsSince1970, time.millisecondsSince1970])
            } else {
                try Row.fetchAll(db, sql: "SELECT body FROM promotions ORDER BY id")
            }
            return try rows.map { try Promotion.fromStorage($0["body"]) }
        }
    }

    public func promotions(endingAfter time: Date) async throws -> [Promotion] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT body FROM promotions WHERE valid_until > ? ORDER BY id", arguments: [time.millisecondsSince1970])
                .map { try Promotion.fromStorage($0["body"]) }
        }
    }

    public func promotion(_ id: String) async throws -> Promotion? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT body FROM promotions WHERE id = ?", arguments: [id]).map { try Promotion.fromStorage($0["body"]) }
        }
    }

    // MARK: Finance

    public func journalRows(location: LocationID?, businessDay: String) async throws -> [JournalRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM journal WHERE location IS ? AND business_day = ? ORDER BY rowid",
                             arguments: [location?.rawValue, businessDay]).compactMap(Self.journalRow(from:))
        }
    }

    public func unsummarisedJournalRows(location: LocationID?, businessDay: String) async throws -> [JournalRow] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM journal WHERE location IS ? AND business_day = ? AND daily = 1 AND summary IS NULL ORDER BY rowid",
                             arguments: [location?.rawValue, businessDay]).compactMap(Self.journalRow(from:))
        }
    }

    public func journalBacklog(storeDaysBefore: String) async throws -> JournalBacklog {
        try await read { db in
            let queued = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS n, MIN(recorded_at) AS oldest FROM journal WHERE document IS NULL AND daily = 0")
            let waiting = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM journal WHERE daily = 1 AND summary IS NULL") ?? 0
            let days = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM (SELECT DISTINCT location, business_day FROM journal
                WHERE document IS NULL AND location IS NOT NULL AND (daily = 0 OR summary IS NULL) AND business_day < ?)
                """, arguments: [storeDaysBefore]) ?? 0
            let oldest: Int64? = queued?["oldest"]
            return JournalBacklog(queued: queued?["n"] ?? 0, oldestQueued: oldest.map { Date(milliseconds: $0) }, awaitingDayClose: waiting,
                                  unpostedStoreDays: days)
        }
    }

    static func journalRow(from row: Row) -> JournalRow? {
        guard let kind = JournalEntry.Kind(rawValue: row["kind"]) else { return nil }
        let location: String? = row["location"]
        let channel: String? = row["channel"]
        let postedAt: Int64? = row["posted_at"]
        return JournalRow(id: row["id"], kind: kind, location: location.map { LocationID(trusted: $0) }, channel: channel.map { ChannelID(trusted: $0) },
                          businessDay: row["business_day"], currency: row["currency"], total: row["total"],
                          recordedAt: Date(milliseconds: row["recorded_at"]), daily: row["daily"], summary: row["summary"], document: row["document"],
                          postedAt: postedAt.map { Date(milliseconds: $0) })
    }

    public func orderCounts() async throws -> [OrderStatus: Int] {
        try await read { db in
            var counts: [OrderStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM orders GROUP BY status") {
                if let status = OrderStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    public func orderStatistics(unchangedSince: Date) async throws -> [OrderStatus: OrderStatistic] {
        try await read { db in
            var statistics: [OrderStatus: OrderStatistic] = [:]
            let rows = try Row.fetchAll(db, sql: """
                SELECT status, COUNT(*) AS n, MIN(updated_at) AS oldest, SUM(updated_at < ?) AS unchanged FROM orders GROUP BY status
                """, arguments: [unchangedSince.millisecondsSince1970])
            for row in rows {
                guard let status = OrderStatus(rawValue: row["status"]) else { continue }
                statistics[status] = OrderStatistic(count: row["n"], oldestChange: Date(milliseconds: row["oldest"]), unchanged: row["unchanged"])
            }
            return statistics
        }
    }

    public func jobs(partitionKeyPrefix prefix: String, limit: Int) async throws -> [Job] {
        guard let upper = partitionKeyUpperBound(prefix) else { return [] }
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE partition_key >= ? AND partition_key < ? ORDER BY rowid LIMIT ?",
                             arguments: [prefix, upper, limit]).map(Self.job(from:))
        }
    }

    static func orderSummary(from row: Row) -> OrderSummary? {
        guard let status = OrderStatus(rawValue: row["status"]), let mode = Fulfilment.Mode(rawValue: row["mode"]) else { return nil }
        let pickupStore: String? = row["pickup_store"]
        let pickupBy: Int64? = row["pickup_by"]
        return OrderSummary(
            id: OrderID(trusted: row["id"]), channel: ChannelID(trusted: row["channel"]), channelOrderID: row["channel_order_id"],
            status: status, mode: mode, pickupStore: pickupStore.map { LocationID(trusted: $0) },
            pickupBy: pickupBy.map { Date(milliseconds: $0) }, updatedAt: Date(milliseconds: row["updated_at"]), customerEmail: row["customer_email"])
    }

    static func workflowRun(from row: Row) throws -> WorkflowRun {
        let waitStep: Int? = row["wait_step"]
        let waitUntil: Int64? = row["wait_until"]
        return WorkflowRun(
            id: WorkflowRunID(trusted: row["id"]), type: row["type"], version: row["version"],
            state: try decode(WorkflowRunState.self, row["state"]),
            correlationID: CorrelationID(trusted: row["correlation_id"]), input: row["input"],
            wait: waitStep.flatMap { step in
                waitUntil.map { WorkflowWait(stepIndex: step, until: Date(milliseconds: $0), eventType: row["wait_event"]) }
            },
            createdAt: Date(milliseconds: row["created_at"]), updatedAt: Date(milliseconds: row["updated_at"]))
    }

    /// A stored enum value this build does not know means the schema is not the one it expects.
    static func decode<T: RawRepresentable>(_ type: T.Type, _ raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else { throw StorageError.schemaMismatch("unknown \(T.self) '\(raw)'") }
        return value
    }
}
