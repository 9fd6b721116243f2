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

    public init(from: OrderStatus, to: OrderStatus, cause: String, holdReasons: [HoldReason] = []) {
        self.from = from
        self.to = to
        self.cause = cause
        self.holdReasons = holdReasons
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
