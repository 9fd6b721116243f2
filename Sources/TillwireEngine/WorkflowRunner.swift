import Foundation
import TillwireDomain
import TillwireStorage

/// Runs workflow steps as jobs (kind `workflow.advance`): each job performs one action of one run (a step forward,
/// or a compensation) and commits the step's record, its effects and the job for the next action in ONE
/// transaction, so a run resumes after a crash at the first unrecorded step.
///
/// Delivery: a step runs at least once (a crash after its I/O and before its commit runs it again, with the same
/// `idempotencyKey`); its record and effects commit exactly once (a second record of a step is refused).
/// Timers are jobs due at the deadline; waits for an event are woken by `WorkflowEventWaker`.
public struct WorkflowRunner: JobHandler {
    public static let jobKind = "workflow.advance"
    public var kind: String { Self.jobKind }

    let store: any Store
    let definitions: [String: [Int: WorkflowDefinition]]
    let now: @Sendable () -> Date

    /// `definitions` holds every version that may still have runs; new runs should start with `latest(_:)`.
    public init(store: any Store, definitions: [WorkflowDefinition], now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        var byType: [String: [Int: WorkflowDefinition]] = [:]
        for definition in definitions {
            precondition(byType[definition.type]?[definition.version] == nil,
                         "workflow \(definition.type) version \(definition.version) is registered twice")
            byType[definition.type, default: [:]][definition.version] = definition
        }
        self.definitions = byType
        self.now = now
    }

    /// The newest registered version of a workflow.
    public func latest(_ type: String) -> WorkflowDefinition? {
        definitions[type]?.max { $0.key < $1.key }?.value
    }

    // MARK: Advance jobs

    /// What an advance job asks for. `step == nil` means "whatever is next" (a wake-up by an event).
    struct Advance: Codable {
        var run: String
        var compensate: Bool
        var step: Int?
        /// Set on the job that fires a durable timer.
        var timer: Bool
        /// Set on a job that cancels the run: the step it is at fails with this reason, and the run compensates.
        var cancel: String? = nil
    }

    static func advanceJob(
        _ run: WorkflowRunID, _ action: WorkflowAction?, runAt: Date, maxAttempts: Int, tag: String? = nil
    ) -> NewJob {
        var advance = Advance(run: run.rawValue, compensate: false, step: nil, timer: tag == "timer")
        switch action {
        case .run(let step)?: advance.step = step
        case .compensate(let step)?: advance.compensate = true; advance.step = step
        case .finished?, nil: break
        }
        let what = advance.step.map { "\(advance.compensate ? "compensate" : "run"):\($0)" } ?? "next"
        return NewJob(
            kind: jobKind, payload: (try? JSONEncoder().encode(advance)) ?? Data(),
            uniqueKey: "workflow:\(run):\(what)" + (tag.map { ":\($0)" } ?? ""), runAt: runAt, maxAttempts: maxAttempts)
    }

    /// A job that cancels a run from outside (an order cancelled by its channel): the step the run is at, running or
    /// waiting, is recorded as failed with `reason`, and the completed steps are compensated, last first. A run that
    /// is already compensating or has ended is left as it is. A step that was running meanwhile cannot commit after
    /// the cancellation is recorded (a step is recorded once), so its effects are not applied.
    public static func cancelJob(_ run: WorkflowRunID, reason: String, now: Date) -> NewJob {
        let advance = Advance(run: run.rawValue, compensate: false, step: nil, timer: false, cancel: reason)
        return NewJob(kind: jobKind, payload: (try? JSONEncoder().encode(advance)) ?? Data(),
                      uniqueKey: "workflow:\(run):cancel", runAt: now, maxAttempts: 10)
    }

    /// A job that re-evaluates a waiting run now (an event it may wait for has arrived).
    static func wakeJob(_ run: WorkflowRunID, event: EventID, now: Date) -> NewJob {
        advanceJob(run, nil, runAt: now, maxAttempts: 5, tag: "wake:\(event)")
    }

    // MARK: Handling

