import Foundation

/// Why stock moved. The sign of a movement's delta follows from its reason, except for a count correction.
public enum MovementReason: String, Sendable, Codable, CaseIterable {
    case sale, `return`, receipt
    case transferOut = "transfer_out"
    case transferIn = "transfer_in"
    case damage
    case countCorrection = "count_correction"

    /// -1 for reasons that take stock out, +1 for those that bring it in, nil when either is possible.
    public var requiredSign: Int64? {
        switch self {
        case .sale, .transferOut, .damage: -1
        case .return, .receipt, .transferIn: 1
        case .countCorrection: nil
        }
    }
}

/// The transfer a `transfer_out` or `transfer_in` movement belongs to. A transfer out names where the stock goes;
/// from then until the transfer in arrives, the units are in transit to the destination.
public struct TransferLeg: Hashable, Sendable, Codable {
    /// The transfer's id in the sending system (a transfer order, a shipment number), 1-200 characters.
    public let id: String
    /// Where the stock goes: required on a transfer out, nil on a transfer in (its location is the destination).
    public let destination: LocationID?

    public init(id: String, destination: LocationID? = nil) throws(DomainError) {
        guard (1...200).contains(id.unicodeScalars.count), id.allSatisfy({ !$0.isNewline }) else {
            throw .invalidIdentifier(kind: "transfer", value: String(id.prefix(64)))
        }
        self.id = id
        self.destination = destination
    }

    public init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case id, destination }
        let container = try decoder.container(keyedBy: Keys.self)
        do {
            try self.init(id: container.decode(String.self, forKey: .id), destination: container.decodeIfPresent(LocationID.self, forKey: .destination))
        } catch let error as DomainError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }
}

/// One line of the append-only stock ledger of a (SKU, location).
///
/// `source` and `sourceKey` are the natural key: the same movement sent twice is recognised and applied once.
public struct InventoryMovement: Hashable, Sendable, Codable {
    /// The largest magnitude a single movement may have; anything bigger is a data error, not a stock change.
    public static let maximumMagnitude: Int64 = 1_000_000

    public let sku: SKU
    public let location: LocationID
    public let delta: Int64
    public let reason: MovementReason
    public let occurredAt: Date
    public let source: SystemID
    public let sourceKey: String
    /// The transfer a transfer out or in belongs to; nil for other reasons, and for transfers not tracked in transit.
    public let transfer: TransferLeg?

    public init(
        sku: SKU, location: LocationID, delta: Int64, reason: MovementReason,
        occurredAt: Date, source: SystemID, sourceKey: String, transfer: TransferLeg? = nil
    ) throws(DomainError) {
        guard delta != 0 else { throw .invalidQuantity(delta, reason: "a movement must change stock") }
        guard delta.magnitude <= Self.maximumMagnitude.magnitude else {
            throw .invalidQuantity(delta, reason: "more than \(Self.maximumMagnitude) units in one movement")
        }
        if let sign = reason.requiredSign, delta.signum() != sign {
            throw .movementSignMismatch(reason: reason, delta: delta)
        }
        guard (1...200).contains(sourceKey.unicodeScalars.count) else {
            throw .invalidIdentifier(kind: "movement source key", value: String(sourceKey.prefix(64)))
        }
        if let transfer {
            switch reason {
            case .transferOut:
                guard let destination = transfer.destination, destination != location else {
                    throw .invalidTransfer("a transfer out names a destination other than its own location")
                }
            case .transferIn:
                guard transfer.destination == nil || transfer.destination == location else {
                    throw .invalidTransfer("a transfer in arrives at its own location")
                }
            default:
                throw .invalidTransfer("only transfer_out and transfer_in movements belong to a transfer, not \(reason.rawValue)")
            }
        }
        self.sku = sku
        self.location = location
        self.delta = delta
        self.reason = reason
        self.occurredAt = occurredAt
        self.source = source
        self.sourceKey = sourceKey
        self.transfer = transfer
    }

    /// Decoding runs the same checks as `init`: a stored or received movement cannot bypass them.
    public init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case sku, location, delta, reason, occurredAt, source, sourceKey, transfer }
        let container = try decoder.container(keyedBy: Keys.self)
        do {
            try self.init(
                sku: container.decode(SKU.self, forKey: .sku), location: container.decode(LocationID.self, forKey: .location),
                delta: container.decode(Int64.self, forKey: .delta), reason: container.decode(MovementReason.self, forKey: .reason),
                occurredAt: container.decode(Date.self, forKey: .occurredAt), source: container.decode(SystemID.self, forKey: .source),
                sourceKey: container.decode(String.self, forKey: .sourceKey),
                transfer: container.decodeIfPresent(TransferLeg.self, forKey: .transfer))
        } catch let error as DomainError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// The largest absolute count accepted for one (SKU, location).
    public static let maximumCount: Int64 = 100_000_000

    /// The correction that brings the ledger to an absolute count taken at some time: the count minus the
    /// ledger's balance at that time. Sales recorded after the count are therefore kept, not wiped out.
    /// A count must be between 0 and `maximumCount`.
    public static func countCorrection(counted: Int64, balanceAtCountTime: Int64) throws(DomainError) -> Int64 {
        guard (0...maximumCount).contains(counted) else {
            throw .invalidQuantity(counted, reason: "a count must be between 0 and \(maximumCount)")
        }
        let (correction, overflow) = counted.subtractingReportingOverflow(balanceAtCountTime)
        guard !overflow else { throw .invalidQuantity(counted, reason: "the ledger balance is out of range") }
        return correction
    }
}

