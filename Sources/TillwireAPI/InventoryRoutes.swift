import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The inventory over HTTP: the catalog it knows (`catalog:write`), movements and counts (`inventory:write`),
/// availability (`inventory:read`) and reservations. Every write for a location checks that the key may act for
/// it (a store's POS key writes for its store only). Batches are all or nothing; see docs/inventory.md.
enum InventoryRoutes {
    static let maximumBatch = 1_000
    static let maximumQuery = 500

    // MARK: Bodies

    struct LocationBody: Decodable {
        let kind: String
        let name: String
    }

    struct LocationView: ResponseEncodable, Codable {
        let id: String
        let kind: String
        let name: String

        init(_ location: Location) {
            id = location.id.rawValue
            kind = location.kind.rawValue
            name = location.name
        }
    }

    struct LocationList: ResponseEncodable {
        let locations: [LocationView]
    }

    struct ProductsBody: Decodable {
        struct Item: Decodable {
            let sku: String
            let name: String
            let allow_backorder: Bool?
            /// For promotions scoped by category.
            let categories: [String]?
        }
        let products: [Item]
    }

    struct ProductsResult: ResponseEncodable {
        let stored: Int
    }

    struct MovementsBody: Decodable {
        struct Item: Decodable {
            let sku: String
            let location: String
            let delta: WholeNumber
            let reason: String
            let occurred_at: String
            let source: String
            let source_key: String
            /// For transfer_out and transfer_in: the transfer they belong to, so the units are in transit meanwhile.
            let transfer_id: String?
            /// For a transfer_out with a transfer_id: where the units go.
            let destination: String?
            /// For a sale at a store: sell units reserved for orders (a pickup waiting) anyway, for this reason.
            let override_reason: String?
        }
        let movements: [Item]
    }

    struct CountsBody: Decodable {
        struct Item: Decodable {
            let sku: String
            let location: String
            let counted: WholeNumber
            let as_of: String
            let source: String
            let source_key: String
        }
        let counts: [Item]
    }

    struct PositionView: Codable {
        let sku: String
        let location: String
        let on_hand: Int64
        let reserved: Int64
        let safety_stock: Int64
        let available: Int64
        /// Shipped to this location by a transfer and not yet received (not part of on hand or available).
        let in_transit: Int64?

        init(_ position: InventoryPosition, inTransit: Int64? = nil) {
            sku = position.sku.rawValue
            location = position.location.rawValue
            on_hand = position.onHand
            reserved = position.reserved
            safety_stock = position.safetyStock
            available = position.availableToPromise
            in_transit = inTransit
        }
    }

    struct ItemResult: Codable {
        let index: Int
        /// `applied`, `already_applied`, `corrected` (a count that disagreed) or `agreed` (a count that did not).
        let outcome: String
        let correction: Int64?
        let position: PositionView
    }

    struct BatchResult: ResponseEncodable {
        let results: [ItemResult]
    }

    struct Availability: ResponseEncodable {
        let as_of: String
        let positions: [PositionView]
    }

    struct AvailabilityQuery: Decodable {
        struct Item: Decodable {
            let sku: String
            let location: String
        }
        let items: [Item]
    }

    struct ReserveBody: Decodable {
        let key: String
        let order: String
        let sku: String
        let quantity: WholeNumber
        let location: String?
        let candidates: [String]?
        let expires_in_seconds: Int?
    }

    struct EndBody: Decodable {
        let source: String?
        let source_key: String?
    }

    struct ExtendBody: Decodable {
        let expires_in_seconds: Int
    }

    struct ReservationView: ResponseEncodable, Codable {
        let key: String
        let order: String
        let sku: String
        let location: String
        let quantity: Int64
        let state: String
        let expires_at: String
        let position: PositionView?

        init(_ reservation: Reservation, position: InventoryPosition?) {
            key = reservation.id.rawValue
            order = reservation.order.rawValue
            sku = reservation.sku.rawValue
            location = reservation.location.rawValue
            quantity = reservation.quantity
            state = reservation.state.rawValue
            expires_at = reservation.expiresAt.ISO8601Format()
            self.position = position.map { PositionView($0) }
        }
    }

    // MARK: Routes

