import Foundation
import TillwireDomain

/// The hub's storage: one database, behind one protocol, with one conformance suite (TillwireTesting's
/// `StoreConformance`) that every backend passes.
///
/// Semantics every backend keeps:
/// - `commit` is atomic and durable when it returns: a crash right after it returned loses none of it.
/// - Writes are serialised per key (stream, SKU-location, job), so concurrent callers never lose an update.
/// - Errors are `StorageError`; a domain rule refusing a change inside a commit is `StorageError.rejected`,
///   and nothing of that commit is written.
public protocol Store: EventLog, JobQueue, InventoryReader, CatalogReader, WorkflowReader, OrderReader, JournalReader, PricingReader, AccessReader, IdempotencyStore, Sendable {
    /// A short name for logs and readiness: `sqlite` or `postgres`.
    var backend: String { get }

    /// Applies the migrations this build knows that the database has not applied. Safe to call from several
    /// instances at once.
    func migrate() async throws -> MigrationStatus
    /// What is applied, without changing anything.
    func migrationStatus() async throws -> MigrationStatus
    /// Commits a unit of work in one transaction. See `Commit`.
    func commit(_ commit: Commit) async throws -> CommitOutcome
    /// Whether the inbox has seen this message key.
    func hasProcessed(_ key: InboxKey) async throws -> Bool
    /// Deletes, up to `limit` of each, dead jobs and finished (completed or compensated) workflow runs last changed
    /// before their cutoff; a nil cutoff keeps them. Pending and running jobs and runs are never purged, and the
    /// replay audit outlives the jobs it describes.
    func purge(deadJobsBefore: Date?, finishedWorkflowsBefore: Date?, limit: Int) async throws -> PurgeCount
    /// Releases connections; the store cannot be used afterwards.
    func close() async throws
}

/// The append-only event log (appends go through `Store.commit`). Positions become visible in position order: a
/// reader that has seen position N will never later find a new event below N, so a checkpoint never skips one.
public protocol EventLog: Sendable {
    /// The events of one stream with versions ≥ `fromVersion`, in version order.
    func readStream(_ stream: StreamID, fromVersion: Int64, limit: Int) async throws -> [EventEnvelope]
    /// The events after a log position, in position order.
    func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope]
    /// The version of a stream's last event; 0 when the stream has none.
    func streamVersion(_ stream: StreamID) async throws -> Int64
    /// Every event of a business flow, in position order.
    func readCorrelation(_ correlationID: CorrelationID, limit: Int) async throws -> [EventEnvelope]
    /// The position of the last event in the log; 0 when it is empty.
    func headPosition() async throws -> Int64
    /// A subscriber's checkpoint: the position of the last event it handled; 0 before its first.
    func checkpoint(_ subscriber: String) async throws -> Int64
    /// Takes or renews the right to run `subscriber` until `now + lease`: true when `owner` holds it now (it was free,
    /// had expired, or was already `owner`'s). Every hub instance runs each subscriber; one at a time does the work
    /// and the others stand by. Correctness does not rest on it: checkpoints only advance from where they were.
    func leaseSubscription(_ subscriber: String, owner: String, lease: Duration, now: Date) async throws -> Bool
    /// Signalled after events are committed (by this process, or on PostgreSQL by any instance).
    var eventSignal: EventSignal { get }
}

