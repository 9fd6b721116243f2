import Foundation
import TillwireConnectors
import TillwireDomain
import TillwireEngine

/// Sets each product's `stock_quantity` to the hub's figure (with `manage_stock` on) through the batch endpoints:
/// `POST /products/batch` for simple products, `POST /products/<parent>/variations/batch` for variations, at most
/// 100 updates a request (WooCommerce's limit). A simple product is found by `GET /products?sku=a,b`; a variation by
/// the binding its orders taught the hub (`product/variation` → SKU), since the products endpoint does not list
/// variations. WooCommerce lowers `stock_quantity` itself for its paid orders, so the hub's figure (which leaves out
/// the reservations of the orders it took) is the right one to set. WooCommerce has no compare-and-set: a sale in
/// the store between the hub's figure and its arrival is covered by the next push, after the sale's capture.
public struct WooCommerceStockPublisher: AvailabilityPublisher {
    /// WooCommerce's default `woocommerce_rest_batch_items_limit`.
    public static let batchLimit = 100
    public static let variationKind = "variation"
    public static let productKind = "product"

    let configuration: WooCommerceConfiguration
    let api: WooCommerceAPI
    let binder: ExternalBinder

    public init(configuration: WooCommerceConfiguration, api: WooCommerceAPI, binder: ExternalBinder) {
        self.configuration = configuration
        self.api = api
        self.binder = binder
    }

    public func publish(channel: ChannelID, sku: SKU, available: Int64) async throws {
        try await set([(sku, available)])
    }

    struct Product: Decodable {
        let id: WooID
        let sku: String?
        let stock_quantity: Int64?
        let manage_stock: Bool?
    }

    struct BatchAnswer: Decodable {
        struct Item: Decodable {
            struct Failure: Decodable {
                let code: String?
                let message: String?
            }
            let id: WooID?
            let error: Failure?
        }
        let update: [Item]?
    }

    /// Sets many figures; the SKUs the store does not have are reported together, as a terminal error, after the
    /// others were set. Returns the number of batch requests made.
    @discardableResult
    public func set(_ figures: [(sku: SKU, available: Int64)]) async throws -> Int {
        var simple: [(id: String, quantity: Int64)] = []
        var variations: [String: [(id: String, quantity: Int64)]] = [:]
        var unknown: [(sku: SKU, available: Int64)] = []
        for figure in figures {
            if let bound = try await binder.external(Self.variationKind, canonical: figure.sku.rawValue) {
                let parts = bound.split(separator: "/").map(String.init)
                if parts.count == 2 {
                    variations[parts[0], default: []].append((parts[1], max(0, figure.available)))
                    continue
                }
            }
            if let product = try await binder.external(Self.productKind, canonical: figure.sku.rawValue) {
                simple.append((product, max(0, figure.available)))
            } else {
                unknown.append(figure)
            }
        }
        var missing: [SKU] = []
        var start = 0
        while start < unknown.count {
            let part = Array(unknown[start..<min(start + Self.batchLimit, unknown.count)])
            start += Self.batchLimit
            let query = part.map { $0.sku.rawValue.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? "" }.joined(separator: ",")
            let reply = try await api.call(.GET, "/products?sku=\(query)&per_page=100", what: "products by SKU")
            let found = try api.decode([Product].self, reply, what: "products by SKU")
            var pairs: [(external: String, canonical: String)] = []
            for figure in part {
                guard let product = found.first(where: { $0.sku == figure.sku.rawValue }) else {
                    missing.append(figure.sku)
                    continue
                }
                simple.append((product.id.rawValue, max(0, figure.available)))
                pairs.append((product.id.rawValue, figure.sku.rawValue))
            }
            try await binder.record(Self.productKind, pairs)
        }
        var stale: [String] = []
        var requests = try await batch("/products/batch", simple, stale: &stale)
        for (parent, updates) in variations.sorted(by: { $0.key < $1.key }) {
            requests += try await batch("/products/\(parent)/variations/batch", updates, stale: &stale)
        }
        if !stale.isEmpty {
            // Ids the store no longer knows (a product deleted, a variation remade): forget them and look again.
            let skus = figures.map(\.sku.rawValue)
            for sku in skus {
                let product = try await binder.external(Self.productKind, canonical: sku)
                let variation = try await binder.external(Self.variationKind, canonical: sku)?.split(separator: "/").last.map(String.init)
                if let product, stale.contains(product) { try await binder.forget(Self.productKind, canonical: sku) }
                if let variation, stale.contains(variation) { try await binder.forget(Self.variationKind, canonical: sku) }
            }
            throw JobError.retryable("woocommerce no longer has product or variation \(stale.prefix(10).joined(separator: ", ")); its SKU is looked up again", retryAfter: .seconds(1))
        }
        guard missing.isEmpty else {
            throw JobError.terminal("woocommerce has no product with SKU \(missing.prefix(20).map(\.rawValue).joined(separator: ", "))"
                                    + (missing.count > 20 ? " and \(missing.count - 20) more" : "") + " (a variation is known once an order of it was seen)")
        }
        return requests
    }

    func batch(_ path: String, _ updates: [(id: String, quantity: Int64)], stale: inout [String]) async throws -> Int {
        var requests = 0
        var start = 0
        while start < updates.count {
            let part = updates[start..<min(start + Self.batchLimit, updates.count)]
            start += Self.batchLimit
            let body: [String: Any] = ["update": part.map { ["id": Int64($0.id) ?? 0, "stock_quantity": $0.quantity, "manage_stock": true] }]
            let reply = try await api.call(.POST, path, body: body, what: "stock batch \(path)")
            requests += 1
            var failed = (try api.decode(BatchAnswer.self, reply, what: "stock batch").update ?? []).filter { $0.error != nil }
            let gone = failed.filter { $0.error?.code?.hasSuffix("_invalid_id") == true }
            stale += gone.compactMap { $0.id?.rawValue }
            failed.removeAll { $0.error?.code?.hasSuffix("_invalid_id") == true }
            guard failed.isEmpty else {
                throw JobError.terminal("woocommerce stock batch \(path): " + failed.prefix(10).map {
                    "\($0.id?.rawValue ?? "?"): \($0.error?.code ?? "error") \($0.error?.message ?? "")"
                }.joined(separator: "; "))
            }
        }
        return requests
    }

    /// RFC 3986's unreserved characters: everything else in a SKU is percent-encoded (a comma in a SKU cannot be
    /// asked for: WooCommerce splits the list on commas).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
