import Foundation
import Logging
import ServiceLifecycle
import TillwireStorage

/// How long finished work is kept. Succeeded jobs are deleted when they complete; pending and running work is
/// never purged; the dead-letter replay audit is kept.
public struct RetentionPolicy: Sendable, Hashable {
    /// Dead jobs last changed longer ago are deleted; nil keeps them until replayed (default). Deleting a dead job
    /// lets the jobs of its partition key that waited behind it run.
    public var deadJobs: Duration?
    /// Completed and compensated workflow runs, with their steps. Default 30 days.
    public var finishedWorkflows: Duration?
    /// The responses kept for `Idempotency-Key`s. Default 7 days: longer than the retry horizon of Shopify (48 h)
    /// and of the common webhook senders.
    public var idempotencyKeys: Duration?

    public init(
        deadJobs: Duration? = nil, finishedWorkflows: Duration? = .seconds(30 * 86_400), idempotencyKeys: Duration? = .seconds(7 * 86_400)
    ) {
        self.deadJobs = deadJobs
        self.finishedWorkflows = finishedWorkflows
        self.idempotencyKeys = idempotencyKeys
    }
}

/// A `Service` that purges what the retention policy lets go, shortly after start and then every `interval`
/// (default 1 h), in batches of 1,000 so that no transaction holds the database for long.
public struct RetentionSweeper: Service {
    let store: any Store
    let policy: RetentionPolicy
    let interval: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    public init(store: any Store, policy: RetentionPolicy, interval: Duration = .seconds(3_600), logger: Logger,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        var wait = Duration.seconds(10)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let pause = wait
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) } } catch { return }
            wait = interval
            do {
                let purged = try await sweep()
                if purged.deadJobs + purged.workflowRuns > 0 {
                    logger.info("retention: purged finished work", metadata: [
                        "dead_jobs": "\(purged.deadJobs)", "workflow_runs": "\(purged.workflowRuns)"])
                }
            } catch {
                logger.error("retention sweep failed; trying again at the next interval", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Purges everything past its retention now; returns what was deleted.
    @discardableResult
    public func sweep() async throws -> PurgeCount {
        let now = now()
        let deadBefore = policy.deadJobs.map { now - $0.timeInterval }
        let runsBefore = policy.finishedWorkflows.map { now - $0.timeInterval }
        var total = PurgeCount(deadJobs: 0, workflowRuns: 0)
        while true {
            let batch = try await store.purge(deadJobsBefore: deadBefore, finishedWorkflowsBefore: runsBefore, limit: 1_000)
            total.deadJobs += batch.deadJobs
            total.workflowRuns += batch.workflowRuns
            if batch.deadJobs < 1_000 && batch.workflowRuns < 1_000 { break }
        }
        if let keep = policy.idempotencyKeys {
            while try await store.purgeIdempotencyKeys(before: now - keep.timeInterval, limit: 1_000) == 1_000 {}
        }
        return total
    }
}