/// Durable jobs (enqueued through `Store.commit`).
public protocol JobQueue: Sendable {
    /// Claims up to `limit` jobs that are due (pending with `runAt` ≤ `now`, or running with an expired lease),
    /// oldest `runAt` first, and leases them to `owner` until `now + lease`. Each claim counts as an attempt.
    /// Jobs with a partition key run one at a time per key, in enqueue order: a job waits while an older job of its
    /// key exists, whether pending (a retry), running or dead (it waits behind the dead letter until it is replayed
    /// or removed).
    func claimJobs(owner: String, kinds: [String]?, limit: Int, lease: Duration, now: Date) async throws -> [Job]
    /// Extends a lease; false when the job is no longer leased to `owner` (it expired and was claimed again).
    func heartbeat(_ job: JobID, owner: String, lease: Duration, now: Date) async throws -> Bool
    /// Completes a job leased to `owner`, deleting it, and commits `effects` in the same transaction.
    /// Returns nil, and writes nothing, when the job is no longer leased to `owner`.
    func completeJob(_ job: JobID, owner: String, effects: Commit) async throws -> CommitOutcome?
    /// Records a failed attempt of a job leased to `owner`: back to `pending` at the retry time, or `dead` when the
    /// failure is terminal or attempts are used up. False when the job is no longer leased to `owner`.
    func failJob(_ job: JobID, owner: String, failure: JobFailure, now: Date) async throws -> Bool
    /// Puts a job leased to `owner` back to `pending` until `until` without counting the attempt: the external
    /// system was not called (a maintenance window, an open circuit, throttling). `reason` is kept as the job's
    /// `waitReason`. False when the job is no longer leased to `owner`.
    func deferJob(_ job: JobID, owner: String, until: Date, reason: String, now: Date) async throws -> Bool
    func job(_ id: JobID) async throws -> Job?
    /// The oldest job enqueued before this one with the same partition key: the job it waits behind. Nil when it
    /// has no partition key or nothing is ahead of it.
    func jobAhead(of id: JobID) async throws -> Job?
    /// Jobs in a state, oldest first.
    func jobs(in state: JobState, limit: Int) async throws -> [Job]
    /// Dead jobs matching a filter, oldest first.
    func deadJobs(matching filter: DeadJobFilter) async throws -> [Job]
    /// Puts dead jobs back to `pending`, due now, with their attempts reset, and records who replayed each one and
    /// why (an audit row per job, kept after the job is gone). Ids that are not dead are skipped; returns the ids
    /// that were replayed.
    func replayDeadJobs(_ ids: [JobID], by actor: String, reason: String, now: Date) async throws -> [JobID]
    /// The replay audit of one job, oldest first.
    func replays(of job: JobID) async throws -> [JobReplay]
    /// The queue by kind and state: how many jobs, and since when the longest-waiting of those due at `now` has
    /// been due (jobs that wait for a later time, such as timers, are counted but not waiting yet).
    func jobQueueStatistics(now: Date) async throws -> [JobQueueStatistic]
}

/// Stock as the ledger and the reservations say.
public protocol InventoryReader: Sendable {
    /// The position of a (SKU, location); all zeros when nothing was ever recorded.
    func position(sku: SKU, location: LocationID) async throws -> InventoryPosition
    /// The ledger of a (SKU, location) in the order it was recorded.
    func ledger(sku: SKU, location: LocationID) async throws -> [LedgerEntry]
    /// The sum of the ledger's movements that occurred at or before `asOf`.
    func balance(sku: SKU, location: LocationID, asOf: Date) async throws -> Int64
    func reservation(_ id: ReservationID) async throws -> Reservation?
    /// The active reservations of a (SKU, location).
    func activeReservations(sku: SKU, location: LocationID) async throws -> [Reservation]
    /// Units of a SKU shipped by a transfer out and not yet received, by destination (only destinations with some).
    func inTransit(sku: SKU) async throws -> [LocationID: Int64]
}

/// The locations and products the inventory knows (changed through `Store.commit`).
public protocol CatalogReader: Sendable {
    /// Every location, by id.
    func locations() async throws -> [Location]
    /// The known products among `skus`, by SKU (one read for a whole batch).
    func products(_ skus: [SKU]) async throws -> [SKU: Product]
    /// The positions of a SKU at every location that has one, by location id.
    func positions(sku: SKU) async throws -> [InventoryPosition]
}

/// Durable workflow runs (changed through `Store.commit`).
public protocol WorkflowReader: Sendable {
    /// The run and its recorded steps in index order; nil for an unknown id.
    func workflowRun(_ id: WorkflowRunID) async throws -> (run: WorkflowRun, steps: [WorkflowStep])?
    /// Runs in a state, oldest first.
    func workflowRuns(in state: WorkflowRunState, limit: Int) async throws -> [WorkflowRun]
    /// Runs of a business flow that wait for an event of this type.
    func workflowRuns(waitingFor eventType: String, correlation: CorrelationID) async throws -> [WorkflowRunID]
}

/// What one `Store.purge` deleted.
public struct PurgeCount: Sendable, Hashable {
    public var deadJobs: Int
    public var workflowRuns: Int

    public init(deadJobs: Int, workflowRuns: Int) {
        self.deadJobs = deadJobs
        self.workflowRuns = workflowRuns
    }
}

/// One ledger line as stored.
public struct LedgerEntry: Sendable, Hashable {
    /// Increasing in recording order within one backend.
    public let sequence: Int64
    public let movement: InventoryMovement
    public let recordedAt: Date

    public init(sequence: Int64, movement: InventoryMovement, recordedAt: Date) {
        self.sequence = sequence
        self.movement = movement
        self.recordedAt = recordedAt
    }
}

/// The schema versions this build knows and the ones the database has applied.
public struct MigrationStatus: Sendable, Hashable {
    public let known: [Int]
    public let applied: [Int]

    public init(known: [Int], applied: [Int]) {
        self.known = known
        self.applied = applied
    }

    /// True when every known migration is applied and the database has none this build does not know.
    public var isCurrent: Bool { known == applied }
    public var pending: [Int] { known.filter { !applied.contains($0) } }
}
