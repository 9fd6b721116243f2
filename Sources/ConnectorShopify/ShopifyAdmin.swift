import Foundation
import Synchronization
import TillwireConnectors
import TillwireDomain
import TillwireEngine

/// One Shopify shop as the hub connects to it (docs/connectors/shopify.md).
public struct ShopifyConfiguration: Sendable, Equatable {
    /// The system name: its webhook route is `/hooks/<system>`, its jobs `<system>.*`. Default `shopify`; one per shop.
    public var system: SystemID = "shopify"
    /// The hub channel the shop sells on.
    public var channel: ChannelID
    /// `https://<shop>.myshopify.com` (or a local fake's URL in tests).
    public var shopURL: String
    /// The Admin API version in every URL. Default `2026-04`: the connector follows its rules (`changeFromQuantity` on
    /// every quantity set, `@idempotent` on inventory and refund mutations).
    public var apiVersion = "2026-04"
    /// The app's Admin API access token (`X-Shopify-Access-Token`).
    public var accessToken: String
    /// The app's client secret: the key of `X-Shopify-Hmac-Sha256`.
    public var webhookSecret: String
    /// The Shopify location (its numeric id) whose `available` quantity the hub sets to the channel's figure.
    public var location: ShopifyID
    /// How often the reconciliation poll asks for orders updated since its cursor. Default 5 minutes.
    public var pollInterval: Duration = .seconds(300)
    /// How far back the first poll looks, and how much each poll overlaps the previous one. Default 10 minutes.
    public var pollOverlap: Duration = .seconds(600)

    public init(system: SystemID = "shopify", channel: ChannelID, shopURL: String, accessToken: String, webhookSecret: String, location: ShopifyID) {
        self.system = system
        self.channel = channel
        self.shopURL = shopURL.hasSuffix("/") ? String(shopURL.dropLast()) : shopURL
        self.accessToken = accessToken
        self.webhookSecret = webhookSecret
        self.location = location
    }

    var adminURL: String { "\(shopURL)/admin/api/\(apiVersion)" }
}

/// A GraphQL answer: `data`, `errors` (`THROTTLED` among them) and the query's cost.
struct GraphQLAnswer<Payload: Decodable>: Decodable {
    struct Failure: Decodable {
        struct Extensions: Decodable {
            let code: String?
        }
        let message: String
        let extensions: Extensions?
    }

    struct Extensions: Decodable {
        let cost: ShopifyCost?
    }

    let data: Payload?
    let errors: [Failure]?
    let extensions: Extensions?
}

/// `extensions.cost` of a GraphQL answer.
public struct ShopifyCost: Decodable, Sendable, Equatable {
    public struct ThrottleStatus: Decodable, Sendable, Equatable {
        public let maximumAvailable: Double
        public let currentlyAvailable: Double
        public let restoreRate: Double
    }
    public let requestedQueryCost: Double?
    public let actualQueryCost: Double?
    public let throttleStatus: ThrottleStatus
}

/// The shop's GraphQL cost budget as last reported: a leaky bucket of `maximumAvailable` points refilled at
/// `restoreRate` per second. A query waits until its estimated cost is available (up to `longestWait`; longer, and
/// the job is retried later rather than holding a worker). Shared by every call to one shop from this process.
public final class ShopifyCostBudget: Sendable {
    struct State {
        var available: Double
        var maximum: Double
        var restoreRate: Double
        var at: ContinuousClock.Instant
    }

    let state: Mutex<State?> = Mutex(nil)
    /// The longest a call waits for points. Default 10 s.
    let longestWait: Duration

    public init(longestWait: Duration = .seconds(10)) {
        self.longestWait = longestWait
    }

    /// How long a query of `cost` points must wait now; zero before the shop has reported anything.
    public func wait(for cost: Double, now: ContinuousClock.Instant = .now) -> Duration {
        state.withLock { state in
            guard let state, state.restoreRate > 0 else { return .zero }
            let available = min(state.maximum, state.available + state.restoreRate * (now - state.at).timeInterval)
            let needed = min(cost, state.maximum) - available
            return needed <= 0 ? .zero : .milliseconds(Int64((needed / state.restoreRate * 1000).rounded(.up)))
        }
    }

    public func record(_ status: ShopifyCost.ThrottleStatus, now: ContinuousClock.Instant = .now) {
        state.withLock { $0 = State(available: status.currentlyAvailable, maximum: status.maximumAvailable, restoreRate: status.restoreRate, at: now) }
    }

    func reserve(_ cost: Double) async throws {
        let wait = wait(for: cost)
        guard wait > .zero else { return }
        guard wait <= longestWait else { throw JobError.retryable("shopify cost budget: \(cost) points are \(wait) away", retryAfter: wait) }
        try await Task.sleep(for: wait)
    }
}

