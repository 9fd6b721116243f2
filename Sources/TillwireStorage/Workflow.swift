import Foundation
import TillwireDomain

/// One run of a durable workflow (saga). Its lifecycle is `WorkflowLifecycle` (TillwireDomain).
public struct WorkflowRun: Sendable, Hashable {
    public let id: WorkflowRunID
    /// The workflow's name, e.g. `order.fulfilment`.
    public let type: String
    /// The definition version the run started with; it keeps running with that version after an upgrade.
    public let version: Int
    public let state: WorkflowRunState
    public let correlationID: CorrelationID
    public let input: Data
    /// The durable timer of the step the run is waiting in; nil when it is not waiting.
    public let wait: WorkflowWait?
    public let createdAt: Date
    public let updatedAt: Date

    public init(
        id: WorkflowRunID, type: String, version: Int = 1, state: WorkflowRunState = .running,
        correlationID: CorrelationID, input: Data, wait: WorkflowWait? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.type = type
        self.version = version
        self.state = state
        self.correlationID = correlationID
        self.input = input
        self.wait = wait
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A step waiting until a time, or for an event of its run's correlation id until a deadline.
public struct WorkflowWait: Sendable, Hashable {
    public let stepIndex: Int
    /// When the sleep ends, or when waiting for the event times out.
    public let until: Date
    /// The event type waited for; nil for a plain sleep.
    public let eventType: String?

    public init(stepIndex: Int, until: Date, eventType: String? = nil) {
        self.stepIndex = stepIndex
        self.until = until
        self.eventType = eventType
    }
}

/// The recorded result of one step. A step is recorded once: a second record of the same index is a conflict,
/// so two runners can never both believe they ran it.
public struct WorkflowStep: Sendable, Hashable {
    public let index: Int
    public let name: String
    public let status: WorkflowStepStatus
    public let output: Data
    public let recordedAt: Date

    public init(index: Int, name: String, status: WorkflowStepStatus, output: Data, recordedAt: Date) {
        self.index = index
        self.name = name
        self.status = status
        self.output = output
        self.recordedAt = recordedAt
    }
}

/// A change to a workflow run, committed with the events and jobs of the same step.
public enum WorkflowChange: Sendable {
    /// Starts a run; a run with the same id already stored fails with `StorageError.conflict`.
    case start(WorkflowRun)
    /// Records a step's result and clears the run's wait.
    case recordStep(WorkflowRunID, WorkflowStep)
    /// A compensated step is recorded again with status `.compensated` under the same index.
    case markCompensated(WorkflowRunID, stepIndex: Int, at: Date)
    case setState(WorkflowRunID, WorkflowRunState, at: Date)
    /// Sets (or with nil clears) the run's durable timer.
    case setWait(WorkflowRunID, WorkflowWait?, at: Date)
}
