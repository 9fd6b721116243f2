import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// One WooCommerce store as the hub connects to it (docs/connectors/woocommerce.md).
public struct WooCommerceConfiguration: Sendable, Equatable {
    /// The system name: its webhook route is `/hooks/<system>`, its jobs `<system>.*`. Default `woocommerce`.
    public var system: SystemID = "woocommerce"
    /// The hub channel the store sells on.
    public var channel: ChannelID
    /// The WordPress site, e.g. `https://shop.example.com` (the API is under `/wp-json/wc/v3`).
    public var storeURL: String
    /// A REST API key pair (WooCommerce → Settings → Advanced → REST API), read/write: HTTP Basic over HTTPS.
    public var consumerKey: String
    public var consumerSecret: String
    /// The secret set on each webhook: the key of `X-WC-Webhook-Signature`.
    public var webhookSecret: String
    /// How often the reconciliation poll asks for orders modified since its cursor. Default 5 minutes.
    public var pollInterval: Duration = .seconds(300)
    /// How far back each poll reaches before its cursor, and the first before now. Default 10 minutes.
    public var pollOverlap: Duration = .seconds(600)

    public init(system: SystemID = "woocommerce", channel: ChannelID, storeURL: String, consumerKey: String, consumerSecret: String, webhookSecret: String) {
        self.system = system
        self.channel = channel
        self.storeURL = storeURL.hasSuffix("/") ? String(storeURL.dropLast()) : storeURL
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.webhookSecret = webhookSecret
    }

    var apiURL: String { "\(storeURL)/wp-json/wc/v3" }
}

/// Calls to one store's REST API v3. WooCommerce answers errors as `{"code","message","data":{"status"}}`; the
/// transport turns them into retries (429, 408, 5xx) or dead letters (other 4xx) with the start of that body.
public struct WooCommerceAPI: Sendable {
    let configuration: WooCommerceConfiguration
    let transport: HTTPTransport

    public init(configuration: WooCommerceConfiguration, transport: HTTPTransport = HTTPTransport()) {
        self.configuration = configuration
        self.transport = transport
    }

    var headers: [(String, String)] {
        [("Authorization", "Basic " + Data("\(configuration.consumerKey):\(configuration.consumerSecret)".utf8).base64EncodedString()),
         ("Content-Type", "application/json"), ("Accept", "application/json")]
    }

    /// `path` after `/wp-json/wc/v3`; `body` a JSON object or array. Only a 2xx answer comes back.
    func call(_ method: HTTPTransport.Method, _ path: String, body: Any? = nil, what: String) async throws -> HTTPTransport.Reply {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        let reply = try await transport.send(method, "\(configuration.apiURL)\(path)", headers: headers, body: data)
        guard reply.isSuccess else { throw HTTPTransport.failure(reply, "woocommerce \(what)") }
        return reply
    }

    func decode<T: Decodable>(_ type: T.Type, _ reply: HTTPTransport.Reply, what: String) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: reply.body) } catch let error as DecodingError {
            throw JobError.terminal("woocommerce \(what): the answer does not parse: \(PayloadDecoding.describe(error))")
        }
    }
}

/// The store's orders for the reconciliation poll (`OrderPoll`): WooCommerce does not retry a failed webhook and
/// disables a webhook after repeated failures, so the poll is how a missed order arrives. `GET
/// /orders?modified_after=&orderby=modified&order=asc`, 100 a page, up to `X-WP-TotalPages`.
public struct WooCommerceOrderSource: OrderPollSource {
    let configuration: WooCommerceConfiguration
    let api: WooCommerceAPI
    public var system: SystemID { configuration.system }
    public var topic: String { "order.updated" }

    public init(configuration: WooCommerceConfiguration, api: WooCommerceAPI) {
        self.configuration = configuration
        self.api = api
    }

    struct Stamp: Decodable {
        let id: WooID
        let date_modified_gmt: String?
    }

    public func page(since: Date, next: String?) async throws -> OrderPage {
        let page = Int(next ?? "1") ?? 1
        let after = since.ISO8601Format().replacingOccurrences(of: "Z", with: "").replacingOccurrences(of: ":", with: "%3A")
        let reply = try await api.call(.GET, "/orders?modified_after=\(after)&dates_are_gmt=true&orderby=modified&order=asc&per_page=100&page=\(page)",
                                       what: "orders modified since \(since.ISO8601Format())")
        let bodies: [Data]
        do { bodies = try JSONSlices.elements(in: reply.body) } catch { throw JobError.terminal("woocommerce orders page: \(error)") }
        let orders = try bodies.map { body in
            guard let stamp = try? JSONDecoder().decode(Stamp.self, from: body) else {
                throw JobError.terminal("woocommerce orders page: an order without an id: \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
            return OrderPage.Entry(id: stamp.id.rawValue, updatedAt: stamp.date_modified_gmt ?? "", body: body)
        }
        let pages = reply.header("X-WP-TotalPages").flatMap { Int($0) } ?? 1
        return OrderPage(orders: orders, next: page < pages ? String(page + 1) : nil)
    }

    public func partition(order: String) -> String { WooCommerceWebhookReceiver.orderPartition(system, order) }
    public func time(_ text: String) -> Date? { WooMapping.parseTime(text) }

    /// The poll job of this store.
    public static func poll(configuration: WooCommerceConfiguration, api: WooCommerceAPI, store: any Store, logger: Logger) -> OrderPoll {
        OrderPoll(source: WooCommerceOrderSource(configuration: configuration, api: api), store: store, interval: configuration.pollInterval,
                  overlap: configuration.pollOverlap, logger: logger)
    }
}