    static func add(to v1: RouterGroup<HubRequestContext>, service: InventoryService, store: any Store) {
        let catalog = v1.group().add(middleware: RequireScope("catalog:write"))
        let read = v1.group().add(middleware: RequireScope("inventory:read"))
        let write = v1.group().add(middleware: RequireScope("inventory:write"))

        catalog.put("/locations/{id}") { request, context -> LocationView in
            let id = try pathIdentifier(context, "id") { try LocationID($0) }
            let body = try await request.decodeJSON(as: LocationBody.self, context: context)
            try requireMayAct(context, for: [id]) { _ in "id" }
            guard let kind = LocationKind(rawValue: body.kind) else {
                throw Problem.invalid("kind must be one of \(LocationKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "kind")
            }
            let location = try domain("name") { try Location(id: id, kind: kind, name: body.name) }
            _ = try await store.commit(Commit(catalog: [.putLocation(location)]))
            return LocationView(location)
        }

        read.get("/locations") { _, _ -> LocationList in
            LocationList(locations: try await store.locations().map(LocationView.init))
        }

        catalog.post("/products") { request, context -> ProductsResult in
            let body = try await request.decodeJSON(as: ProductsBody.self, context: context)
            try checkBatch(body.products.count, "products", maximum: maximumBatch)
            var problems = Problems()
            let products = body.products.enumerated().compactMap { index, item -> Product? in
                let sku = problems.check(index, "products[\(index)].sku") { try SKU(item.sku) }
                let categories = problems.check(index, "products[\(index)].categories") { try Product.checked(categories: item.categories ?? []) }
                guard let sku, let categories else { return nil }
                return problems.check(index, "products[\(index)].name") {
                    try Product(sku: sku, name: item.name, allowBackorder: item.allow_backorder ?? false, categories: categories)
                }
            }
            try problems.throwIfAny()
            // A product sent without `categories` keeps the ones it has (a product master that knows nothing of them
            // must not switch off category promotions).
            let keep = Set(body.products.filter { $0.categories == nil }.map(\.sku))
            let stored = keep.isEmpty ? [:] : try await store.products(products.filter { keep.contains($0.sku.rawValue) }.map(\.sku))
            let merged = products.map { product in
                guard keep.contains(product.sku.rawValue), let existing = stored[product.sku] else { return product }
                return Product(trusted: product.sku, name: product.name, allowBackorder: product.allowBackorder, categories: existing.categories)
            }
            _ = try await store.commit(Commit(catalog: merged.map { .putProduct($0) }))
            return ProductsResult(stored: products.count)
        }

        write.post("/inventory/movements") { request, context -> BatchResult in
            let body = try await request.decodeJSON(as: MovementsBody.self, context: context)
            try checkBatch(body.movements.count, "movements", maximum: maximumBatch)
            var problems = Problems()
            let now = Date()
            let movements = body.movements.enumerated().compactMap { index, item -> InventoryMovement? in
                let path = "movements[\(index)]."
                let sku = problems.check(index, path + "sku") { try SKU(item.sku) }
                let location = problems.check(index, path + "location") { try LocationID(item.location) }
                let source = problems.check(index, path + "source") { try clientSource(item.source) }
                let reason = problems.check(index, path + "reason") { () throws -> MovementReason in
                    guard let reason = MovementReason(rawValue: item.reason) else {
                        throw InputProblem("reason must be one of \(MovementReason.allCases.map(\.rawValue).joined(separator: ", ")), not '\(item.reason.prefix(64))'")
                    }
                    return reason
                }
                let at = problems.check(index, path + "occurred_at") { try time(item.occurred_at, now: now) }
                let transfer = problems.check(index, path + "transfer_id") { () throws -> TransferLeg? in
                    guard let id = item.transfer_id else {
                        if item.destination != nil { throw InputProblem("a destination needs a transfer_id") }
                        return nil
                    }
                    return try TransferLeg(id: id, destination: try item.destination.map { try LocationID($0) })
                }
                guard let sku, let location, let source, let reason, let at, let transfer else { return nil }
                return problems.check(index, path + "delta", field: { error in
                    if case DomainError.invalidTransfer = error { return path + "transfer_id" } else { return nil }
                }) {
                    try InventoryMovement(sku: sku, location: location, delta: item.delta.value, reason: reason, occurredAt: at, source: source,
                                          sourceKey: item.source_key, transfer: transfer)
                }
            }
            // Permission first, so that a key learns nothing of SKUs and locations it may not touch.
            try requireMayAct(context, for: movements.map(\.location)) { "movements[\($0)].location" }
            try await problems.addUnknown(movements.map { ($0.sku, $0.location, $0.transfer?.destination) }, service: service, prefix: "movements")
            try problems.throwIfAny()
            var overrides: [Int: String] = [:]
            for (index, item) in body.movements.enumerated() {
                guard let reason = item.override_reason else { continue }
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty, reason.unicodeScalars.count <= 125 else {
                    throw Problem.invalid("an override reason is 1-125 characters", field: "movements[\(index)].override_reason")
                }
                overrides[index] = reason
            }
            let outcomes = try await service.record(movements, correlation: correlation(context), overrides: overrides)
            return BatchResult(results: outcomes.enumerated().map { index, outcome in
                ItemResult(index: index, outcome: outcome.changed ? "applied" : "already_applied", correction: nil, position: PositionView(outcome.position))
            })
        }

        write.post("/inventory/counts") { request, context -> BatchResult in
            let body = try await request.decodeJSON(as: CountsBody.self, context: context)
            try checkBatch(body.counts.count, "counts", maximum: maximumBatch)
            var problems = Problems()
            let now = Date()
            let counts = body.counts.enumerated().compactMap { index, item -> InventoryService.Count? in
                let path = "counts[\(index)]."
                let sku = problems.check(index, path + "sku") { try SKU(item.sku) }
                let location = problems.check(index, path + "location") { try LocationID(item.location) }
                let source = problems.check(index, path + "source") { try clientSource(item.source) }
                let asOf = problems.check(index, path + "as_of") { try time(item.as_of, now: now) }
                let counted = problems.check(index, path + "counted") { () throws -> Int64 in
                    _ = try InventoryMovement.countCorrection(counted: item.counted.value, balanceAtCountTime: 0)
                    return item.counted.value
                }
                let key = problems.check(index, path + "source_key") { () throws -> String in
                    guard (1...200).contains(item.source_key.unicodeScalars.count) else { throw InputProblem("a source key is 1-200 characters") }
                    return item.source_key
                }
                guard let sku, let location, let source, let asOf, let counted, let key else { return nil }
                return InventoryService.Count(sku: sku, location: location, counted: counted, asOf: asOf, source: source, sourceKey: key)
            }
            // Permission first, so that a key learns nothing of SKUs and locations it may not touch.
            try requireMayAct(context, for: counts.map(\.location)) { "counts[\($0)].location" }
            try await problems.addUnknown(counts.map { ($0.sku, $0.location, nil) }, service: service, prefix: "counts")
            try problems.throwIfAny()
            let outcomes = try await service.count(counts, correlation: correlation(context))
            return BatchResult(results: outcomes.enumerated().map { index, outcome in
                if case .corrected(let position, let correction) = outcome {
                    return ItemResult(index: index, outcome: "corrected", correction: correction, position: PositionView(position))
                }
                return ItemResult(index: index, outcome: "agreed", correction: 0, position: PositionView(outcome.position))
            })
        }

        read.get("/availability") { request, _ -> Availability in
            let query = request.uri.queryParameters
            guard let skuText = query["sku"] else { throw Problem.invalid("the query parameter is required", field: "sku") }
            let sku = try domain("sku") { try SKU(String(skuText)) }
            let asOf = Date()
            let inTransit = try await store.inTransit(sku: sku)
            if let locationText = query["location"] {
                let location = try domain("location") { try LocationID(String(locationText)) }
                return Availability(as_of: asOf.ISO8601Format(), positions: [
                    PositionView(try await store.position(sku: sku, location: location), inTransit: inTransit[location] ?? 0),
                ])
            }
            return Availability(as_of: asOf.ISO8601Format(), positions: try await store.positions(sku: sku).map {
                PositionView($0, inTransit: inTransit[$0.location] ?? 0)
            })
        }

        read.post("/availability/query") { request, context -> Availability in
            let body = try await request.decodeJSON(as: AvailabilityQuery.self, context: context)
            try checkBatch(body.items.count, "items", maximum: maximumQuery)
            var problems = Problems()
            let keys = body.items.enumerated().compactMap { index, item -> (SKU, LocationID)? in
                let sku = problems.check(index, "items[\(index)].sku") { try SKU(item.sku) }
                let location = problems.check(index, "items[\(index)].location") { try LocationID(item.location) }
                guard let sku, let location else { return nil }
                return (sku, location)
            }
            try problems.throwIfAny()
            let asOf = Date()
            var positions: [PositionView] = []
            var inTransit: [SKU: [LocationID: Int64]] = [:]
            for (sku, location) in keys {
                if inTransit[sku] == nil { inTransit[sku] = try await store.inTransit(sku: sku) }
                positions.append(PositionView(try await store.position(sku: sku, location: location), inTransit: inTransit[sku]?[location] ?? 0))
            }
            return Availability(as_of: asOf.ISO8601Format(), positions: positions)
        }

        write.post("/reservations") { request, context -> EditedResponse<ReservationView> in
            let body = try await request.decodeJSON(as: ReserveBody.self, context: context)
            let id = try reservationKey(body.key, field: "key")
            let order = try domain("order") { try OrderID(body.order) }
            let sku = try domain("sku") { try SKU(body.sku) }
            guard (1...InventoryMovement.maximumMagnitude).contains(body.quantity.value) else {
                throw Problem.invalid("quantity must be between 1 and \(InventoryMovement.maximumMagnitude)", field: "quantity")
            }
            let location = try body.location.map { text in try domain("location") { try LocationID(text) } }
            let candidates = try (body.candidates ?? []).enumerated().map { index, text in try domain("candidates[\(index)]") { try LocationID(text) } }
            guard candidates.count <= 50 else { throw Problem.invalid("at most 50 candidates", field: "candidates") }
            guard location == nil || candidates.isEmpty else { throw Problem.invalid("give a location or candidates, not both", field: "candidates") }
            try requireMayAct(context, for: location.map { [$0] } ?? candidates) { location == nil ? "candidates[\($0)]" : "location" }
            let hold = try body.expires_in_seconds.map { seconds -> Duration in
                guard (1...Int(service.policy.maximumHold.timeInterval)).contains(seconds) else {
                    throw Problem.invalid("must be between 1 and \(Int(service.policy.maximumHold.timeInterval)) seconds", field: "expires_in_seconds")
                }
                return .seconds(seconds)
            }
            let (reservation, outcome) = try await service.reserve(InventoryService.ReservationRequest(
                id: id, order: order, sku: sku, quantity: body.quantity.value, location: location, candidates: candidates, hold: hold))
            return EditedResponse(status: outcome.changed ? .created : .ok, response: ReservationView(reservation, position: outcome.position))
        }

        read.get("/reservations/{key}") { _, context -> ReservationView in
            let id = try reservationKey(try context.parameters.require("key"), field: "key")
            guard let reservation = try await store.reservation(id) else { throw Problem.notFound("no reservation \(id)") }
            return ReservationView(reservation, position: try await store.position(sku: reservation.sku, location: reservation.location))
        }

        for (action, state) in [("consume", ReservationState.consumed), ("release", .released)] {
            write.post("/reservations/{key}/\(action)") { request, context -> ReservationView in
                let id = try reservationKey(try context.parameters.require("key"), field: "key")
                let body = try await request.decodeJSON(as: EndBody.self, context: context)
                let source = try body.source.map { raw in try domain("source") { try clientSource(raw) } } ?? InventoryService.hub
                if let key = body.source_key, !(1...200).contains(key.unicodeScalars.count) { throw Problem.invalid("1-200 characters", field: "source_key") }
                try await requireMayActForReservation(context, id, store: store)
                let (reservation, outcome) = try await service.end(id, as: state, source: source, sourceKey: body.source_key)
                return ReservationView(reservation, position: outcome.position)
            }
        }

        write.post("/reservations/{key}/extend") { request, context -> ReservationView in
            let id = try reservationKey(try context.parameters.require("key"), field: "key")
            let body = try await request.decodeJSON(as: ExtendBody.self, context: context)
            guard (1...Int(service.policy.maximumHold.timeInterval)).contains(body.expires_in_seconds) else {
                throw Problem.invalid("must be between 1 and \(Int(service.policy.maximumHold.timeInterval)) seconds", field: "expires_in_seconds")
            }
            try await requireMayActForReservation(context, id, store: store)
            let reservation = try await service.extend(id, hold: .seconds(body.expires_in_seconds))
            return ReservationView(reservation, position: try await store.position(sku: reservation.sku, location: reservation.location))
        }
    }

    // MARK: Helpers

    /// Collects the problems of a batch's items, so that one answer names every bad item.
    struct Problems {
        var found: [InventoryService.ItemProblem] = []

        /// `field(error)` may name another field than `field` for some errors.
        mutating func check<T>(_ index: Int, _ field: String, field other: (any Error) -> String? = { _ in nil }, _ body: () throws -> T) -> T? {
            do {
                return try body()
            } catch {
                found.append(.init(index: index, field: other(error) ?? field, detail: "\(error)"))
                return nil
            }
        }

        /// Adds the unknown SKUs and locations among `items`, which are the batch's well-formed items in order: their
        /// indexes are recovered from the items that had no problem so far.
        mutating func addUnknown(_ items: [(SKU, LocationID, LocationID?)], service: InventoryService, prefix: String) async throws {
            let bad = Set(found.map(\.index))
            let indexes = (0..<(items.count + bad.count)).filter { !bad.contains($0) }
            found += try await service.unknownItems(zip(indexes, items).map { ($0, $1.0, $1.1, $1.2) }, prefix: prefix)
        }

        func throwIfAny() throws {
            guard found.isEmpty else {
                throw InventoryService.InvalidItems(problems: found.sorted { ($0.index, $0.field) < ($1.index, $1.field) })
            }
        }
    }

    static func checkBatch(_ count: Int, _ field: String, maximum: Int) throws {
        guard (1...maximum).contains(count) else { throw Problem.invalid("send 1 to \(maximum) items, not \(count)", field: field) }
    }

    /// A domain value from client input, its error a 400 naming `field`.
    static func domain<T>(_ field: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw Problem.invalid("\(error)", field: field) }
    }

