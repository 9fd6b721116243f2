import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Tracing
import TillwireDomain
import TillwireStorage

/// Runs one kind of job. All I/O toward external systems happens in handlers.
public protocol JobHandler: Sendable {
    /// The job kind this handler runs, e.g. `erp.post_sale`.
    var kind: String { get }
    /// Does the job's work and returns the state changes, events and jobs that follow from it; they commit in the
    /// same transaction that completes the job. Throw `JobError` to choose between a retry and a dead letter; any
    /// other error is retried.
    func handle(_ job: Job) async throws -> Commit
}

/// How a handler says that an attempt failed.
public enum JobError: Error, Sendable {
    /// Try again later; `retryAfter` (from the external system) is a floor for the backoff.
    case retryable(String, retryAfter: Duration? = nil)
    /// Will not succeed by trying again (for example a 4xx other than 408 and 429): dead letter at once.
    case terminal(String)
}

/// A `Service` that claims due jobs, runs their handlers and records the outcome, until cancelled.
public struct JobWorker: Service {
    public struct Configuration: Sendable {
        /// Identifies this worker's leases. Default: a random id.
        public var owner: String
        /// Jobs claimed and run at once. Default 4.
        public var concurrency: Int
        /// How long a claim is leased; a worker that dies loses its jobs after this. Default 60 s.
        public var lease: Duration
        /// The wait when no job was due. Default 200 ms.
        public var idleWait: Duration
        public var retry: RetryPolicy

        public init(
            owner: String = "worker-" + EventID.random().rawValue.prefix(8), concurrency: Int = 4,
            lease: Duration = .seconds(60), idleWait: Duration = .milliseconds(200), retry: RetryPolicy = RetryPolicy()
        ) {
            self.owner = owner
            self.concurrency = concurrency
            self.lease = lease
            self.idleWait = idleWait
            self.retry = retry
        }
    }

    let store: any Store
    let handlers: [String: any JobHandler]
    let configuration: Configuration
    let gate: SystemGate?
    let logger: Logger
    let now: @Sendable () -> Date

