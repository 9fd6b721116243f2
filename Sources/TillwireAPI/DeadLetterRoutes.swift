import Foundation
import Synchronization
import Hummingbird
import TillwireEngine
import TillwireStorage

/// `/v1/dead-letters` (scope `admin`): list, show and replay dead jobs, as `tillwire dlq` does. Each replay is
/// audited with the client that asked and its reason; `/v1/audit` reads the audit log.
enum DeadLetterRoutes {
    struct JobView: ResponseEncodable {
        let id: String
        let kind: String
        let state: String
        let attempts: Int
        let max_attempts: Int
        let partition_key: String?
        let last_error: String?
        let last_run: String
        let created_at: String
        let payload: String
        let why: String?
        let replays: [ReplayView]?

        init(_ job: Job, why: String? = nil, replays: [JobReplay]? = nil) {
            id = job.id.rawValue
            kind = job.kind
            state = job.state.rawValue
            attempts = job.attempts
            max_attempts = job.maxAttempts
            partition_key = job.partitionKey
            last_error = job.lastError
            last_run = job.runAt.ISO8601Format()
            created_at = job.createdAt.ISO8601Format()
            payload = String(decoding: job.payload, as: UTF8.self)
            self.why = why
            self.replays = replays?.map(ReplayView.init)
        }
    }

    struct ReplayView: Codable {
        let replayed_by: String
        let replayed_at: String
        let reason: String
        let previous_error: String?

        init(_ replay: JobReplay) {
            replayed_by = replay.replayedBy
            replayed_at = replay.replayedAt.ISO8601Format()
            reason = replay.reason
            previous_error = replay.previousError
        }
    }

    struct List: ResponseEncodable {
        let dead_letters: [JobView]
    }

    struct Jobs: ResponseEncodable {
        let jobs: [JobView]
    }

    struct ReplayRequest: Decodable {
        /// Job ids; leave out to replay every dead job matching `filter`.
        let ids: [String]?
        let filter: FilterBody?
        /// Why (kept in the audit). Required.
        let reason: String
        /// Only say what would be replayed.
        let dry_run: Bool?
    }

    struct FilterBody: Decodable {
        let kind: String?
        let system: String?
        let since: String?
        let until: String?
        let limit: Int?
    }

    struct ReplayResult: ResponseEncodable {
        let dry_run: Bool
        let replayed: [String]
    }

    struct AuditList: ResponseEncodable {
        let entries: [AuditView]
        /// Pass as `after` to read on.
        let next_after: Int64?
    }

    struct AuditView: Codable {
        let sequence: Int64
        let at: String
        let actor: String
        let action: String
        let target: String?
        let request_id: String?
        let outcome: String
        let detail: String?
    }

    static func add(to group: RouterGroup<HubRequestContext>, store: any Store, systems: SystemGate? = nil) {
        group.get("/dead-letters") { request, _ -> List in
            let query = request.uri.queryParameters
            let filter = try deadJobFilter(
                kind: query["kind"].map(String.init), system: query["system"].map(String.init),
                since: query["since"].map(String.init), until: query["until"].map(String.init), limit: query["limit"].map(String.init))
            return List(dead_letters: try await store.deadJobs(matching: filter).map { JobView($0) })
        }

        // One job, whatever its state, with why it is where it is.
        let showJob = { @Sendable (_ request: Request, context: HubRequestContext) async throws -> JobView in
            let id = try context.parameters.require("id")
            guard let job = try await store.job(JobID(trusted: id)) else {
                throw Problem.notFound("no job \(id) (completed jobs are deleted)")
            }
            return JobView(job, why: try await OperationsPages.explain(job, store: store, systems: systems, now: Date()),
                           replays: try await store.replays(of: job.id))
        }
        group.get("/dead-letters/{id}", use: showJob)
        group.get("/jobs/{id}", use: showJob)

        group.get("/jobs") { request, _ -> Jobs in
            let query = request.uri.queryParameters
            let name = query["state"].map(String.init) ?? JobState.pending.rawValue
            guard let state = JobState(rawValue: name) else {
                throw Problem.invalid("state is one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")), not '\(name.prefix(32))'", field: "state")
            }
            let limit = try query["limit"].map { text -> Int in
                guard let value = Int(text), (1...1_000).contains(value) else { throw Problem.invalid("limit must be 1-1000", field: "limit") }
                return value
            } ?? 100
            let now = Date()
            var views: [JobView] = []
            for job in try await store.jobs(in: state, limit: limit) {
                views.append(JobView(job, why: try await OperationsPages.explain(job, store: store, systems: systems, now: now)))
            }
            return Jobs(jobs: views)
        }

