import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// What the steps of a test workflow did, in order, with the idempotency key each saw.
final class StepLog: Sendable {
    let entries = Mutex<[String]>([])
    let keys = Mutex<[String]>([])
    /// Step names that fail, and how: each call removes the first scripted error for that step.
    let failures: Mutex<[String: [JobError]]>

    init(failures: [String: [JobError]] = [:]) { self.failures = Mutex(failures) }

    var calls: [String] { entries.withLock { $0 } }

    func step(_ name: String, undo: Bool = true) -> WorkflowStepDefinition {
        let compensation: WorkflowStepDefinition.Compensation = { @Sendable _ in
            self.entries.withLock { $0.append("undo \(name)") }
            return Commit()
        }
        return .action(name, run: { context in
            self.entries.withLock { $0.append(name) }
            self.keys.withLock { $0.append(context.idempotencyKey) }
            if let failure = self.failures.withLock({ $0[name]?.isEmpty == false ? $0[name]!.removeFirst() : nil }) {
                throw failure
            }
            let previous = context.outputs.keys.sorted().joined(separator: ",")
            return WorkflowStepResult(
                output: Data("\(name) saw [\(previous)]".utf8),
                effects: Commit(events: [EventAppend(NewEvent(
                    type: "test.\(name)", stream: StreamID(trusted: "wf-\(context.run.id)"), correlationID: context.run.correlationID,
                    occurredAt: context.now, source: "test", payload: Data()))]))
        }, compensate: undo ? compensation : nil)
    }
}

/// A store, a clock, and the engine's pieces for workflows, driven one round at a time.
struct WorkflowHarness {
    let store: any Store
    let clock: ManualClock
    let runner: WorkflowRunner
    let worker: JobWorker
    let waker: Subscription

    init(store: any Store, clock: ManualClock, definitions: [WorkflowDefinition]) {
        self.store = store
        self.clock = clock
        let logger = Logger(label: "test")
        runner = WorkflowRunner(store: store, definitions: definitions, now: clock.now)
        worker = JobWorker(store: store, handlers: [runner], configuration: .init(owner: "w", lease: .seconds(30)),
                           logger: logger, now: clock.now)
        waker = Subscription(name: WorkflowEventWaker.subscriberName, store: store,
                             handler: WorkflowEventWaker(store: store, now: clock.now), logger: logger)
    }

    func start(_ definition: WorkflowDefinition, id: WorkflowRunID, correlation: CorrelationID = "flow-1") async throws {
        var commit = Commit()
        commit.startWorkflow(definition, id: id, input: Data("in".utf8), correlationID: correlation, now: clock.now())
        _ = try await store.commit(commit)
    }

    /// Runs due jobs and wakes waiting runs until nothing is left to do now.
    func drain() async throws {
        for _ in 0..<100 {
            let woken = try await waker.runOnce()
            if try await worker.runOnce() == 0 && woken == 0 { return }
        }
        Issue.record("the workflow did not settle in 100 rounds")
    }

    func run(_ id: WorkflowRunID) async throws -> (run: WorkflowRun, steps: [WorkflowStep]) {
        try #require(try await store.workflowRun(id))
    }
}

@Suite struct WorkflowTests {
    @Test func stepsRunInOrderEachCommittingItsEffectsAndSeeingEarlierOutputs() async throws {
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.flow", steps: [log.step("reserve"), log.step("charge"), log.step("release")])
        let harness = WorkflowHarness(store: try await migrated(), clock: ManualClock(), definitions: [definition])
        try await harness.start(definition, id: "run-1")
        try await harness.drain()

        let (run, steps) = try await harness.run("run-1")
        #expect(run.state == .completed)
        #expect(steps.map(\.status) == [.completed, .completed, .completed])
        #expect(log.calls == ["reserve", "charge", "release"])
        #expect(String(decoding: steps[2].output, as: UTF8.self) == "release saw [charge,reserve]")
        let events = try await harness.store.readStream("wf-run-1", fromVersion: 1, limit: 10)
        #expect(events.map(\.type) == ["test.reserve", "test.charge", "test.release"])
        #expect(log.keys.withLock { $0 } == ["run-1/0", "run-1/1", "run-1/2"])
    }

