import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TillwireConnectors

/// A FAKE WooCommerce, not WooCommerce: a local HTTP server that behaves as WooCommerce documents its REST API v3
/// and webhooks, for the calls the connector makes.
///
/// - HTTP Basic with the consumer key and secret (401 `woocommerce_rest_cannot_view` otherwise); errors as
///   `{"code","message","data":{"status"}}`.
/// - `GET /products?sku=a,b` (simple products only, as the products endpoint lists no variations);
///   `POST /products/batch` and `POST /products/<parent>/variations/batch` with at most 100 items (413
///   `woocommerce_rest_request_entity_too_large` otherwise), each item's failure reported in the answer.
/// - `GET`/`PUT /orders/<id>`, `GET`/`POST /orders/<id>/notes`, `GET`/`POST /orders/<id>/refunds`, and
///   `GET /orders?modified_after=&orderby=modified&order=asc&per_page=&page=` with `X-WP-Total` and `X-WP-TotalPages`.
/// - `deliver(...)` sends a webhook as WooCommerce does: signed, with a new `X-WC-Webhook-Delivery-ID` each time;
///   `ping(...)` sends the unsigned `webhook_id=<n>` WooCommerce sends when a webhook is saved.
///
/// Any route it does not know answers 404, so a test that strays fails.
public final class FakeWooCommerce: Sendable {
    struct Order {
        /// The order as a JSON object's bytes (kept as bytes: a dictionary of `Any` cannot cross into the lock).
        var json: Data
        var modified: Date
        var notes: [(id: Int, note: String, customer: Bool)]
        var refunds: [(id: Int, amount: String, reason: String)]
    }

    struct State {
        var products: [String: (id: Int, stock: Int64?)] = [:]
        /// Parent product id → variation SKU → (variation id, stock).
        var variations: [Int: [String: (id: Int, stock: Int64?)]] = [:]
        var orders: [Int: Order] = [:]
        var batchSizes: [Int] = []
        var requests: [String] = []
        var nextID = 9_000
    }

    public let consumerKey: String
    public let consumerSecret: String
    let state = Mutex(State())
    nonisolated(unsafe) static let formatter: ISO8601DateFormatter = ISO8601DateFormatter()

    public init(consumerKey: String = "ck_fake", consumerSecret: String = "cs_fake") {
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
    }

    // MARK: What a test sets up and reads back

    public func addProduct(sku: String, id: Int, stock: Int64?) { state.withLock { $0.products[sku] = (id, stock) } }
    public func removeProduct(sku: String) { state.withLock { _ = $0.products.removeValue(forKey: sku) } }
    public func addVariation(sku: String, id: Int, parent: Int, stock: Int64?) { state.withLock { $0.variations[parent, default: [:]][sku] = (id, stock) } }

    public func stock(_ sku: String) -> Int64? {
        state.withLock { state in
            state.products[sku]?.stock ?? state.variations.values.compactMap { $0[sku]?.stock }.first
        }
    }

