import Foundation
import TillwireDomain

/// One unit of work: a state change, the events it produced and the jobs it needs, committed in ONE transaction
/// (the transactional outbox). Either all of it is durable, or none of it is.
public struct Commit: Sendable {
    /// When set, the whole commit is applied only the first time this message key is seen; a repeat returns
    /// `CommitOutcome.duplicate` and changes nothing.
    public var inbox: InboxKey?
    public var events: [EventAppend]
    public var jobs: [NewJob]
    public var inventory: [InventoryChange]
    /// Locations and products; applied before `inventory`, so a commit can add a SKU and its first stock.
    public var catalog: [CatalogChange]
    /// Events describing what the inventory changes did, built from each change's outcome inside the transaction
    /// (a repeat that changed nothing gets no event; a count's event knows its correction). Appended after
    /// `events`. Must not throw for a change that applied: a throw rolls back the whole commit.
    public var inventoryEvents: (@Sendable (_ index: Int, _ outcome: InventoryOutcome) throws -> [NewEvent])?
    public var workflows: [WorkflowChange]
    /// Rows of the order status projection to write (insert or replace by order id).
    public var orders: [OrderSummary]
    /// Changes to the finance projection, applied after the events.
    public var journal: [JournalChange]
    /// New price entries and promotions.
    public var pricing: [PricingChange]
    public var access: [AccessChange]
    /// Audit entries recorded with the change they describe.
    public var audit: [AuditEntry]
    /// A subscriber's checkpoint moving past the event whose effects this commit holds: effects and progress commit
    /// together, so a handler that writes only to the hub is applied exactly once.
    public var checkpoint: CheckpointAdvance?

    public init(
        inbox: InboxKey? = nil, events: [EventAppend] = [], jobs: [NewJob] = [],
        inventory: [InventoryChange] = [], catalog: [CatalogChange] = [], workflows: [WorkflowChange] = [], orders: [OrderSummary] = [],
        access: [AccessChange] = [], audit: [AuditEntry] = [], checkpoint: CheckpointAdvance? = nil
    ) {
        self.orders = orders
        self.journal = []
        self.pricing = []
        self.inbox = inbox
        self.events = events
        self.jobs = jobs
        self.inventory = inventory
        self.catalog = catalog
        self.workflows = workflows
        self.access = access
        self.audit = audit
        self.checkpoint = checkpoint
    }
}

/// Moves a subscriber's checkpoint from `from` (what it read; 0 before its first event) to `to` (the position of
/// the last event handled). Refused with `StorageError.checkpointMoved` when the stored checkpoint is not `from`:
/// another instance of the same subscriber got there first, and this commit's effects must not apply.
public struct CheckpointAdvance: Hashable, Sendable {
    public let subscriber: String
    public let from: Int64
    public let to: Int64

    public init(subscriber: String, from: Int64, to: Int64) {
        precondition(to > from, "a checkpoint only moves forward")
        self.subscriber = subscriber
        self.from = from
        self.to = to
    }
}

/// The natural key of an incoming message: its source system and the key that system gives it
/// (Shopify's `X-Shopify-Event-Id`, a POSLog store/workstation/day/sequence, an API `Idempotency-Key`).
public struct InboxKey: Hashable, Sendable, Codable {
    public let source: SystemID
    public let messageKey: String

    public init(source: SystemID, messageKey: String) {
        self.source = source
        self.messageKey = messageKey
    }
}

/// What a stream's version must be when an event is appended (optimistic concurrency).
public enum ExpectedVersion: Hashable, Sendable, CustomStringConvertible {
    /// Append whatever the version.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream's last event must have exactly this version.
    case exactly(Int64)

    public func admits(_ current: Int64) -> Bool {
        switch self {
        case .any: true
        case .noStream: current == 0
        case .exactly(let version): current == version
        }
    }

    public var description: String {
        switch self {
        case .any: "any"
        case .noStream: "no stream"
        case .exactly(let version): "\(version)"
        }
    }
}

