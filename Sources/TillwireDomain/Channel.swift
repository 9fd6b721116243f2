import Foundation

/// Which stock a sales channel may sell: the locations that feed it, less a buffer. For example a web shop that
/// ships from the distribution centre and from two stores, keeping 2 units back against late store sales:
/// `ChannelPolicy(channel: "web-uk", locations: ["dc-1", "store-12", "store-14"], buffer: 2)`.
public struct ChannelPolicy: Hashable, Sendable {
    public let channel: ChannelID
    public let locations: [LocationID]
    /// Units held back from the channel's figure per SKU.
    public let buffer: Int64

    public init(channel: ChannelID, locations: [LocationID], buffer: Int64 = 0) throws(DomainError) {
        guard !locations.isEmpty else { throw .invalidQuantity(0, reason: "channel \(channel) needs at least one location") }
        guard (0...InventoryMovement.maximumMagnitude).contains(buffer) else {
            throw .invalidQuantity(buffer, reason: "a channel buffer is between 0 and \(InventoryMovement.maximumMagnitude)")
        }
        self.channel = channel
        self.locations = locations
        self.buffer = buffer
    }

    public func feeds(from location: LocationID) -> Bool {
        locations.contains(location)
    }

    /// What the channel may sell of a SKU: the available-to-promise of its locations (a location below zero counts
    /// as zero: one store's oversell does not take stock from another), less the buffer, never below zero.
    public func available(from positions: [InventoryPosition]) -> Int64 {
        let total = positions.filter { feeds(from: $0.location) }.map { max(0, $0.availableToPromise) }.reduce(0, +)
        return max(0, total - buffer)
    }
}
