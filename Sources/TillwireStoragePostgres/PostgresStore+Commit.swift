import Foundation
import PostgresNIO
import TillwireDomain
import TillwireStorage

extension PostgresStore {
    /// The advisory lock key (ASCII "TWEVENTS") that every commit appending events holds until it ends.
    ///
    /// Why: a BIGSERIAL position is drawn when the row is inserted, not when the transaction commits, so two
    /// concurrent appenders can commit out of order (positions 8 then 7). A reader that has seen 8 and asks for
    /// `position > 8` would then skip 7 for ever. Holding one lock from before the first position is drawn until the
    /// commit is visible makes positions visible in order. It serialises appenders database-wide; the simple correct
    /// choice for now (a later change may track a visibility horizon instead).
    ///
    /// It is taken first in the transaction, before the inbox row and any job row, so that every transaction that
    /// holds it acquired it before any row lock: that keeps lock order consistent and rules out a deadlock between
    /// this lock and row locks.
    static let eventLogLock: Int64 = 0x5457_4556_454E_5453

    static func lockEventLog(in session: PostgresSession) async throws {
        try await session.execute("SELECT pg_advisory_xact_lock(\(eventLogLock))")
    }

    /// Applies a unit of work inside the caller's transaction, with `SQLiteStore.apply`'s semantics. Throws to roll
    /// back all of it.
    static func apply(_ commit: Commit, in session: PostgresSession, now: Date) async throws -> CommitOutcome {
        let nowMs = now.millisecondsSince1970
        if !commit.events.isEmpty || commit.inventoryEvents != nil {
            try await lockEventLog(in: session)
        }
        if let inbox = commit.inbox {
            let inserted = try await session.rows("""
                INSERT INTO inbox (source, message_key, received_at) VALUES (\(inbox.source.rawValue), \(inbox.messageKey), \(nowMs))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            if inserted.isEmpty { return .duplicate(inbox) }
        }
        for change in commit.catalog {
            try await applyCatalog(change, in: session, now: nowMs)
        }
        var outcomes: [InventoryOutcome] = []
        for change in commit.inventory {
            outcomes.append(try await applyInventory(change, in: session, now: nowMs))
        }
        var envelopes: [EventEnvelope] = []
        for append in commit.events {
            envelopes.append(try await appendEvent(append, in: session, now: nowMs))
        }
        if let describe = commit.inventoryEvents {
            for (index, outcome) in outcomes.enumerated() {
                for event in try describe(index, outcome) {
                    envelopes.append(try await appendEvent(EventAppend(event), in: session, now: nowMs))
                }
            }
        }
        var enqueued: [JobID] = []
        for job in commit.jobs where try await enqueue(job, in: session, now: nowMs) {
            enqueued.append(job.id)
        }
        for change in commit.workflows {
            try await applyWorkflow(change, in: session)
        }
        for summary in commit.orders {
            try await session.execute("""
                INSERT INTO orders (id, channel, channel_order_id, status, mode, pickup_store, pickup_by, updated_at, customer_email)
                VALUES (\(summary.id.rawValue), \(summary.channel.rawValue), \(summary.channelOrderID), \(summary.status.rawValue),
                        \(summary.mode.rawValue), \(summary.pickupStore?.rawValue), \(summary.pickupBy?.millisecondsSince1970),
                        \(summary.updatedAt.millisecondsSince1970), \(summary.customerEmail))
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
                    customer_email = excluded.customer_email,
                    pickup_by = CASE WHEN excluded.status = 'ready_for_pickup' THEN COALESCE(excluded.pickup_by, orders.pickup_by) END
                """)
        }
        for change in commit.journal {
            try await applyJournal(change, in: session)
        }
        for change in commit.pricing {
            try await applyPricing(change, in: session)
        }
        for change in commit.access {
            try await applyAccess(change, in: session)
        }
        for entry in commit.audit {
            try await session.execute("""
                INSERT INTO audit_log (at, actor, action, target, request_id, outcome, detail)
                VALUES (\(entry.at.millisecondsSince1970), \(entry.actor), \(entry.action), \(entry.target), \(entry.requestID),
                        \(entry.outcome), \(entry.detail))
                """)
        }
        if let advance = commit.checkpoint {
            try await applyCheckpoint(advance, in: session, now: nowMs)
        }
        if !envelopes.isEmpty {
            // Delivered to every listening instance when, and only if, this transaction commits.
            try await session.execute("SELECT pg_notify(\(eventChannel), '')")
        }
        return .committed(CommitReceipt(events: envelopes, enqueuedJobs: enqueued, inventory: outcomes))
    }

    /// The LISTEN/NOTIFY channel that wakes subscribers in every instance.
    static let eventChannel = "tillwire_events"

    private static func applyCheckpoint(_ advance: CheckpointAdvance, in session: PostgresSession, now: Int64) async throws {
        try await session.execute("""
            INSERT INTO subscription_checkpoints (subscriber, position, updated_at) VALUES (\(advance.subscriber), 0, \(now))
            ON CONFLICT DO NOTHING
            """)
        let current = try await session.value(
            "SELECT position FROM subscription_checkpoints WHERE subscriber = \(advance.subscriber) FOR UPDATE", as: Int64.self) ?? 0
        guard current == advance.from else {
            throw StorageError.checkpointMoved(subscriber: advance.subscriber, expected: advance.from, actual: current)
        }
        try await session.execute("""
            UPDATE subscription_checkpoints SET position = \(advance.to), updated_at = \(now) WHERE subscriber = \(advance.subscriber)
            """)
    }

    /// Appends one event; the caller holds `eventLogLock`, so no other writer can append between the version read
    /// and the insert. UNIQUE (stream, stream_version) stays as the final guard.
    private static func appendEvent(_ append: EventAppend, in session: PostgresSession, now: Int64) async throws -> EventEnvelope {
        let event = append.event
        let current = try await session.value(
            "SELECT max(stream_version) FROM events WHERE stream = \(event.stream.rawValue)", as: Int64.self) ?? 0
        guard append.expected.admits(current) else {
            throw StorageError.versionConflict(stream: event.stream, expected: append.expected, actual: current)
        }
        let version = current + 1
        let inserted = try await session.value(try """
            INSERT INTO events (id, stream, stream_version, type, schema_version, correlation_id, causation_id,
                                occurred_at, recorded_at, source, payload)
            VALUES (\(event.id.rawValue), \(event.stream.rawValue), \(version), \(event.type), \(event.schemaVersion),
                    \(event.correlationID.rawValue), \(event.causationID), \(event.occurredAt.millisecondsSince1970),
                    \(now), \(event.source.rawValue), \(event.payload))
            RETURNING position
            """, as: Int64.self)
        guard let position = inserted else {
            throw StorageError.unavailable(backend: "postgres", reason: "INSERT INTO events returned no position")
        }
        return EventEnvelope(event: event, streamVersion: version, position: position, recordedAt: Date(milliseconds: now))
    }

    /// False when a job with the same id or unique key is already stored.
    private static func enqueue(_ job: NewJob, in session: PostgresSession, now: Int64) async throws -> Bool {
        let inserted = try await session.rows(try """
            INSERT INTO jobs (id, kind, payload, partition_key, unique_key, coalesce_key, state, attempts, max_attempts, run_at,
                              created_at, updated_at, trace_parent)
            SELECT \(job.id.rawValue), \(job.kind), \(job.payload), \(job.partitionKey), \(job.uniqueKey), \(job.coalesceKey), 'pending', 0,
                   \(job.maxAttempts), \(job.runAt.millisecondsSince1970), \(now), \(now), \(job.traceParent)
            WHERE \(job.coalesceKey)::TEXT IS NULL
               OR NOT EXISTS (SELECT 1 FROM jobs WHERE coalesce_key = \(job.coalesceKey) AND state = 'pending')
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        return !inserted.isEmpty
    }

    // MARK: Inventory

    private static func applyInventory(_ change: InventoryChange, in session: PostgresSession, now: Int64) async throws -> InventoryOutcome {
        switch change {
        case .record(let movement):
            return try await record(movement, in: session, now: now)

        case .recordKeepingReservations(let movement):
            let outcome = try await record(movement, in: session, now: now)
            let after = outcome.position
            if outcome.changed, movement.delta < 0, after.onHand < after.reserved {
                throw StorageError.rejected(.reservedStock(sku: movement.sku, location: movement.location, requested: -movement.delta,
                                                           unreserved: after.onHand - movement.delta - after.reserved))
            }
            return outcome

        case let .count(sku, location, counted, asOf, source, sourceKey):
            // Locked first, so that no movement of this position lands between the balance and the correction.
            let current = try await lockPosition(sku: sku, location: location, in: session, now: now)
            let balance = try await balance(sku: sku, location: location, asOf: asOf.millisecondsSince1970, in: session)
            let correction = try InventoryMovement.countCorrection(counted: counted, balanceAtCountTime: balance)
            guard correction != 0 else { return .alreadyApplied(current) }
            let movement = try InventoryMovement(
                sku: sku, location: location, delta: correction, reason: .countCorrection, occurredAt: asOf,
                source: source, sourceKey: sourceKey)
            let outcome = try await record(movement, in: session, now: now)
            guard case .applied(let position) = outcome else { return outcome }
            return .corrected(position, correction: correction)

        case let .reserve(reservation, policy):
            let current = try await lockPosition(sku: reservation.sku, location: reservation.location, in: session, now: now)
            if let existing = try await loadReservation(reservation.id, in: session) {
                guard existing.matches(reservation) else {
                    throw StorageError.rejected(.reservationMismatch(reservation.id, reason: "a different order, SKU, location or quantity"))
                }
                return .alreadyApplied(current)
            }
            let next = try current.reserving(reservation.quantity, policy: policy)
            try await session.execute("""
                INSERT INTO reservations (id, order_id, sku, location, quantity, expires_at, state, created_at, updated_at)
                VALUES (\(reservation.id.rawValue), \(reservation.order.rawValue), \(reservation.sku.rawValue),
                        \(reservation.location.rawValue), \(reservation.quantity), \(reservation.expiresAt.millisecondsSince1970),
                        'active', \(now), \(now))
                """)
            try await save(next, in: session, now: now)
            return .applied(next)

        case let .endReservation(id, final, at, source, sourceKey):
            guard let found = try await loadReservation(id, in: session) else {
                throw StorageError.notFound(kind: "reservation", id: id.rawValue)
            }
            // Every change to a reservation happens under its position's lock: read it again once that is held.
            let current = try await lockPosition(sku: found.sku, location: found.location, in: session, now: now)
            guard let reservation = try await loadReservation(id, in: session, forUpdate: true) else {
                throw StorageError.notFound(kind: "reservation", id: id.rawValue)
            }
            if reservation.state == final || !reservation.mayEnd(as: final, at: at) {
                return .alreadyApplied(current)
            }
            let ended = try reservation.ended(as: final)
            try await session.execute(
                "UPDATE reservations SET state = \(ended.state.rawValue), updated_at = \(now) WHERE id = \(id.rawValue)")
            var next = current.ending(reservation)
            if final == .consumed {
                let sale = try InventoryMovement(
                    sku: reservation.sku, location: reservation.location, delta: -reservation.quantity, reason: .sale,
                    occurredAt: at, source: source, sourceKey: sourceKey)
                guard try await insertLedger(sale, in: session, now: now) else {
                    throw StorageError.conflict("the ledger already has a movement keyed \(source)/\(sourceKey); consuming reservation \(id) needs a key of its own")
                }
                next = next.applying(sale)
            }
            try await save(next, in: session, now: now)
            return .applied(next)

        case let .extendReservation(id, until):
            guard let found = try await loadReservation(id, in: session) else {
                throw StorageError.notFound(kind: "reservation", id: id.rawValue)
            }
            let current = try await lockPosition(sku: found.sku, location: found.location, in: session, now: now)
            guard let reservation = try await loadReservation(id, in: session, forUpdate: true) else {
                throw StorageError.notFound(kind: "reservation", id: id.rawValue)
            }
            guard reservation.state == .active else { throw StorageError.rejected(.reservationNotActive(id, state: reservation.state)) }
            if reservation.expiresAt.millisecondsSince1970 == until.millisecondsSince1970 { return .alreadyApplied(current) }
            try await session.execute("""
                UPDATE reservations SET expires_at = \(until.millisecondsSince1970), updated_at = \(now) WHERE id = \(id.rawValue)
                """)
            return .applied(current)

        case let .setSafetyStock(sku, location, quantity):
            guard quantity >= 0, quantity <= InventoryMovement.maximumMagnitude else {
                throw StorageError.rejected(.invalidQuantity(quantity, reason: "safety stock must be between 0 and \(InventoryMovement.maximumMagnitude)"))
            }
            var next = try await lockPosition(sku: sku, location: location, in: session, now: now)
            next.safetyStock = quantity
            try await save(next, in: session, now: now)
            return .applied(next)
        }
    }

    private static func record(_ movement: InventoryMovement, in session: PostgresSession, now: Int64) async throws -> InventoryOutcome {
        let current = try await lockPosition(sku: movement.sku, location: movement.location, in: session, now: now)
        guard try await insertLedger(movement, in: session, now: now) else { return .alreadyApplied(current) }
        try await trackTransfer(movement, in: session)
        let next = current.applying(movement)
        try await save(next, in: session, now: now)
        return .applied(next)
    }

    /// Locks the position row of a (SKU, location), creating it at zero when there is none, and returns it: every
    /// change to a position, its ledger and its reservations runs under this lock, so none is lost.
    private static func lockPosition(sku: SKU, location: LocationID, in session: PostgresSession, now: Int64) async throws -> InventoryPosition {
        try await session.execute("""
            INSERT INTO inventory_positions (sku, location, on_hand, reserved, safety_stock, updated_at)
            VALUES (\(sku.rawValue), \(location.rawValue), 0, 0, 0, \(now)) ON CONFLICT DO NOTHING
            """)
        guard let row = try await session.rows("""
            SELECT on_hand, reserved, safety_stock FROM inventory_positions
            WHERE sku = \(sku.rawValue) AND location = \(location.rawValue) FOR UPDATE
            """).first
        else {
            throw StorageError.unavailable(backend: "postgres", reason: "inventory position \(sku)@\(location) vanished after its insert")
        }
        return try position(sku: sku, location: location, from: row)
    }

    /// False when the (source, source key) is already in the ledger.
    private static func insertLedger(_ movement: InventoryMovement, in session: PostgresSession, now: Int64) async throws -> Bool {
        let inserted = try await session.rows("""
            INSERT INTO inventory_ledger (sku, location, delta, reason, occurred_at, recorded_at, source, source_key,
                                          transfer_id, transfer_destination)
            VALUES (\(movement.sku.rawValue), \(movement.location.rawValue), \(movement.delta), \(movement.reason.rawValue),
                    \(movement.occurredAt.millisecondsSince1970), \(now), \(movement.source.rawValue), \(movement.sourceKey),
                    \(movement.transfer?.id), \(movement.transfer?.destination?.rawValue))
            ON CONFLICT (source, source_key) DO NOTHING RETURNING 1
            """)
        return !inserted.isEmpty
    }

    /// As `SQLiteStore.trackTransfer`.
    private static func trackTransfer(_ movement: InventoryMovement, in session: PostgresSession) async throws {
        guard let transfer = movement.transfer else { return }
        if movement.reason == .transferOut, let destination = transfer.destination {
            try await session.execute("""
                INSERT INTO transfers (id, sku, origin, destination, shipped, received)
                VALUES (\(transfer.id), \(movement.sku.rawValue), \(movement.location.rawValue), \(destination.rawValue), \(-movement.delta), 0)
                ON CONFLICT (id, sku) DO UPDATE SET shipped = transfers.shipped + excluded.shipped, origin = COALESCE(transfers.origin, excluded.origin)
                """)
        } else if movement.reason == .transferIn {
            try await session.execute("""
                INSERT INTO transfers (id, sku, origin, destination, shipped, received)
                VALUES (\(transfer.id), \(movement.sku.rawValue), NULL, \(movement.location.rawValue), 0, \(movement.delta))
                ON CONFLICT (id, sku) DO UPDATE SET received = transfers.received + excluded.received
                """)
        }
    }

    private static func save(_ position: InventoryPosition, in session: PostgresSession, now: Int64) async throws {
        try await session.execute("""
            INSERT INTO inventory_positions (sku, location, on_hand, reserved, safety_stock, updated_at)
            VALUES (\(position.sku.rawValue), \(position.location.rawValue), \(position.onHand), \(position.reserved),
                    \(position.safetyStock), \(now))
            ON CONFLICT (sku, location) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,
                safety_stock = EXCLUDED.safety_stock, updated_at = EXCLUDED.updated_at
            """)
    }

    static func position(sku: SKU, location: LocationID, from row: PostgresRandomAccessRow) throws -> InventoryPosition {
        InventoryPosition(
            sku: sku, location: location, onHand: try row.decode("on_hand", as: Int64.self),
            reserved: try row.decode("reserved", as: Int64.self), safetyStock: try row.decode("safety_stock", as: Int64.self))
    }

    static func balance(sku: SKU, location: LocationID, asOf: Int64, in session: PostgresSession) async throws -> Int64 {
        try await session.value("""
            SELECT COALESCE(SUM(delta), 0)::BIGINT FROM inventory_ledger
            WHERE sku = \(sku.rawValue) AND location = \(location.rawValue) AND occurred_at <= \(asOf)
            """, as: Int64.self) ?? 0
    }

    static func loadReservation(_ id: ReservationID, in session: PostgresSession, forUpdate: Bool = false) async throws -> Reservation? {
        let rows = forUpdate
            ? try await session.rows("SELECT * FROM reservations WHERE id = \(id.rawValue) FOR UPDATE")
            : try await session.rows("SELECT * FROM reservations WHERE id = \(id.rawValue)")
        return try rows.first.map(reservation(from:))
    }

    static func reservation(from row: PostgresRandomAccessRow) throws -> Reservation {
        Reservation(
            id: ReservationID(trusted: try row.decode("id", as: String.self)),
            order: OrderID(trusted: try row.decode("order_id", as: String.self)),
            sku: SKU(trusted: try row.decode("sku", as: String.self)),
            location: LocationID(trusted: try row.decode("location", as: String.self)),
            quantity: try row.decode("quantity", as: Int64.self),
            expiresAt: Date(milliseconds: try row.decode("expires_at", as: Int64.self)),
            state: ReservationState(rawValue: try row.decode("state", as: String.self)) ?? .active)
    }

    // MARK: Workflows

    private static func applyWorkflow(_ change: WorkflowChange, in session: PostgresSession) async throws {
        switch change {
        case .start(let run):
            let inserted = try await session.rows(try """
                INSERT INTO workflow_runs (id, type, version, state, correlation_id, input, wait_step, wait_until, wait_event,
                                           created_at, updated_at)
                VALUES (\(run.id.rawValue), \(run.type), \(run.version), \(run.state.rawValue), \(run.correlationID.rawValue),
                        \(run.input), \(run.wait?.stepIndex), \(run.wait?.until.millisecondsSince1970), \(run.wait?.eventType),
                        \(run.createdAt.millisecondsSince1970), \(run.updatedAt.millisecondsSince1970))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            guard !inserted.isEmpty else { throw StorageError.conflict("workflow run \(run.id) already exists") }

        case let .recordStep(runID, step):
            let exists = try await session.value(
                "SELECT EXISTS (SELECT 1 FROM workflow_runs WHERE id = \(runID.rawValue))", as: Bool.self) ?? false
            guard exists else { throw StorageError.notFound(kind: "workflow run", id: runID.rawValue) }
            let inserted = try await session.rows(try """
                INSERT INTO workflow_steps (run_id, step_index, name, status, output, recorded_at)
                VALUES (\(runID.rawValue), \(step.index), \(step.name), \(step.status.rawValue), \(step.output),
                        \(step.recordedAt.millisecondsSince1970))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            guard !inserted.isEmpty else {
                throw StorageError.conflict("step \(step.index) of workflow run \(runID) is already recorded")
            }
            try await session.execute(
                """
                UPDATE workflow_runs SET updated_at = \(step.recordedAt.millisecondsSince1970), wait_step = NULL,
                       wait_until = NULL, wait_event = NULL
                WHERE id = \(runID.rawValue)
                """)

        case let .markCompensated(runID, index, at):
            let updated = try await session.rows("""
                UPDATE workflow_steps SET status = 'compensated', recorded_at = \(at.millisecondsSince1970)
                WHERE run_id = \(runID.rawValue) AND step_index = \(index) AND status = 'completed' RETURNING 1
                """)
            guard !updated.isEmpty else {
                throw StorageError.notFound(kind: "completed workflow step", id: "\(runID)#\(index)")
            }

        case let .setState(runID, state, at):
            let updated = try await session.rows("""
                UPDATE workflow_runs SET state = \(state.rawValue), updated_at = \(at.millisecondsSince1970)
                WHERE id = \(runID.rawValue) RETURNING 1
                """)
            guard !updated.isEmpty else { throw StorageError.notFound(kind: "workflow run", id: runID.rawValue) }

        case let .setWait(runID, wait, at):
            let updated = try await session.rows("""
                UPDATE workflow_runs SET wait_step = \(wait?.stepIndex), wait_until = \(wait?.until.millisecondsSince1970),
                       wait_event = \(wait?.eventType), updated_at = \(at.millisecondsSince1970)
                WHERE id = \(runID.rawValue) RETURNING 1
                """)
            guard !updated.isEmpty else { throw StorageError.notFound(kind: "workflow run", id: runID.rawValue) }
        }
    }

    // MARK: Access

    private static func applyPricing(_ change: PricingChange, in session: PostgresSession) async throws {
        switch change {
        case .price(let entry):
            let inserted = try await session.rows("""
                INSERT INTO prices (sku, channel, country, version, price, currency, valid_from, valid_until)
                VALUES (\(entry.sku.rawValue), \(entry.channel.rawValue), \(entry.country), \(entry.version), \(entry.price.minorUnits),
                        \(entry.price.currency.code), \(entry.from.millisecondsSince1970), \(entry.until?.millisecondsSince1970))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            guard !inserted.isEmpty else {
                throw StorageError.conflict("price version \(entry.version) of \(entry.sku) on \(entry.channel) in \(entry.country) exists already")
            }
        case let .promotion(promotion, at):
            try await session.execute("""
                INSERT INTO promotions (id, body, valid_from, valid_until, updated_at)
                VALUES (\(promotion.id), \(try promotion.storageJSON()), \(promotion.from.millisecondsSince1970), \(promotion.until.millisecondsSince1970),
                        \(at.millisecondsSince1970))
                ON CONFLICT (id) DO UPDATE SET body = excluded.body, valid_from = excluded.valid_from, valid_until = excluded.valid_until,
                    updated_at = excluded.updated_at
                """)
        }
    }

    private static func applyJournal(_ change: JournalChange, in session: PostgresSession) async throws {
        switch change {
        case .record(let row):
            try await session.execute("""
                INSERT INTO journal (id, kind, location, channel, business_day, currency, total, recorded_at, daily, summary, document, posted_at)
                VALUES (\(row.id), \(row.kind.rawValue), \(row.location?.rawValue), \(row.channel?.rawValue), \(row.businessDay), \(row.currency),
                        \(row.total), \(row.recordedAt.millisecondsSince1970), \(row.daily), \(row.summary), \(row.document),
                        \(row.postedAt?.millisecondsSince1970))
                ON CONFLICT (id) DO NOTHING
                """)
        case let .posted(id, document, at):
            try await session.execute("""
                UPDATE journal SET document = \(document), posted_at = \(at.millisecondsSince1970) WHERE id = \(id) AND document IS NULL
                """)
        case let .summarised(ids, summary):
            try await session.execute("UPDATE journal SET summary = \(summary) WHERE id = ANY(\(ids)) AND summary IS NULL")
        }
    }

    private static func applyAccess(_ change: AccessChange, in session: PostgresSession) async throws {
        switch change {
        case .createKey(let key):
            let inserted = try await session.rows("""
                INSERT INTO api_keys (id, client, scopes, locations, secret_hash, rate_per_second, burst, created_at, expires_at, revoked_at)
                VALUES (\(key.id), \(key.client), \(key.scopes.joined(separator: " ")),
                        \(key.locations.map { $0.map(\.rawValue).joined(separator: "\n") }), \(key.secretHash), \(key.ratePerSecond),
                        \(key.burst), \(key.createdAt.millisecondsSince1970), \(key.expiresAt?.millisecondsSince1970),
                        \(key.revokedAt?.millisecondsSince1970))
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            guard !inserted.isEmpty else { throw StorageError.conflict("API key \(key.id) already exists") }
        case let .revokeKey(id, at):
            let updated = try await session.rows("""
                UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(at.millisecondsSince1970)) WHERE id = \(id) RETURNING 1
                """)
            guard !updated.isEmpty else { throw StorageError.notFound(kind: "API key", id: id) }
        case let .expireKey(id, at):
            let updated = try await session.rows("""
                UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, \(at.millisecondsSince1970)), \(at.millisecondsSince1970))
                WHERE id = \(id) RETURNING 1
                """)
            guard !updated.isEmpty else { throw StorageError.notFound(kind: "API key", id: id) }
        }
    }
}
