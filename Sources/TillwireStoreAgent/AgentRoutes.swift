import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import TillwireAPI
import TillwireDomain

/// What the store's tills call on the agent: the hub's own routes for them (the same request bodies), answered from
/// the agent's database whether or not the hub is reachable.
///
/// - `POST /v1/inventory/movements`, `POST /v1/inventory/counts`: queued under the request's `Idempotency-Key` (the
///   till's key for the transaction; required), answered `202` with the local figures after it. The same key again
///   answers the same way and queues nothing.
/// - `GET /v1/availability?sku=`: the local figure, with `as_of` (the last refresh from the hub), `age_seconds` and
///   `stale`.
/// - `GET /v1/stores/{store}/pickups`: the pickup queue as the hub last sent it, with `Age` and `Last-Modified`.
/// - `POST /v1/pricing/quote`: the basket priced from the copy of the store's prices and promotions, by the hub's own
///   engine (coupons' usage limits are not known offline), with `Age`.
/// - `GET /v1/agent/status`: queue depth, oldest unsent transaction, last contact with the hub, refusals.
enum AgentRoutes {
    struct MovementItem: Codable {
        let sku: String
        let location: String
        let delta: Int64
        let reason: String
        let occurred_at: String
        let source: String
        let source_key: String
        let transfer_id: String?
        let destination: String?
        var override_reason: String?
    }

    struct CountItem: Codable {
        let sku: String
        let location: String
        let counted: Int64
        let as_of: String
        let source: String
        let source_key: String
    }

    struct MovementsBody: Decodable { let movements: [MovementItem] }
    struct CountsBody: Decodable { let counts: [CountItem] }

    struct PositionView: Codable {
        let sku: String
        let location: String
        let on_hand: Int64
        let reserved: Int64
        let safety_stock: Int64
        let available: Int64
        /// Units moved at this store's tills that the hub's figure does not contain yet.
        let unsent: Int64
    }

    struct Queued: ResponseEncodable {
        struct Item: Codable {
            let index: Int
            let outcome: String
            let position: PositionView?
        }
        let sequence: Int64
        let repeated: Bool
        let results: [Item]
    }

    struct Availability: ResponseEncodable {
        let as_of: String?
        let age_seconds: Int?
        let stale: Bool
        let hub_online: Bool
        let positions: [PositionView]
    }

    struct Status: ResponseEncodable {
        struct Refusal: Codable {
            let sequence: Int64
            let key: String
            let reason: String
        }
        let store: String
        let hub: String
        let hub_online: Bool
        let last_contact_at: String?
        let last_error: String?
        let queue_depth: Int
        let oldest_unsent_at: String?
        let forwarded_through: Int64
        let refused: Int
        let recent_refusals: [Refusal]
        let copy_as_of: String?
        let copy_skus: Int
        let prices_as_of: String?
    }

    static let maximumBatch = 1_000

