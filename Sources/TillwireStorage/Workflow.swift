import Foundation
import TillwireDomain

/// Where a workflow (saga) run is.
public enum WorkflowRunState: String, Sendable, Codable, CaseIterable {
    case running, compensating, completed, compensated, failed
}

/// One run of a durable workflow.
public struct WorkflowRun: Sendable, Hashable {
    public let id: WorkflowRunID
    /// The workflow's name, e.g. `order.fulfilment`.
    public let type: String
    public let state: WorkflowRunState
    public let correlationID: CorrelationID
    public let input: Data
    public let createdAt: Date
    public let updatedAt: Date

    public init(
        id: WorkflowRunID, type: String, state: WorkflowRunState = .running, correlationID: CorrelationID,
        input: Data, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.type = type
        self.state = state
        self.correlationID = correlationID
        self.input = input
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public enum WorkflowStepStatus: String, Sendable, Codable, CaseIterable {
    case completed, failed, compensated
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
    case recordStep(WorkflowRunID, WorkflowStep)
    /// A compensated step is recorded again with status `.compensated` under the same index.
    case markCompensated(WorkflowRunID, stepIndex: Int, at: Date)
    case setState(WorkflowRunID, WorkflowRunState, at: Date)
}
