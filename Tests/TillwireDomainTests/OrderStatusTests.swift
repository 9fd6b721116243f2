import Foundation
import Testing
import TillwireDomain
import TillwireTesting

@Suite struct OrderStatusTests {
    /// Reaches `status` through allowed transitions, so that every pair can be tested from a real lifecycle.
    func lifecycle(at status: OrderStatus) throws -> OrderLifecycle {
        let paths: [OrderStatus: [OrderStatus]] = [
            .captured: [], .validated: [.validated], .allocated: [.validated, .allocated],
            .released: [.validated, .allocated, .released],
            .partiallyFulfilled: [.validated, .allocated, .released, .partiallyFulfilled],
            .fulfilled: [.validated, .allocated, .released, .fulfilled],
            .readyForPickup: [.validated, .allocated, .released, .readyForPickup],
            .collected: [.validated, .allocated, .released, .readyForPickup, .collected],
            .completed: [.validated, .allocated, .released, .fulfilled, .completed],
            .onHold: [.onHold], .cancelled: [.cancelled],
            .partiallyReturned: [.validated, .allocated, .released, .fulfilled, .partiallyReturned],
            .returned: [.validated, .allocated, .released, .fulfilled, .returned],
        ]
        var lifecycle = OrderLifecycle()
        for next in paths[status]! { lifecycle = try lifecycle.transitioned(to: next, holdReason: "tax missing") }
        #expect(lifecycle.status == status)
        return lifecycle
    }

    @Test(arguments: OrderStatus.allCases)
    func exactlyTheTabledTransitionsAreAllowed(from status: OrderStatus) throws {
        let start = try lifecycle(at: status)
        for target in OrderStatus.allCases {
            let allowed = status == .onHold
                ? (target == .cancelled || target == start.heldFrom)
                : OrderStatus.transitions[status]!.contains(target)
            if allowed {
                #expect(try start.transitioned(to: target, holdReason: "payment not captured").status == target)
            } else {
                #expect(throws: DomainError.illegalTransition(from: status, to: target)) {
                    try start.transitioned(to: target, holdReason: "payment not captured")
                }
            }
        }
    }

    @Test func aHoldNeedsAReasonAndResumesWhereItWasTaken() throws {
        let validated = try OrderLifecycle().transitioned(to: .validated)
        #expect(throws: DomainError.holdReasonRequired) { try validated.transitioned(to: .onHold) }
        #expect(throws: DomainError.holdReasonRequired) { try validated.transitioned(to: .onHold, holdReason: "  ") }
        let held = try validated.transitioned(to: .onHold, holdReason: "marketplace tax missing")
        #expect(held.heldFrom == .validated && held.holdReason == "marketplace tax missing")
        #expect(throws: DomainError.illegalTransition(from: .onHold, to: .allocated)) { try held.transitioned(to: .allocated) }
        let resumed = try held.transitioned(to: .validated)
        #expect(resumed.status == .validated && resumed.heldFrom == nil && resumed.holdReason == nil)
        // A hold at allocated released the stock: the order resumes at validated and reserves again.
        let heldAllocated = try resumed.transitioned(to: .allocated).transitioned(to: .onHold, holdReason: "stock gone")
        #expect(try heldAllocated.transitioned(to: .validated).status == .validated)
        #expect(try heldAllocated.transitioned(to: .allocated).status == .allocated)
    }

    @Test func terminalStatusesHaveNoWayOut() {
        #expect(OrderStatus.allCases.filter(\.isTerminal) == [.cancelled, .returned])
    }

    /// Random walks: whatever is tried, the lifecycle only ever moves along the table.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomWalksOnlyFollowTheTable(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var lifecycle = OrderLifecycle()
        for _ in 0..<300 {
            let target = OrderStatus.allCases.randomElement(using: &random)!
            let before = lifecycle
            do {
                lifecycle = try lifecycle.transitioned(to: target, holdReason: "reason")
                let allowed = before.status == .onHold
                    ? [OrderStatus.cancelled, before.heldFrom!] + (before.heldFrom == .allocated ? [.validated] : [])
                    : OrderStatus.transitions[before.status]!
                #expect(allowed.contains(target), "\(before.status) -> \(target)")
                #expect((lifecycle.status == .onHold) == (lifecycle.heldFrom != nil))
            } catch {
                #expect(lifecycle == before, "a refused transition changes nothing")
            }
            if lifecycle.status.isTerminal { lifecycle = OrderLifecycle() }
        }
    }

    @Test func theDocumentedDiagramMatchesTheCode() throws {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/lifecycles/order-status.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        guard let start = text.range(of: "```mermaid\n"), let end = text.range(of: "\n```", range: start.upperBound..<text.endIndex) else {
            Issue.record("docs/lifecycles/order-status.md has no mermaid block")
            return
        }
        #expect(String(text[start.upperBound..<end.lowerBound]) == OrderStatus.mermaidDiagram(),
                "regenerate the block from OrderStatus.mermaidDiagram()")
    }
}
