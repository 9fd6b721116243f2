import Crypto
import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine

/// What the hub tells the shop about its orders. A fulfilled order is fulfilled in Shopify with its tracking
/// (`fulfillmentCreate` over the fulfillment orders' remaining quantities, so a repeat finds nothing left and sends
/// nothing); a refund of a return is a `refundCreate` against the payment's transaction, with an `@idempotent` key
/// derived from the hub's refund key, so a retry after a lost answer refunds once. Other statuses are the hub's own
/// business and are not sent.
public struct ShopifyOrderClient: ChannelOrderClient, ChannelRefundClient {
    let configuration: ShopifyConfiguration
    let admin: ShopifyAdmin
    let logger: Logger

    public init(configuration: ShopifyConfiguration, admin: ShopifyAdmin, logger: Logger) {
        self.configuration = configuration
        self.admin = admin
        self.logger = logger
    }

    public func notify(_ order: Order, status: OrderStatus, tracking: Tracking?, key: String) async throws {
        guard status == .fulfilled else {
            logger.debug("order status not sent to Shopify", metadata: ["order": "\(order.id)", "status": "\(status.rawValue)"])
            return
        }
        let id = ShopifyID(order.channelOrderID)
        let open = try await openFulfillmentOrders(id)
        guard !open.isEmpty else { return }
        var fulfillment: [String: Any] = [
            "lineItemsByFulfillmentOrder": open.map { order in
                ["fulfillmentOrderId": order.id, "fulfillmentOrderLineItems": order.lines.map { ["id": $0.id, "quantity": $0.quantity] }]
            },
            "notifyCustomer": true,
        ]
        if let tracking {
            var info: [String: Any] = ["company": tracking.carrier, "number": tracking.number]
            if let url = tracking.url { info["url"] = url }
            fulfillment["trackingInfo"] = info
        }
        struct Payload: Decodable {
            struct Result: Decodable {
                struct Fulfillment: Decodable { let id: ShopifyID }
                let fulfillment: Fulfillment?
                let userErrors: [ShopifyInventoryPublisher.UserError]
            }
            let fulfillmentCreate: Result
        }
        let result = try await admin.graphQL(Self.fulfil, variables: ["fulfillment": fulfillment], cost: 10, as: Payload.self,
                                             what: "fulfillmentCreate for order \(id)").fulfillmentCreate
        guard result.userErrors.isEmpty else {
            throw JobError.terminal("shopify fulfillmentCreate for order \(id): " + result.userErrors.map(\.message).joined(separator: "; "))
        }
    }

    static let fulfil = """
        mutation Fulfil($fulfillment: FulfillmentInput!) {
          fulfillmentCreate(fulfillment: $fulfillment) {
            fulfillment { id status }
            userErrors { code field message }
          }
        }
        """

    static let fulfillmentOrders = """
        query FulfillmentOrders($id: ID!) {
          order(id: $id) {
            fulfillmentOrders(first: 20) {
              nodes { id status lineItems(first: 250) { nodes { id remainingQuantity } } }
            }
          }
        }
        """

    struct OpenOrder {
        let id: String
        let lines: [(id: String, quantity: Int64)]
    }

    func openFulfillmentOrders(_ id: ShopifyID) async throws -> [OpenOrder] {
        struct Payload: Decodable {
            struct OrderNode: Decodable {
                struct Orders: Decodable {
                    struct Node: Decodable {
                        struct Lines: Decodable {
                            struct Line: Decodable {
                                let id: String
                                let remainingQuantity: Int64
                            }
                            let nodes: [Line]
                        }
                        let id: String
                        let status: String
                        let lineItems: Lines
                    }
                    let nodes: [Node]
                }
                let fulfillmentOrders: Orders
            }
            let order: OrderNode?
        }
        guard let order = try await admin.graphQL(Self.fulfillmentOrders, variables: ["id": id.gid("Order")], cost: 30, as: Payload.self,
                                                  what: "fulfillment orders of order \(id)").order else {
            throw JobError.terminal("shopify has no order \(id)")
        }
        return order.fulfillmentOrders.nodes.filter { ["OPEN", "IN_PROGRESS"].contains($0.status) }.compactMap { node in
            let lines = node.lineItems.nodes.filter { $0.remainingQuantity > 0 }.map { ($0.id, $0.remainingQuantity) }
            return lines.isEmpty ? nil : OpenOrder(id: node.id, lines: lines)
        }
    }

    static let transactions = """
        query Transactions($id: ID!) {
          order(id: $id) { transactions(first: 50) { id kind status gateway } }
        }
        """

    static let refundCreate = """
        mutation Refund($input: RefundInput!, $key: String!) {
          refundCreate(input: $input) @idempotent(key: $key) {
            refund { id }
            userErrors { code field message }
          }
        }
        """

    public func refund(_ order: Order, amount: Money, for authorization: ReturnAuthorization, key: String) async throws -> String {
        let id = ShopifyID(order.channelOrderID)
        struct Transactions: Decodable {
            struct OrderNode: Decodable {
                struct Transaction: Decodable {
                    let id: String
                    let kind: String
                    let status: String
                    let gateway: String?
                }
                let transactions: [Transaction]
            }
            let order: OrderNode?
        }
        guard let found = try await admin.graphQL(Self.transactions, variables: ["id": id.gid("Order")], cost: 5, as: Transactions.self,
                                                  what: "transactions of order \(id)").order else {
            throw JobError.terminal("shopify has no order \(id)")
        }
        guard let paid = found.transactions.last(where: { ["SALE", "CAPTURE"].contains($0.kind) && $0.status == "SUCCESS" }) else {
            throw JobError.terminal("shopify order \(id) has no successful sale or capture to refund against")
        }
        var transaction: [String: Any] = ["orderId": id.gid("Order"), "parentId": paid.id, "kind": "REFUND", "amount": amount.decimalString]
        if let gateway = paid.gateway { transaction["gateway"] = gateway }
        let input: [String: Any] = ["orderId": id.gid("Order"), "note": "Tillwire return \(authorization.id)", "notify": false, "transactions": [transaction]]
        struct Payload: Decodable {
            struct Result: Decodable {
                struct Refund: Decodable { let id: ShopifyID }
                let refund: Refund?
                let userErrors: [ShopifyInventoryPublisher.UserError]
            }
            let refundCreate: Result
        }
        let result = try await admin.graphQL(Self.refundCreate, variables: ["input": input, "key": Self.idempotencyKey(key)], cost: 10, as: Payload.self,
                                             what: "refundCreate for order \(id)").refundCreate
        guard result.userErrors.isEmpty, let refund = result.refund else {
            throw JobError.terminal("shopify refundCreate for order \(id): " + result.userErrors.map(\.message).joined(separator: "; "))
        }
        return refund.id.rawValue
    }

    /// A UUID-shaped key derived from the hub's key: every attempt of one refund sends the same.
    static func idempotencyKey(_ key: String) -> String {
        let hex = SHA256.hash(data: Data(key.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
