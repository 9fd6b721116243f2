import Foundation

/// An order arrived from its channel, as the canonical order. The first event of the order's stream.
public struct OrderCaptured: VersionedPayload, Hashable {
    public static let eventType = "order.captured"
    public static let schemaVersion = 1
    public let order: Order

    public init(order: Order) {
        self.order = order
    }
}

/// The order's canonical status changed: from what, to what, why (the cause a person reads), and while on hold the
/// gate's reasons.
public struct OrderStatusChanged: VersionedPayload, Hashable {
    public static let eventType = "order.status_changed"
    public static let schemaVersion = 1
    public let from: OrderStatus
    public let to: OrderStatus
    public let cause: String
    public let holdReasons: [HoldReason]
    /// The fulfilment saga run this change started (set on each move to `validated`); absent otherwise.
    public let run: WorkflowRunID?

    public init(from: OrderStatus, to: OrderStatus, cause: String, holdReasons: [HoldReason] = [], run: WorkflowRunID? = nil) {
        self.from = from
        self.to = to
        self.cause = cause
        self.holdReasons = holdReasons
        self.run = run
    }
}

/// The fulfilling system accepted the order: the document it created there (a sale, a pick list, a store's queue).
public struct OrderReleased: VersionedPayload, Hashable {
    public static let eventType = "order.released"
    public static let schemaVersion = 1
    public let system: SystemID
    public let document: String

    public init(system: SystemID, document: String) {
        self.system = system
        self.document = document
    }
}

/// A carrier's tracking of a shipment.
public struct Tracking: Hashable, Sendable, Codable {
    public let carrier: String
    public let number: String
    public let url: String?

    public init(carrier: String, number: String, url: String? = nil) {
        self.carrier = carrier
        self.number = number
        self.url = url
    }
}

/// Order lines left a location: shipped by the fulfilling system, or collected in store. Their reservations were
/// consumed in the same commit (the sale movement).
public struct OrderShipped: VersionedPayload, Hashable {
    public static let eventType = "order.shipped"
    public static let schemaVersion = 1
    /// The fulfilling system's id of the shipment; a shipment is recorded once.
    public let shipment: String
    public let lines: [String]
    public let tracking: Tracking?

    public init(shipment: String, lines: [String], tracking: Tracking?) {
        self.shipment = shipment
        self.lines = lines
        self.tracking = tracking
    }
}

/// Order lines cancelled before they shipped; their reservations were released in the same commit.
public struct OrderLinesCancelled: VersionedPayload, Hashable {
    public static let eventType = "order.lines_cancelled"
    public static let schemaVersion = 1
    public let lines: [String]
    public let reason: String

    public init(lines: [String], reason: String) {
        self.lines = lines
        self.reason = reason
    }
}

/// A milestone of the order's flow that a saga waits for, or that a later flow consumes: each is its own event type,
/// committed with the status change it marks.
public struct OrderMilestone: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Every line shipped or cancelled, at least one shipped.
        case fulfilled = "order.fulfilled"
        /// A pickup's lines are picked and wait at the store's counter.
        case picked = "order.picked"
        /// The customer collected a pickup.
        case collected = "order.collected"
        /// The order's flow ended: the hand-over to financial posting.
        case completed = "order.completed"
        /// The order ended without the customer getting (all of) it after paying: the channel refunds.
        case refundDue = "order.refund_due"
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var eventType: String { kind.rawValue }
}

/// The hub told an external system about the order (other than the release, which is `OrderReleased`): the
/// fulfilling system to stop, the channel of a new status and tracking. The lineage of the jobs that succeeded.
public struct OrderSystemCalled: VersionedPayload, Hashable {
    public static let eventType = "order.system_called"
    public static let schemaVersion = 1
    public enum Action: String, Sendable, Codable {
        /// The fulfilling system was told to stop fulfilling the order (or some lines).
        case cancelFulfilment = "cancel_fulfilment"
        /// The channel was told the order's status (and tracking).
        case notifyChannel = "notify_channel"
    }

    public let system: SystemID
    public let action: Action
    public let status: OrderStatus?
    public let lines: [String]?
    public let tracking: Tracking?