    public func handle(_ job: Job) async throws -> Commit {
        guard let advance = try? JSONDecoder().decode(Advance.self, from: job.payload),
              let runID = try? WorkflowRunID(advance.run) else {
            throw JobError.terminal("not a workflow advance payload")
        }
        guard let (run, steps) = try await store.workflowRun(runID) else {
            throw JobError.terminal("workflow run \(runID) does not exist")
        }
        guard let definition = definitions[run.type]?[run.version] else {
            throw JobError.terminal(
                "no definition of workflow \(run.type) version \(run.version) is registered in this build; "
                + "deploy one that has it, then replay this job")
        }
        var lifecycle: WorkflowLifecycle
        do {
            lifecycle = try WorkflowLifecycle(stepCount: definition.steps.count, state: run.state, steps: steps.map(\.status))
        } catch {
            throw JobError.terminal("workflow run \(runID): \(error)")
        }
        let action = lifecycle.nextAction
        if let reason = advance.cancel {
            guard case .run(let index) = action else { return Commit() }
            var attempt = Attempt(
                run: run, steps: steps, definition: definition, lifecycle: lifecycle, job: job, timerFired: false, now: now())
            try attempt.record(index, .failed, output: Data("cancelled: \(reason)".utf8))
            return attempt.commit
        }
        if let step = advance.step {
            // Another job already did what this one was enqueued for (a wait woken twice, a retried commit).
            guard action == (advance.compensate ? .compensate(step: step) : .run(step: step)) else { return Commit() }
        }
        var attempt = Attempt(
            run: run, steps: steps, definition: definition, lifecycle: lifecycle, job: job, timerFired: advance.timer,
            now: now())
        switch action {
        case .finished:
            return Commit()
        case .run(let index):
            try await attempt.runStep(index, store: store)
        case .compensate(let index):
            try await attempt.compensateStep(index)
        }
        return attempt.commit
    }
}

/// One advance of one run: what it read, and the commit it builds.
private struct Attempt {
    let run: WorkflowRun
    let steps: [WorkflowStep]
    let definition: WorkflowDefinition
    var lifecycle: WorkflowLifecycle
    let job: Job
    let timerFired: Bool
    let now: Date
    var commit = Commit()

    init(run: WorkflowRun, steps: [WorkflowStep], definition: WorkflowDefinition, lifecycle: WorkflowLifecycle,
         job: Job, timerFired: Bool, now: Date) {
        self.run = run
        self.steps = steps
        self.definition = definition
        self.lifecycle = lifecycle
        self.job = job
        self.timerFired = timerFired
        self.now = now
    }

    func context(_ index: Int, key: String) -> WorkflowContext {
        let outputs = steps.filter { $0.status == .completed }.map { ($0.name, $0.output) }
        return WorkflowContext(
            run: run, stepIndex: index, stepName: definition.steps[index].name,
            outputs: Dictionary(outputs, uniquingKeysWith: { first, _ in first }), attempt: job.attempts, now: now,
            idempotencyKey: key)
    }

    /// Whether a failed attempt ends the step: a terminal error, or the last attempt.
    func isFinal(_ error: any Error) -> Bool {
        if case JobError.terminal = error { return true }
        if error is CancellationError { return false }
        return job.attempts >= job.maxAttempts
    }

    mutating func runStep(_ index: Int, store: any Store) async throws {
        let step = definition.steps[index]
        let context = context(index, key: "\(run.id)/\(index)")
        switch step.body {
        case .action(let action, _):
            let result: WorkflowStepResult
            do {
                result = try await action(context)
            } catch where isFinal(error) {
                try record(index, .failed, output: Data(Self.describe(error).utf8))
                return
            }
            commit = result.effects
            try record(index, .completed, output: result.output)

        case .sleep(let until):
            if let wait = run.wait, wait.stepIndex == index {
                if now >= wait.until { try record(index, .completed, output: Data()) } else { try notYet(wait) }
            } else {
                let deadline = until(context)
                if deadline <= now { try record(index, .completed, output: Data()) } else { arm(WorkflowWait(stepIndex: index, until: deadline)) }
            }

        case .waitForEvent(let type, let timeout):
            // The n-th wait for a type takes the n-th event of that type in the flow.
            let earlierWaits = definition.steps[..<index].filter {
                if case .waitForEvent(type, _) = $0.body { true } else { false }
            }.count
            let matches = try await store.readCorrelation(run.correlationID, limit: 10_000).filter { $0.type == type }
            if matches.count > earlierWaits {
                try record(index, .completed, output: matches[earlierWaits].event.payload)
            } else if let wait = run.wait, wait.stepIndex == index {
                if now >= wait.until {
                    try record(index, .failed, output: Data("no \(type) event within \(timeout)".utf8))
                } else {
                    try notYet(wait)
                }
            } else {
                arm(WorkflowWait(stepIndex: index, until: now + timeout.timeInterval, eventType: type))
                // Looks again once the wait is committed: an event committed before it, but after the read above,
                // was handled by the waker while this run was not yet waiting.
                commit.jobs.append(WorkflowRunner.advanceJob(
                    run.id, .run(step: index), runAt: now, maxAttempts: definition.maxAttempts, tag: "recheck"))
            }
        }
    }

