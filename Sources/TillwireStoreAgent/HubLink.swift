import Foundation
import TillwireAPI
import TillwireConnectors
import TillwireDomain

/// The agent's calls to the hub, over its ordinary API with the store's key: the tills' transactions
/// (`POST /v1/inventory/movements` and `/counts`), the agent's report (`PUT /v1/store-agents/{store}`), the store's
/// figures as they changed (`GET /v1/store-agents/{store}/feed`) and its pickup queue.
public struct HubLink: Sendable {
    /// What the hub made of a forwarded batch.
    public enum Answer: Sendable, Equatable {
        /// Every item applied (or applied before: the hub keeps each once by its source key).
        case accepted
        /// The hub refused these items (by index in the batch) for good; nothing of the batch was applied.
        case refusedItems([Int: String])
        /// The hub refused the batch for good without naming an item.
        case refused(String)
        /// Something on the way (a proxy) refused the request as too large: tried again in smaller requests, and a
        /// single transaction tried again as it is (a sale is not set aside for a link's limit).
        case tooLarge(String)
        /// The hub could not be reached or cannot take it now (network, timeout, 5xx, 429, 409, a key problem):
        /// the batch is tried again as it is.
        case unavailable(String)
    }

    public struct Feed: Sendable {
        public let version: Int64
        public let more: Bool
        public let figures: [AgentDatabase.HubFigure]
    }

    let hub: String
    let key: String
    public let store: LocationID
    let transport: HTTPTransport
    let timeout: Duration

    public init(hub: String, key: String, store: LocationID, timeout: Duration = .seconds(10), transport: HTTPTransport = HTTPTransport()) {
        self.hub = hub.hasSuffix("/") ? String(hub.dropLast()) : hub
        self.key = key
        self.store = store
        self.timeout = timeout
        self.transport = transport
    }

