import Foundation
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Sets the shop's `available` quantity at the configured location to the hub's figure, through the GraphQL
/// `inventorySetQuantities` mutation as API 2026-04 requires it: every quantity carries `changeFromQuantity` (the
/// figure read just before: Shopify refuses the change with `CHANGE_FROM_QUANTITY_STALE` if a sale moved it
/// meanwhile, and the connector reads again), and the mutation carries an `@idempotent` key. At most 250 quantities
/// per mutation. Setting `available` (not `on_hand`) leaves Shopify's own committed quantities out of the figure,
/// as the hub's figure already leaves out the reservations of the orders it took from the shop.
///
/// A lost answer is harmless: the retry reads the quantity again, finds the hub's figure, and sends nothing.
public struct ShopifyInventoryPublisher: AvailabilityPublisher {
    /// The most quantities one mutation takes.
    public static let chunk = 250
    /// A stale `changeFromQuantity` is read again this many times before the job is retried later.
    static let staleRounds = 4
    public static let bindingKind = "inventory_item"

    let configuration: ShopifyConfiguration
    let admin: ShopifyAdmin
    let binder: ExternalBinder

    public init(configuration: ShopifyConfiguration, admin: ShopifyAdmin, binder: ExternalBinder) {
        self.configuration = configuration
        self.admin = admin
        self.binder = binder
    }

    public func publish(channel: ChannelID, sku: SKU, available: Int64) async throws {
        try await set([(sku, available)])
    }

    /// What one `set` did: how many quantities it changed and how many were already right.
    public struct Outcome: Sendable, Equatable {
        public var changed = 0
        public var unchanged = 0
        public var mutations = 0

        public init(changed: Int = 0, unchanged: Int = 0, mutations: Int = 0) {
            self.changed = changed
            self.unchanged = unchanged
            self.mutations = mutations
        }
    }

    /// Sets many figures, in chunks of at most 250. SKUs the shop does not have (or does not stock at the location)
    /// are reported together, as a terminal error, after the others were set.
    @discardableResult
    public func set(_ figures: [(sku: SKU, available: Int64)]) async throws -> Outcome {
        var outcome = Outcome()
        var missing: [SKU] = []
        var start = 0
        while start < figures.count {
            let part = Array(figures[start..<min(start + Self.chunk, figures.count)])
            start += Self.chunk
            missing += try await setChunk(part, &outcome)
        }
        guard missing.isEmpty else {
            throw JobError.terminal("shopify has no inventory item stocked at location \(configuration.location) for SKU \(missing.prefix(20).map(\.rawValue).joined(separator: ", "))"
                                    + (missing.count > 20 ? " and \(missing.count - 20) more" : ""))
        }
        return outcome
    }

    func setChunk(_ figures: [(sku: SKU, available: Int64)], _ outcome: inout Outcome) async throws -> [SKU] {
        for round in 1...Self.staleRounds {
            let levels = try await read(figures.map(\.sku))
            var quantities: [[String: Any]] = []
            var unchanged = 0
            for (sku, available) in figures {
                guard let level = levels[sku] else { continue }
                let target = max(0, available)
                if level.available == target { unchanged += 1; continue }
                quantities.append([
                    "inventoryItemId": level.item.gid("InventoryItem"), "locationId": configuration.location.gid("Location"),
                    "quantity": target, "changeFromQuantity": level.available.map { $0 as Any } ?? NSNull(),
                ])
            }
            let missing = figures.map(\.sku).filter { levels[$0] == nil }
            guard !quantities.isEmpty else {
                outcome.unchanged += unchanged
                return missing
            }
            let input: [String: Any] = ["name": "available", "reason": "correction",
                                        "referenceDocumentUri": "tillwire://channel/\(configuration.channel.rawValue)/availability",
                                        "quantities": quantities]
            let errors = try await mutate(input)
            outcome.mutations += 1
            if errors.isEmpty {
                outcome.changed += quantities.count
                outcome.unchanged += unchanged
                return missing
            }
            guard errors.allSatisfy({ $0.code == "CHANGE_FROM_QUANTITY_STALE" }) else {
                throw JobError.terminal("shopify inventorySetQuantities: " + errors.map { "\($0.code ?? "ERROR") \($0.message)" }.joined(separator: "; "))
            }
            if round == Self.staleRounds { break }
        }
        throw JobError.retryable("shopify inventorySetQuantities: the quantities kept moving (CHANGE_FROM_QUANTITY_STALE \(Self.staleRounds) times)", retryAfter: .seconds(5))
    }

    struct UserError: Decodable {
        let code: String?
        let field: [String]?
        let message: String
    }

    static let mutation = """
        mutation SetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
          inventorySetQuantities(input: $input) @idempotent(key: $key) {
            inventoryAdjustmentGroup { id }
            userErrors { code field message }
          }
        }
        """

    func mutate(_ input: [String: Any]) async throws -> [UserError] {
        struct Payload: Decodable {
            struct Result: Decodable { let userErrors: [UserError] }
            let inventorySetQuantities: Result
        }
        // A fresh key per request: a retry of the same request (same variables) after a lost answer is read again
        // first, and then either sends nothing or sends other variables.
        let key = UUID().uuidString.lowercased()
        return try await admin.graphQL(Self.mutation, variables: ["input": input, "key": key], cost: 10, as: Payload.self,
                                       what: "inventorySetQuantities").inventorySetQuantities.userErrors
    }

    struct Level {
        let item: ShopifyID
        /// nil: Shopify reports no `available` quantity yet.
        let available: Int64?
    }

    static let levels = """
        query Levels($query: String!, $first: Int!, $location: ID!) {
          inventoryItems(first: $first, query: $query) {
            nodes { id sku inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } }
          }
        }
        """

    /// The inventory item of each SKU and its `available` quantity at the location, in one query; the item ↔ SKU
    /// pairs are bound, so an `inventory_levels/update` can be traced back to its SKU.
    func read(_ skus: [SKU]) async throws -> [SKU: Level] {
        struct Payload: Decodable {
            struct Items: Decodable {
                struct Node: Decodable {
                    struct InventoryLevel: Decodable {
                        struct Quantity: Decodable {
                            let name: String
                            let quantity: Int64
                        }
                        let quantities: [Quantity]
                    }
                    let id: ShopifyID
                    let sku: String?
                    let inventoryLevel: InventoryLevel?
                }
                let nodes: [Node]
            }
            let inventoryItems: Items
        }
        let query = skus.map { "sku:\"\($0.rawValue.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }
            .joined(separator: " OR ")
        let answer = try await admin.graphQL(Self.levels, variables: ["query": query, "first": min(Self.chunk, skus.count + 10), "location": configuration.location.gid("Location")],
                                             cost: Double(2 + 3 * min(Self.chunk, skus.count + 10)), as: Payload.self, what: "inventory levels")
        let wanted = Set(skus)
        var levels: [SKU: Level] = [:]
        var pairs: [(external: String, canonical: String)] = []
        // The search matches loosely; only exact SKUs count.
        for node in answer.inventoryItems.nodes {
            guard let text = node.sku, let sku = try? SKU(text), wanted.contains(sku), let level = node.inventoryLevel else { continue }
            levels[sku] = Level(item: node.id, available: level.quantities.first { $0.name == "available" }?.quantity)
            pairs.append((node.id.rawValue, sku.rawValue))
        }
        try await binder.record(Self.bindingKind, pairs)
        return levels
    }
}
