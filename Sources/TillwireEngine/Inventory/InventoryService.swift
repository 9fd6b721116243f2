import Foundation
import Metrics
import TillwireDomain
import TillwireStorage

/// The inventory's commands, whoever sends them (the API, a connector, the store agent): each checks its input
/// against the catalog, then commits the change with its events in one transaction. A batch is all or nothing:
/// one bad item refuses the whole batch, and the error lists every bad item.
public struct InventoryService: Sendable {
    /// How reservations without a location pick one among their candidates.
    public enum LocationChoice: String, Sendable, CaseIterable {
        /// The candidate with the most available-to-promise first (ties in the order given).
        case mostAvailable = "most_available"
        /// The candidates in the order given: the first that has enough.
        case firstListed = "first_listed"
    }

    public struct Policy: Sendable, Hashable {
        /// A count whose correction is at least this many units (either way) raises an alert. Default 10.
        public var divergenceAlertUnits: Int64
        public var locationChoice: LocationChoice
        /// Reservations without an expiry expire after this long. Default 15 minutes.
        public var defaultHold: Duration
        /// The longest hold a reservation may ask for. Default 30 days.
        public var maximumHold: Duration

        public init(divergenceAlertUnits: Int64 = 10, locationChoice: LocationChoice = .mostAvailable,
                    defaultHold: Duration = .seconds(900), maximumHold: Duration = .seconds(30 * 86_400)) {
            self.divergenceAlertUnits = divergenceAlertUnits
            self.locationChoice = locationChoice
            self.defaultHold = defaultHold
            self.maximumHold = maximumHold
        }
    }

    /// One bad item of a batch: its index, the field, and why.
    public struct ItemProblem: Sendable, Hashable, Codable {
        public let index: Int
        public let field: String
        public let detail: String

        public init(index: Int, field: String, detail: String) {
            self.index = index
            self.field = field
            self.detail = detail
        }
    }

    /// The batch was refused; nothing was applied.
    public struct InvalidItems: Error, Sendable {
        public let problems: [ItemProblem]

        public init(problems: [ItemProblem]) {
            self.problems = problems
        }
    }

    /// An absolute quantity reported by a system as of a time.
    public struct Count: Sendable, Hashable {
        public let sku: SKU
        public let location: LocationID
        public let counted: Int64
        public let asOf: Date
        public let source: SystemID
        public let sourceKey: String

        public init(sku: SKU, location: LocationID, counted: Int64, asOf: Date, source: SystemID, sourceKey: String) {
            self.sku = sku
            self.location = location
            self.counted = counted
            self.asOf = asOf
            self.source = source
            self.sourceKey = sourceKey
        }
    }

    /// A reservation asked for: at `location`, or at the best of `candidates` by the policy.
    public struct ReservationRequest: Sendable, Hashable {
        public let id: ReservationID
        public let order: OrderID
        public let sku: SKU
        public let quantity: Int64
        public let location: LocationID?
        public let candidates: [LocationID]
        public let hold: Duration?

        public init(id: ReservationID, order: OrderID, sku: SKU, quantity: Int64, location: LocationID?, candidates: [LocationID] = [], hold: Duration? = nil) {
            self.id = id
            self.order = order
            self.sku = sku
            self.quantity = quantity
            self.location = location
            self.candidates = candidates
            self.hold = hold
        }
    }

    public static let expiryJobKind = "reservation.expire"
    /// The system hub-made movements are keyed under (consumed reservations, expiries).
    public static let hub: SystemID = "tillwire"

    let store: any Store
    public let policy: Policy
    let now: @Sendable () -> Date

    public init(store: any Store, policy: Policy = Policy(), now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.policy = policy
        self.now = now
    }

    // MARK: Movements and counts