    var headers: [(String, String)] { [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json"), ("Accept", "application/json")] }

    /// Sends queued transactions' items as one hub request.
    public func forward(_ kind: AgentDatabase.Kind, items: [Data]) async -> Answer {
        var body = Data("{\"\(kind.rawValue)\":[".utf8)
        for (index, item) in items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(item)
        }
        body.append(contentsOf: Array("]}".utf8))
        let reply: HTTPTransport.Reply
        do {
            reply = try await transport.send(.POST, "\(hub)/v1/inventory/\(kind.rawValue)", headers: headers, body: body, timeout: timeout)
        } catch {
            return .unavailable("the hub did not answer: \(error)")
        }
        // Only the hub's own answers count: a proxy's page, a captive portal or a wrong host must not settle or refuse
        // a sale. A success must account for every item; a refusal for good must be the hub's problem+json.
        let problem = try? JSONDecoder().decode(ProblemBody.self, from: reply.body)
        let hubsProblem = problem.map { $0.type.hasPrefix("urn:tillwire:problem:") } ?? false
        if reply.isSuccess {
            guard let result = try? JSONDecoder().decode(BatchResult.self, from: reply.body), result.results.count == items.count else {
                return .unavailable("HTTP \(reply.status) that is not the hub's answer to \(items.count) items: is --hub the hub?")
            }
            return .accepted
        }
        let detail = Self.detail(reply)
        if reply.status == 413 && !hubsProblem { return .tooLarge(detail) }
        guard [400, 413, 422].contains(reply.status), hubsProblem else {
            // 401/403 (the key), 404 (a wrong --hub path, a hub without the route), 408, 409, 429, 5xx, anything that
            // is not the hub's problem+json: tried again, and shown in the agent's status.
            return .unavailable(detail)
        }
        if let errors = problem?.errors, !errors.isEmpty {
            return .refusedItems(Dictionary(errors.map { ($0.index, "\($0.field): \($0.detail)") }) { first, second in "\(first); \(second)" })
        }
        return .refused(detail)
    }

    struct BatchResult: Decodable {
        struct Item: Decodable { let index: Int }
        let results: [Item]
    }

    /// Tells the hub how the queue stands; true when the hub took it.
    public func report(_ state: AgentDatabase.QueueState) async -> Result<Void, LinkError> {
        struct Body: Encodable {
            let queue_depth: Int
            let oldest_unsent_at: String?
            let forwarded_through: Int64
            let refused: Int
        }
        do {
            let body = try JSONEncoder().encode(Body(queue_depth: state.depth, oldest_unsent_at: state.oldestAcceptedAt.map { $0.ISO8601Format() },
                                                     forwarded_through: state.forwardedThrough, refused: state.refused))
            let reply = try await transport.send(.PUT, "\(hub)/v1/store-agents/\(store.rawValue)", headers: headers, body: body, timeout: timeout)
            return reply.isSuccess ? .success(()) : .failure(LinkError(Self.detail(reply)))
        } catch {
            return .failure(LinkError("the hub did not answer: \(error)"))
        }
    }

    /// The store's figures that changed after event `version` of its stream (all of them from 0), one page.
    public func feed(after version: Int64) async throws(LinkError) -> Feed {
        struct Body: Decodable {
            struct Figure: Decodable {
                let sku: String
                let on_hand: Int64
                let reserved: Int64
                let safety_stock: Int64
            }
            let version: Int64
            let more: Bool
            let positions: [Figure]
        }
        let body = try await get("/v1/store-agents/\(store.rawValue)/feed?after=\(version)")
        do {
            let feed = try JSONDecoder().decode(Body.self, from: body)
            return Feed(version: feed.version, more: feed.more, figures: feed.positions.map {
                AgentDatabase.HubFigure(sku: $0.sku, onHand: $0.on_hand, reserved: $0.reserved, safetyStock: $0.safety_stock)
            })
        } catch {
            throw LinkError("the hub's feed could not be read: \(error)")
        }
    }

    /// The store's prices and promotions for `skus` in its channel and country.
    public func pricing(channel: ChannelID, country: String, skus: [String]) async throws(LinkError) -> StorePricingCopy {
        struct Body: Encodable {
            let channel: String
            let country: String
            let skus: [String]
        }
        let reply: HTTPTransport.Reply
        do {
            let body = try JSONEncoder().encode(Body(channel: channel.rawValue, country: country, skus: skus))
            reply = try await transport.send(.POST, "\(hub)/v1/store-agents/\(store.rawValue)/pricing", headers: headers, body: body, timeout: timeout)
        } catch {
            throw LinkError("the hub did not answer: \(error)")
        }
        guard reply.isSuccess else { throw LinkError(Self.detail(reply)) }
        do {
            return try JSONDecoder().decode(StorePricingCopy.self, from: reply.body)
        } catch {
            throw LinkError("the hub's prices could not be read: \(error)")
        }
    }

    /// The store's pickup queue, as the hub's JSON.
    public func pickups() async throws(LinkError) -> Data {
        try await get("/v1/stores/\(store.rawValue)/pickups")
    }

    func get(_ path: String) async throws(LinkError) -> Data {
        let reply: HTTPTransport.Reply
        do {
            reply = try await transport.send(.GET, hub + path, headers: headers, timeout: timeout)
        } catch {
            throw LinkError("the hub did not answer: \(error)")
        }
        guard reply.isSuccess else { throw LinkError(Self.detail(reply)) }
        return reply.body
    }

    static func detail(_ reply: HTTPTransport.Reply) -> String {
        if let problem = try? JSONDecoder().decode(ProblemBody.self, from: reply.body) {
            return "HTTP \(reply.status): \(problem.detail)"
        }
        return "HTTP \(reply.status): \(String(decoding: reply.body.prefix(300), as: UTF8.self))"
    }

    struct ProblemBody: Decodable {
        struct Item: Decodable {
            let index: Int
            let field: String
            let detail: String
        }
        let type: String
        let detail: String
        let errors: [Item]?
    }
}

/// The hub could not be reached, or said no, on a call that is simply tried again later.
public struct LinkError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