    @Test func aStepThatFailsForGoodCompensatesTheCompletedStepsInReverse() async throws {
        let log = StepLog(failures: ["ship": [.terminal("HTTP 422: address rejected")]])
        let definition = WorkflowDefinition(type: "test.flow", steps: [
            log.step("reserve"), log.step("notify", undo: false), log.step("charge"), log.step("ship"), log.step("close"),
        ])
        let harness = WorkflowHarness(store: try await migrated(), clock: ManualClock(), definitions: [definition])
        try await harness.start(definition, id: "run-2")
        try await harness.drain()

        let (run, steps) = try await harness.run("run-2")
        #expect(run.state == .compensated)
        #expect(log.calls == ["reserve", "notify", "charge", "ship", "undo charge", "undo reserve"])
        #expect(steps.map(\.status) == [.compensated, .compensated, .compensated, .failed])
        #expect(String(decoding: steps[3].output, as: UTF8.self) == "HTTP 422: address rejected")
    }

    @Test func retryableFailuresRetryTheStepThenFailItWhenAttemptsRunOut() async throws {
        let clock = ManualClock()
        let log = StepLog(failures: [
            "charge": [.retryable("HTTP 503"), .retryable("HTTP 503"), .retryable("HTTP 503")],
            "ship": [.retryable("timeout"), .retryable("timeout"), .retryable("timeout")],
        ])
        let definition = WorkflowDefinition(type: "test.flow", maxAttempts: 3, steps: [log.step("charge"), log.step("ship")])
        let harness = WorkflowHarness(store: try await migrated(), clock: clock, definitions: [definition])
        try await harness.start(definition, id: "run-3")
        // Three attempts are allowed and all three fail; the clock moves past each backoff.
        for _ in 0..<12 {
            try await harness.drain()
            clock.advance(by: 3_600)
        }
        let (run, steps) = try await harness.run("run-3")
        #expect(log.calls == ["charge", "charge", "charge"], "three attempts, then the step failed for good")
        #expect(run.state == .compensated)
        #expect(steps.map(\.status) == [.failed])
        #expect(try await harness.store.jobs(in: .dead, limit: 10).isEmpty, "a failed step is a compensated run, not a dead letter")
    }

