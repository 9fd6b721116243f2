import Foundation
import Instrumentation
import ServiceContextModule
import TillwireDomain

public enum JobTag {}
/// A durable job.
public typealias JobID = Identifier<JobTag>

/// A job to enqueue in a commit. All I/O toward external systems runs as jobs.
public struct NewJob: Sendable {
    public let id: JobID
    /// What the job does, e.g. `erp.post_sale`; workers pick the handler by kind.
    public let kind: String
    public let payload: Data
    /// Jobs with the same partition key are meant to run in order (an order id, a SKU-location).
    public let partitionKey: String?
    /// When set, a job with this key that is still queued, running or dead makes this one a no-op.
    public let uniqueKey: String?
    /// When set, a job with this key that is still pending (not yet claimed) absorbs this one: the job enqueued
    /// first does the work for both. For work that reads the latest state when it runs, such as publishing a
    /// figure. Once that job is running, a new one is enqueued. (On PostgreSQL two concurrent commits may both
    /// enqueue; the second job then does the same work again.)
    public let coalesceKey: String?
    public let runAt: Date
    /// Attempts before the job is dead. Default 10.
    public let maxAttempts: Int
    /// The W3C `traceparent` of the span that enqueued it (the request or job whose commit carries it), so that the
    /// job's span continues that trace; nil when nothing is traced.
    public let traceParent: String?

    public init(
        id: JobID = .random(), kind: String, payload: Data = Data(), partitionKey: String? = nil,
        uniqueKey: String? = nil, coalesceKey: String? = nil, runAt: Date, maxAttempts: Int = 10,
        traceParent: String? = currentTraceParent()
    ) {
        self.traceParent = traceParent
        self.id = id
        self.coalesceKey = coalesceKey
        self.kind = kind
        self.payload = payload
        self.partitionKey = partitionKey
        self.uniqueKey = uniqueKey
        self.runAt = runAt
        self.maxAttempts = maxAttempts
    }
}

/// How many jobs of one kind are in one state, and since when the longest-waiting of those already due has been due.
public struct JobQueueStatistic: Sendable, Hashable {
    public let kind: String
    public let state: JobState
    public let count: Int
    /// The earliest `runAt` among them that has come; nil when none is due yet (timers for later).
    public let oldestDueAt: Date?

    public init(kind: String, state: JobState, count: Int, oldestDueAt: Date?) {
        self.kind = kind
        self.state = state
        self.count = count
        self.oldestDueAt = oldestDueAt
    }
}

/// Where a job is. Succeeded jobs are deleted at completion: finished rows in the hot table slow every claim.
public enum JobState: String, Sendable, Codable, CaseIterable {
    /// Waiting for `runAt` (first run or a retry).
    case pending
    /// Claimed by a worker that holds a lease until `leaseExpiresAt`.
    case running
    /// Out of attempts or failed terminally; kept with its last error for inspection and replay.
    case dead
}

/// A job as stored.
public struct Job: Sendable, Hashable {
    public let id: JobID
    public let kind: String
    public let payload: Data
    public let partitionKey: String?
    public let uniqueKey: String?
    public let state: JobState
    /// Claims so far, including the current one.
    public let attempts: Int
    public let maxAttempts: Int
    public let runAt: Date
    public let leaseOwner: String?
    public let leaseExpiresAt: Date?
    public let lastError: String?
    /// Why a pending job was put back without running (a maintenance window, an open circuit, throttling).
    public let waitReason: String?
    public let createdAt: Date
    /// The trace it continues (`NewJob.traceParent`).
    public let traceParent: String?

    public init(
        id: JobID, kind: String, payload: Data, partitionKey: String?, uniqueKey: String?, state: JobState,
        attempts: Int, maxAttempts: Int, runAt: Date, leaseOwner: String?, leaseExpiresAt: Date?,
        lastError: String?, waitReason: String? = nil, createdAt: Date, traceParent: String? = nil
    ) {
        self.traceParent = traceParent
        self.id = id
        self.kind = kind
        self.payload = payload
        self.partitionKey = partitionKey
        self.uniqueKey = uniqueKey
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
        self.waitReason = waitReason
        self.createdAt = createdAt
    }
}

/// How a failed attempt ends.
public enum JobFailure: Sendable {
    /// Try again at this time (backoff, or the external system's `Retry-After`), unless attempts are used up.
    case retry(at: Date, error: String)
    /// Do not try again (a 4xx that will not change): the job goes straight to `dead`.
    case terminal(error: String)
}

/// Which dead jobs to list or replay. Every field narrows; none set means all.
public struct DeadJobFilter: Sendable, Hashable {
    /// Exactly this kind (`erp.post_sale`).
    public var kind: String?
    /// Kinds of one external system: kinds are named `<system>.<action>`, so `erp` matches `erp.post_sale`.
    public var system: String?
    /// Died at or after this time.
    public var since: Date?
    /// Died before this time.
    public var until: Date?
    /// At most this many, oldest first. Default 100.
    public var limit: Int

    public init(kind: String? = nil, system: String? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 100) {
        self.kind = kind
        self.system = system
        self.since = since
        self.until = until
        self.limit = limit
    }
}

/// One replay of a dead job: who, when, why, and the error it had died with.
public struct JobReplay: Sendable, Hashable {
    public let job: JobID
    public let kind: String
    public let replayedBy: String
    public let replayedAt: Date
    public let reason: String
    public let previousError: String?

    public init(job: JobID, kind: String, replayedBy: String, replayedAt: Date, reason: String, previousError: String?) {
        self.job = job
        self.kind = kind
        self.replayedBy = replayedBy
        self.replayedAt = replayedAt
        self.reason = reason
        self.previousError = previousError
    }
}

/// The W3C `traceparent` of the current span, as the bootstrapped instrument writes it; nil when none is set up.
public func currentTraceParent() -> String? {
    guard let context = ServiceContext.current else { return nil }
    var carrier: [String: String] = [:]
    InstrumentationSystem.instrument.inject(context, into: &carrier, using: TraceParentInjector())
    return carrier["traceparent"]
}

struct TraceParentInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