    public init(system: SystemID, action: Action, status: OrderStatus? = nil, lines: [String]? = nil, tracking: Tracking? = nil) {
        self.system = system
        self.action = action
        self.status = status
        self.lines = lines
        self.tracking = tracking
    }
}

/// The payment side's figures for the order changed (an authorization arrived, a capture, a refund).
public struct OrderPaymentsUpdated: VersionedPayload, Hashable {
    public static let eventType = "order.payments_updated"
    public static let schemaVersion = 1
    public let payments: Payments
    public let cause: String

    public init(payments: Payments, cause: String) {
        self.payments = payments
        self.cause = cause
    }
}

/// A return of some of the order's units was authorized: those units are no longer returnable. Appended to the
/// order's stream at the version the return rules read, so two returns of the same line cannot both take its last
/// unit.
public struct OrderReturnAuthorized: VersionedPayload, Hashable {
    public static let eventType = "order.return_authorized"
    public static let schemaVersion = 1
    public let returnID: ReturnID
    /// Units by order line id.
    public let lines: [String: Int64]
    /// Whether this return refunds the order's shipping.
    public let shipping: Bool
    /// What the return refunds, in minor units.
    public let amount: Int64

    public init(returnID: ReturnID, lines: [String: Int64], shipping: Bool, amount: Int64) {
        self.returnID = returnID
        self.lines = lines
        self.shipping = shipping
        self.amount = amount
    }
}

/// A return ended without its items coming back (voided, or not received in time): its units are returnable again.
/// Also used when a return was completed (`completed` true): its units count as returned for the order's status.
public struct OrderReturnSettled: VersionedPayload, Hashable {
    public static let eventType = "order.return_settled"
    public static let schemaVersion = 1
    public let returnID: ReturnID
    public let completed: Bool
    public let reason: String

    public init(returnID: ReturnID, completed: Bool, reason: String) {
        self.returnID = returnID
        self.completed = completed
        self.reason = reason
    }
}

/// An order as its events tell it: the canonical order, where it stands, and every status change.
public struct OrderRecord: Hashable, Sendable {
    /// The order as captured.
    public let order: Order
    /// The payment side's current figures: the captured order's, then each update's.
    public private(set) var payments: Payments
    public private(set) var lifecycle: OrderLifecycle
    /// The gate's reasons while on hold; empty otherwise.
    public private(set) var holdReasons: [HoldReason]
    public private(set) var history: [Change]
    /// The version of the order's stream this record was read at.
    public private(set) var version: Int64
    /// The fulfilment saga run of the latest move to `validated`.
    public private(set) var run: WorkflowRunID?
    public private(set) var releases: [OrderReleased] = []
    public private(set) var shipments: [OrderShipped] = []
    /// Lines cancelled before shipping, by line id, with the reason.
    public private(set) var cancelledLines: [String: String] = [:]
    /// When each line left (shipped or collected), by line id.
    public private(set) var leftAt: [String: Date] = [:]
    /// Returns authorized and not voided, with their units by line id.
    public private(set) var returns: [ReturnID: OrderReturnAuthorized] = [:]
    /// Returns completed (received and refunded).
    public private(set) var completedReturns: Set<ReturnID> = []

    /// Units of each line in returns that were not voided.
    public var returnedUnits: [String: Int64] {
        returns.values.reduce(into: [:]) { sums, ret in for (line, units) in ret.lines { sums[line, default: 0] += units } }
    }

    /// Units of each line in completed returns.
    public var completedReturnUnits: [String: Int64] {
        returns.values.filter { completedReturns.contains($0.returnID) }
            .reduce(into: [:]) { sums, ret in for (line, units) in ret.lines { sums[line, default: 0] += units } }
    }

    public var shippingRefunded: Bool { returns.values.contains { $0.shipping } }

    /// What returns not voided refund, in minor units.
    public var refundedByReturns: Int64 { returns.values.reduce(0) { $0 + $1.amount } }

    /// The ids of the lines shipped (or collected).
    public var shippedLines: Set<String> { Set(shipments.flatMap(\.lines)) }