    /// An order as the REST API returns it (a JSON object), last modified at `modified`.
    public func addOrder(_ json: String, modified: Date) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], let id = object["id"] as? Int else {
            preconditionFailure("FakeWooCommerce.addOrder needs a JSON object with an integer id")
        }
        state.withLock { $0.orders[id] = Order(json: Data(json.utf8), modified: modified, notes: [], refunds: []) }
    }

    public func orderStatus(_ id: Int) -> String? {
        state.withLock { $0.orders[id].flatMap { (try? JSONSerialization.jsonObject(with: $0.json) as? [String: Any])?["status"] as? String } }
    }
    public func notes(_ id: Int) -> [String] { state.withLock { $0.orders[id]?.notes.map(\.note) ?? [] } }
    public func refunds(_ id: Int) -> [String] { state.withLock { $0.orders[id]?.refunds.map(\.amount) ?? [] } }
    public var batchSizes: [Int] { state.withLock { $0.batchSizes } }
    public var requests: [String] { state.withLock { $0.requests } }

    // MARK: Webhooks

    /// Sends a webhook as WooCommerce does; returns the HTTP status. Each call is a new delivery id.
    public static func deliver(topic: String, body: Data, secret: String, to url: String, webhookID: Int = 7, source: String = "https://shop.example.com/",
                               signature: String? = nil) async throws -> Int {
        let parts = topic.split(separator: ".", maxSplits: 1).map(String.init)
        let headers = [("Content-Type", "application/json"), ("X-WC-Webhook-Source", source), ("X-WC-Webhook-Topic", topic),
                       ("X-WC-Webhook-Resource", parts.first ?? ""), ("X-WC-Webhook-Event", parts.last ?? ""),
                       ("X-WC-Webhook-Signature", signature ?? WebhookSignature.sign(body, secret: secret)), ("X-WC-Webhook-ID", "\(webhookID)"),
                       ("X-WC-Webhook-Delivery-ID", UUID().uuidString.lowercased())]
        return try await HTTPTransport().send(.POST, url, headers: headers, body: body).status
    }

    /// The ping WooCommerce sends when a webhook is saved: form-encoded, unsigned.
    public static func ping(webhookID: Int = 7, to url: String) async throws -> (Int, String) {
        let reply = try await HTTPTransport().send(.POST, url, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Data("webhook_id=\(webhookID)".utf8))
        return (reply.status, String(decoding: reply.body, as: UTF8.self))
    }

    // MARK: The server

    public var router: Router<BasicRequestContext> {
        let router = Router()
        let base = "/wp-json/wc/v3"
        router.get("\(base)/products") { request, _ in
            if let refused = self.gate(request) { return refused }
            let skus = (request.uri.queryParameters["sku"].map(String.init) ?? "").split(separator: ",").map { $0.removingPercentEncoding ?? String($0) }
            let found: [[String: Any]] = self.state.withLock { state in
                state.requests.append("GET products")
                return skus.compactMap { sku in
                    state.products[sku].map { ["id": $0.id, "sku": sku, "type": "simple", "manage_stock": $0.stock != nil, "stock_quantity": $0.stock.map { $0 as Any } ?? NSNull()] }
                }
            }
            return Self.json(200, object: found)
        }
        router.post("\(base)/products/batch") { request, _ in
            if let refused = self.gate(request) { return refused }
            return self.batch(try await Self.bytes(request), parent: nil)
        }
        router.post("\(base)/products/{parent}/variations/batch") { request, context in
            if let refused = self.gate(request) { return refused }
            return self.batch(try await Self.bytes(request), parent: Int(try context.parameters.require("parent")) ?? -1)
        }
        router.get("\(base)/orders") { request, _ in
            if let refused = self.gate(request) { return refused }
            return self.ordersPage(request)
        }
        router.get("\(base)/orders/{id}") { request, context in
            if let refused = self.gate(request) { return refused }
            let id = Int(try context.parameters.require("id")) ?? -1
            return self.state.withLock { state in
                state.requests.append("GET order")
                return state.orders[id].map { Self.json(200, $0.json) } ?? Self.missing("woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            }
        }
        router.put("\(base)/orders/{id}") { request, context in
            if let refused = self.gate(request) { return refused }
            let id = Int(try context.parameters.require("id")) ?? -1
            let body = try await Self.bytes(request)
            return self.state.withLock { state in
                state.requests.append("PUT order")
                guard let order = state.orders[id], var object = try? JSONSerialization.jsonObject(with: order.json) as? [String: Any] else {
                    return Self.missing("woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
                }
                for (key, value) in (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] { object[key] = value }
                let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? order.json
                state.orders[id]?.json = json
                state.orders[id]?.modified = Date()
                return Self.json(200, json)
            }
        }
        router.get("\(base)/orders/{id}/notes") { request, context in
            if let refused = self.gate(request) { return refused }
            let id = Int(try context.parameters.require("id")) ?? -1
            return self.state.withLock { state in
                guard let order = state.orders[id] else { return Self.missing("woocommerce_rest_order_invalid_id", "Invalid order ID.") }
                return Self.json(200, object: order.notes.map { ["id": $0.id, "note": $0.note, "customer_note": $0.customer] })
            }
        }
        router.post("\(base)/orders/{id}/notes") { request, context in
            if let refused = self.gate(request) { return refused }
            let id = Int(try context.parameters.require("id")) ?? -1
            let bytes = try await Self.bytes(request)
            return self.state.withLock { state in
                let body = (try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]) ?? [:]
                state.requests.append("POST note")
                guard state.orders[id] != nil else { return Self.missing("woocommerce_rest_order_invalid_id", "Invalid order ID.") }
                guard let note = body["note"] as? String, !note.isEmpty else {
                    return Self.json(400, object: ["code": "rest_missing_callback_param", "message": "Missing parameter(s): note", "data": ["status": 400]])
                }
                state.nextID += 1
                state.orders[id]?.notes.append((state.nextID, note, body["customer_note"] as? Bool ?? false))
                return Self.json(201, object: ["id": state.nextID, "note": note])
            }
        }
        router.get("\(base)/orders/{id}/refunds") { request, context in
            if let refused = self.gate(request) { return refused }
            let id = Int(try context.parameters.require("id")) ?? -1
            return self.state.withLock { state in
                guard let order = state.orders[id] else { return Self.missing("woocommerce_rest_order_invalid_id", "Invalid order ID.") }
                return Self.json(200, object: order.refunds.map { ["id": $0.id, "amount": $0.amount, "reason": $0.reason] })
            }
        }
        router.post("\(base)/orders/{id}/refunds") { request, context in
            if let refused = self.gate(request) { return refused }
            let id = Int(try context.parameters.require("id")) ?? -1
            let bytes = try await Self.bytes(request)
            return self.state.withLock { state in
                let body = (try? JSONSerialization.jsonObject(with: bytes) as? [String: Any]) ?? [:]
                state.requests.append("POST refund")
                guard state.orders[id] != nil else { return Self.missing("woocommerce_rest_order_invalid_id", "Invalid order ID.") }
                state.nextID += 1
                let refund = (id: state.nextID, amount: body["amount"] as? String ?? "0", reason: body["reason"] as? String ?? "")
                state.orders[id]?.refunds.append(refund)
                return Self.json(201, object: ["id": refund.id, "amount": refund.amount, "reason": refund.reason])
            }
        }
        return router
    }

    func gate(_ request: Request) -> Response? {
        let expected = "Basic " + Data("\(consumerKey):\(consumerSecret)".utf8).base64EncodedString()
        guard request.headers[.authorization] == expected else {
            return Self.json(401, object: ["code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.", "data": ["status": 401]])
        }
        return nil
    }

    static func bytes(_ request: Request) async throws -> Data {
        Data(try await request.body.collect(upTo: 4 << 20).readableBytesView)
    }

    static func missing(_ code: String, _ message: String) -> Response {
        json(404, object: ["code": code, "message": message, "data": ["status": 404]])
    }

    static func json(_ status: Int, object: Any, headers: HTTPFields = [:]) -> Response {
        json(status, (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), headers: headers)
    }

    static func json(_ status: Int, _ data: Data, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func batch(_ body: Data, parent: Int?) -> Response {
        let count = (((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["update"] as? [Any])?.count ?? 0
        guard count <= 100 else {
            return Self.json(413, object: ["code": "woocommerce_rest_request_entity_too_large", "message": "Unable to accept more than 100 items for this request.",
                                           "data": ["status": 413]])
        }
        return state.withLock { state in
            let updates = (((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["update"] as? [[String: Any]]) ?? []
            state.requests.append(parent == nil ? "POST products/batch" : "POST variations/batch")
            state.batchSizes.append(updates.count)
            let answers: [[String: Any]] = updates.map { update in
                let id = update["id"] as? Int ?? -1
                let quantity = (update["stock_quantity"] as? Int).map(Int64.init)
                if let parent {
                    guard let sku = state.variations[parent]?.first(where: { $0.value.id == id })?.key else {
                        return ["id": id, "error": ["code": "woocommerce_rest_product_variation_invalid_id", "message": "Invalid ID.", "data": ["status": 400]]]
                    }
                    state.variations[parent]?[sku]?.stock = quantity
                } else {
                    guard let sku = state.products.first(where: { $0.value.id == id })?.key else {
                        return ["id": id, "error": ["code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.", "data": ["status": 400]]]
                    }
                    state.products[sku]?.stock = quantity
                }
                return ["id": id, "stock_quantity": quantity.map { $0 as Any } ?? NSNull(), "manage_stock": true]
            }
            return Self.json(200, object: ["update": answers])
        }
    }

    func ordersPage(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        let perPage = min(100, Int(query["per_page"].map(String.init) ?? "10") ?? 10)
        let page = max(1, Int(query["page"].map(String.init) ?? "1") ?? 1)
        var after = Date.distantPast
        if let text = query["modified_after"].map(String.init) {
            let decoded = text.removingPercentEncoding ?? text
            guard let date = Self.formatter.date(from: decoded.hasSuffix("Z") ? decoded : decoded + "Z") else {
                return Self.json(400, object: ["code": "rest_invalid_param", "message": "Invalid parameter(s): modified_after", "data": ["status": 400]])
            }
            after = date
        }
        return state.withLock { state in
            state.requests.append("GET orders")
            let matching = state.orders.values.filter { $0.modified > after }.sorted { $0.modified < $1.modified }
            let pages = max(1, (matching.count + perPage - 1) / perPage)
            let slice = matching.dropFirst((page - 1) * perPage).prefix(perPage)
            var headers = HTTPFields()
            headers[HTTPField.Name("X-WP-Total")!] = "\(matching.count)"
            headers[HTTPField.Name("X-WP-TotalPages")!] = "\(pages)"
            let joined = "[" + slice.map { String(decoding: $0.json, as: UTF8.self) }.joined(separator: ",") + "]"
            return Self.json(200, Data(joined.utf8), headers: headers)
        }
    }
}
