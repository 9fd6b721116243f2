/// Where a workflow (saga) run is. docs/lifecycles/workflow.md holds `transitions` as a diagram, checked by a test.
public enum WorkflowRunState: String, Sendable, Codable, CaseIterable {
    /// Steps run forward, one at a time, each recorded before the next starts.
    case running
    /// A step failed for good: the completed steps are compensated, last first.
    case compensating
    /// Every step completed.
    case completed
    /// Every completed step was compensated after a failure.
    case compensated

    public static let transitions: [WorkflowRunState: [(to: WorkflowRunState, on: String)]] = [
        .running: [(.running, "step completed (result recorded)"), (.completed, "last step completed"),
                   (.compensating, "step failed for good")],
        .compensating: [(.compensating, "step compensated (last completed first)"),
                        (.compensated, "no completed step left")],
        .completed: [],
        .compensated: [],
    ]

    public var isTerminal: Bool { Self.transitions[self, default: []].isEmpty }

    /// The state machine as a Mermaid diagram, generated from `transitions`.
    public static func mermaidDiagram() -> String {
        var lines = ["stateDiagram-v2", "    [*] --> running: started (with its definition version)"]
        for state in allCases {
            for (target, label) in transitions[state, default: []] {
                lines.append("    \(state.rawValue) --> \(target.rawValue): \(label)")
            }
        }
        for state in allCases where state.isTerminal {
            lines.append("    \(state.rawValue) --> [*]")
        }
        return lines.joined(separator: "\n")
    }
}

/// The recorded status of one step.
public enum WorkflowStepStatus: String, Sendable, Codable, CaseIterable {
    case completed, failed, compensated
}

/// What the runner does next for a run.
public enum WorkflowAction: Hashable, Sendable {
    /// Run the step at this index forward.
    case run(step: Int)
    /// Undo the completed step at this index.
    case compensate(step: Int)
    /// The run ended in this state; nothing is left to do.
    case finished(WorkflowRunState)
}

/// A saga run's progress as a pure state machine: which step runs next, which one is compensated next, and when
/// the run ends. Transitions return the next action; the engine performs it and records the result.
///
/// Steps run in index order, each recorded once. A step that fails for good turns the run to `compensating`: the
/// completed steps are compensated in reverse order (a step with nothing to undo compensates as a no-op), then
/// the run is `compensated`. The failed step itself is not compensated: its effects never committed.
public struct WorkflowLifecycle: Hashable, Sendable {
    public let stepCount: Int
    public private(set) var state: WorkflowRunState
    /// Recorded step statuses by index, contiguous from 0.
    public private(set) var steps: [WorkflowStepStatus]

    /// A new run of a definition with `stepCount` steps.
    public init(stepCount: Int) {
        precondition(stepCount > 0, "a workflow has at least one step")
        self.stepCount = stepCount
        state = .running
        steps = []
    }

    /// A run restored from what was recorded; refused when the record cannot have come from this machine
    /// (more steps than the definition has, a step recorded after a failure, a failure while running).
    public init(stepCount: Int, state: WorkflowRunState, steps: [WorkflowStepStatus]) throws(DomainError) {
        self.init(stepCount: stepCount)
        guard steps.count <= stepCount else {
            throw .illegalWorkflowRecord("\(steps.count) steps recorded for a definition with \(stepCount)")
        }
        let failures = steps.indices.filter { steps[$0] == .failed }
        switch state {
        case .running, .completed:
            guard failures.isEmpty, !steps.contains(.compensated) else {
                throw .illegalWorkflowRecord("a \(state.rawValue) run has failed or compensated steps")
            }
            guard state == .running || steps.count == stepCount else {
                throw .illegalWorkflowRecord("a completed run has \(steps.count) of \(stepCount) steps recorded")
            }
        case .compensating, .compensated:
            guard failures.count == 1, failures[0] == steps.count - 1 else {
                throw .illegalWorkflowRecord("a \(state.rawValue) run needs exactly one failed step, the last recorded")
            }
            let undone = steps.dropLast().drop { $0 == .completed }
            guard undone.allSatisfy({ $0 == .compensated }) else {
                throw .illegalWorkflowRecord("compensations must run from the last completed step backwards")
            }
            guard state == .compensating || !steps.contains(.completed) else {
                throw .illegalWorkflowRecord("a compensated run still has completed steps")
            }
        }
        self.state = state
        self.steps = steps
    }

    public var nextAction: WorkflowAction {
        switch state {
        case .running:
            steps.count < stepCount ? .run(step: steps.count) : .finished(.completed)
        case .compensating:
            steps.lastIndex(of: .completed).map { .compensate(step: $0) } ?? .finished(.compensated)
        case .completed, .compensated:
            .finished(state)
        }
    }

    /// The step at `index` completed: the next one runs, or the run is completed.
    public mutating func stepCompleted(_ index: Int) throws(DomainError) -> WorkflowAction {
        guard case .run(index) = nextAction else { throw unexpected("complete step \(index)") }
        steps.append(.completed)
        if steps.count == stepCount { state = .completed }
        return nextAction
    }

    /// The step at `index` failed for good: the completed steps are compensated, last first.
    public mutating func stepFailed(_ index: Int) throws(DomainError) -> WorkflowAction {
        guard case .run(index) = nextAction else { throw unexpected("fail step \(index)") }
        steps.append(.failed)
        state = .compensating
        if case .finished = nextAction { state = .compensated }
        return nextAction
    }

    /// The completed step at `index` was undone.
    public mutating func stepCompensated(_ index: Int) throws(DomainError) -> WorkflowAction {
        guard case .compensate(index) = nextAction else { throw unexpected("compensate step \(index)") }
        steps[index] = .compensated
        if case .finished = nextAction { state = .compensated }
        return nextAction
    }

    private func unexpected(_ what: String) -> DomainError {
        .illegalWorkflowRecord("cannot \(what) of a \(state.rawValue) run whose next action is \(nextAction)")
    }
}