/// An event and the version its stream must have just before it is appended. Several appends to one stream in one
/// commit are checked in order, each against the version the previous one left.
public struct EventAppend: Sendable {
    public let event: NewEvent
    public let expected: ExpectedVersion

    public init(_ event: NewEvent, expected: ExpectedVersion = .any) {
        self.event = event
        self.expected = expected
    }
}

/// A change to stock, applied by the backend inside the commit's transaction with the domain's rules.
public enum InventoryChange: Sendable {
    /// Appends a movement to the ledger and moves on hand. A movement whose (source, source key) is already in the
    /// ledger is skipped and reported as `InventoryOutcome.alreadyApplied`.
    case record(InventoryMovement)
    /// `record` for a movement that must not take on hand below what is reserved (a till's sale at a store that
    /// holds pickups): refused with `DomainError.reservedStock` when it would. A repeat is `alreadyApplied`.
    case recordKeepingReservations(InventoryMovement)
    /// An absolute count taken at `asOf`: records a count correction of (counted − ledger balance at `asOf`),
    /// or nothing when the ledger already agrees.
    case count(sku: SKU, location: LocationID, counted: Int64, asOf: Date, source: SystemID, sourceKey: String)
    /// Holds stock for an order line. A repeat with the same id and the same content is skipped; the same id with
    /// different content fails with `DomainError.reservationMismatch`. Refused with `DomainError.insufficientStock`
    /// when ATP would go negative and the policy does not allow backorder.
    case reserve(Reservation, policy: InventoryPolicy)
    /// Ends an active reservation. Consuming (shipped, collected) also records a sale movement of its quantity,
    /// keyed by `source` and `sourceKey`; releasing and expiring only free the stock.
    case endReservation(ReservationID, as: ReservationState, at: Date, source: SystemID, sourceKey: String)
    /// Moves an active reservation's expiry to `until` (later or earlier). Refused with
    /// `DomainError.reservationNotActive` once it has ended; the same expiry again is `alreadyApplied`.
    case extendReservation(ReservationID, until: Date)
    /// Sets the stock held back from every channel at a location.
    case setSafetyStock(sku: SKU, location: LocationID, quantity: Int64)
}

/// A change to the locations and products the inventory knows; a put replaces what was there.
public enum CatalogChange: Sendable {
    case putLocation(Location)
    case putProduct(Product)
}

/// What one `InventoryChange` did.
public enum InventoryOutcome: Hashable, Sendable {
    case applied(InventoryPosition)
    /// A count that disagreed with the ledger: a count correction of `correction` units was recorded.
    case corrected(InventoryPosition, correction: Int64)
    /// The same movement or reservation was applied before, or a count agreed with the ledger; nothing changed.
    case alreadyApplied(InventoryPosition)

    /// The position after the change.
    public var position: InventoryPosition {
        switch self {
        case .applied(let position), .corrected(let position, _), .alreadyApplied(let position): position
        }
    }

    /// Whether stock or reservations changed.
    public var changed: Bool {
        if case .alreadyApplied = self { return false }
        return true
    }
}

/// What a commit did, in the order of its parts.
public struct CommitReceipt: Sendable {
    /// The appended events as the log now holds them.
    public let events: [EventEnvelope]
    /// Ids of jobs enqueued; a job whose unique key was already queued is left out.
    public let enqueuedJobs: [JobID]
    public let inventory: [InventoryOutcome]

    public init(events: [EventEnvelope], enqueuedJobs: [JobID], inventory: [InventoryOutcome]) {
        self.events = events
        self.enqueuedJobs = enqueuedJobs
        self.inventory = inventory
    }
}

public enum CommitOutcome: Sendable {
    case committed(CommitReceipt)
    /// The inbox key was seen before: the message was already applied, and nothing changed now.
    case duplicate(InboxKey)

    public var receipt: CommitReceipt? {
        if case .committed(let receipt) = self { return receipt }
        return nil
    }
}
