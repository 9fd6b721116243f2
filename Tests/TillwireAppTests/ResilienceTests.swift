import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// The engine's resilience against a fake external system over real HTTP (see `FakeExternalSystem`), in real time.
@Suite(.serialized) struct ResilienceTests {
    let logger = Logger(label: "resilience")

    /// Runs a worker toward the fake system with `policy` while `body` drives the scenario.
    func withWorker(
        _ fake: FakeExternalSystem, policy: SystemPolicy, jobs: Int, timeout: TimeInterval = 2,
        _ body: @Sendable (any Store, SystemGate) async throws -> Void
    ) async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let gate = SystemGate(policies: ["fake": policy])
        try await Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let worker = JobWorker(
                store: store, handlers: [DeliveryHandler(port: try #require(client.port), timeout: timeout, fake: fake)],
                configuration: .init(concurrency: 4, lease: .seconds(30), idleWait: .milliseconds(20),
                                     retry: RetryPolicy(base: .milliseconds(100), maximum: .milliseconds(400))),
                gate: gate, logger: logger)
            _ = try await store.commit(Commit(jobs: (0..<jobs).map { _ in NewJob(kind: "fake.deliver", runAt: Date(), maxAttempts: 8) }))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                try await body(store, gate)
                group.cancelAll()
            }
        }
    }

    /// Polls until `condition` holds, failing after `seconds`.
    func eventually(_ what: String, within seconds: Double = 15, _ condition: () async throws -> Bool) async throws {
        let deadline = Date() + seconds
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("timed out waiting until \(what)")
        throw CancellationError()
    }

    /// Every job had a 2xx answer as the hub saw it and none is left in the queue. The order of the checks matters:
    /// a job the hub saw accepted only goes from running to finished, so two separate reads cannot miss it; the
    /// fake's own count would not do, since it also counts requests the hub had already timed out on.
    func allDelivered(_ fake: FakeExternalSystem, _ store: any Store, count: Int) async throws -> Bool {
        guard fake.seen.withLock({ $0.accepted.count }) == count else { return false }
        let pending = try await store.jobs(in: .pending, limit: 1)
        let running = try await store.jobs(in: .running, limit: 1)
        return pending.isEmpty && running.isEmpty
    }

    @Test func theBreakerOpensOnFailuresSendsNothingWhileOpenThenClosesAndEverythingIsDelivered() async throws {
        let fake = FakeExternalSystem()
        fake.behaviour.withLock { $0 = .failing }
        let breaker = CircuitBreakerPolicy(failureRateThreshold: 0.5, windowSize: 10, minimumCalls: 4, openDuration: .milliseconds(1_500), halfOpenProbes: 2)
        try await withWorker(fake, policy: SystemPolicy(breaker: breaker), jobs: 20) { store, gate in
            try await eventually("the circuit opens") {
                if case .open = gate.breakerState("fake") { return true } else { return false }
            }
            let opened = Date()
            guard case .open(let until)? = gate.breakerState("fake") else { return }
            fake.behaviour.withLock { $0 = .healthy }
            try await Task.sleep(for: .seconds(until.timeIntervalSince(Date())))
            let sentWhileOpen = fake.requests(between: opened + 0.1, and: until - 0.05)
            print("breaker: opened after \(fake.requests.withLock { $0.count }) requests (all 503); requests while open: \(sentWhileOpen.count)")
            #expect(sentWhileOpen.isEmpty, "requests were sent while the circuit was open")
            try await eventually("everything is delivered") { try await allDelivered(fake, store, count: 20) }
            #expect(gate.breakerState("fake") == .closed, "the probes succeeded and closed the circuit")
            #expect(fake.delivered.withLock { $0.values.allSatisfy { $0 == 1 } }, "each delivered once")
            #expect(try await store.jobs(in: .dead, limit: 10).isEmpty, "waiting behind the open circuit spent no attempts")
        }
    }

    @Test func noRequestIsSentBeforeRetryAfterElapses() async throws {
        let fake = FakeExternalSystem()
        fake.behaviour.withLock { $0 = .throttleOnce(seconds: 2) }
        // One call at a time, so that every request after the 429 was sent after the hub had read it.
        try await withWorker(fake, policy: SystemPolicy(concurrency: 1), jobs: 6) { store, _ in
            try await eventually("everything is delivered") { try await allDelivered(fake, store, count: 6) }
            let requests = fake.requests.withLock { $0 }
            let throttled = try #require(requests.first { $0.status == 429 })
            let early = requests.filter { $0.at > throttled.at && $0.at < throttled.at + 2 }
            print("429 with Retry-After: 2 at +0 s; next request at +\(String(format: "%.2f", (requests.first { $0.at > throttled.at + 0.05 }?.at.timeIntervalSince(throttled.at)) ?? -1)) s; early requests: \(early.count)")
            #expect(early.isEmpty, "requests were sent to the system before its Retry-After elapsed")
        }
    }

    @Test func timeoutsCountAsFailuresAndTheJobsAreDeliveredWhenTheSystemAnswersAgain() async throws {
        let fake = FakeExternalSystem()
        fake.behaviour.withLock { $0 = .slow(.seconds(5)) }
        let breaker = CircuitBreakerPolicy(failureRateThreshold: 0.5, windowSize: 4, minimumCalls: 2, openDuration: .milliseconds(800), halfOpenProbes: 1)
        // A wide gap between the deadline and the slow answer: a healthy answer on a loaded machine stays within it.
        try await withWorker(fake, policy: SystemPolicy(breaker: breaker, concurrency: 2), jobs: 4, timeout: 1) { store, gate in
            try await eventually("timeouts open the circuit") {
                if case .open = gate.breakerState("fake") { return true } else { return false }
            }
            fake.behaviour.withLock { $0 = .healthy }
            try await eventually("everything is delivered") { try await allDelivered(fake, store, count: 4) }
            #expect(gate.breakerState("fake") == .closed)
        }
    }

    @Test func jobsWaitOutAMaintenanceWindowWithoutSpendingAttempts() async throws {
        let fake = FakeExternalSystem()
        let start = Date()
        let window = MaintenanceWindow.once(from: start, until: start + 1.5)
        try await withWorker(fake, policy: SystemPolicy(maintenance: [window]), jobs: 5) { store, gate in
            #expect(gate.block("fake", at: Date())?.cause == .maintenance)
            try await eventually("everything is delivered") { try await allDelivered(fake, store, count: 5) }
            let first = try #require(fake.requests.withLock { $0.first })
            print("maintenance window until +1.50 s; first request at +\(String(format: "%.2f", first.at.timeIntervalSince(start))) s")
            #expect(first.at >= start + 1.5, "a request was sent during the maintenance window")
            #expect(fake.requests.withLock { $0.count } == 5, "one request per job: nothing failed, nothing was retried")
        }
    }

    @Test func aRateLimitSpacesTheCallsAtThePublishedRate() async throws {
        let fake = FakeExternalSystem()
        try await withWorker(fake, policy: SystemPolicy(rate: RateLimit(perSecond: 10, burst: 2)), jobs: 12) { store, _ in
            try await eventually("everything is delivered") { try await allDelivered(fake, store, count: 12) }
            // When the hub made each call (not when the fake received it: a late first arrival would shorten the span).
            let times = fake.seen.withLock { $0.calls }.sorted()
            let span = times.last!.timeIntervalSince(times.first!)
            print("12 calls at 10/s with a burst of 2 took \(String(format: "%.2f", span)) s (at least 0.9 s expected; unlimited they take a few ms)")
            #expect(span >= 0.9, "12 calls at 10/s after a burst of 2 need about 1 s")
        }
    }
}