    static func add(to router: Router<BasicRequestContext>, agent: StoreAgent) {
        let database = agent.database
        let store = agent.configuration.store

        router.post("/v1/inventory/movements") { request, context -> Response in
            let key = try idempotencyKey(request)
            let raw = try await rawBody(request)
            let body = try JSONDecoder().decode(MovementsBody.self, from: raw)
            let digest = Self.digest(.movements, raw)
            // A till's retry is answered as the first time, whatever the copy says now: the transaction is queued.
            if let repeated = try database.sequence(ofKey: key) {
                try checkSame(repeated, digest, key)
                return try queued(repeated, skus: body.movements.map(\.sku), database: database, store: store, request, context)
            }
            try checkBatch(body.movements.count, "movements")
            var problems: [InventoryServiceProblem] = []
            var items: [Data] = []
            var lines: [(sku: String, delta: Int64)] = []
            let now = Date()
            let copyAge = try database.refreshedAt().map { now.timeIntervalSince($0) }
            for (index, item) in body.movements.enumerated() {
                let path = "movements[\(index)]"
                guard item.location == store.rawValue else {
                    throw Problem(kind: "forbidden", title: "Forbidden", status: .forbidden,
                                  detail: "this agent serves store \(store); \(item.location) is not it", field: path + ".location")
                }
                // The hub's checks, so that what the till was told is queued is what the hub takes: a transaction the
                // hub would refuse is refused here, while the till can still do something about it.
                do {
                    guard let reason = MovementReason(rawValue: item.reason) else {
                        throw InputProblem("reason must be one of \(MovementReason.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    guard let at = parseTimestamp(item.occurred_at) else { throw InputProblem("occurred_at must be an ISO 8601 time with a zone") }
                    guard at <= now + 300 else { throw InputProblem("occurred_at \(item.occurred_at) is in the future (more than 5 minutes ahead of the store's clock)") }
                    guard item.source != "tillwire" else { throw InputProblem("'tillwire' is the hub's own name; name the system the message comes from") }
                    if item.transfer_id == nil, item.destination != nil { throw InputProblem("a destination needs a transfer_id") }
                    if let reason = item.override_reason, reason.trimmingCharacters(in: .whitespaces).isEmpty || reason.unicodeScalars.count > 125 {
                        throw InputProblem("an override reason is 1-125 characters")
                    }
                    _ = try InventoryMovement(sku: try SKU(item.sku), location: store, delta: item.delta, reason: reason, occurredAt: at,
                                              source: try SystemID(item.source), sourceKey: item.source_key,
                                              transfer: try item.transfer_id.map { try TransferLeg(id: $0, destination: try item.destination.map { try LocationID($0) }) })
                } catch {
                    problems.append(InventoryServiceProblem(index: index, field: path, detail: "\(error)"))
                    continue
                }
                var forwarded = item
                if item.reason == MovementReason.sale.rawValue {
                    if item.override_reason == nil, copyAge != nil, let position = try database.position(item.sku),
                       position.onHand + item.delta < position.reserved {
                        throw Problem(kind: "rule-violated", title: "Refused by a business rule", status: .unprocessableContent,
                                      detail: "\(-item.delta) × \(item.sku) would take units reserved for orders (\(position.reserved) reserved, \(position.onHand) on hand); give an override_reason to sell them anyway")
                    }
                    // The till sold it: the hub records it whatever was reserved meanwhile, and deals with the oversell.
                    forwarded.override_reason = item.override_reason ?? "sold at the till through the store agent (copy of \(copyAge.map { "\(Int($0)) s ago" } ?? "never refreshed"))"
                }
                items.append(try JSONEncoder().encode(forwarded))
                lines.append((item.sku, item.delta))
            }
            guard problems.isEmpty else { throw invalid(problems) }
            try checkSize(items)
            let accepted = try database.accept(.movements, key: key, digest: digest, items: items, lines: lines, at: now)
            agent.forwarderSignal.signal()
            return try queued(accepted, skus: body.movements.map(\.sku), database: database, store: store, request, context)
        }

        router.post("/v1/inventory/counts") { request, context -> Response in
            let key = try idempotencyKey(request)
            let raw = try await rawBody(request)
            let body = try JSONDecoder().decode(CountsBody.self, from: raw)
            let digest = Self.digest(.counts, raw)
            if let repeated = try database.sequence(ofKey: key) {
                try checkSame(repeated, digest, key)
                return try queued(repeated, skus: [], count: body.counts.count, database: database, store: store, request, context)
            }
            try checkBatch(body.counts.count, "counts")
            var problems: [InventoryServiceProblem] = []
            var items: [Data] = []
            for (index, item) in body.counts.enumerated() {
                let path = "counts[\(index)]"
                guard item.location == store.rawValue else {
                    throw Problem(kind: "forbidden", title: "Forbidden", status: .forbidden,
                                  detail: "this agent serves store \(store); \(item.location) is not it", field: path + ".location")
                }
                do {
                    _ = try SKU(item.sku)
                    _ = try SystemID(item.source)
                    guard item.source != "tillwire" else { throw InputProblem("'tillwire' is the hub's own name; name the system the message comes from") }
                    guard let asOf = parseTimestamp(item.as_of) else { throw InputProblem("as_of must be an ISO 8601 time with a zone") }
                    guard asOf <= Date() + 300 else { throw InputProblem("as_of \(item.as_of) is in the future (more than 5 minutes ahead of the store's clock)") }
                    guard (0...InventoryMovement.maximumMagnitude).contains(item.counted) else { throw InputProblem("counted must be 0-\(InventoryMovement.maximumMagnitude)") }
                    guard (1...200).contains(item.source_key.count) else { throw InputProblem("a source key is 1-200 characters") }
                } catch {
                    problems.append(InventoryServiceProblem(index: index, field: path, detail: "\(error)"))
                    continue
                }
                items.append(try JSONEncoder().encode(item))
            }
            guard problems.isEmpty else { throw invalid(problems) }
            try checkSize(items)
            let accepted = try database.accept(.counts, key: key, digest: digest, items: items, lines: [], at: Date())
            agent.forwarderSignal.signal()
            return try queued(accepted, skus: [], count: body.counts.count, database: database, store: store, request, context)
        }

        router.get("/v1/availability") { request, _ -> Availability in
            guard let sku = request.uri.queryParameters["sku"].map(String.init) else {
                throw Problem.invalid("the query parameter is required", field: "sku")
            }
            if let location = request.uri.queryParameters["location"], String(location) != store.rawValue {
                throw Problem.notFound("this agent serves store \(store) only")
            }
            let now = Date()
            let refreshed = try database.refreshedAt()
            let age = refreshed.map { max(0, now.timeIntervalSince($0)) }
            return Availability(as_of: refreshed?.ISO8601Format(), age_seconds: age.map { Int($0) },
                                stale: age.map { $0 >= agent.configuration.staleAfter.timeInterval } ?? true,
                                hub_online: await agent.link.online,
                                positions: try database.position(sku).map { [view($0, store)] } ?? [])
        }

        router.get("/v1/stores/{id}/pickups") { _, context -> Response in
            guard context.parameters.get("id") == store.rawValue else { throw Problem.notFound("this agent serves store \(store) only") }
            guard let copy = try database.pickups() else {
                throw Problem.unavailable("the agent has not read the pickup queue from the hub yet")
            }
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[.age] = String(Int(max(0, Date().timeIntervalSince(copy.at))))
            headers[.lastModified] = httpDate(copy.at)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: copy.body)))
        }

