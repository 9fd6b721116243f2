import Foundation
import GRDB
import TillwireDomain
import TillwireStorage

extension SQLiteStore {
    public func claimJobs(owner: String, kinds: [String]?, limit: Int, lease: Duration, now: Date) async throws -> [Job] {
        let nowMs = now.millisecondsSince1970
        let until = (now + lease.timeInterval).millisecondsSince1970
        return try await write { db in
            // A job whose worker died on its last attempt is dead, not claimed again.
            try db.execute(sql: """
                UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?,
                    last_error = COALESCE(last_error || '; ', '') || 'lease expired on the final attempt'
                WHERE state = 'running' AND lease_expires_at <= ? AND attempts >= max_attempts
                """, arguments: [nowMs, nowMs])
            // A job with a partition key waits while an older job of that key exists (pending, running or dead):
            // a key's jobs run one at a time, in the order they were enqueued. rowid orders the rows that exist.
            // Two queries, each walking the (state, run_at) index in order and stopping at the limit: expired leases
            // first (work that was already started), then due pending jobs.
            var kindFilter = ""
            var kindArguments: StatementArguments = []
            if let kinds {
                guard !kinds.isEmpty else { return [] }
                kindFilter = " AND kind IN (\(Array(repeating: "?", count: kinds.count).joined(separator: ", ")))"
                kindArguments = StatementArguments(kinds)
            }
            let partitionFree = """
                (j.partition_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM jobs older WHERE older.partition_key = j.partition_key AND older.rowid < j.rowid))
                """
            var ids = try String.fetchAll(db, sql: """
                SELECT id FROM jobs j WHERE state = 'running' AND lease_expires_at <= ? AND \(partitionFree)\(kindFilter)
                ORDER BY run_at, rowid LIMIT ?
                """, arguments: [nowMs] + kindArguments + [limit])
            if ids.count < limit {
                ids += try String.fetchAll(db, sql: """
                    SELECT id FROM jobs j WHERE state = 'pending' AND run_at <= ? AND \(partitionFree)\(kindFilter)
                    ORDER BY run_at, rowid LIMIT ?
                    """, arguments: [nowMs] + kindArguments + [limit - ids.count])
            }
            var claimed: [Job] = []
            for id in ids {
                try db.cachedStatement(sql: """
                    UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1,
                        updated_at = ? WHERE id = ?
                    """).execute(arguments: [owner, until, nowMs, id])
                if let row = try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]) {
                    claimed.append(Self.job(from: row))
                }
            }
            return claimed
        }
    }

    public func heartbeat(_ job: JobID, owner: String, lease: Duration, now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?",
                arguments: [(now + lease.timeInterval).millisecondsSince1970, now.millisecondsSince1970, job.rawValue, owner])
            return db.changesCount > 0
        }
    }

    public func completeJob(_ job: JobID, owner: String, effects: Commit) async throws -> CommitOutcome? {
        let now = Date()
        let outcome = try await write { db -> CommitOutcome? in
            try db.execute(
                sql: "DELETE FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?",
                arguments: [job.rawValue, owner])
            guard db.changesCount > 0 else { return nil }
            return try Self.apply(effects, in: db, now: now)
        }
        if case .committed(let receipt)? = outcome, !receipt.events.isEmpty { eventSignal.signal() }
        return outcome
    }

    public func failJob(_ job: JobID, owner: String, failure: JobFailure, now: Date) async throws -> Bool {
        try await write { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT attempts, max_attempts FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?",
                arguments: [job.rawValue, owner])
            else { return false }
            let attempts: Int = row["attempts"]
            let maxAttempts: Int = row["max_attempts"]
            switch failure {
            case let .retry(at, error) where attempts < maxAttempts:
                try db.execute(sql: """
                    UPDATE jobs SET state = 'pending', run_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                        last_error = ?, wait_reason = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [at.millisecondsSince1970, error, now.millisecondsSince1970, job.rawValue])
            case let .retry(_, error), let .terminal(error):
                try db.execute(sql: """
                    UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL, last_error = ?,
                        updated_at = ? WHERE id = ?
                    """, arguments: [error, now.millisecondsSince1970, job.rawValue])
            }
            return true
        }
    }

    public func deferJob(_ job: JobID, owner: String, until: Date, reason: String, now: Date) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'pending', run_at = ?, attempts = MAX(attempts - 1, 0), lease_owner = NULL,
                    lease_expires_at = NULL, wait_reason = ?, updated_at = ?
                WHERE id = ? AND state = 'running' AND lease_owner = ?
                """, arguments: [until.millisecondsSince1970, reason, now.millisecondsSince1970, job.rawValue, owner])
            return db.changesCount > 0
        }
    }

    public func jobAhead(of id: JobID) async throws -> Job? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT j.* FROM jobs j JOIN jobs me ON me.id = ?
                WHERE j.partition_key = me.partition_key AND j.rowid < me.rowid ORDER BY j.rowid LIMIT 1
                """, arguments: [id.rawValue]).map(Self.job(from:))
        }
    }

    public func job(_ id: JobID) async throws -> Job? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id.rawValue]).map(Self.job(from:))
        }
    }

    public func jobs(in state: JobState, limit: Int) async throws -> [Job] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM jobs WHERE state = ? ORDER BY run_at, created_at LIMIT ?",
                arguments: [state.rawValue, limit]
            ).map(Self.job(from:))
        }
    }

    public func jobQueueStatistics(now: Date) async throws -> [JobQueueStatistic] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT kind, state, COUNT(*) AS n, MIN(CASE WHEN run_at <= ? THEN run_at END) AS due FROM jobs GROUP BY kind, state ORDER BY kind, state
                """, arguments: [now.millisecondsSince1970]).compactMap { row in
                guard let state = JobState(rawValue: row["state"]) else { return nil }
                let due: Int64? = row["due"]
                return JobQueueStatistic(kind: row["kind"], state: state, count: row["n"], oldestDueAt: due.map { Date(milliseconds: $0) })
            }
        }
    }

    public func deadJobs(matching filter: DeadJobFilter) async throws -> [Job] {
        var sql = "SELECT * FROM jobs WHERE state = 'dead'"
        var arguments: StatementArguments = []
        if let kind = filter.kind { sql += " AND kind = ?"; arguments += [kind] }
        if let system = filter.system { sql += " AND substr(kind, 1, ?) = ?"; arguments += [system.utf8.count + 1, system + "."] }
        if let since = filter.since { sql += " AND updated_at >= ?"; arguments += [since.millisecondsSince1970] }
        if let until = filter.until { sql += " AND updated_at < ?"; arguments += [until.millisecondsSince1970] }
        sql += " ORDER BY updated_at, id LIMIT ?"
        arguments += [filter.limit]
        let query = sql, bound = arguments
        return try await read { db in try Row.fetchAll(db, sql: query, arguments: bound).map(Self.job(from:)) }
    }

    public func replayDeadJobs(_ ids: [JobID], by actor: String, reason: String, now: Date) async throws -> [JobID] {
        let nowMs = now.millisecondsSince1970
        return try await write { db in
            var replayed: [JobID] = []
            for id in ids {
                guard let row = try Row.fetchOne(db, sql: "SELECT kind, last_error FROM jobs WHERE id = ? AND state = 'dead'", arguments: [id.rawValue]) else { continue }
                try db.execute(sql: """
                    UPDATE jobs SET state = 'pending', attempts = 0, run_at = ?, wait_reason = NULL, updated_at = ? WHERE id = ?
                    """, arguments: [nowMs, nowMs, id.rawValue])
                try db.execute(sql: """
                    INSERT INTO job_replays (job_id, kind, replayed_by, replayed_at, reason, previous_error) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [id.rawValue, row["kind"] as String, actor, nowMs, reason, row["last_error"] as String?])
                replayed.append(id)
            }
            return replayed
        }
    }

    public func replays(of job: JobID) async throws -> [JobReplay] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job_replays WHERE job_id = ? ORDER BY sequence", arguments: [job.rawValue]).map { row in
                JobReplay(job: job, kind: row["kind"], replayedBy: row["replayed_by"], replayedAt: Date(milliseconds: row["replayed_at"]),
                          reason: row["reason"], previousError: row["previous_error"])
            }
        }
    }

    static func job(from row: Row) -> Job {
        Job(
            id: JobID(trusted: row["id"]), kind: row["kind"], payload: row["payload"], partitionKey: row["partition_key"],
            uniqueKey: row["unique_key"], state: JobState(rawValue: row["state"]) ?? .dead, attempts: row["attempts"],
            maxAttempts: row["max_attempts"], runAt: Date(milliseconds: row["run_at"]), leaseOwner: row["lease_owner"],
            leaseExpiresAt: (row["lease_expires_at"] as Int64?).map(Date.init(milliseconds:)), lastError: row["last_error"],
            waitReason: row["wait_reason"], createdAt: Date(milliseconds: row["created_at"]), traceParent: row["trace_parent"])
    }

    public func purge(deadJobsBefore: Date?, finishedWorkflowsBefore: Date?, limit: Int) async throws -> PurgeCount {
        try await write { db in
            var count = PurgeCount(deadJobs: 0, workflowRuns: 0)
            if let cutoff = deadJobsBefore {
                try db.execute(sql: """
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE state = 'dead' AND updated_at < ? ORDER BY updated_at LIMIT ?)
                    """, arguments: [cutoff.millisecondsSince1970, limit])
                count.deadJobs = db.changesCount
            }
            if let cutoff = finishedWorkflowsBefore {
                let ids = try String.fetchAll(db, sql: """
                    SELECT id FROM workflow_runs WHERE state IN ('completed', 'compensated') AND updated_at < ?
                    ORDER BY updated_at LIMIT ?
                    """, arguments: [cutoff.millisecondsSince1970, limit])
                for id in ids {
                    try db.execute(sql: "DELETE FROM workflow_steps WHERE run_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM workflow_runs WHERE id = ?", arguments: [id])
                }
                count.workflowRuns = ids.count
            }
            return count
        }
    }

    public func leaseSubscription(_ subscriber: String, owner: String, lease: Duration, now: Date) async throws -> Bool {
        let until = (now + lease.timeInterval).millisecondsSince1970
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO subscription_leases (subscriber, owner, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (subscriber) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
                WHERE subscription_leases.owner = excluded.owner OR subscription_leases.expires_at <= ?
                """, arguments: [subscriber, owner, until, now.millisecondsSince1970])
            return db.changesCount > 0
        }
    }
}