    mutating func compensateStep(_ index: Int) async throws {
        let step = definition.steps[index]
        if case .action(_, let compensate?) = step.body {
            do {
                commit = try await compensate(context(index, key: "\(run.id)/\(index)/compensate"))
            } catch JobError.terminal(let reason) {
                throw JobError.terminal(
                    "compensation of step '\(step.name)' failed: \(reason); the run stays compensating until this job is replayed")
            }
        }
        commit.workflows.append(.markCompensated(run.id, stepIndex: index, at: now))
        then(try transition { try $0.stepCompensated(index) })
    }

    /// Sets a durable timer and the job that fires it.
    mutating func arm(_ wait: WorkflowWait) {
        commit.workflows.append(.setWait(run.id, wait, at: now))
        commit.jobs.append(WorkflowRunner.advanceJob(
            run.id, .run(step: wait.stepIndex), runAt: wait.until, maxAttempts: definition.maxAttempts, tag: "timer"))
    }

    /// A wake-up before the deadline with nothing to do. The timer's own job, if early (clocks of several instances
    /// differ), comes back at the deadline.
    func notYet(_ wait: WorkflowWait) throws {
        if timerFired {
            throw JobError.retryable("timer fired before its deadline", retryAfter: .seconds(max(1, wait.until.timeIntervalSince(now))))
        }
    }

    mutating func record(_ index: Int, _ status: WorkflowStepStatus, output: Data) throws {
        commit.workflows.append(.recordStep(run.id, WorkflowStep(
            index: index, name: definition.steps[index].name, status: status, output: output, recordedAt: now)))
        then(try transition { status == .completed ? try $0.stepCompleted(index) : try $0.stepFailed(index) })
    }

    mutating func transition(_ change: (inout WorkflowLifecycle) throws -> WorkflowAction) throws -> WorkflowAction {
        do {
            return try change(&lifecycle)
        } catch {
            throw JobError.terminal("workflow run \(run.id): \(error)")
        }
    }

    /// Records the run's new state, and enqueues its next action.
    mutating func then(_ next: WorkflowAction) {
        if lifecycle.state != run.state {
            commit.workflows.append(.setState(run.id, lifecycle.state, at: now))
        }
        if case .finished = next { return }
        commit.jobs.append(WorkflowRunner.advanceJob(run.id, next, runAt: now, maxAttempts: definition.maxAttempts))
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case JobError.terminal(let reason), JobError.retryable(let reason, _): reason
        default: "\(error)"
        }
    }
}

/// Wakes runs that wait for an event: for each event, the runs of its correlation id waiting for its type get an
/// advance job now. Run it as a `Subscription` named `WorkflowEventWaker.subscriberName`.
public struct WorkflowEventWaker: EventHandler {
    public static let subscriberName = "workflow.waker"
    let store: any Store
    let now: @Sendable () -> Date

    public init(store: any Store, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    public func handle(_ event: EventEnvelope) async throws -> Commit {
        let waiting = try await store.workflowRuns(waitingFor: event.type, correlation: event.event.correlationID)
        return Commit(jobs: waiting.map { WorkflowRunner.wakeJob($0, event: event.id, now: now()) })
    }
}
