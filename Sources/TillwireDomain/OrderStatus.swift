/// The one canonical order status. Every channel's own statuses map to it.
///
/// The allowed transitions are `OrderStatus.transitions`; docs/lifecycles/order-status.md holds the same table as a
/// diagram, and a test checks that the two agree.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case captured
    case validated
    case allocated
    case released
    case partiallyFulfilled = "partially_fulfilled"
    case fulfilled
    case readyForPickup = "ready_for_pickup"
    case collected
    case completed
    case onHold = "on_hold"
    case cancelled
    case partiallyReturned = "partially_returned"
    case returned

    /// Whether an order in this status waits on the retailer's systems (to validate, reserve, release, ship, or be
    /// looked at on hold); `ready_for_pickup` waits on the customer, and the rest are settled.
    public var waitsOnTheEstate: Bool {
        switch self {
        case .captured, .validated, .allocated, .released, .partiallyFulfilled, .onHold: true
        case .fulfilled, .readyForPickup, .collected, .completed, .cancelled, .partiallyReturned, .returned: false
        }
    }

    /// Every allowed transition. A second partial shipment or partial return is a transition to the same status.
    /// From `on_hold`, only the status the order was held in (or `cancelled`) is allowed, and `validated` after a hold
    /// at `allocated` (its stock was released): `OrderLifecycle` enforces that; this table lists every status a hold
    /// may have been taken from.
    public static let transitions: [OrderStatus: [OrderStatus]] = [
        .captured: [.validated, .onHold, .cancelled],
        .validated: [.allocated, .onHold, .cancelled],
        .allocated: [.released, .onHold, .cancelled],
        // A hold after release is the oversell policy's: units reserved for the order were sold at the till
        // (docs/store-agent.md); the order goes back to where it was once the store has them again.
        .released: [.partiallyFulfilled, .fulfilled, .readyForPickup, .onHold, .cancelled],
        .partiallyFulfilled: [.partiallyFulfilled, .fulfilled],
        .fulfilled: [.completed, .partiallyReturned, .returned],
        .readyForPickup: [.collected, .onHold, .cancelled],
        .collected: [.completed, .partiallyReturned, .returned],
        .completed: [.partiallyReturned, .returned],
        .onHold: [.captured, .validated, .allocated, .released, .readyForPickup, .cancelled],
        .cancelled: [],
        .partiallyReturned: [.partiallyReturned, .returned],
        .returned: [],
    ]

    /// The statuses a hold may be taken from (each lists `.onHold` among its targets).
    public static var holdable: [OrderStatus] { allCases.filter { transitions[$0, default: []].contains(.onHold) } }

    public var isTerminal: Bool { Self.transitions[self, default: []].isEmpty }

    /// The state machine as a Mermaid diagram, generated from `transitions` (docs/ embeds this text).
    public static func mermaidDiagram() -> String {
        var lines = ["stateDiagram-v2", "    [*] --> captured"]
        for status in allCases {
            for target in transitions[status, default: []] {
                let note = status == .onHold && target != .cancelled ? ": resume (only to the status held in)" : ""
                lines.append("    \(status.rawValue) --> \(target.rawValue)\(note)")
            }
        }
        for status in allCases where status.isTerminal {
            lines.append("    \(status.rawValue) --> [*]")
        }
        return lines.joined(separator: "\n")
    }
}

/// An order's position in the status machine: the status, and while on hold, why and where it was held.
public struct OrderLifecycle: Hashable, Sendable, Codable {
    public private(set) var status: OrderStatus
    /// The status the order was in when it was put on hold; nil unless on hold.
    public private(set) var heldFrom: OrderStatus?
    /// Why the order is on hold (e.g. "payment not captured", "tax missing"); nil unless on hold.
    public private(set) var holdReason: String?

    public init() {
        status = .captured
    }

    /// The lifecycle after moving to `next`. Illegal transitions are refused with `DomainError.illegalTransition`;
    /// a hold needs a non-empty `holdReason`.
    public func transitioned(to next: OrderStatus, holdReason: String? = nil) throws(DomainError) -> OrderLifecycle {
        let allowed: Bool
        if status == .onHold {
            // A hold taken at `allocated` released the stock: the order resumes at `validated` and reserves again.
            allowed = next == .cancelled || next == heldFrom || (heldFrom == .allocated && next == .validated)
        } else {
            allowed = OrderStatus.transitions[status, default: []].contains(next)
        }
        guard allowed else { throw .illegalTransition(from: status, to: next) }
        var result = self
        if next == .onHold {
            guard let reason = holdReason?.trimmingCharacters(in: .whitespaces), !reason.isEmpty else {
                throw .holdReasonRequired
            }
            result.heldFrom = status
            result.holdReason = reason
        } else {
            result.heldFrom = nil
            result.holdReason = nil
        }
        result.status = next
        return result
    }
}

import Foundation