    /// `gate` applies each external system's breaker, rate, concurrency limit and maintenance windows to the jobs
    /// of that system: a blocked system's jobs are not claimed, or are put back without spending an attempt.
    public init(
        store: any Store, handlers: [any JobHandler], configuration: Configuration = Configuration(),
        gate: SystemGate? = nil, logger: Logger, now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.gate = gate
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let worked: Int
            do {
                worked = try await runOnce()
            } catch is CancellationError {
                return
            } catch {
                logger.error("job claim failed", metadata: ["error": "\(error)"])
                worked = 0
            }
            if worked == 0 {
                try? await Task.sleep(for: configuration.idleWait)
            }
        }
    }

    /// Claims due jobs once and runs them; returns how many ran. Tests call this directly.
    @discardableResult
    public func runOnce() async throws -> Int {
        let now = now()
        // Jobs of a system in a maintenance window, paused by a 429 or behind an open circuit stay unclaimed.
        let kinds = handlers.keys.filter { gate?.block(SystemGate.system(ofKind: $0), at: now) == nil }
        guard !kinds.isEmpty else { return 0 }
        let jobs = try await store.claimJobs(
            owner: configuration.owner, kinds: kinds, limit: configuration.concurrency, lease: configuration.lease, now: now)
        await withTaskGroup(of: Void.self) { group in
            for job in jobs {
                group.addTask { await self.traced(job) }
            }
        }
        return jobs.count
    }

    private enum LeaseLost: Error { case lost }

    /// Runs the handler while a heartbeat renews the lease every third of its duration. If a heartbeat finds the
    /// lease gone, the handler is cancelled: another worker owns the job now.
    private func runHoldingLease(_ job: Job, handler: any JobHandler) async throws -> Commit {
        try await withThrowingTaskGroup(of: Commit?.self) { group in
            group.addTask {
                guard let gate else { return try await handler.handle(job) }
                return try await gate.call(SystemGate.system(ofKind: job.kind)) { try await handler.handle(job) }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: configuration.lease / 3)
                    guard try await store.heartbeat(job.id, owner: configuration.owner, lease: configuration.lease, now: now()) else {
                        throw LeaseLost.lost
                    }
                }
            }
            defer { group.cancelAll() }
            guard let effects = try await group.next() ?? nil else { throw LeaseLost.lost }
            return effects
        }
    }

    /// Runs the job in a span that continues the trace of the command that enqueued it (`Job.traceParent`); the
    /// span carries the job's id, kind, attempt, partition key (the order or store it serves) and outcome.
    private func traced(_ job: Job) async {
        var parent = ServiceContext.topLevel
        if let traceParent = job.traceParent {
            InstrumentationSystem.instrument.extract(["traceparent": traceParent], into: &parent, using: TraceParentExtractor())
        }
        await withSpan("job \(job.kind)", context: parent, ofKind: .consumer) { span in
            span.attributes["tillwire.job.id"] = job.id.rawValue
            span.attributes["tillwire.job.kind"] = job.kind
            span.attributes["tillwire.job.attempt"] = job.attempts
            if let key = job.partitionKey { span.attributes["tillwire.partition_key"] = key }
            let outcome = await execute(job)
            span.attributes["tillwire.job.outcome"] = outcome
            if outcome == "dead" || outcome == "retried" { span.setStatus(SpanStatus(code: .error, message: outcome)) }
        }
    }

    struct TraceParentExtractor: Extractor {
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    /// Runs one attempt and records it; returns its outcome (`tillwire_jobs_total`'s label).
    @discardableResult
    private func execute(_ job: Job) async -> String {
        var logger = logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.kind"] = "\(job.kind)"
        logger[metadataKey: "job.attempt"] = "\(job.attempts)"
        guard let handler = handlers[job.kind] else { return "unhandled" }
        let started = ContinuousClock.now
        var result = ""
        // Job kinds are a fixed set (a handler each), so they bound the labels' cardinality.
        func count(_ outcome: String) {
            result = outcome
            Counter(label: "tillwire_jobs_total", dimensions: [("kind", job.kind), ("outcome", outcome)]).increment()
            Timer(label: "tillwire_job_duration_seconds", dimensions: [("kind", job.kind)], preferredDisplayUnit: .seconds)
                .record(duration: ContinuousClock.now - started)
        }
        do {
            let effects = try await runHoldingLease(job, handler: handler)
            if try await store.completeJob(job.id, owner: configuration.owner, effects: effects) == nil {
                logger.warning("job finished after its lease was lost; its effects were not committed")
                count("lease_lost")
            } else {
                count("completed")
                Recorder(label: "tillwire_job_attempts", dimensions: [("kind", job.kind)]).record(job.attempts)
            }
        } catch LeaseLost.lost {
            logger.warning("job lease lost (another worker claimed it); the handler was cancelled")
            count("lease_lost")
        } catch let deferral as SystemDeferral {
            count("deferred")
            logger.info("job put back without spending an attempt", metadata: ["reason": "\(deferral.block)"])
            do {
                _ = try await store.deferJob(
                    job.id, owner: configuration.owner, until: deferral.block.until, reason: deferral.block.description, now: now())
            } catch {
                logger.error("could not put a job back; the lease will expire and the job run again", metadata: ["error": "\(error)"])
            }
        } catch {
            let failure: JobFailure
            var random = SystemRandomNumberGenerator()
            switch error {
            case JobError.terminal(let reason):
                failure = .terminal(error: reason)
            case JobError.retryable(let reason, let retryAfter):
                failure = .retry(at: configuration.retry.nextAttempt(after: job.attempts, now: now(), retryAfter: retryAfter, using: &random), error: reason)
            default:
                failure = .retry(at: configuration.retry.nextAttempt(after: job.attempts, now: now(), using: &random), error: "\(error)")
            }
            logger.warning("job attempt failed", metadata: ["error": "\(error)"])
            if case .terminal = failure { count("dead") } else { count(job.attempts >= job.maxAttempts ? "dead" : "retried") }
            do {
                _ = try await store.failJob(job.id, owner: configuration.owner, failure: failure, now: now())
            } catch {
                logger.error("could not record a job failure; the lease will expire and the job run again", metadata: ["error": "\(error)"])
            }
        }
        return result
    }
}
