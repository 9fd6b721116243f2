import Foundation
import Testing
import TillwireDomain

@Suite struct WorkflowLifecycleTests {
    @Test func stepsRunForwardThenTheRunCompletes() throws {
        var run = WorkflowLifecycle(stepCount: 3)
        #expect(run.nextAction == .run(step: 0))
        #expect(try run.stepCompleted(0) == .run(step: 1))
        #expect(try run.stepCompleted(1) == .run(step: 2))
        #expect(try run.stepCompleted(2) == .finished(.completed))
        #expect(run.state == .completed && run.steps == [.completed, .completed, .completed])
    }

    @Test func aFailureCompensatesTheCompletedStepsLastFirst() throws {
        var run = WorkflowLifecycle(stepCount: 4)
        _ = try run.stepCompleted(0)
        _ = try run.stepCompleted(1)
        #expect(try run.stepFailed(2) == .compensate(step: 1))
        #expect(run.state == .compensating)
        #expect(try run.stepCompensated(1) == .compensate(step: 0))
        #expect(try run.stepCompensated(0) == .finished(.compensated))
        #expect(run.state == .compensated && run.steps == [.compensated, .compensated, .failed])
    }

    @Test func aFirstStepFailureHasNothingToCompensate() throws {
        var run = WorkflowLifecycle(stepCount: 2)
        #expect(try run.stepFailed(0) == .finished(.compensated))
        #expect(run.state == .compensated)
    }

    @Test func outOfOrderTransitionsAreRefused() throws {
        var run = WorkflowLifecycle(stepCount: 3)
        #expect(throws: DomainError.self) { try run.stepCompleted(1) }
        #expect(throws: DomainError.self) { try run.stepCompensated(0) }
        _ = try run.stepCompleted(0)
        _ = try run.stepFailed(1)
        #expect(throws: DomainError.self) { try run.stepCompleted(2) }
        #expect(throws: DomainError.self) { try run.stepCompensated(1) }
        #expect(run.nextAction == .compensate(step: 0), "refused transitions change nothing")
    }

    @Test func aRestoredRunResumesAtTheFirstUnrecordedAction() throws {
        #expect(try WorkflowLifecycle(stepCount: 3, state: .running, steps: [.completed]).nextAction == .run(step: 1))
        #expect(try WorkflowLifecycle(stepCount: 3, state: .compensating, steps: [.completed, .compensated, .failed]).nextAction
                == .compensate(step: 0))
        #expect(try WorkflowLifecycle(stepCount: 3, state: .completed, steps: [.completed, .completed, .completed]).nextAction
                == .finished(.completed))
    }

    @Test func recordsThisMachineCannotProduceAreRefused() {
        let impossible: [(WorkflowRunState, [WorkflowStepStatus])] = [
            (.running, [.completed, .completed, .completed, .completed]),   // more steps than defined
            (.running, [.failed]),                                            // a failure while running
            (.completed, [.completed]),                                      // completed early
            (.compensating, [.completed, .completed]),                       // no failed step
            (.compensating, [.failed, .completed]),                          // a step after the failure
            (.compensating, [.compensated, .completed, .failed]),            // compensated out of order
            (.compensated, [.completed, .failed]),                           // compensated with a step left
        ]
        for (state, steps) in impossible {
            #expect(throws: DomainError.self, "\(state) \(steps)") { try WorkflowLifecycle(stepCount: 3, state: state, steps: steps) }
        }
    }

    @Test func theDocumentedDiagramMatchesTheCode() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/lifecycles/workflow.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let start = text.range(of: "```mermaid\n"), let end = text.range(of: "\n```", range: start.upperBound..<text.endIndex) else {
            Issue.record("docs/lifecycles/workflow.md has no mermaid block")
            return
        }
        #expect(String(text[start.upperBound..<end.lowerBound]) == WorkflowRunState.mermaidDiagram(),
                "regenerate the block from WorkflowRunState.mermaidDiagram()")
    }
}