    @Test func aRunResumesAtTheFirstUnrecordedStepAfterACrash() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock()
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.flow", steps: [log.step("a"), log.step("b"), log.step("c")])
        do {
            let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
            _ = try await store.migrate()
            let harness = WorkflowHarness(store: store, clock: clock, definitions: [definition])
            try await harness.start(definition, id: "run-4")
            #expect(try await harness.worker.runOnce() == 1, "step a")
            // A worker claims step b and dies without recording it.
            let claimed = try await store.claimJobs(owner: "dead-worker", kinds: nil, limit: 1, lease: .seconds(30), now: clock.now())
            #expect(claimed.count == 1)
            try await store.close()
        }
        clock.advance(by: 31)
        let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
        let harness = WorkflowHarness(store: store, clock: clock, definitions: [definition])
        try await harness.drain()
        #expect(log.calls == ["a", "b", "c"], "a ran once; b ran after its lease expired; nothing ran twice")
        #expect(try await harness.run("run-4").run.state == .completed)
        try await store.close()
    }

    @Test func aDurableTimerSurvivesARestartAndFiresAtItsDeadline() async throws {
        let folder = try TemporaryFolder()
        let clock = ManualClock()
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.timer", steps: [log.step("hold"), .sleep("pickup window", for: .seconds(7_200)), log.step("expire")])
        do {
            let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
            _ = try await store.migrate()
            let harness = WorkflowHarness(store: store, clock: clock, definitions: [definition])
            try await harness.start(definition, id: "run-5")
            try await harness.drain()
            let wait = try #require(try await harness.run("run-5").run.wait)
            #expect(wait.stepIndex == 1 && wait.until == clock.now() + 7_200)
            try await store.close()
        }
        let store = try SQLiteStore.open(path: folder.path("hub.sqlite"))
        let harness = WorkflowHarness(store: store, clock: clock, definitions: [definition])
        clock.advance(by: 7_199)
        try await harness.drain()
        #expect(log.calls == ["hold"], "not before the deadline")
        clock.advance(by: 1)
        try await harness.drain()
        #expect(log.calls == ["hold", "expire"])
        let (run, steps) = try await harness.run("run-5")
        #expect(run.state == .completed && run.wait == nil && steps.count == 3)
        try await store.close()
    }

    @Test func aWaitForAnEventIsWokenByItAndTakesItsPayload() async throws {
        let clock = ManualClock()
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.pickup", steps: [
            log.step("reserve"), .waitForEvent("collected", type: "order.collected", timeout: .seconds(86_400)), log.step("consume"),
        ])
        let harness = WorkflowHarness(store: try await migrated(), clock: clock, definitions: [definition])
        try await harness.start(definition, id: "run-6", correlation: "order-6")
        try await harness.drain()
        #expect(try await harness.run("run-6").run.wait?.eventType == "order.collected")
        // An event of another flow, and another type of this flow, wake nothing.
        _ = try await harness.store.commit(Commit(events: [
            EventAppend(event("order.collected", correlation: "order-7", payload: "other")),
            EventAppend(event("order.shipped", correlation: "order-6", payload: "wrong type")),
        ]))
        try await harness.drain()
        #expect(log.calls == ["reserve"])
        _ = try await harness.store.commit(Commit(events: [EventAppend(event("order.collected", correlation: "order-6", payload: "at till 3"))]))
        try await harness.drain()
        let (run, steps) = try await harness.run("run-6")
        #expect(log.calls == ["reserve", "consume"])
        #expect(run.state == .completed)
        #expect(String(decoding: steps[1].output, as: UTF8.self) == "at till 3")
    }

    @Test func anEventThatArrivedBeforeTheWaitIsTakenAtOnce() async throws {
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.pickup", steps: [
            .waitForEvent("paid", type: "order.paid", timeout: .seconds(60)), log.step("release"),
        ])
        let harness = WorkflowHarness(store: try await migrated(), clock: ManualClock(), definitions: [definition])
        _ = try await harness.store.commit(Commit(events: [EventAppend(event("order.paid", correlation: "order-8", payload: "paid"))]))
        try await harness.start(definition, id: "run-8", correlation: "order-8")
        try await harness.drain()
        #expect(try await harness.run("run-8").run.state == .completed)
    }

    @Test func aWaitThatTimesOutCompensatesTheRun() async throws {
        let clock = ManualClock()
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.pickup", steps: [
            log.step("reserve"), .waitForEvent("collected", type: "order.collected", timeout: .seconds(600)), log.step("consume"),
        ])
        let harness = WorkflowHarness(store: try await migrated(), clock: clock, definitions: [definition])
        try await harness.start(definition, id: "run-9", correlation: "order-9")
        try await harness.drain()
        clock.advance(by: 599)
        try await harness.drain()
        #expect(try await harness.run("run-9").run.state == .running)
        clock.advance(by: 1)
        try await harness.drain()
        let (run, steps) = try await harness.run("run-9")
        #expect(run.state == .compensated)
        #expect(log.calls == ["reserve", "undo reserve"])
        #expect(String(decoding: steps[1].output, as: UTF8.self).contains("no order.collected event within"))
        // The event arriving late changes nothing.
        _ = try await harness.store.commit(Commit(events: [EventAppend(event("order.collected", correlation: "order-9", payload: "late"))]))
        try await harness.drain()
        #expect(log.calls == ["reserve", "undo reserve"])
    }

    @Test func aCancelledRunCompensatesFromWhereItIsAndAFinishedOneIsLeftAlone() async throws {
        let clock = ManualClock()
        let log = StepLog()
        let definition = WorkflowDefinition(type: "test.pickup", steps: [
            log.step("open"), log.step("reserve"), .waitForEvent("collected", type: "order.collected", timeout: .seconds(600)), log.step("consume"),
        ])
        let harness = WorkflowHarness(store: try await migrated(), clock: clock, definitions: [definition])
        try await harness.start(definition, id: "run-c", correlation: "order-c")
        try await harness.drain()
        _ = try await harness.store.commit(Commit(jobs: [WorkflowRunner.cancelJob("run-c", reason: "customer cancelled", now: clock.now())]))
        try await harness.drain()
        let (run, steps) = try await harness.run("run-c")
        #expect(run.state == .compensated)
        #expect(log.calls == ["open", "reserve", "undo reserve", "undo open"])
        #expect(String(decoding: steps[2].output, as: UTF8.self) == "cancelled: customer cancelled")
        // The event arriving afterwards, and the wait's timer, change nothing; a second cancel neither.
        _ = try await harness.store.commit(Commit(events: [EventAppend(event("order.collected", correlation: "order-c", payload: "late"))]))
        clock.advance(by: 700)
        _ = try await harness.store.commit(Commit(jobs: [WorkflowRunner.cancelJob("run-c", reason: "again", now: clock.now())]))
        try await harness.drain()
        #expect(log.calls == ["open", "reserve", "undo reserve", "undo open"])
        #expect(try await harness.store.jobs(in: .dead, limit: 10).isEmpty)

        // A run that has completed is not cancelled.
        try await harness.start(definition, id: "run-d", correlation: "order-d")
        _ = try await harness.store.commit(Commit(events: [EventAppend(event("order.collected", correlation: "order-d", payload: "ok"))]))
        try await harness.drain()
        #expect(try await harness.run("run-d").run.state == .completed)
        _ = try await harness.store.commit(Commit(jobs: [WorkflowRunner.cancelJob("run-d", reason: "too late", now: clock.now())]))
        try await harness.drain()
        #expect(try await harness.run("run-d").run.state == .completed)
    }

    @Test func oldRunsKeepTheirDefinitionVersionAfterAnUpgrade() async throws {
        let clock = ManualClock()
        let log = StepLog()
        let v1 = WorkflowDefinition(type: "test.flow", version: 1, steps: [log.step("a"), .sleep("wait", for: .seconds(60)), log.step("b")])
        let v2 = WorkflowDefinition(type: "test.flow", version: 2, steps: [log.step("a"), .sleep("wait", for: .seconds(60)), log.step("b2"), log.step("c2")])
        let store = try await migrated()
        let before = WorkflowHarness(store: store, clock: clock, definitions: [v1])
        try await before.start(v1, id: "old")
        try await before.drain()

        let after = WorkflowHarness(store: store, clock: clock, definitions: [v1, v2])
        #expect(after.runner.latest("test.flow")?.version == 2)
        try await after.start(try #require(after.runner.latest("test.flow")), id: "new")
        try await after.drain()
        clock.advance(by: 60)
        try await after.drain()
        #expect(try await store.workflowRun("old")?.steps.map(\.name) == ["a", "wait", "b"])
        #expect(try await store.workflowRun("new")?.steps.map(\.name) == ["a", "wait", "b2", "c2"])
        #expect(try await store.workflowRun("old")?.run.version == 1)

        // A build that no longer has version 1 dead-letters the run's job with the reason; nothing is lost.
        let third = WorkflowHarness(store: store, clock: clock, definitions: [v2])
        try await third.start(v1, id: "orphan")
        try await third.drain()
        let dead = try #require(try await store.jobs(in: .dead, limit: 10).first)
        #expect(dead.lastError?.contains("no definition of workflow test.flow version 1") == true)
    }

    @Test func aCompensationThatFailsForGoodIsADeadLetterAndReplayFinishesIt() async throws {
        let clock = ManualClock()
        let broken = Mutex(true)
        let definition = WorkflowDefinition(type: "test.flow", steps: [
            .action("refund", run: { _ in WorkflowStepResult() }, compensate: { _ in
                if broken.withLock({ $0 }) { throw JobError.terminal("HTTP 400: refund id unknown") }
                return Commit()
            }),
            .action("post", run: { _ in throw JobError.terminal("HTTP 422") }),
        ])
        let harness = WorkflowHarness(store: try await migrated(), clock: clock, definitions: [definition])
        try await harness.start(definition, id: "run-10")
        try await harness.drain()
        #expect(try await harness.run("run-10").run.state == .compensating)
        let dead = try #require(try await harness.store.jobs(in: .dead, limit: 10).first)
        #expect(dead.lastError?.contains("compensation of step 'refund' failed: HTTP 400") == true)

        broken.withLock { $0 = false }
        _ = try await harness.store.replayDeadJobs([dead.id], by: "ops", reason: "refund id fixed", now: clock.now())
        try await harness.drain()
        #expect(try await harness.run("run-10").run.state == .compensated)
    }

    func migrated() async throws -> SQLiteStore {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        return store
    }

    func event(_ type: String, correlation: CorrelationID, payload: String) -> NewEvent {
        NewEvent(type: type, stream: StreamID(trusted: "s-\(correlation)"), correlationID: correlation, occurredAt: Date(),
                 source: "test", payload: Data(payload.utf8))
    }
}
