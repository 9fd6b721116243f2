import Foundation
import GRDB
import TillwireDomain
import TillwireStorage

extension SQLiteStore {
    /// Applies a unit of work inside the caller's transaction. Throws to roll back all of it.
    static func apply(_ commit: Commit, in db: Database, now: Date) throws -> CommitOutcome {
        let nowMs = now.millisecondsSince1970
        if let inbox = commit.inbox {
            try db.cachedStatement(sql: "INSERT INTO inbox (source, message_key, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .execute(arguments: [inbox.source.rawValue, inbox.messageKey, nowMs])
            if db.changesCount == 0 { return .duplicate(inbox) }
        }
        for change in commit.catalog {
            try applyCatalog(change, in: db, now: nowMs)
        }
        var outcomes: [InventoryOutcome] = []
        for change in commit.inventory {
            outcomes.append(try applyInventory(change, in: db, now: nowMs))
        }
        var envelopes: [EventEnvelope] = []
        for append in commit.events {
            envelopes.append(try appendEvent(append, in: db, now: now))
        }
        if let describe = commit.inventoryEvents {
            for (index, outcome) in outcomes.enumerated() {
                for event in try describe(index, outcome) {
                    envelopes.append(try appendEvent(EventAppend(event), in: db, now: now))
                }
            }
        }
        var enqueued: [JobID] = []
        for job in commit.jobs where try enqueue(job, in: db, now: nowMs) {
            enqueued.append(job.id)
        }
        for change in commit.workflows {
            try applyWorkflow(change, in: db)
        }
        for summary in commit.orders {
            try db.cachedStatement(sql: """
                INSERT INTO orders (id, channel, channel_order_id, status, mode, pickup_store, pickup_by, updated_at, customer_email)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
                    customer_email = excluded.customer_email,
                    pickup_by = CASE WHEN excluded.status = 'ready_for_pickup' THEN COALESCE(excluded.pickup_by, orders.pickup_by) END
                """).execute(arguments: [
                    summary.id.rawValue, summary.channel.rawValue, summary.channelOrderID, summary.status.rawValue,
                    summary.mode.rawValue, summary.pickupStore?.rawValue, summary.pickupBy?.millisecondsSince1970,
                    summary.updatedAt.millisecondsSince1970, summary.customerEmail])
        }
        for change in commit.journal {
            try applyJournal(change, in: db)
        }
        for change in commit.pricing {
            try applyPricing(change, in: db)
        }
        for change in commit.access {
            try applyAccess(change, in: db)
        }
        for entry in commit.audit {
            try db.execute(sql: """
                INSERT INTO audit_log (at, actor, action, target, request_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [entry.at.millisecondsSince1970, entry.actor, entry.action, entry.target, entry.requestID,
                                 entry.outcome, entry.detail])
        }
        if let advance = commit.checkpoint {
            try applyCheckpoint(advance, in: db, now: nowMs)
        }
        return .committed(CommitReceipt(events: envelopes, enqueuedJobs: enqueued, inventory: outcomes))
    }

    private static func appendEvent(_ append: EventAppend, in db: Database, now: Date) throws -> EventEnvelope {
        let event = append.event
        // The version is the stream's last event's, read from the (stream, stream_version) index.
        let current = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT stream_version FROM events WHERE stream = ? ORDER BY stream_version DESC LIMIT 1"),
            arguments: [event.stream.rawValue]) ?? 0
        guard append.expected.admits(current) else {
            throw StorageError.versionConflict(stream: event.stream, expected: append.expected, actual: current)
        }
        let version = current + 1
        let recordedAt = now.millisecondsSince1970
        try db.cachedStatement(sql: """
            INSERT INTO events (id, stream, stream_version, type, schema_version, correlation_id, causation_id,
                                occurred_at, recorded_at, source, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                event.id.rawValue, event.stream.rawValue, version, event.type, event.schemaVersion,
                event.correlationID.rawValue, event.causationID, event.occurredAt.millisecondsSince1970, recordedAt,
                event.source.rawValue, event.payload,
            ])
        return EventEnvelope(
            event: event, streamVersion: version, position: db.lastInsertedRowID,
            recordedAt: Date(milliseconds: recordedAt))
    }

    private static func enqueue(_ job: NewJob, in db: Database, now: Int64) throws -> Bool {
        if let key = job.coalesceKey {
            let pending = try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM jobs WHERE coalesce_key = ? AND state = 'pending')
                """), arguments: [key]) ?? false
            if pending { return false }
        }
        try db.cachedStatement(sql: """
            INSERT INTO jobs (id, kind, payload, partition_key, unique_key, coalesce_key, state, attempts, max_attempts, run_at,
                              created_at, updated_at, trace_parent)
            VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """).execute(arguments: [
                job.id.rawValue, job.kind, job.payload, job.partitionKey, job.uniqueKey, job.coalesceKey, job.maxAttempts,
                job.runAt.millisecondsSince1970, now, now, job.traceParent,
            ])
        return db.changesCount > 0
    }

    private static func applyCheckpoint(_ advance: CheckpointAdvance, in db: Database, now: Int64) throws {
        let current = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT position FROM subscription_checkpoints WHERE subscriber = ?"),
            arguments: [advance.subscriber]) ?? 0
        guard current == advance.from else {
            throw StorageError.checkpointMoved(subscriber: advance.subscriber, expected: advance.from, actual: current)
        }
        try db.cachedStatement(sql: """
            INSERT INTO subscription_checkpoints (subscriber, position, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
            """).execute(arguments: [advance.subscriber, advance.to, now])
    }

    // MARK: Inventory

    private static func applyInventory(_ change: InventoryChange, in db: Database, now: Int64) throws -> InventoryOutcome {
        switch change {
        case .record(let movement):
            return try record(movement, in: db, now: now)

        case .recordKeepingReservations(let movement):
            let outcome = try record(movement, in: db, now: now)
            let after = outcome.position
            if outcome.changed, movement.delta < 0, after.onHand < after.reserved {
                throw StorageError.rejected(.reservedStock(sku: movement.sku, location: movement.location, requested: -movement.delta,
                                                           unreserved: after.onHand - movement.delta - after.reserved))
            }
            return outcome

        case let .count(sku, location, counted, asOf, source, sourceKey):
            let balance = try balance(sku: sku, location: location, asOf: asOf.millisecondsSince1970, in: db)
            let correction = try InventoryMovement.countCorrection(counted: counted, balanceAtCountTime: balance)
            guard correction != 0 else { return .alreadyApplied(try position(sku: sku, location: location, in: db)) }
            let movement = try InventoryMovement(
                sku: sku, location: location, delta: correction, reason: .countCorrection, occurredAt: asOf,
                source: source, sourceKey: sourceKey)
            let outcome = try record(movement, in: db, now: now)
            guard case .applied(let position) = outcome else { return outcome }
            return .corrected(position, correction: correction)

        case let .reserve(reservation, policy):
            let current = try position(sku: reservation.sku, location: reservation.location, in: db)
            if let existing = try loadReservation(reservation.id, in: db) {
                guard existing.matches(reservation) else {
                    throw StorageError.rejected(.reservationMismatch(reservation.id, reason: "a different order, SKU, location or quantity"))
                }
                return .alreadyApplied(current)
            }
            let next = try current.reserving(reservation.quantity, policy: policy)
            try db.execute(sql: """
                INSERT INTO reservations (id, order_id, sku, location, quantity, expires_at, state, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)
                """, arguments: [
                    reservation.id.rawValue, reservation.order.rawValue, reservation.sku.rawValue,
                    reservation.location.rawValue, reservation.quantity, reservation.expiresAt.millisecondsSince1970,
                    now, now,
                ])
            try save(next, in: db, now: now)
            return .applied(next)

        case let .endReservation(id, final, at, source, sourceKey):
            guard let reservation = try loadReservation(id, in: db) else {
                throw StorageError.notFound(kind: "reservation", id: id.rawValue)
            }
            if reservation.state == final || !reservation.mayEnd(as: final, at: at) {
                return .alreadyApplied(try position(sku: reservation.sku, location: reservation.location, in: db))
            }
            let ended = try reservation.ended(as: final)
            try db.execute(
                sql: "UPDATE reservations SET state = ?, updated_at = ? WHERE id = ?",
                arguments: [ended.state.rawValue, now, id.rawValue])
            var next = try position(sku: reservation.sku, location: reservation.location, in: db).ending(reservation)
            if final == .consumed {
                let sale = try InventoryMovement(
                    sku: reservation.sku, location: reservation.location, delta: -reservation.quantity, reason: .sale,
                    occurredAt: at, source: source, sourceKey: sourceKey)
                guard try insertLedger(sale, in: db, now: now) else {
                    throw StorageError.conflict("the ledger already has a movement keyed \(source)/\(sourceKey); consuming reservation \(id) needs a key of its own")
                }
                next = next.applying(sale)
            }
            try save(next, in: db, now: now)
            return .applied(next)

        case let .extendReservation(id, until):
            guard let reservation = try loadReservation(id, in: db) else {
                throw StorageError.notFound(kind: "reservation", id: id.rawValue)
            }
            let current = try position(sku: reservation.sku, location: reservation.location, in: db)
            guard reservation.state == .active else { throw StorageError.rejected(.reservationNotActive(id, state: reservation.state)) }
            if reservation.expiresAt.millisecondsSince1970 == until.millisecondsSince1970 { return .alreadyApplied(current) }
            try db.execute(sql: "UPDATE reservations SET expires_at = ?, updated_at = ? WHERE id = ?",
                           arguments: [until.millisecondsSince1970, now, id.rawValue])
            return .applied(current)

        case let .setSafetyStock(sku, location, quantity):
            guard quantity >= 0, quantity <= InventoryMovement.maximumMagnitude else {
                throw StorageError.rejected(.invalidQuantity(quantity, reason: "safety stock must be between 0 and \(InventoryMovement.maximumMagnitude)"))
            }
            var next = try position(sku: sku, location: location, in: db)
            next.safetyStock = quantity
            try save(next, in: db, now: now)
            return .applied(next)
        }
    }

    private static func record(_ movement: InventoryMovement, in db: Database, now: Int64) throws -> InventoryOutcome {
        let current = try position(sku: movement.sku, location: movement.location, in: db)
        guard try insertLedger(movement, in: db, now: now) else { return .alreadyApplied(current) }
        try trackTransfer(movement, in: db)
        let next = current.applying(movement)
        try save(next, in: db, now: now)
        return .applied(next)
    }

    /// False when the (source, source key) is already in the ledger.
    private static func insertLedger(_ movement: InventoryMovement, in db: Database, now: Int64) throws -> Bool {
        try db.cachedStatement(sql: """
            INSERT INTO inventory_ledger (sku, location, delta, reason, occurred_at, recorded_at, source, source_key,
                                          transfer_id, transfer_destination)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, source_key) DO NOTHING
            """).execute(arguments: [
                movement.sku.rawValue, movement.location.rawValue, movement.delta, movement.reason.rawValue,
                movement.occurredAt.millisecondsSince1970, now, movement.source.rawValue, movement.sourceKey,
                movement.transfer?.id, movement.transfer?.destination?.rawValue,
            ])
        return db.changesCount > 0
    }

    /// A transfer out adds to what is in transit to its destination; the transfer in takes it off. Either may
    /// arrive first: in transit is max(0, shipped − received) per transfer and SKU.
    private static func trackTransfer(_ movement: InventoryMovement, in db: Database) throws {
        guard let transfer = movement.transfer else { return }
        if movement.reason == .transferOut, let destination = transfer.destination {
            try db.cachedStatement(sql: """
                INSERT INTO transfers (id, sku, origin, destination, shipped, received) VALUES (?, ?, ?, ?, ?, 0)
                ON CONFLICT (id, sku) DO UPDATE SET shipped = shipped + excluded.shipped, origin = COALESCE(origin, excluded.origin)
                """).execute(arguments: [transfer.id, movement.sku.rawValue, movement.location.rawValue, destination.rawValue, -movement.delta])
        } else if movement.reason == .transferIn {
            try db.cachedStatement(sql: """
                INSERT INTO transfers (id, sku, origin, destination, shipped, received) VALUES (?, ?, NULL, ?, 0, ?)
                ON CONFLICT (id, sku) DO UPDATE SET received = received + excluded.received
                """).execute(arguments: [transfer.id, movement.sku.rawValue, movement.location.rawValue, movement.delta])
        }
    }

    private static func save(_ position: InventoryPosition, in db: Database, now: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO inventory_positions (sku, location, on_hand, reserved, safety_stock, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (sku, location) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved,
                safety_stock = excluded.safety_stock, updated_at = excluded.updated_at
            """).execute(arguments: [
                position.sku.rawValue, position.location.rawValue, position.onHand, position.reserved,
                position.safetyStock, now,
            ])
    }

    static func position(sku: SKU, location: LocationID, in db: Database) throws -> InventoryPosition {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT on_hand, reserved, safety_stock FROM inventory_positions WHERE sku = ? AND location = ?"),
            arguments: [sku.rawValue, location.rawValue])
        guard let row else { return InventoryPosition(sku: sku, location: location) }
        return InventoryPosition(sku: sku, location: location, onHand: row[0], reserved: row[1], safetyStock: row[2])
    }

