import Foundation
import TillwireDomain

/// An order's row in the status projection: where it stands, for queries across orders (a store's pickup queue,
/// orders by status). Written in the same commit as the status change it reflects; the order's event stream stays
/// the source of truth.
public struct OrderSummary: Sendable, Hashable {
    public let id: OrderID
    public let channel: ChannelID
    public let channelOrderID: String
    public let status: OrderStatus
    public let mode: Fulfilment.Mode
    public let pickupStore: LocationID?
    /// The end of the pickup window once the order is ready for pickup; nil otherwise.
    public let pickupBy: Date?
    public let updatedAt: Date
    /// The customer's email, lower-cased, for finding a customer's orders (a return at a till without the receipt).
    public let customerEmail: String?

    public init(id: OrderID, channel: ChannelID, channelOrderID: String, status: OrderStatus, mode: Fulfilment.Mode,
                pickupStore: LocationID?, pickupBy: Date?, updatedAt: Date, customerEmail: String? = nil) {
        self.id = id
        self.customerEmail = customerEmail
        self.channel = channel
        self.channelOrderID = channelOrderID
        self.status = status
        self.mode = mode
        self.pickupStore = pickupStore
        self.pickupBy = pickupBy
        self.updatedAt = updatedAt
    }

    /// The summary of `order` in `status`.
    public init(_ order: Order, status: OrderStatus, pickupBy: Date? = nil, at: Date) {
        self.init(id: order.id, channel: order.channel, channelOrderID: order.channelOrderID, status: status,
                  mode: order.fulfilment.mode, pickupStore: order.fulfilment.pickupStore, pickupBy: pickupBy, updatedAt: at,
                  customerEmail: order.customer.email?.lowercased())
    }
}

/// The order status projection (changed through `Store.commit`'s `orders`, one row per order, last write wins).
public protocol OrderReader: Sendable {
    /// Orders to be picked up at a store in one of `statuses`, oldest change first.
    func orderSummaries(pickupStore: LocationID, statuses: Set<OrderStatus>, limit: Int) async throws -> [OrderSummary]
    /// Orders found by what a person at a till knows: the channel's order number (in any channel), or the customer's
    /// email (any case). Newest change first.
    func orderSummaries(matching search: OrderSearch, limit: Int) async throws -> [OrderSummary]
    /// How many orders are in each status (statuses without orders are left out).
    func orderCounts() async throws -> [OrderStatus: Int]
    /// Per status: how many orders, the oldest last change, and how many have not changed since `unchangedSince`
    /// (statuses without orders are left out).
    func orderStatistics(unchangedSince: Date) async throws -> [OrderStatus: OrderStatistic]
    /// The jobs whose partition key starts with `prefix` still in the queue (pending, running or dead; succeeded jobs
    /// are gone), oldest first: what the hub still owes external systems for an order.
    func jobs(partitionKeyPrefix prefix: String, limit: Int) async throws -> [Job]
}

/// The orders in one status.
public struct OrderStatistic: Sendable, Hashable {
    public let count: Int
    /// The oldest last change among them: how long the oldest has been where it is.
    public let oldestChange: Date
    /// How many have not changed since the date asked about.
    public let unchanged: Int

    public init(count: Int, oldestChange: Date, unchanged: Int) {
        self.count = count
        self.oldestChange = oldestChange
        self.unchanged = unchanged
    }
}

/// What an order search matches on.
public enum OrderSearch: Sendable, Hashable {
    case channelOrderID(String)
    case customerEmail(String)
}

/// The keys that start with `prefix` are those in [prefix, upper): `upper` is `prefix` with its last character
/// moved one up (nil for an empty prefix).
public func partitionKeyUpperBound(_ prefix: String) -> String? {
    guard let last = prefix.unicodeScalars.last, let next = Unicode.Scalar(last.value + 1) else { return nil }
    return String(prefix.unicodeScalars.dropLast()) + String(next)
}
