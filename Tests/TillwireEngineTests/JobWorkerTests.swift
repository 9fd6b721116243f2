import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

@Suite struct RetryPolicyTests {
    @Test func delaysDoubleUpToTheCap() {
        let policy = RetryPolicy(base: .seconds(1), maximum: .seconds(60))
        #expect((1...8).map { policy.ceiling(afterFailedAttempts: $0) } == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        #expect(policy.ceiling(afterFailedAttempts: 500) == .seconds(60), "no overflow for huge attempt counts")
    }

    @Test func jitterStaysWithinHalfToFullDelayAndRetryAfterIsAFloor() {
        let policy = RetryPolicy()
        var random = SeededGenerator(seed: 3)
        let now = Date(timeIntervalSince1970: 0)
        for attempt in 1...10 {
            let ceiling = policy.ceiling(afterFailedAttempts: attempt)
            let next = policy.nextAttempt(after: attempt, now: now, using: &random).timeIntervalSince1970
            #expect(next >= ceiling.timeInterval / 2 && next <= ceiling.timeInterval)
        }
        #expect(policy.nextAttempt(after: 1, now: now, retryAfter: .seconds(120), using: &random).timeIntervalSince1970 == 120)
    }
}

/// A handler scripted by the test: fails as told, then succeeds with an event as its effect.
final class ScriptedHandler: JobHandler, Sendable {
    let kind = "test.scripted"
    let failures: Mutex<[JobError]>
    let calls = Mutex(0)

    init(failures: [JobError]) { self.failures = Mutex(failures) }

    func handle(_ job: Job) async throws -> Commit {
        calls.withLock { $0 += 1 }
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        return Commit(events: [EventAppend(NewEvent(type: "test.done", stream: StreamID(trusted: "job-\(job.id)"), correlationID: "c", occurredAt: Date(), source: "x", payload: job.payload))])
    }
}

@Suite struct JobWorkerTests {
    let logger = Logger(label: "test")

    func worker(_ store: any Store, _ handler: ScriptedHandler, clock: ManualClock) -> JobWorker {
        JobWorker(store: store, handlers: [handler], configuration: .init(owner: "w1", concurrency: 4, lease: .seconds(30)),
                  logger: logger, now: clock.now)
    }

    @Test func aSucceedingJobCommitsItsEffectsAndIsRemoved() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let clock = ManualClock()
        let handler = ScriptedHandler(failures: [])
        let job = NewJob(kind: "test.scripted", payload: Data("hello".utf8), runAt: clock.now())
        _ = try await store.commit(Commit(jobs: [job]))
        #expect(try await worker(store, handler, clock: clock).runOnce() == 1)
        #expect(try await store.job(job.id) == nil)
        #expect(try await store.readStream(StreamID(trusted: "job-\(job.id)"), fromVersion: 1, limit: 5).first?.event.payload == Data("hello".utf8))
    }

    @Test func retryableFailuresBackOffThenTerminalFailuresDeadLetter() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = ManualClock(start)
        let handler = ScriptedHandler(failures: [.retryable("HTTP 503", retryAfter: .seconds(30)), .terminal("HTTP 422: unknown SKU")])
        let job = NewJob(kind: "test.scripted", runAt: start)
        _ = try await store.commit(Commit(jobs: [job]))
        let worker = worker(store, handler, clock: clock)
        #expect(try await worker.runOnce() == 1)
        let waiting = try #require(try await store.job(job.id))
        #expect(waiting.state == .pending && waiting.lastError == "HTTP 503")
        #expect(waiting.runAt.timeIntervalSince(start) >= 30, "Retry-After is a floor")
        #expect(try await worker.runOnce() == 0, "not due yet")
        clock.set(waiting.runAt)
        #expect(try await worker.runOnce() == 1)
        let dead = try #require(try await store.job(job.id))
        #expect(dead.state == .dead && dead.lastError == "HTTP 422: unknown SKU" && dead.attempts == 2)
        #expect(handler.calls.withLock { $0 } == 2)
    }

    @Test func aLongJobKeepsItsLeaseByHeartbeat() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let handler = SlowHandler()
        let job = NewJob(kind: "test.slow", runAt: Date())
        _ = try await store.commit(Commit(jobs: [job]))
        let worker = JobWorker(store: store, handlers: [handler], configuration: .init(owner: "w1", lease: .milliseconds(8_000)), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.runOnce() }
            while try await store.job(job.id)?.leaseOwner != "w1" { try await Task.sleep(for: .milliseconds(5)) }
            // Meanwhile a second worker keeps trying to claim it: the lease (8 s) is shorter than the job (10 s). The
            // margins are wide because the whole suite runs in parallel on 2 cores and can delay a heartbeat by seconds
            // (measured: a 4 s lease was lost once with the HTTP race tests running beside it).
            let deadline = ContinuousClock.now + .milliseconds(9_700)
            while ContinuousClock.now < deadline {
                let stolen = try await store.claimJobs(owner: "w2", kinds: nil, limit: 1, lease: .seconds(30), now: Date())
                #expect(stolen.isEmpty, "the running job was claimed by another worker")
                try await Task.sleep(for: .milliseconds(50))
            }
            try await group.waitForAll()
        }
        #expect(try await store.job(job.id) == nil, "completed by its owner")
    }
}

struct SlowHandler: JobHandler {
    let kind = "test.slow"
    func handle(_ job: Job) async throws -> Commit {
        try await Task.sleep(for: .milliseconds(10_000))
        return Commit()
    }
}

@Suite struct RetentionSweeperTests {
    @Test func sweepsOnlyWhatThePolicyLetsGoInBatches() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let clock = ManualClock()
        let jobs = (0..<2_500).map { _ in NewJob(kind: "erp.post_sale", runAt: clock.now()) }
        _ = try await store.commit(Commit(jobs: jobs))
        while true {
            let claimed = try await store.claimJobs(owner: "w", kinds: nil, limit: 500, lease: .seconds(30), now: clock.now())
            if claimed.isEmpty { break }
            for job in claimed { _ = try await store.failJob(job.id, owner: "w", failure: .terminal(error: "422"), now: clock.now()) }
        }
        let logger = Logger(label: "test")
        clock.advance(by: 6 * 86_400)
        let keep = RetentionSweeper(store: store, policy: RetentionPolicy(deadJobs: .seconds(7 * 86_400)), logger: logger, now: clock.now)
        #expect(try await keep.sweep() == PurgeCount(deadJobs: 0, workflowRuns: 0), "six days old, kept for seven")
        clock.advance(by: 2 * 86_400)
        #expect(try await keep.sweep() == PurgeCount(deadJobs: 2_500, workflowRuns: 0), "every batch swept")
        #expect(try await store.jobs(in: .dead, limit: 1).isEmpty)
    }
}