        group.post("/dead-letters/replay") { request, context -> ReplayResult in
            let body = try await request.decodeJSON(as: ReplayRequest.self, context: context)
            guard !body.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw Problem.invalid("say why the jobs are replayed; it is kept in the audit", field: "reason")
            }
            guard (body.ids == nil) != (body.filter == nil) else {
                throw Problem.invalid("give either ids or filter, not both or neither", field: body.ids == nil ? "ids" : "filter")
            }
            let targets: [Job]
            if let ids = body.ids {
                var found: [Job] = []
                for (index, id) in ids.enumerated() {
                    guard let job = try await store.job(JobID(trusted: id)), job.state == .dead else {
                        throw Problem.invalid("job \(id) is not a dead job", field: "ids[\(index)]")
                    }
                    found.append(job)
                }
                targets = found
            } else {
                let filter = body.filter!
                targets = try await store.deadJobs(matching: try deadJobFilter(
                    kind: filter.kind, system: filter.system, since: filter.since, until: filter.until, limit: filter.limit.map(String.init),
                    prefix: "filter."))
            }
            if body.dry_run == true { return ReplayResult(dry_run: true, replayed: targets.map(\.id.rawValue)) }
            let actor = context.client.map { "\($0.client) (key \($0.keyID))" } ?? "unknown"
            let replayed = try await store.replayDeadJobs(targets.map(\.id), by: actor, reason: body.reason, now: Date())
            return ReplayResult(dry_run: false, replayed: replayed.map(\.rawValue))
        }

        group.get("/audit") { request, _ -> AuditList in
            let query = request.uri.queryParameters
            let after = try query["after"].map { text -> Int64 in
                guard let value = Int64(text), value >= 0 else { throw Problem.invalid("after must be a sequence number ≥ 0", field: "after") }
                return value
            } ?? 0
            let limit = try query["limit"].map { text -> Int in
                guard let value = Int(text), (1...1_000).contains(value) else { throw Problem.invalid("limit must be 1-1000", field: "limit") }
                return value
            } ?? 100
            let entries = try await store.auditLog(after: after, limit: limit)
            return AuditList(entries: entries.map {
                AuditView(sequence: $0.sequence, at: $0.at.ISO8601Format(), actor: $0.actor, action: $0.action, target: $0.target,
                          request_id: $0.requestID, outcome: $0.outcome, detail: $0.detail)
            }, next_after: entries.last?.sequence)
        }
    }

    static func deadJobFilter(kind: String?, system: String?, since: String?, until: String?, limit: String?, prefix: String = "") throws -> DeadJobFilter {
        func time(_ text: String?, _ name: String) throws -> Date? {
            guard let text else { return nil }
            guard let date = parseTimestamp(text) else {
                throw Problem.invalid("an ISO 8601 time like 2026-11-27T08:00:00Z is expected", field: prefix + name)
            }
            return date
        }
        var filter = DeadJobFilter(kind: kind, system: system, since: try time(since, "since"), until: try time(until, "until"))
        if let limit {
            guard let value = Int(limit), (1...1_000).contains(value) else { throw Problem.invalid("limit must be 1-1000", field: prefix + "limit") }
            filter.limit = value
        }
        return filter
    }
}

/// An RFC 3339 / ISO 8601 time with a zone, with or without fractional seconds.
public func parseTimestamp(_ text: String) -> Date? {
    // Making a formatter costs more than parsing with it (measured: a third of a 1,000-movement request), so two are
    // kept and shared; they are not safe to use from two threads at once.
    timestampParsers.withLock { parsers in
        parsers.plain.date(from: text) ?? parsers.fractional.date(from: text)
    }
}

private final class TimestampParsers {
    let plain = ISO8601DateFormatter()
    let fractional: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

private let timestampParsers = Mutex(TimestampParsers())