/// Calls to one shop's Admin API: GraphQL with the cost budget, and the REST orders endpoints the reconciliation
/// poll reads (the same JSON as the webhooks, so polled orders take the same path). Answers become job errors:
/// `THROTTLED` and `429` are retried after the time the shop names, `5xx` retried, other refusals are terminal.
public struct ShopifyAdmin: Sendable {
    let configuration: ShopifyConfiguration
    let transport: HTTPTransport
    let budget: ShopifyCostBudget

    public init(configuration: ShopifyConfiguration, transport: HTTPTransport = HTTPTransport(), budget: ShopifyCostBudget = ShopifyCostBudget()) {
        self.configuration = configuration
        self.transport = transport
        self.budget = budget
    }

    var headers: [(String, String)] { [("X-Shopify-Access-Token", configuration.accessToken), ("Content-Type", "application/json"), ("Accept", "application/json")] }

    /// Runs a GraphQL query or mutation whose estimated cost is `cost` points; returns its `data`.
    func graphQL<Payload: Decodable>(_ query: String, variables: [String: Any], cost: Double, as: Payload.Type, what: String) async throws -> Payload {
        try await budget.reserve(cost)
        let body = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables], options: [.sortedKeys])
        let reply = try await transport.send(.POST, "\(configuration.adminURL)/graphql.json", headers: headers, body: body)
        guard reply.isSuccess else { throw HTTPTransport.failure(reply, "shopify \(what)") }
        let answer: GraphQLAnswer<Payload>
        do { answer = try JSONDecoder().decode(GraphQLAnswer<Payload>.self, from: reply.body) } catch {
            throw JobError.terminal("shopify \(what): the answer does not parse: \(error)")
        }
        if let status = answer.extensions?.cost?.throttleStatus { budget.record(status) }
        if let errors = answer.errors, !errors.isEmpty {
            if errors.contains(where: { $0.extensions?.code == "THROTTLED" }) {
                let status = answer.extensions?.cost?.throttleStatus
                let seconds = status.map { max(0, ((answer.extensions?.cost?.requestedQueryCost ?? cost) - $0.currentlyAvailable) / max($0.restoreRate, 1)) } ?? 1
                throw JobError.retryable("shopify \(what): THROTTLED", retryAfter: .milliseconds(Int64((min(seconds, 60) * 1000).rounded(.up))))
            }
            let detail = errors.map { "\($0.extensions?.code ?? "ERROR") \($0.message)" }.joined(separator: "; ")
            // INTERNAL_SERVER_ERROR is Shopify's own failure; anything else is a query the shop will not take.
            if errors.contains(where: { $0.extensions?.code == "INTERNAL_SERVER_ERROR" }) { throw JobError.retryable("shopify \(what): \(detail)", retryAfter: nil) }
            throw JobError.terminal("shopify \(what): \(detail)")
        }
        guard let data = answer.data else { throw JobError.terminal("shopify \(what): an answer without data") }
        return data
    }

    /// A REST GET of the Admin API (`path` after `/admin/api/<version>`, or a whole `next` URL from a `Link` header).
    func get(_ pathOrURL: String, what: String) async throws -> HTTPTransport.Reply {
        // The access token goes only to the shop: a `Link` to anywhere else is refused.
        if pathOrURL.hasPrefix("http"), !pathOrURL.hasPrefix(configuration.adminURL + "/") {
            throw JobError.terminal("shopify \(what): a next page outside the shop's Admin API (\(pathOrURL.prefix(120)))")
        }
        let url = pathOrURL.hasPrefix("http") ? pathOrURL : "\(configuration.adminURL)\(pathOrURL)"
        let reply = try await transport.send(.GET, url, headers: headers)
        guard reply.isSuccess else { throw HTTPTransport.failure(reply, "shopify \(what)") }
        return reply
    }

    /// The order's current state (REST, as the webhooks send it).
    func order(_ id: ShopifyID) async throws -> ShopifyOrder {
        let reply = try await get("/orders/\(id.rawValue).json", what: "order \(id)")
        struct Wrapped: Decodable { let order: ShopifyOrder }
        do { return try JSONDecoder().decode(Wrapped.self, from: reply.body).order } catch let error as DecodingError {
            throw JobError.terminal("shopify order \(id) does not parse: \(PayloadDecoding.describe(error))")
        }
    }

    /// The URL of the `rel="next"` page in a `Link` header.
    static func nextPage(_ link: String?) -> String? {
        guard let link else { return nil }
        for part in link.split(separator: ",") where part.contains("rel=\"next\"") {
            guard let open = part.firstIndex(of: "<"), let close = part.firstIndex(of: ">"), open < close else { continue }
            return String(part[part.index(after: open)..<close])
        }
        return nil
    }
}
