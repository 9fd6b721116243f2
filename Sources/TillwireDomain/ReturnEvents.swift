import Foundation

/// A return was authorized: the first event of the return's stream (`return/<id>`).
public struct ReturnAuthorized: VersionedPayload, Hashable {
    public static let eventType = "return.authorized"
    public static let schemaVersion = 1
    public let authorization: ReturnAuthorization
    /// The return saga's run.
    public let run: WorkflowRunID

    public init(authorization: ReturnAuthorization, run: WorkflowRunID) {
        self.authorization = authorization
        self.run = run
    }
}

/// The receiving location confirmed the items: restocked or written off there, in the same commit.
public struct ReturnReceived: VersionedPayload, Hashable {
    public static let eventType = "return.received"
    public static let schemaVersion = 1
    public let location: LocationID
    /// Units back in sellable stock, by SKU.
    public let restocked: [String: Int64]
    /// Units written off, by SKU.
    public let writtenOff: [String: Int64]
    /// Units held for inspection, by SKU.
    public let inspecting: [String: Int64]

    public init(location: LocationID, restocked: [String: Int64], writtenOff: [String: Int64], inspecting: [String: Int64]) {
        self.location = location
        self.restocked = restocked
        self.writtenOff = writtenOff
        self.inspecting = inspecting
    }
}

/// A line held for inspection was decided: restocked or written off at the location that received it.
public struct ReturnInspected: VersionedPayload, Hashable {
    public static let eventType = "return.inspected"
    public static let schemaVersion = 1
    /// The line's index in the return request.
    public let line: Int
    /// `restock` or `damaged`.
    public let outcome: Disposition
    public let note: String?

    public init(line: Int, outcome: Disposition, note: String?) {
        self.line = line
        self.outcome = outcome
        self.note = note
    }
}

/// The money went back: to the original tender (the channel's refund id) or paid out at the till.
public struct ReturnRefunded: VersionedPayload, Hashable {
    public static let eventType = "return.refunded"
    public static let schemaVersion = 1
    public let amount: Money
    public let method: RefundMethod
    public let tender: String
    /// The refund's id at the channel or payment side; the till's return receipt for a store tender.
    public let reference: String

    public init(amount: Money, method: RefundMethod, tender: String, reference: String) {
        self.amount = amount
        self.method = method
        self.tender = tender
        self.reference = reference
    }
}

/// The return ended: `completed` (received, refunded, credited, the order's status moved) or voided (never received,
/// or called off), with why.
public struct ReturnClosed: VersionedPayload, Hashable {
    public static let eventType = "return.closed"
    public static let schemaVersion = 1
    public let outcome: ReturnStatus
    public let reason: String

    public init(outcome: ReturnStatus, reason: String) {
        self.outcome = outcome
        self.reason = reason
    }
}

/// Where a return stands.
public enum ReturnStatus: String, Sendable, Codable, CaseIterable {
    /// Accepted; the items have not come back yet.
    case authorized
    /// The items came back; the refund is on its way (a failing refund shows its reason beside this).
    case refundPending = "refund_pending"
    /// Refunded; the credit note and the order's status follow.
    case refunded
    case completed
    /// Called off, or not received in time: nothing was refunded, the units are returnable again.
    case voided
}

/// A return as its stream tells it.
public struct ReturnRecord: Hashable, Sendable {
    public let authorization: ReturnAuthorization
    public let run: WorkflowRunID
    public let authorizedAt: Date
    public private(set) var received: ReturnReceived?
    public private(set) var receivedAt: Date?
    public private(set) var refund: ReturnRefunded?
    public private(set) var refundedAt: Date?
    public private(set) var closed: ReturnClosed?
    /// Decisions on lines held for inspection, by the line's index in the request.
    public private(set) var inspected: [Int: ReturnInspected] = [:]
    public private(set) var version: Int64

    /// Received lines held for inspection and not decided yet.
    public var awaitingInspection: [AuthorizedReturnLine] {
        guard received != nil else { return [] }
        return authorization.lines.filter { $0.disposition == .inspect && inspected[$0.index] == nil }
    }

    public init(_ authorized: ReturnAuthorized, at: Date, version: Int64) {
        authorization = authorized.authorization
        run = authorized.run
        authorizedAt = at
        self.version = version
    }

    public var id: ReturnID { authorization.id }

    public var status: ReturnStatus {
        if let closed { return closed.outcome }
        if refund != nil { return .refunded }
        if received != nil { return .refundPending }
        return .authorized
    }

    /// The record after an event of its stream.
    public func applying(_ envelope: EventEnvelope) throws -> ReturnRecord {
        var next = self
        next.version = envelope.streamVersion
        switch envelope.type {
        case ReturnReceived.eventType:
            next.received = try envelope.decode(ReturnReceived.self)
            next.receivedAt = envelope.event.occurredAt
        case ReturnRefunded.eventType:
            next.refund = try envelope.decode(ReturnRefunded.self)
            next.refundedAt = envelope.event.occurredAt
        case ReturnClosed.eventType:
            next.closed = try envelope.decode(ReturnClosed.self)
        case ReturnInspected.eventType:
            let decision = try envelope.decode(ReturnInspected.self)
            next.inspected[decision.line] = decision
        default: break
        }
        return next
    }
}
