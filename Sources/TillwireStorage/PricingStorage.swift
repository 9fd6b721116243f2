import Foundation
import TillwireDomain

/// A change to the price lists or promotions, in a commit.
public enum PricingChange: Sendable, Hashable {
    /// A new price entry. Entries are never edited: its (SKU, channel, country, version) must be new, or the commit
    /// fails with `StorageError.conflict` (another writer took the version first).
    case price(PriceEntry)
    /// A promotion, new or replacing the one with its id.
    case promotion(Promotion, at: Date)
}

/// Price lists and promotions (changed through `Store.commit`'s `pricing`).
public protocol PricingReader: Sendable {
    /// Every version of the prices of `skus` on a channel in a country, newest version first per SKU.
    func priceEntries(channel: ChannelID, country: String, skus: [SKU]) async throws -> [PriceEntry]
    /// The promotions whose window holds `time` (nil: every promotion), by id.
    func promotions(activeAt time: Date?) async throws -> [Promotion]
    /// The promotions whose window ends after `time` (active or still to come), by id.
    func promotions(endingAfter time: Date) async throws -> [Promotion]
    func promotion(_ id: String) async throws -> Promotion?
}

extension Promotion {
    /// How a promotion is stored: its JSON.
    public func storageJSON() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    public static func fromStorage(_ json: String) throws -> Promotion {
        try JSONDecoder().decode(Promotion.self, from: Data(json.utf8))
    }
}

extension Product {
    /// How categories are stored: one per line, sorted (a category has no control characters).
    public var storedCategories: String { categories.sorted().joined(separator: "\n") }

    public static func categories(stored: String) -> Set<String> {
        Set(stored.split(separator: "\n").map(String.init))
    }
}
