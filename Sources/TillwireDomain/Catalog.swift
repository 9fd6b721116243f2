import Foundation

/// What a location is: where stock is kept and sold from.
public enum LocationKind: String, Sendable, Codable, CaseIterable {
    /// A shop with a till: sells, receives, and may ship or hand over web orders.
    case store
    /// A warehouse or distribution centre: ships, never sells over a counter.
    case warehouse
    /// A fulfilment node of a web shop or marketplace (a 3PL, a dark store).
    case web
}

/// A place that holds stock. Only known locations take movements, counts and reservations.
public struct Location: Hashable, Sendable, Codable {
    public let id: LocationID
    public let kind: LocationKind
    public let name: String

    public init(id: LocationID, kind: LocationKind, name: String) throws(DomainError) {
        guard (1...200).contains(name.unicodeScalars.count), name.allSatisfy({ !$0.isNewline }) else {
            throw .invalidIdentifier(kind: "location name", value: String(name.prefix(64)))
        }
        self.id = id
        self.kind = kind
        self.name = name
    }

    public init(trusted id: LocationID, kind: LocationKind, name: String) {
        self.id = id
        self.kind = kind
        self.name = name
    }
}

/// A sellable item as the inventory sees it. Only known SKUs take movements, counts and reservations; the
/// product master (names, prices, costs) is the ERP's, and its connector keeps these in step.
public struct Product: Hashable, Sendable, Codable {
    public let sku: SKU
    public let name: String
    /// Whether reservations may take its available-to-promise below zero.
    public let allowBackorder: Bool
    /// The categories it is in, for promotions scoped by category (`shoes`, `summer-2026`). Default none.
    public let categories: Set<String>

    public init(sku: SKU, name: String, allowBackorder: Bool = false, categories: Set<String> = []) throws(DomainError) {
        guard (1...500).contains(name.unicodeScalars.count), name.allSatisfy({ !$0.isNewline }) else {
            throw .invalidIdentifier(kind: "product name", value: String(name.prefix(64)))
        }
        self.sku = sku
        self.name = name
        self.allowBackorder = allowBackorder
        self.categories = try Self.checked(categories: Array(categories))
    }

    public init(trusted sku: SKU, name: String, allowBackorder: Bool, categories: Set<String> = []) {
        self.sku = sku
        self.name = name
        self.allowBackorder = allowBackorder
        self.categories = categories
    }

    /// Up to 50 categories, each 1-100 characters without control characters (so they can be stored one per line).
    public static func checked(categories: [String]) throws(DomainError) -> Set<String> {
        guard categories.count <= 50 else { throw .invalidIdentifier(kind: "product categories", value: "\(categories.count) (at most 50)") }
        for category in categories where !(1...100).contains(category.unicodeScalars.count)
            || category.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .invalidIdentifier(kind: "category", value: String(category.prefix(64)))
        }
        return Set(categories)
    }

    public var policy: InventoryPolicy { InventoryPolicy(allowBackorder: allowBackorder) }
}