        router.post("/v1/pricing/quote") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let (basket, rates, at) = try CheckoutQuote.request(Data(buffer: body))
            guard let stored = try database.pricing() else {
                throw Problem.unavailable(agent.configuration.pricing == nil
                    ? "this agent keeps no prices: start it with --channel and --country"
                    : "the agent has not read the store's prices from the hub yet")
            }
            let copy = try JSONDecoder().decode(StorePricingCopy.self, from: stored.body)
            guard basket.channel == copy.channel, basket.country == copy.country else {
                throw Problem(kind: "not-found", title: "Not found", status: .notFound,
                              detail: "this agent prices channel \(copy.channel) in \(copy.country), not \(basket.channel) in \(basket.country)")
            }
            var response = try CheckoutQuote.response(try copy.quote(basket, taxRates: rates, at: at), taxesIncluded: copy.taxRule?.kind != .salesTaxExclusive)
                .response(from: request, context: context)
            response.headers[.age] = String(Int(max(0, Date().timeIntervalSince(stored.at))))
            return response
        }

        router.get("/v1/agent/status") { _, _ -> Status in
            let queue = try database.queueState()
            return Status(store: store.rawValue, hub: agent.configuration.hub, hub_online: await agent.link.online,
                          last_contact_at: try database.lastContact()?.ISO8601Format(), last_error: await agent.link.lastError,
                          queue_depth: queue.depth, oldest_unsent_at: queue.oldestAcceptedAt?.ISO8601Format(),
                          forwarded_through: queue.forwardedThrough, refused: queue.refused,
                          recent_refusals: try database.refusals(limit: 20).map { Status.Refusal(sequence: $0.sequence, key: $0.key, reason: $0.reason) },
                          copy_as_of: try database.refreshedAt()?.ISO8601Format(), copy_skus: try database.stockCount(),
                          prices_as_of: try database.pricing()?.at.ISO8601Format())
        }

        router.get("/healthz") { _, _ in "ok" }
    }

    typealias InventoryServiceProblem = Problem.ItemError

    struct InputProblem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func idempotencyKey(_ request: Request) throws -> String {
        guard let key = request.headers[.idempotencyKey] else {
            throw Problem.invalid("the till's key for this transaction is required, so that a retry is not taken twice", field: "Idempotency-Key")
        }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
            throw Problem.invalid("an Idempotency-Key is 1-255 visible ASCII characters", field: "Idempotency-Key")
        }
        return key
    }

    /// The body as sent, up to 1 MiB (the hub's own default limit).
    static func rawBody(_ request: Request) async throws -> Data {
        do {
            return Data(buffer: try await request.body.collect(upTo: 1 << 20))
        } catch {
            throw Problem.tooLarge("a request to the agent is at most 1 MiB")
        }
    }

    /// What a till's key is bound to: the route and the exact body.
    static func digest(_ kind: AgentDatabase.Kind, _ body: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(kind.rawValue.utf8))
        hasher.update(data: body)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The same key with another request is refused, as the hub refuses it: one of the two is not what the till meant.
    static func checkSame(_ repeated: AgentDatabase.Accepted, _ digest: String, _ key: String) throws {
        guard repeated.digest == digest else {
            throw Problem(kind: "idempotency-key-reused", title: "Idempotency key reused", status: .unprocessableContent,
                          detail: "the Idempotency-Key \(key) was used before with a different request", field: "Idempotency-Key")
        }
    }

    static func checkBatch(_ count: Int, _ name: String) throws {
        guard (1...maximumBatch).contains(count) else {
            throw Problem.invalid("a batch holds 1-\(maximumBatch) \(name)", field: name)
        }
    }

    static func invalid(_ problems: [InventoryServiceProblem]) -> Problem {
        var problem = Problem.invalid(problems.count == 1 ? "\(problems[0].detail); nothing was queued" : "\(problems.count) problems in the request; nothing was queued",
                                      field: problems.first?.field)
        problem.errors = problems
        return problem
    }

    static func view(_ position: AgentDatabase.LocalPosition, _ store: LocationID) -> PositionView {
        PositionView(sku: position.sku, location: store.rawValue, on_hand: position.onHand, reserved: position.reserved,
                     safety_stock: position.safetyStock, available: position.available, unsent: position.unsent)
    }

    /// The answer to a queued transaction (`202`): its sequence, and the local figures of its SKUs after it.
    static func queued(_ accepted: AgentDatabase.Accepted, skus: [String], count: Int? = nil, database: AgentDatabase, store: LocationID,
                       _ request: Request, _ context: BasicRequestContext) throws -> Response {
        var results: [Queued.Item] = []
        for (index, sku) in skus.enumerated() {
            results.append(Queued.Item(index: index, outcome: "queued", position: try database.position(sku).map { Self.view($0, store) }))
        }
        if let count { results = (0..<count).map { Queued.Item(index: $0, outcome: "queued", position: nil) } }
        var response = try Queued(sequence: accepted.sequence, repeated: accepted.repeated, results: results).response(from: request, context: context)
        response.status = .accepted
        return response
    }

    /// The largest transaction the agent takes: the hub takes 1 MiB a request, and the forwarder sends a transaction
    /// whole.
    static let maximumTransactionBytes = 256 << 10

    static func checkSize(_ items: [Data]) throws {
        guard items.reduce(0, { $0 + $1.count }) <= maximumTransactionBytes else {
            throw Problem.tooLarge("a transaction is at most \(maximumTransactionBytes >> 10) KiB; split it")
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
}
