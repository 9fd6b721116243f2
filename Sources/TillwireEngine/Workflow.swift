import Foundation
import TillwireDomain
import TillwireStorage

/// A durable workflow (saga): a versioned sequence of named steps, run by `WorkflowRunner`.
///
/// Change a definition's steps only under a new `version`: runs keep the version they started with, so keep the old
/// definition registered until its runs have ended.
public struct WorkflowDefinition: Sendable {
    /// The workflow's name, e.g. `order.fulfilment`.
    public let type: String
    public let version: Int
    public let steps: [WorkflowStepDefinition]
    /// Attempts of each step (and of each compensation) before it fails for good. Default 5.
    public let maxAttempts: Int

    public init(type: String, version: Int = 1, maxAttempts: Int = 5, steps: [WorkflowStepDefinition]) {
        precondition(!steps.isEmpty, "a workflow has at least one step")
        precondition(Set(steps.map(\.name)).count == steps.count, "step names are unique within a workflow")
        self.type = type
        self.version = version
        self.maxAttempts = maxAttempts
        self.steps = steps
    }
}

/// One step of a workflow.
public struct WorkflowStepDefinition: Sendable {
    public typealias Action = @Sendable (WorkflowContext) async throws -> WorkflowStepResult
    public typealias Compensation = @Sendable (WorkflowContext) async throws -> Commit

    enum Body: Sendable {
        case action(Action, compensate: Compensation?)
        case sleep(@Sendable (WorkflowContext) -> Date)
        case waitForEvent(type: String, timeout: Duration)
    }

    public let name: String
    let body: Body

    /// Does work (I/O goes here, idempotent by `context.idempotencyKey`) and returns its output and the effects
    /// that commit with the step's record. Throw `JobError.terminal` to fail the step for good; any other error is
    /// retried until the definition's attempts are used up, then the step fails for good. `compensate` undoes a
    /// completed step when a later one fails; without it there is nothing to undo.
    public static func action(_ name: String, run: @escaping Action, compensate: Compensation? = nil) -> Self {
        Self(name: name, body: .action(run, compensate: compensate))
    }

    /// Waits for `duration` from when the run reaches the step. The timer is durable: it survives restarts.
    public static func sleep(_ name: String, for duration: Duration) -> Self {
        Self(name: name, body: .sleep { $0.now + duration.timeInterval })
    }

    /// Waits until a time computed from the run (e.g. the end of a pickup window). Evaluated once, when the run
    /// reaches the step; the deadline is then stored.
    public static func sleep(_ name: String, until: @escaping @Sendable (WorkflowContext) -> Date) -> Self {
        Self(name: name, body: .sleep(until))
    }

    /// Waits for an event of `type` with the run's correlation id; its payload becomes the step's output. The n-th
    /// wait for one type in a run takes the n-th such event of the flow, whether it arrived before the run reached
    /// the step or after. No event within `timeout` fails the step, which compensates the run.
    public static func waitForEvent(_ name: String, type: String, timeout: Duration) -> Self {
        Self(name: name, body: .waitForEvent(type: type, timeout: timeout))
    }
}

/// What a step sees.
public struct WorkflowContext: Sendable {
    public let run: WorkflowRun
    public let stepIndex: Int
    public let stepName: String
    /// The outputs of the steps recorded so far, by step name.
    public let outputs: [String: Data]
    /// This attempt of the step, from 1.
    public let attempt: Int
    public let now: Date
    /// Stable across retries and crashes of this step, different for each step and for its compensation: pass it
    /// to external systems as their idempotency key.
    public let idempotencyKey: String
}

/// What a completed step leaves: its output (recorded, and visible to later steps) and its effects (state changes,
/// events, jobs), committed in one transaction with the step's record.
public struct WorkflowStepResult: Sendable {
    public var output: Data
    public var effects: Commit

    public init(output: Data = Data(), effects: Commit = Commit()) {
        self.output = output
        self.effects = effects
    }
}

extension Commit {
    /// Adds the start of a workflow run to this commit: the run exists, and its first step is due, if and only if
    /// the rest of the commit is.
    public mutating func startWorkflow(
        _ definition: WorkflowDefinition, id: WorkflowRunID = .random(), input: Data, correlationID: CorrelationID, now: Date
    ) {
        startWorkflow(type: definition.type, version: definition.version, maxAttempts: definition.maxAttempts, id: id, input: input,
                      correlationID: correlationID, now: now)
    }

    /// Adds the start of a run of a definition named by its type and version (registered with the runner).
    public mutating func startWorkflow(
        type: String, version: Int, maxAttempts: Int, id: WorkflowRunID = .random(), input: Data, correlationID: CorrelationID, now: Date
    ) {
        workflows.append(.start(WorkflowRun(
            id: id, type: type, version: version, correlationID: correlationID, input: input, createdAt: now, updatedAt: now)))
        jobs.append(WorkflowRunner.advanceJob(id, .run(step: 0), runAt: now, maxAttempts: maxAttempts))
    }
}
