import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TillwireConnectors

/// A FAKE Shopify, not Shopify: a local HTTP server that behaves as Shopify's documentation says its Admin API does,
/// for the calls the connector makes, so the connector's tests can fail the way it would fail against a shop.
///
/// - GraphQL at `POST /admin/api/<version>/graphql.json`, behind `X-Shopify-Access-Token` (401 otherwise), with a
///   leaky-bucket cost budget (`maximumAvailable`, `restoreRate`): a query that costs more than is left gets
///   `THROTTLED` with HTTP 200, as Shopify answers; every answer reports `extensions.cost.throttleStatus`.
/// - `inventorySetQuantities` as of 2026-04: `@idempotent(key:)` required (a repeat with the same key and variables
///   returns the first answer and changes nothing; the same key with other variables is refused); every quantity
///   needs `changeFromQuantity` (null opts out); a stale one fails the whole mutation with
///   `CHANGE_FROM_QUANTITY_STALE`; more than 250 quantities is refused.
/// - `inventoryItems(query: "sku:\"A\" OR ...")`, `order { fulfillmentOrders, transactions }`, `fulfillmentCreate`,
///   `refundCreate` (with `@idempotent`).
/// - REST `GET orders.json?updated_at_min=&order=updated_at asc&limit=` with `Link: <...page_info=...>; rel="next"`
///   pagination, and `GET orders/<id>.json`.
/// - `queue429(count:retryAfter:)` answers the next requests with 429 and `Retry-After`.
/// - `deliver(...)` sends a webhook as Shopify does: signed, with `X-Shopify-Event-Id` the same on every delivery
///   of an event and `X-Shopify-Webhook-Id` new each time.
///
/// Any operation it does not know is answered with an error naming it, so a test that strays fails loudly.
public final class FakeShopify: Sendable {
    public struct Fulfillment: Sendable, Equatable {
        public let order: String
        public let lines: [String: Int64]
        public let trackingNumber: String?
        public let trackingCompany: String?

        public init(order: String, lines: [String: Int64], trackingNumber: String?, trackingCompany: String?) {
            self.order = order
            self.lines = lines
            self.trackingNumber = trackingNumber
            self.trackingCompany = trackingCompany
        }
    }

    public struct Refund: Sendable, Equatable {
        public let id: String
        public let order: String
        public let amount: String
        public let parent: String
    }

    struct Order {
        var json: String
        var updatedAt: Date
        /// Fulfillment order id → line id → remaining quantity.
        var fulfillmentOrders: [(id: String, lines: [(id: String, remaining: Int64)])]
        var transactions: [(id: String, kind: String, status: String, gateway: String)]
    }

    struct State {
        var items: [String: (id: String, available: Int64?)] = [:]
        var budget: Double
        var refilledAt = ContinuousClock.now
        var queued429: [Int] = []
        var idempotency: [String: (variables: Data, answer: Data)] = [:]
        var orders: [String: Order] = [:]
        /// Moves applied to `available` just before the next inventorySetQuantities is looked at: a sale in the shop
        /// between the connector's read and its write.
        var salesBeforeNextSet: [String: Int64] = [:]
        var fulfillments: [Fulfillment] = []
        var refunds: [Refund] = []
        var mutationSizes: [Int] = []
        var throttled = 0
        var drained = false
        var answered429 = 0
        var requests: [String] = []
    }

    public let accessToken: String
    /// The location id the inventory levels are at.
    public let location: String
    public let maximumAvailable: Double
    public let restoreRate: Double
    /// The largest page `orders.json` returns (Shopify's is 250); smaller in tests of the pagination.
    public let pageSize: Int
    let state: Mutex<State>

    public init(accessToken: String = "shpat_fake", location: String = "655441491", maximumAvailable: Double = 2_000, restoreRate: Double = 100,
                pageSize: Int = 250) {
        self.pageSize = pageSize
        self.accessToken = accessToken
        self.location = location
        self.maximumAvailable = maximumAvailable
        self.restoreRate = restoreRate
        state = Mutex(State(budget: maximumAvailable))
    }

