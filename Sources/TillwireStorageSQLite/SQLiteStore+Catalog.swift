import Foundation
import GRDB
import TillwireDomain
import TillwireStorage

/// Locations, products, and positions read by SKU.
extension SQLiteStore {
    public func locations() async throws -> [Location] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, kind, name FROM locations ORDER BY id").map { row in
                Location(trusted: LocationID(trusted: row["id"]), kind: LocationKind(rawValue: row["kind"]) ?? .store, name: row["name"])
            }
        }
    }

    public func products(_ skus: [SKU]) async throws -> [SKU: Product] {
        guard !skus.isEmpty else { return [:] }
        let distinct = Array(Set(skus.map(\.rawValue)))
        return try await read { db in
            var found: [SKU: Product] = [:]
            // In slices, under SQLite's limit on bound parameters.
            for start in stride(from: 0, to: distinct.count, by: 500) {
                let slice = Array(distinct[start..<min(start + 500, distinct.count)])
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ",")
                let statement = try db.cachedStatement(sql: "SELECT sku, name, allow_backorder, categories FROM products WHERE sku IN (\(marks))")
                let rows = try Row.fetchCursor(statement, arguments: StatementArguments(slice))
                while let row = try rows.next() {
                    let sku = SKU(trusted: row[0])
                    found[sku] = Product(trusted: sku, name: row[1], allowBackorder: row[2], categories: Product.categories(stored: row[3]))
                }
            }
            return found
        }
    }

    public func positions(sku: SKU) async throws -> [InventoryPosition] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT location, on_hand, reserved, safety_stock FROM inventory_positions WHERE sku = ? ORDER BY location
                """, arguments: [sku.rawValue]).map { row in
                InventoryPosition(sku: sku, location: LocationID(trusted: row["location"]), onHand: row["on_hand"],
                                  reserved: row["reserved"], safetyStock: row["safety_stock"])
            }
        }
    }

    static func applyCatalog(_ change: CatalogChange, in db: Database, now: Int64) throws {
        switch change {
        case .putLocation(let location):
            try db.cachedStatement(sql: """
                INSERT INTO locations (id, kind, name, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, updated_at = excluded.updated_at
                """).execute(arguments: [location.id.rawValue, location.kind.rawValue, location.name, now])
        case .putProduct(let product):
            try db.cachedStatement(sql: """
                INSERT INTO products (sku, name, allow_backorder, categories, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (sku) DO UPDATE SET name = excluded.name, allow_backorder = excluded.allow_backorder,
                    categories = excluded.categories, updated_at = excluded.updated_at
                """).execute(arguments: [product.sku.rawValue, product.name, product.allowBackorder, product.storedCategories, now])
        }
    }
}