    /// Records movements, all or none. Repeats (same source and source key) are `alreadyApplied`.
    ///
    /// A sale at a store may not take units reserved for orders (a pickup waiting at the counter): it is refused with
    /// `DomainError.reservedStock` unless `overrides` gives a reason for it (by the movement's index); an overriding
    /// sale that did take reserved units is recorded as `inventory.reserved_stock_sold` with that reason.
    public func record(_ movements: [InventoryMovement], correlation: CorrelationID, overrides: [Int: String] = [:]) async throws -> [InventoryOutcome] {
        let unknown = try await unknownItems(movements.enumerated().map { ($0, $1.sku, $1.location, $1.transfer?.destination) }, prefix: "movements")
        guard unknown.isEmpty else { throw InvalidItems(problems: unknown) }
        let stores = movements.contains { $0.reason == .sale }
            ? Set(try await store.locations().filter { $0.kind == .store }.map(\.id)) : []
        var commit = Commit(inventory: movements.enumerated().map { index, movement in
            movement.reason == .sale && stores.contains(movement.location) && overrides[index] == nil
                ? .recordKeepingReservations(movement) : .record(movement)
        })
        commit.inventoryEvents = { index, outcome in
            guard outcome.changed else { return [] }
            let movement = movements[index]
            let after = outcome.position
            var events = [
                try Self.event(InventoryAdjusted(movement: movement, after: after), movement.location, correlation, movement.source),
                try Self.event(AvailabilityChanged(after), movement.location, correlation, movement.source),
            ]
            if let reason = overrides[index], after.onHand < after.reserved {
                events.append(try Self.event(ReservedStockSold(sku: movement.sku, location: movement.location, quantity: -movement.delta,
                                                               short: min(-movement.delta, after.reserved - after.onHand), reason: reason,
                                                               source: movement.source),
                                             movement.location, correlation, movement.source))
            }
            return events
        }
        return try await store.commit(commit).receipt?.inventory ?? []
    }

    /// Applies absolute counts, all or none: each records the correction against the ledger at its as-of time.
    /// A correction is a divergence between the reporting system and the ledger: an event, a metric, and an alert
    /// at `policy.divergenceAlertUnits`.
    public func count(_ counts: [Count], correlation: CorrelationID) async throws -> [InventoryOutcome] {
        try await checkKnown(counts.map { ($0.sku, $0.location) }, prefix: "counts")
        var commit = Commit(inventory: counts.map {
            .count(sku: $0.sku, location: $0.location, counted: $0.counted, asOf: $0.asOf, source: $0.source, sourceKey: $0.sourceKey)
        })
        let alertAt = policy.divergenceAlertUnits
        commit.inventoryEvents = { index, outcome in
            guard case .corrected(let position, let correction) = outcome else { return [] }
            let count = counts[index]
            return [
                try Self.event(InventoryCounted(
                    sku: count.sku, location: count.location, counted: count.counted, asOf: count.asOf, source: count.source,
                    sourceKey: count.sourceKey, correction: correction, after: position), count.location, correlation, count.source),
                try Self.event(InventoryDivergenceDetected(
                    sku: count.sku, location: count.location, system: count.source, reported: count.counted, difference: correction,
                    asOf: count.asOf, alert: correction.magnitude >= alertAt.magnitude), count.location, correlation, count.source),
                try Self.event(AvailabilityChanged(position), count.location, correlation, count.source),
            ]
        }
        let outcomes = try await store.commit(commit).receipt?.inventory ?? []
        for (count, outcome) in zip(counts, outcomes) {
            let dimensions = [("location", count.location.rawValue), ("system", count.source.rawValue)]
            Counter(label: "tillwire_inventory_counts_total", dimensions: dimensions).increment()
            if case .corrected = outcome {
                Counter(label: "tillwire_inventory_mismatches_total", dimensions: dimensions).increment()
            }
        }
        return outcomes
    }

    // MARK: Reservations