    // MARK: What a test sets up and reads back

    /// An inventory item with a SKU, stocked at the location with `available` (nil: not stocked there).
    public func addItem(sku: String, id: String, available: Int64?) {
        state.withLock { $0.items[sku] = (id, available) }
    }

    public func available(_ sku: String) -> Int64? { state.withLock { $0.items[sku]?.available } }

    /// A sale in the shop that lands between the connector's read and its next write.
    public func sellBeforeNextSet(_ sku: String, _ quantity: Int64) {
        state.withLock { $0.salesBeforeNextSet[sku, default: 0] += quantity }
    }

    /// An order as the REST API returns it (raw JSON), with the fulfillment order and payment Shopify would make.
    public func addOrder(id: String, json: String, updatedAt: Date, lines: [(id: String, quantity: Int64)], gateway: String = "shopify_payments") {
        state.withLock {
            $0.orders[id] = Order(json: json, updatedAt: updatedAt, fulfillmentOrders: [("gid://shopify/FulfillmentOrder/\(id)1", lines.map { ("gid://shopify/FulfillmentOrderLineItem/\($0.id)", $0.quantity) })],
                                  transactions: [("gid://shopify/OrderTransaction/\(id)7", "SALE", "SUCCESS", gateway)])
        }
    }

    public func queue429(count: Int, retryAfter: Int) {
        state.withLock { $0.queued429 += Array(repeating: retryAfter, count: count) }
    }

    /// Spends the cost budget, as other apps on the shop would: the next query finds no points left.
    public func drainBudget() { state.withLock { $0.drained = true } }

    public var fulfillments: [Fulfillment] { state.withLock { $0.fulfillments } }
    public var refunds: [Refund] { state.withLock { $0.refunds } }
    /// The number of quantities in each inventorySetQuantities that was applied or refused.
    public var mutationSizes: [Int] { state.withLock { $0.mutationSizes } }
    public var throttledCount: Int { state.withLock { $0.throttled } }
    public var answered429Count: Int { state.withLock { $0.answered429 } }
    /// The operations received, in order (`inventoryItems`, `inventorySetQuantities`, `GET orders.json`, ...).
    public var requests: [String] { state.withLock { $0.requests } }

    // MARK: Webhooks

    /// Sends a webhook as Shopify does; returns the HTTP status. `eventID` is the same on every delivery of an event.
    public static func deliver(topic: String, body: Data, eventID: String, secret: String, to url: String, shop: String = "tillwire-test.myshopify.com",
                               signature: String? = nil) async throws -> Int {
        try await send(topic: topic, body: body, eventID: eventID, secret: secret, to: url, shop: shop, signature: signature).status
    }

    /// `deliver`, with the receiver's whole answer.
    public static func send(topic: String, body: Data, eventID: String, secret: String, to url: String, shop: String = "tillwire-test.myshopify.com",
                            signature: String? = nil) async throws -> HTTPTransport.Reply {
        let headers = [("Content-Type", "application/json"), ("X-Shopify-Topic", topic), ("X-Shopify-Hmac-Sha256", signature ?? WebhookSignature.sign(body, secret: secret)),
                       ("X-Shopify-Shop-Domain", shop), ("X-Shopify-API-Version", "2026-04"), ("X-Shopify-Event-Id", eventID),
                       ("X-Shopify-Webhook-Id", UUID().uuidString.lowercased()), ("X-Shopify-Triggered-At", Date().ISO8601Format())]
        return try await HTTPTransport().send(.POST, url, headers: headers, body: body)
    }