    static func balance(sku: SKU, location: LocationID, asOf: Int64, in db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db, sql: "SELECT COALESCE(SUM(delta), 0) FROM inventory_ledger WHERE sku = ? AND location = ? AND occurred_at <= ?",
            arguments: [sku.rawValue, location.rawValue, asOf]) ?? 0
    }

    static func loadReservation(_ id: ReservationID, in db: Database) throws -> Reservation? {
        try Row.fetchOne(db, sql: "SELECT * FROM reservations WHERE id = ?", arguments: [id.rawValue]).map(reservation(from:))
    }

    static func reservation(from row: Row) -> Reservation {
        Reservation(
            id: ReservationID(trusted: row["id"]), order: OrderID(trusted: row["order_id"]), sku: SKU(trusted: row["sku"]),
            location: LocationID(trusted: row["location"]), quantity: row["quantity"],
            expiresAt: Date(milliseconds: row["expires_at"]), state: ReservationState(rawValue: row["state"]) ?? .active)
    }

    // MARK: Workflows

    private static func applyWorkflow(_ change: WorkflowChange, in db: Database) throws {
        switch change {
        case .start(let run):
            try db.execute(sql: """
                INSERT INTO workflow_runs (id, type, version, state, correlation_id, input, wait_step, wait_until, wait_event, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """,
                arguments: [run.id.rawValue, run.type, run.version, run.state.rawValue, run.correlationID.rawValue, run.input,
                            run.wait?.stepIndex, run.wait?.until.millisecondsSince1970, run.wait?.eventType,
                            run.createdAt.millisecondsSince1970, run.updatedAt.millisecondsSince1970])
            guard db.changesCount > 0 else { throw StorageError.conflict("workflow run \(run.id) already exists") }
        case let .recordStep(runID, step):
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM workflow_runs WHERE id = ?)", arguments: [runID.rawValue]) == true else {
                throw StorageError.notFound(kind: "workflow run", id: runID.rawValue)
            }
            try db.execute(sql: "INSERT INTO workflow_steps (run_id, step_index, name, status, output, recorded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [runID.rawValue, step.index, step.name, step.status.rawValue, step.output, step.recordedAt.millisecondsSince1970])
            guard db.changesCount > 0 else { throw StorageError.conflict("step \(step.index) of workflow run \(runID) is already recorded") }
            try db.execute(sql: "UPDATE workflow_runs SET updated_at = ?, wait_step = NULL, wait_until = NULL, wait_event = NULL WHERE id = ?",
                arguments: [step.recordedAt.millisecondsSince1970, runID.rawValue])
        case let .markCompensated(runID, index, at):
            try db.execute(sql: "UPDATE workflow_steps SET status = 'compensated', recorded_at = ? WHERE run_id = ? AND step_index = ? AND status = 'completed'",
                arguments: [at.millisecondsSince1970, runID.rawValue, index])
            guard db.changesCount > 0 else { throw StorageError.notFound(kind: "completed workflow step", id: "\(runID)#\(index)") }
        case let .setState(runID, state, at):
            try db.execute(sql: "UPDATE workflow_runs SET state = ?, updated_at = ? WHERE id = ?",
                arguments: [state.rawValue, at.millisecondsSince1970, runID.rawValue])
            guard db.changesCount > 0 else { throw StorageError.notFound(kind: "workflow run", id: runID.rawValue) }
        case let .setWait(runID, wait, at):
            try db.execute(sql: "UPDATE workflow_runs SET wait_step = ?, wait_until = ?, wait_event = ?, updated_at = ? WHERE id = ?",
                arguments: [wait?.stepIndex, wait?.until.millisecondsSince1970, wait?.eventType, at.millisecondsSince1970, runID.rawValue])
            guard db.changesCount > 0 else { throw StorageError.notFound(kind: "workflow run", id: runID.rawValue) }
        }
    }

    // MARK: Access

    private static func applyPricing(_ change: PricingChange, in db: Database) throws {
        switch change {
        case .price(let entry):
            try db.execute(sql: """
                INSERT INTO prices (sku, channel, country, version, price, currency, valid_from, valid_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [entry.sku.rawValue, entry.channel.rawValue, entry.country, entry.version, entry.price.minorUnits,
                                  entry.price.currency.code, entry.from.millisecondsSince1970, entry.until?.millisecondsSince1970])
            guard db.changesCount == 1 else {
                throw StorageError.conflict("price version \(entry.version) of \(entry.sku) on \(entry.channel) in \(entry.country) exists already")
            }
        case let .promotion(promotion, at):
            try db.execute(sql: """
                INSERT INTO promotions (id, body, valid_from, valid_until, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET body = excluded.body, valid_from = excluded.valid_from, valid_until = excluded.valid_until,
                    updated_at = excluded.updated_at
                """, arguments: [promotion.id, try promotion.storageJSON(), promotion.from.millisecondsSince1970, promotion.until.millisecondsSince1970,
                                  at.millisecondsSince1970])
        }
    }

    private static func applyJournal(_ change: JournalChange, in db: Database) throws {
        switch change {
        case .record(let row):
            try db.execute(sql: """
                INSERT INTO journal (id, kind, location, channel, business_day, currency, total, recorded_at, daily, summary, document, posted_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                """, arguments: [row.id, row.kind.rawValue, row.location?.rawValue, row.channel?.rawValue, row.businessDay, row.currency, row.total,
                                  row.recordedAt.millisecondsSince1970, row.daily, row.summary, row.document, row.postedAt?.millisecondsSince1970])
        case let .posted(id, document, at):
            try db.execute(sql: "UPDATE journal SET document = ?, posted_at = ? WHERE id = ? AND document IS NULL",
                           arguments: [document, at.millisecondsSince1970, id])
        case let .summarised(ids, summary):
            for id in ids {
                try db.execute(sql: "UPDATE journal SET summary = ? WHERE id = ? AND summary IS NULL", arguments: [summary, id])
            }
        }
    }

    private static func applyAccess(_ change: AccessChange, in db: Database) throws {
        switch change {
        case .createKey(let key):
            try db.execute(sql: """
                INSERT INTO api_keys (id, client, scopes, locations, secret_hash, rate_per_second, burst, created_at, expires_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [key.id, key.client, key.scopes.joined(separator: " "),
                                 key.locations.map { $0.map(\.rawValue).joined(separator: "\n") }, key.secretHash,
                                 key.ratePerSecond, key.burst, key.createdAt.millisecondsSince1970,
                                 key.expiresAt?.millisecondsSince1970, key.revokedAt?.millisecondsSince1970])
            guard db.changesCount > 0 else { throw StorageError.conflict("API key \(key.id) already exists") }
        case let .revokeKey(id, at):
            try db.execute(sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                           arguments: [at.millisecondsSince1970, id])
            guard db.changesCount > 0 else { throw StorageError.notFound(kind: "API key", id: id) }
        case let .expireKey(id, at):
            try db.execute(sql: "UPDATE api_keys SET expires_at = MIN(COALESCE(expires_at, ?), ?) WHERE id = ?",
                           arguments: [at.millisecondsSince1970, at.millisecondsSince1970, id])
            guard db.changesCount > 0 else { throw StorageError.notFound(kind: "API key", id: id) }
        }
    }
}
