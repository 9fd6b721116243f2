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

    public func position(sku: SKU, location: LocationID) async throws -> InventoryPosition {
        try await read { db in try Self.position(sku: sku, location: location, in: db) }
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
                        sourceKey: row["source_key"]),
                    recordedAt: Date(milliseconds: row["recorded_at"]))
            }
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
            let run = WorkflowRun(
                id: id, type: row["type"], state: WorkflowRunState(rawValue: row["state"]) ?? .failed,
                correlationID: CorrelationID(trusted: row["correlation_id"]), input: row["input"],
                createdAt: Date(milliseconds: row["created_at"]), updatedAt: Date(milliseconds: row["updated_at"]))
            let steps = try Row.fetchAll(
                db, sql: "SELECT * FROM workflow_steps WHERE run_id = ? ORDER BY step_index", arguments: [id.rawValue]
            ).map { step in
                WorkflowStep(
                    index: step["step_index"], name: step["name"],
                    status: WorkflowStepStatus(rawValue: step["status"]) ?? .failed, output: step["output"],
                    recordedAt: Date(milliseconds: step["recorded_at"]))
            }
            return (run, steps)
        }
    }
}