    // MARK: The server

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/admin/api/{version}/graphql.json") { request, context -> Response in
            if let refused = self.gate(request) { return refused }
            let body = try await request.body.collect(upTo: 4 << 20)
            return self.graphQL(Data(body.readableBytesView))
        }
        router.get("/admin/api/{version}/orders.json") { request, context -> Response in
            if let refused = self.gate(request) { return refused }
            return self.ordersPage(request, version: try context.parameters.require("version"))
        }
        router.get("/admin/api/{version}/orders/{id}") { request, context -> Response in
            if let refused = self.gate(request) { return refused }
            let id = try context.parameters.require("id").replacingOccurrences(of: ".json", with: "")
            self.state.withLock { $0.requests.append("GET orders/\(id).json") }
            guard let order = self.state.withLock({ $0.orders[id] }) else { return Self.json(404, #"{"errors":"Not Found"}"#) }
            return Self.json(200, #"{"order":\#(order.json)}"#)
        }
        return router
    }

    func gate(_ request: Request) -> Response? {
        guard request.headers[HTTPField.Name("X-Shopify-Access-Token")!] == accessToken else {
            return Self.json(401, #"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#)
        }
        let retryAfter: Int? = state.withLock { state in
            guard !state.queued429.isEmpty else { return nil }
            state.answered429 += 1
            return state.queued429.removeFirst()
        }
        if let retryAfter {
            var response = Self.json(429, #"{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}"#)
            response.headers[.retryAfter] = "\(retryAfter)"
            return response
        }
        return nil
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: Int, object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: GraphQL

    struct Operation {
        let name: String
        let cost: Double
    }

    static func operation(_ query: String, _ variables: [String: Any]) -> Operation? {
        if query.contains("inventorySetQuantities(") { return Operation(name: "inventorySetQuantities", cost: 10) }
        if query.contains("fulfillmentCreate(") { return Operation(name: "fulfillmentCreate", cost: 10) }
        if query.contains("refundCreate(") { return Operation(name: "refundCreate", cost: 10) }
        if query.contains("inventoryItems(") { return Operation(name: "inventoryItems", cost: 2 + 2 * Double(variables["first"] as? Int ?? 250)) }
        if query.contains("fulfillmentOrders(") { return Operation(name: "fulfillmentOrders", cost: 12) }
        if query.contains("transactions(") { return Operation(name: "transactions", cost: 3) }
        return nil
    }

    func graphQL(_ body: Data) -> Response {
        guard let request = try? JSONSerialization.jsonObject(with: body) as? [String: Any], let query = request["query"] as? String else {
            return Self.json(400, #"{"errors":"query is missing or not JSON"}"#)
        }
        let variables = request["variables"] as? [String: Any] ?? [:]
        guard let operation = Self.operation(query, variables) else {
            return Self.json(200, object: ["errors": [["message": "the fake Shopify does not know this operation: \(query.prefix(120))"]]])
        }
        // The leaky bucket: refill, then take the cost or answer THROTTLED.
        let (allowed, left): (Bool, Double) = state.withLock { state in
            let now = ContinuousClock.now
            state.budget = min(maximumAvailable, state.budget + restoreRate * ((now - state.refilledAt) / .seconds(1)))
            state.refilledAt = now
            if state.drained {
                state.budget = 0
                state.drained = false
            }
            state.requests.append(operation.name)
            guard state.budget >= operation.cost else {
                state.throttled += 1
                return (false, state.budget)
            }
            state.budget -= operation.cost
            return (true, state.budget)
        }
        func cost(actual: Double?) -> [String: Any] {
            ["cost": ["requestedQueryCost": operation.cost, "actualQueryCost": actual.map { $0 as Any } ?? NSNull(),
                      "throttleStatus": ["maximumAvailable": maximumAvailable, "currentlyAvailable": left, "restoreRate": restoreRate]]]
        }
        guard allowed else {
            return Self.json(200, object: ["errors": [["message": "Throttled", "extensions": ["code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"]]],
                                           "extensions": cost(actual: nil)])
        }
        let answer: [String: Any]
        switch operation.name {
        case "inventoryItems": answer = ["data": inventoryItems(variables)]
        case "inventorySetQuantities", "refundCreate":
            answer = idempotent(operation.name, query: query, variables: variables)
        case "fulfillmentOrders": answer = ["data": fulfillmentOrders(variables)]
        case "transactions": answer = ["data": transactions(variables)]
        case "fulfillmentCreate": answer = ["data": fulfillmentCreate(variables)]
        default: answer = ["errors": [["message": "unreachable"]]]
        }
        var full = answer
        full["extensions"] = cost(actual: operation.cost)
        return Self.json(200, object: full)
    }

    func idempotent(_ name: String, query: String, variables: [String: Any]) -> [String: Any] {
        guard query.contains("@idempotent(key:"), let key = variables["key"] as? String, !key.isEmpty else {
            return ["errors": [["message": "The @idempotent directive is required for \(name) as of API version 2026-04.", "extensions": ["code": "BAD_REQUEST"]]]]
        }
        let fingerprint = (try? JSONSerialization.data(withJSONObject: variables.filter { $0.key != "key" }, options: [.sortedKeys])) ?? Data()
        if let earlier = state.withLock({ $0.idempotency["\(name)/\(key)"] }) {
            guard earlier.variables == fingerprint else {
                return ["errors": [["message": "The idempotency key was used with different parameters.", "extensions": ["code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"]]]]
            }
            return (try? JSONSerialization.jsonObject(with: earlier.answer) as? [String: Any]) ?? [:]
        }
        let answer: [String: Any] = name == "refundCreate" ? ["data": refundCreate(variables)] : inventorySetQuantities(variables)
        if (answer["errors"] as? [Any])?.isEmpty ?? true, let data = try? JSONSerialization.data(withJSONObject: answer) {
            state.withLock { $0.idempotency["\(name)/\(key)"] = (fingerprint, data) }
        }
        return answer
    }

    static func numeric(_ gid: Any?) -> String { (gid as? String).map { String($0.split(separator: "/").last ?? "") } ?? "" }

    func inventoryItems(_ variables: [String: Any]) -> [String: Any] {
        let query = variables["query"] as? String ?? ""
        // sku:"A" OR sku:"B": the quoted values, unescaped.
        var skus: [String] = []
        var rest = Substring(query)
        while let start = rest.range(of: "sku:\"") {
            var value = ""
            var index = start.upperBound
            while index < rest.endIndex, rest[index] != "\"" {
                if rest[index] == "\\", rest.index(after: index) < rest.endIndex { index = rest.index(after: index) }
                value.append(rest[index])
                index = rest.index(after: index)
            }
            skus.append(value)
            rest = rest[min(rest.index(after: index), rest.endIndex)...]
        }
        let wantedLocation = Self.numeric(variables["location"])
        let first = variables["first"] as? Int ?? 50
        let nodes: [[String: Any]] = state.withLock { state in
            skus.prefix(first).compactMap { sku in
                guard let item = state.items[sku] else { return nil }
                let level: Any = item.available.map { ["quantities": [["name": "available", "quantity": $0]]] as Any } ?? NSNull()
                return ["id": "gid://shopify/InventoryItem/\(item.id)", "sku": sku, "inventoryLevel": wantedLocation == location ? level : NSNull()]
            }
        }
        return ["inventoryItems": ["nodes": nodes]]
    }

    func inventorySetQuantities(_ variables: [String: Any]) -> [String: Any] {
        guard let input = variables["input"] as? [String: Any], let quantities = input["quantities"] as? [[String: Any]] else {
            return ["errors": [["message": "Variable $input of type InventorySetQuantitiesInput! was provided invalid value", "extensions": ["code": "INVALID_VARIABLE"]]]]
        }
        guard quantities.count <= 250 else {
            return ["errors": [["message": "The input array size of \(quantities.count) is greater than the maximum allowed of 250.", "extensions": ["code": "MAX_INPUT_SIZE_EXCEEDED"]]]]
        }
        guard quantities.allSatisfy({ $0.keys.contains("changeFromQuantity") }) else {
            return ["errors": [["message": "changeFromQuantity is required for every quantity as of 2026-04 (pass null to opt out).", "extensions": ["code": "INVALID_VARIABLE"]]]]
        }
        return state.withLock { state in
            state.mutationSizes.append(quantities.count)
            for (sku, sold) in state.salesBeforeNextSet { state.items[sku]?.available? -= sold }
            state.salesBeforeNextSet = [:]
            let bySKU = Dictionary(state.items.map { ($0.value.id, $0.key) }) { first, _ in first }
            var errors: [[String: Any]] = []
            for (index, quantity) in quantities.enumerated() {
                guard let sku = bySKU[Self.numeric(quantity["inventoryItemId"])], Self.numeric(quantity["locationId"]) == location else {
                    errors.append(["code": "ITEM_NOT_STOCKED_AT_LOCATION", "field": ["input", "quantities", "\(index)"], "message": "The item is not stocked at the location."])
                    continue
                }
                if let from = quantity["changeFromQuantity"] as? Int, Int64(from) != state.items[sku]?.available {
                    errors.append(["code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "\(index)", "changeFromQuantity"],
                                   "message": "The specified compare quantity does not match the current quantity."])
                }
            }
            guard errors.isEmpty else { return ["data": ["inventorySetQuantities": ["inventoryAdjustmentGroup": NSNull(), "userErrors": errors]]] }
            for quantity in quantities {
                guard let sku = bySKU[Self.numeric(quantity["inventoryItemId"])], let value = quantity["quantity"] as? Int else { continue }
                state.items[sku]?.available = Int64(value)
            }
            return ["data": ["inventorySetQuantities": ["inventoryAdjustmentGroup": ["id": "gid://shopify/InventoryAdjustmentGroup/\(state.mutationSizes.count)"], "userErrors": []]]]
        }
    }

    func fulfillmentOrders(_ variables: [String: Any]) -> [String: Any] {
        let id = Self.numeric(variables["id"])
        return state.withLock { state in
            guard let order = state.orders[id] else { return ["order": NSNull()] }
            return ["order": ["fulfillmentOrders": ["nodes": order.fulfillmentOrders.map { fulfillmentOrder in
                let remaining = fulfillmentOrder.lines.reduce(0) { $0 + $1.remaining }
                return ["id": fulfillmentOrder.id, "status": remaining > 0 ? "OPEN" : "CLOSED",
                        "lineItems": ["nodes": fulfillmentOrder.lines.map { ["id": $0.id, "remainingQuantity": $0.remaining] }]] as [String: Any]
            }]]]
        }
    }

    func fulfillmentCreate(_ variables: [String: Any]) -> [String: Any] {
        let input = variables["fulfillment"] as? [String: Any] ?? [:]
        let groups = input["lineItemsByFulfillmentOrder"] as? [[String: Any]] ?? []
        let tracking = input["trackingInfo"] as? [String: Any]
        return state.withLock { state in
            var taken: [String: Int64] = [:]
            var order = ""
            for group in groups {
                let fulfillmentOrder = group["fulfillmentOrderId"] as? String ?? ""
                guard let (orderID, index) = state.orders.lazy.compactMap({ entry in entry.value.fulfillmentOrders.firstIndex { $0.id == fulfillmentOrder }.map { (entry.key, $0) } }).first else {
                    return ["fulfillmentCreate": ["fulfillment": NSNull(), "userErrors": [["field": ["fulfillment"], "message": "Fulfillment order \(fulfillmentOrder) does not exist."]]]]
                }
                order = orderID
                for line in group["fulfillmentOrderLineItems"] as? [[String: Any]] ?? [] {
                    let lineID = line["id"] as? String ?? ""
                    let quantity = Int64(line["quantity"] as? Int ?? 0)
                    guard let at = state.orders[orderID]?.fulfillmentOrders[index].lines.firstIndex(where: { $0.id == lineID }),
                          let remaining = state.orders[orderID]?.fulfillmentOrders[index].lines[at].remaining, quantity <= remaining else {
                        return ["fulfillmentCreate": ["fulfillment": NSNull(), "userErrors": [["field": ["fulfillment"], "message": "Invalid fulfillment order line item quantity requested."]]]]
                    }
                    state.orders[orderID]?.fulfillmentOrders[index].lines[at].remaining -= quantity
                    taken[lineID] = quantity
                }
            }
            state.fulfillments.append(Fulfillment(order: order, lines: taken, trackingNumber: tracking?["number"] as? String, trackingCompany: tracking?["company"] as? String))
            return ["fulfillmentCreate": ["fulfillment": ["id": "gid://shopify/Fulfillment/\(state.fulfillments.count)", "status": "SUCCESS"], "userErrors": []]]
        }
    }

    func transactions(_ variables: [String: Any]) -> [String: Any] {
        let id = Self.numeric(variables["id"])
        return state.withLock { state in
            guard let order = state.orders[id] else { return ["order": NSNull()] }
            return ["order": ["transactions": order.transactions.map { ["id": $0.id, "kind": $0.kind, "status": $0.status, "gateway": $0.gateway] }]]
        }
    }

    func refundCreate(_ variables: [String: Any]) -> [String: Any] {
        let input = variables["input"] as? [String: Any] ?? [:]
        let order = Self.numeric(input["orderId"])
        let transaction = (input["transactions"] as? [[String: Any]])?.first ?? [:]
        return state.withLock { state in
            guard state.orders[order] != nil else {
                return ["refundCreate": ["refund": NSNull(), "userErrors": [["field": ["orderId"], "message": "Order does not exist"]]]]
            }
            let refund = Refund(id: "\(order)\(state.refunds.count + 1)", order: order, amount: transaction["amount"] as? String ?? "", parent: transaction["parentId"] as? String ?? "")
            state.refunds.append(refund)
            return ["refundCreate": ["refund": ["id": "gid://shopify/Refund/\(refund.id)"], "userErrors": []]]
        }
    }

    // MARK: REST orders

    func ordersPage(_ request: Request, version: String) -> Response {
        let query = request.uri.queryParameters
        let limit = min(pageSize, Int(query["limit"].map(String.init) ?? "50") ?? 50)
        var offset = 0
        var since = Date.distantPast
        if let pageInfo = query["page_info"].map(String.init) {
            // Shopify's page_info is opaque; this fake's carries the offset and the filter.
            let parts = pageInfo.split(separator: "x")
            offset = parts.first.flatMap { Int($0) } ?? 0
            since = parts.dropFirst().first.flatMap { Double($0) }.map { Date(timeIntervalSince1970: $0) } ?? .distantPast
        } else if let text = query["updated_at_min"].map(String.init) {
            guard let date = ISO8601DateFormatter().date(from: text) else { return Self.json(400, #"{"errors":{"updated_at_min":["is invalid"]}}"#) }
            since = date
        }
        state.withLock { $0.requests.append("GET orders.json") }
        let matching = state.withLock { $0.orders.values.filter { $0.updatedAt >= since }.sorted { $0.updatedAt < $1.updatedAt } }
        let page = matching.dropFirst(offset).prefix(limit)
        var response = Self.json(200, #"{"orders":[\#(page.map(\.json).joined(separator: ","))]}"#)
        if offset + limit < matching.count {
            let info = "\(offset + limit)x\(since.timeIntervalSince1970)"
            let host = request.head.authority ?? "127.0.0.1"
            response.headers[HTTPField.Name("Link")!] = "<http://\(host)/admin/api/\(version)/orders.json?limit=\(limit)&page_info=\(info)>; rel=\"next\""
        }
        return response
    }
}