    static func pathIdentifier<T>(_ context: HubRequestContext, _ name: String, _ make: (String) throws -> T) throws -> T {
        let text = try context.parameters.require(name)
        return try domain(name) { try make(text) }
    }

    /// Reservation keys appear in paths, so they are limited to characters that need no escaping.
    static func reservationKey(_ text: String, field: String) throws -> ReservationID {
        guard (1...150).contains(text.utf8.count), text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:~".contains($0)) }) else {
            throw Problem.invalid("a reservation key is 1-150 characters of A-Z, a-z, 0-9 and - _ . : ~", field: field)
        }
        return ReservationID(trusted: text)
    }

    /// An ISO 8601 time with a zone, not more than five minutes ahead of the hub's clock.
    static func time(_ text: String, now: Date) throws -> Date {
        guard let date = parseTimestamp(text) else { throw InputProblem("an ISO 8601 time with a zone, like 2026-11-28T09:30:00Z, is expected") }
        guard date <= now + 300 else { throw InputProblem("\(text) is in the future (more than 5 minutes ahead of the hub's clock)") }
        return date
    }

    /// A source system named by a client. The hub's own name is refused: the ledger keys the hub writes under it
    /// (a consumed reservation's sale, an expiry) must not be taken by anyone else.
    static func clientSource(_ raw: String) throws -> SystemID {
        let system = try SystemID(raw)
        guard system != InventoryService.hub else {
            throw InputProblem("'\(raw)' is the hub's own name; name the system the message comes from")
        }
        return system
    }

    struct InputProblem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Refuses a key restricted to some locations acting for another (403, naming the first such item).
    static func requireMayAct(_ context: HubRequestContext, for locations: [LocationID], field: (Int) -> String = { _ in "location" }) throws {
        guard let client = context.client else { throw Problem.unauthenticated("an API key is required") }
        for (index, location) in locations.enumerated() where !client.mayAct(for: location) {
            throw Problem(kind: "forbidden", title: "Forbidden", status: .forbidden,
                          detail: "the API key \(client.keyID) (\(client.client)) may not act for location \(location)", field: field(index))
        }
    }

    static func requireMayActForReservation(_ context: HubRequestContext, _ id: ReservationID, store: any Store) async throws {
        guard let reservation = try await store.reservation(id) else { throw Problem.notFound("no reservation \(id)") }
        try requireMayAct(context, for: [reservation.location])
    }

    /// The business flow a request's events belong to: the request's id.
    static func correlation(_ context: HubRequestContext) -> CorrelationID {
        CorrelationID(trusted: context.id)
    }
}