    /// Holds stock for an order line. A repeat of the same request (same id, order, SKU, quantity) answers with
    /// the reservation as it is; the same id for anything else is refused. Without backorder, a reservation that
    /// would take ATP below zero is refused with `DomainError.insufficientStock`, naming what is available.
    public func reserve(_ request: ReservationRequest) async throws -> (reservation: Reservation, outcome: InventoryOutcome) {
        if let existing = try await store.reservation(request.id) {
            guard existing.order == request.order, existing.sku == request.sku, existing.quantity == request.quantity,
                  request.location.map({ $0 == existing.location }) ?? true else {
                throw StorageError.rejected(.reservationMismatch(request.id, reason: "a different order, SKU, location or quantity"))
            }
            return (existing, .alreadyApplied(try await store.position(sku: existing.sku, location: existing.location)))
        }
        let hold = request.hold ?? policy.defaultHold
        guard hold > .zero, hold <= policy.maximumHold else {
            throw InvalidItems(problems: [ItemProblem(index: 0, field: "expires_in_seconds", detail: "must be between 1 and \(Int(policy.maximumHold.timeInterval)) seconds")])
        }
        let places = request.location.map { [$0] } ?? request.candidates
        guard !places.isEmpty else {
            throw InvalidItems(problems: [ItemProblem(index: 0, field: "location", detail: "give a location, or candidates to choose from")])
        }
        try await checkKnown(places.map { (request.sku, $0) }, prefix: nil)
        guard let product = try await store.products([request.sku])[request.sku] else { preconditionFailure("checked above") }

        var order = places
        if request.location == nil, policy.locationChoice == .mostAvailable {
            var available: [LocationID: Int64] = [:]
            for position in try await store.positions(sku: request.sku) { available[position.location] = position.availableToPromise }
            let rank = Dictionary(places.enumerated().map { ($1, $0) }) { first, _ in first }
            order = places.sorted { (available[$0] ?? 0, -rank[$0]!) > (available[$1] ?? 0, -rank[$1]!) }
        }
        var shortest: DomainError?
        for location in order {
            let now = now()
            let reservation = Reservation(
                id: request.id, order: request.order, sku: request.sku, location: location, quantity: request.quantity,
                expiresAt: now + hold.timeInterval)
            var commit = Commit(
                jobs: [Self.expiryJob(reservation)],
                inventory: [.reserve(reservation, policy: product.policy)])
            commit.inventoryEvents = { _, outcome in
                guard outcome.changed else { return [] }
                return try Self.reservationEvents(reservation, created: true, after: outcome.position)
            }
            do {
                let outcome = try await store.commit(commit).receipt?.inventory.first ?? .alreadyApplied(reservation.position)
                return (reservation, outcome)
            } catch StorageError.rejected(let error) {
                // Not enough here: the next candidate may have it. Anything else is not about this location.
                guard case .insufficientStock = error, request.location == nil else { throw StorageError.rejected(error) }
                shortest = error
            }
        }
        throw StorageError.rejected(shortest ?? .insufficientStock(sku: request.sku, location: places[0], requested: request.quantity, available: 0))
    }

    /// Ends an active reservation: consumed (shipped or collected; records the sale), released (cancelled) or
    /// expired. The same end again changes nothing; another end of an ended reservation is refused.
    public func end(_ id: ReservationID, as state: ReservationState, source: SystemID, sourceKey: String?) async throws -> (reservation: Reservation, outcome: InventoryOutcome) {
        guard let reservation = try await store.reservation(id) else { throw StorageError.notFound(kind: "reservation", id: id.rawValue) }
        var commit = Commit(inventory: [.endReservation(id, as: state, at: now(), source: source, sourceKey: sourceKey ?? "\(state.rawValue)/\(id.rawValue)")])
        commit.inventoryEvents = { _, outcome in
            guard outcome.changed else { return [] }
            return try Self.reservationEvents(try reservation.ended(as: state), created: false, after: outcome.position)
        }
        let outcome = try await store.commit(commit).receipt?.inventory.first ?? .alreadyApplied(reservation.position)
        return (try await store.reservation(id) ?? reservation, outcome)
    }

    /// Moves an active reservation's expiry to `hold` from now; its expiry job reschedules itself.
    public func extend(_ id: ReservationID, hold: Duration) async throws -> Reservation {
        guard hold > .zero, hold <= policy.maximumHold else {
            throw InvalidItems(problems: [ItemProblem(index: 0, field: "expires_in_seconds", detail: "must be between 1 and \(Int(policy.maximumHold.timeInterval)) seconds")])
        }
        guard var reservation = try await store.reservation(id) else { throw StorageError.notFound(kind: "reservation", id: id.rawValue) }
        reservation.expiresAt = now() + hold.timeInterval
        let extended = reservation
        var commit = Commit(jobs: [Self.expiryJob(extended)], inventory: [.extendReservation(id, until: extended.expiresAt)])
        commit.inventoryEvents = { _, outcome in
            guard outcome.changed else { return [] }
            return [try Self.event(ReservationChanged(reservation: extended, after: outcome.position), type: "reservation.extended",
                                   extended.location, CorrelationID(trusted: extended.order.rawValue), Self.hub)]
        }
        _ = try await store.commit(commit)
        return try await store.reservation(id) ?? extended
    }

