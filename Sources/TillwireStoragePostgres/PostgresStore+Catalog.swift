import Foundation
import PostgresNIO
import TillwireDomain
import TillwireStorage

/// Locations, products, and positions read by SKU.
extension PostgresStore {
    public func locations() async throws -> [Location] {
        try await fetch("SELECT id, kind, name FROM locations ORDER BY id") { row in
            Location(trusted: LocationID(trusted: try row.decode("id", as: String.self)),
                     kind: LocationKind(rawValue: try row.decode("kind", as: String.self)) ?? .store,
                     name: try row.decode("name", as: String.self))
        }
    }

    public func products(_ skus: [SKU]) async throws -> [SKU: Product] {
        guard !skus.isEmpty else { return [:] }
        let distinct = Array(Set(skus.map(\.rawValue)))
        let rows = try await fetch("SELECT sku, name, allow_backorder, categories FROM products WHERE sku = ANY(\(distinct))") { row in
            Product(trusted: SKU(trusted: try row.decode("sku", as: String.self)), name: try row.decode("name", as: String.self),
                    allowBackorder: try row.decode("allow_backorder", as: Bool.self),
                    categories: Product.categories(stored: try row.decode("categories", as: String.self)))
        }
        return Dictionary(rows.map { ($0.sku, $0) }) { first, _ in first }
    }

    public func positions(sku: SKU) async throws -> [InventoryPosition] {
        try await fetch("""
            SELECT location, on_hand, reserved, safety_stock FROM inventory_positions WHERE sku = \(sku.rawValue) ORDER BY location
            """) { row in
            try Self.position(sku: sku, location: LocationID(trusted: try row.decode("location", as: String.self)), from: row)
        }
    }

    static func applyCatalog(_ change: CatalogChange, in session: PostgresSession, now: Int64) async throws {
        switch change {
        case .putLocation(let location):
            try await session.execute("""
                INSERT INTO locations (id, kind, name, updated_at) VALUES (\(location.id.rawValue), \(location.kind.rawValue), \(location.name), \(now))
                ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, updated_at = excluded.updated_at
                """)
        case .putProduct(let product):
            try await session.execute("""
                INSERT INTO products (sku, name, allow_backorder, categories, updated_at)
                VALUES (\(product.sku.rawValue), \(product.name), \(product.allowBackorder), \(product.storedCategories), \(now))
                ON CONFLICT (sku) DO UPDATE SET name = excluded.name, allow_backorder = excluded.allow_backorder,
                    categories = excluded.categories, updated_at = excluded.updated_at
                """)
        }
    }
}