    /// The lines neither shipped nor cancelled.
    public var openLines: [OrderLine] {
        let shipped = shippedLines
        return order.lines.filter { !shipped.contains($0.id) && cancelledLines[$0.id] == nil }
    }

    /// The reservation that holds stock for a line in the current saga run: one per line and run (a run that
    /// failed released its own, and the next run reserves afresh).
    public func reservationID(of line: OrderLine) -> ReservationID {
        let index = order.lines.firstIndex(of: line) ?? 0
        return ReservationID(trusted: "\(order.id.rawValue)-\(index + 1)-\(run?.rawValue.prefix(8) ?? "none")")
    }

    public struct Change: Hashable, Sendable {
        public let at: Date
        public let change: OrderStatusChanged
        public let eventID: EventID
    }

    public init(order: Order, version: Int64) {
        self.order = order
        self.payments = order.payments
        self.lifecycle = OrderLifecycle()
        self.holdReasons = []
        self.history = []
        self.version = version
    }

    /// The order as it stands: as captured, with the current payments.
    public var current: Order { order.with(payments: payments) }

    /// The record after a payment update read from the log.
    public func applying(_ update: OrderPaymentsUpdated, version: Int64) -> OrderRecord {
        var next = self
        next.payments = update.payments
        next.version = version
        return next
    }

    /// The record after a status change read from the log. A change the status machine refuses means the log is not
    /// this build's (or is corrupt): it is reported, not skipped.
    public func applying(_ change: OrderStatusChanged, at: Date, eventID: EventID, version: Int64) throws(DomainError) -> OrderRecord {
        guard change.from == lifecycle.status else {
            throw .illegalTransition(from: lifecycle.status, to: change.to)
        }
        var next = self
        next.lifecycle = try lifecycle.transitioned(to: change.to, holdReason: change.to == .onHold ? change.holdReasons.map(\.description).joined(separator: "; ") : nil)
        next.holdReasons = change.to == .onHold ? change.holdReasons : []
        next.history.append(Change(at: at, change: change, eventID: eventID))
        next.version = version
        if let run = change.run { next.run = run }
        return next
    }

    /// The record after an event that changes none of its fields (a milestone, a call to a system).
    public func applying(version: Int64) -> OrderRecord {
        var next = self
        next.version = version
        return next
    }

    /// The record after a release, shipment or line cancellation read from the log (other events only move the
    /// version).
    public func applying(released: OrderReleased? = nil, shipped: OrderShipped? = nil, cancelled: OrderLinesCancelled? = nil,
                         returned: OrderReturnAuthorized? = nil, settled: OrderReturnSettled? = nil, at: Date? = nil,
                         version: Int64) -> OrderRecord {
        var next = self
        if let released { next.releases.append(released) }
        if let shipped {
            next.shipments.append(shipped)
            for line in shipped.lines { next.leftAt[line] = at ?? next.leftAt[line] }
        }
        if let returned { next.returns[returned.returnID] = returned }
        if let settled {
            if settled.completed { next.completedReturns.insert(settled.returnID) } else { next.returns[settled.returnID] = nil }
        }
        if let cancelled { for line in cancelled.lines { next.cancelledLines[line] = cancelled.reason } }
        next.version = version
        return next
    }
}

extension Identifier where Tag == OrderTag {
    /// The hub's id of a channel's order: derived from the channel and the channel's order id, so that the same order
    /// from the same channel always gets the same id, and any text the channel uses stays out of URLs.
    /// `o-` and 32 hex digits (two 64-bit FNV-1a hashes); a collision would be caught, as the stored order names its
    /// channel order.
    public static func derived(channel: ChannelID, channelOrderID: String) -> OrderID {
        let bytes = Array(channel.rawValue.utf8) + [0] + Array(channelOrderID.utf8)
        func fnv(_ basis: UInt64) -> UInt64 {
            var hash = basis
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return hash
        }
        let hex = { (value: UInt64) -> String in
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return OrderID(trusted: "o-" + hex(fnv(0xCBF2_9CE4_8422_2325)) + hex(fnv(0x6C62_272E_07BB_0142)))
    }
}