    /// The durable timer of a reservation: a job due at its expiry. One per (reservation, expiry time).
    static func expiryJob(_ reservation: Reservation) -> NewJob {
        NewJob(kind: expiryJobKind, payload: Data(reservation.id.rawValue.utf8),
               uniqueKey: "reservation.expire/\(reservation.id.rawValue)/\(reservation.expiresAt.millisecondsSince1970)",
               runAt: reservation.expiresAt, maxAttempts: 20)
    }

    static func reservationEvents(_ reservation: Reservation, created: Bool, after: InventoryPosition) throws -> [NewEvent] {
        let correlation = CorrelationID(trusted: reservation.order.rawValue)
        return [
            try event(ReservationChanged(reservation: reservation, after: after),
                      type: ReservationChanged.eventType(created: created, state: reservation.state), reservation.location, correlation, hub),
            try event(AvailabilityChanged(after), reservation.location, correlation, hub),
        ]
    }

    // MARK: Helpers

    /// Refuses unknown SKUs and locations, naming each item.
    func checkKnown(_ items: [(SKU, LocationID)], prefix: String?) async throws {
        let problems = try await unknownItems(items.enumerated().map { ($0, $1.0, $1.1, nil) }, prefix: prefix)
        guard problems.isEmpty else { throw InvalidItems(problems: problems) }
    }

    /// The items whose SKU, location or transfer destination the catalog does not know, as problems naming
    /// `<prefix>[<index>].sku` (`.location`, `.destination`).
    public func unknownItems(_ items: [(index: Int, sku: SKU, location: LocationID, destination: LocationID?)], prefix: String?) async throws -> [ItemProblem] {
        let products = try await store.products(items.map(\.sku))
        let locations = Set(try await store.locations().map(\.id))
        var problems: [ItemProblem] = []
        for (index, sku, location, destination) in items {
            let path = prefix.map { "\($0)[\(index)]." } ?? ""
            if products[sku] == nil { problems.append(ItemProblem(index: index, field: path + "sku", detail: "unknown SKU \(sku); add it with POST /v1/products")) }
            if !locations.contains(location) {
                problems.append(ItemProblem(index: index, field: path + "location", detail: "unknown location \(location); add it with PUT /v1/locations/{id}"))
            }
            if let destination, !locations.contains(destination) {
                problems.append(ItemProblem(index: index, field: path + "destination", detail: "unknown location \(destination); add it with PUT /v1/locations/{id}"))
            }
        }
        return problems
    }

    static func event<Payload: VersionedPayload>(_ payload: Payload, _ location: LocationID, _ correlation: CorrelationID, _ source: SystemID) throws -> NewEvent {
        try NewEvent(stream: stream(location), correlationID: correlation, occurredAt: Date(), source: source, payload: payload)
    }

    static func event(_ payload: ReservationChanged, type: String, _ location: LocationID, _ correlation: CorrelationID, _ source: SystemID) throws -> NewEvent {
        try NewEvent(type: type, schemaVersion: ReservationChanged.schemaVersion, stream: stream(location), correlationID: correlation,
                     occurredAt: Date(), source: source, encoding: payload)
    }

    /// One stream per location: the inventory's events of a store or warehouse, in order.
    public static func stream(_ location: LocationID) -> StreamID {
        StreamID(trusted: "inventory/\(location.rawValue)")
    }
}

extension Reservation {
    /// An empty position of the reservation's SKU and location.
    var position: InventoryPosition { InventoryPosition(sku: sku, location: location) }
}

/// Runs reservation expiry jobs: an active reservation whose time has come expires and frees its stock; one that
/// was extended meanwhile waits for its new time (its later job does the work); one that ended is left alone.
public struct ReservationExpiry: JobHandler {
    public let kind = InventoryService.expiryJobKind
    let service: InventoryService

    public init(service: InventoryService) {
        self.service = service
    }

    public func handle(_ job: Job) async throws -> Commit {
        let id = try ReservationID(String(decoding: job.payload, as: UTF8.self))
        guard let reservation = try await service.store.reservation(id), reservation.state == .active else { return Commit() }
        let now = service.now()
        guard reservation.expiresAt <= now else { return Commit(jobs: [InventoryService.expiryJob(reservation)]) }
        var commit = Commit(inventory: [.endReservation(id, as: .expired, at: now, source: InventoryService.hub, sourceKey: "expired/\(id.rawValue)")])
        commit.inventoryEvents = { _, outcome in
            guard outcome.changed else { return [] }
            return try InventoryService.reservationEvents(try reservation.ended(as: .expired), created: false, after: outcome.position)
        }
        return commit
    }
}