/// What is known of one (SKU, location): a cache of the ledger and of the active reservations.
public struct InventoryPosition: Hashable, Sendable, Codable {
    public let sku: SKU
    public let location: LocationID
    /// The sum of the ledger's deltas.
    public var onHand: Int64
    /// The sum of the active reservations' quantities.
    public var reserved: Int64
    /// Held back from every channel by policy.
    public var safetyStock: Int64

    public init(sku: SKU, location: LocationID, onHand: Int64 = 0, reserved: Int64 = 0, safetyStock: Int64 = 0) {
        self.sku = sku
        self.location = location
        self.onHand = onHand
        self.reserved = reserved
        self.safetyStock = safetyStock
    }

    /// Available to promise: on hand − reserved − safety stock. May be negative (a store sold more than the
    /// hub knew of); a reservation never makes it negative unless the policy allows backorder.
    public var availableToPromise: Int64 { onHand - reserved - safetyStock }

    /// The position after a ledger movement. Movements record what physically happened, so they are never refused
    /// for lack of stock.
    public func applying(_ movement: InventoryMovement) -> InventoryPosition {
        precondition(movement.sku == sku && movement.location == location, "movement for another position")
        var next = self
        next.onHand += movement.delta
        return next
    }

    /// The position after reserving `quantity`; refused when it would make ATP negative and backorder is not allowed.
    public func reserving(_ quantity: Int64, policy: InventoryPolicy) throws(DomainError) -> InventoryPosition {
        guard quantity > 0, quantity <= InventoryMovement.maximumMagnitude else {
            throw .invalidQuantity(quantity, reason: "a reservation must be between 1 and \(InventoryMovement.maximumMagnitude)")
        }
        if !policy.allowBackorder, quantity > availableToPromise {
            throw .insufficientStock(sku: sku, location: location, requested: quantity, available: max(0, availableToPromise))
        }
        var next = self
        next.reserved += quantity
        return next
    }

    /// The position after an active reservation ends (consumed, released or expired).
    public func ending(_ reservation: Reservation) -> InventoryPosition {
        precondition(reservation.sku == sku && reservation.location == location, "reservation for another position")
        var next = self
        next.reserved -= reservation.quantity
        return next
    }
}

/// Stock rules that the config may change.
public struct InventoryPolicy: Hashable, Sendable, Codable {
    /// Whether a reservation may take ATP below zero. Default: false.
    public var allowBackorder: Bool

    public init(allowBackorder: Bool = false) { self.allowBackorder = allowBackorder }
}

/// The lifecycle of a reservation: `active` ends exactly once, as consumed, released or expired.
public enum ReservationState: String, Sendable, Codable, CaseIterable {
    case active, consumed, released, expired

    /// Every allowed move, with what causes it. `Reservation` follows this table; docs/lifecycles/reservation.md
    /// embeds `mermaidDiagram()`, and a test keeps the two equal.
    public static let transitions: [ReservationState: [(to: ReservationState, on: String)]] = [
        .active: [
            (.active, "extend (a new expiry; the timer follows)"),
            (.consumed, "shipped or collected (records a sale movement)"),
            (.released, "order cancelled or line changed"),
            (.expired, "expiry timer fired"),
        ],
    ]

    public func canMove(to next: ReservationState) -> Bool {
        Self.transitions[self, default: []].contains { $0.to == next }
    }

    /// The lifecycle as a Mermaid diagram, generated from `transitions`.
    public static func mermaidDiagram() -> String {
        var lines = ["stateDiagram-v2", "    [*] --> active: reserve (refused when ATP would go negative, unless backorder is allowed)"]
        for state in allCases {
            for move in transitions[state, default: []] { lines.append("    \(state.rawValue) --> \(move.to.rawValue): \(move.on)") }
        }
        for state in allCases where transitions[state, default: []].isEmpty { lines.append("    \(state.rawValue) --> [*]") }
        return lines.joined(separator: "\n")
    }
}

/// Stock held for an order line at one location until it ships, is collected, is cancelled or expires.
public struct Reservation: Hashable, Sendable, Codable {
    public let id: ReservationID
    public let order: OrderID
    public let sku: SKU
    public let location: LocationID
    public let quantity: Int64
    public var expiresAt: Date
    public private(set) var state: ReservationState

    public init(
        id: ReservationID, order: OrderID, sku: SKU, location: LocationID, quantity: Int64,
        expiresAt: Date, state: ReservationState = .active
    ) {
        self.id = id
        self.order = order
        self.sku = sku
        self.location = location
        self.quantity = quantity
        self.expiresAt = expiresAt
        self.state = state
    }

    /// Ends an active reservation. Any other transition is refused: a reservation ends once.
    public func ended(as final: ReservationState) throws(DomainError) -> Reservation {
        precondition(final != .active, "ending a reservation needs a final state")
        guard state.canMove(to: final) else { throw .reservationNotActive(id, state: state) }
        var next = self
        next.state = final
        return next
    }

    /// Whether ending as `final` at `time` may go ahead: an expiry only of an active reservation whose time has come
    /// (it may have been extended, consumed or released after its timer was set). The other ends are the caller's
    /// to decide.
    public func mayEnd(as final: ReservationState, at time: Date) -> Bool {
        final != .expired || (state == .active && expiresAt <= time)
    }

    /// Whether a repeat of a reservation request with the same key asks for the same thing.
    public func matches(_ other: Reservation) -> Bool {
        order == other.order && sku == other.sku && location == other.location && quantity == other.quantity
    }
}
