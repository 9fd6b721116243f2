/// Why a domain rule refused something. Each case carries the entity and the reason.
public enum DomainError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidIdentifier(kind: String, value: String)
    case unknownCurrency(String)
    case currencyMismatch(Currency, Currency)
    case amountOverflow
    case invalidAmount(String, reason: String)
    case invalidQuantity(Int64, reason: String)
    case movementSignMismatch(reason: MovementReason, delta: Int64)
    case invalidTransfer(String)
    case insufficientStock(sku: SKU, location: LocationID, requested: Int64, available: Int64)
    /// A store sale would take units held for orders (a pickup waiting at the counter) without an override.
    case reservedStock(sku: SKU, location: LocationID, requested: Int64, unreserved: Int64)
    case reservationNotActive(ReservationID, state: ReservationState)
    case reservationMismatch(ReservationID, reason: String)
    case illegalTransition(from: OrderStatus, to: OrderStatus)
    case holdReasonRequired
    case illegalWorkflowRecord(String)
    case invalidOrder(String)
    case unbalancedEntry(String)
    case invalidReturn(String)
    case invalidPricing(String)

    public var description: String {
        switch self {
        case let .invalidIdentifier(kind, value): "invalid \(kind) identifier '\(value)': 1-200 bytes, no control characters, no leading or trailing space"
        case let .unknownCurrency(code): "unknown ISO 4217 currency '\(code)'"
        case let .currencyMismatch(a, b): "currency mismatch: \(a.code) and \(b.code)"
        case .amountOverflow: "amount overflows 64-bit minor units"
        case let .invalidAmount(text, reason): "invalid amount '\(text)': \(reason)"
        case let .invalidQuantity(q, reason): "invalid quantity \(q): \(reason)"
        case let .invalidTransfer(reason): "invalid transfer: \(reason)"
        case let .movementSignMismatch(reason, delta): "a \(reason.rawValue) movement cannot have delta \(delta)"
        case let .insufficientStock(sku, location, requested, available): "insufficient stock for \(sku) at \(location): requested \(requested), available \(available)"
        case let .reservedStock(sku, location, requested, unreserved): "a sale of \(requested) × \(sku) at \(location) would take units reserved for orders (a pickup waiting for its customer); \(max(0, unreserved)) unreserved on hand. Sell what is not reserved, or give override_reason to sell reserved units (recorded)"
        case let .reservationNotActive(id, state): "reservation \(id) is \(state.rawValue), not active"
        case let .reservationMismatch(id, reason): "reservation \(id) conflicts with an earlier one of the same key: \(reason)"
        case let .illegalTransition(from, to): "order status cannot go from \(from.rawValue) to \(to.rawValue)"
        case .holdReasonRequired: "an order put on hold needs a reason"
        case let .illegalWorkflowRecord(reason): "workflow run out of order: \(reason)"
        case let .invalidOrder(reason): "invalid order: \(reason)"
        case let .unbalancedEntry(reason): "unbalanced journal entry: \(reason)"
        case let .invalidReturn(reason): "invalid return: \(reason)"
        case let .invalidPricing(reason): "invalid pricing: \(reason)"
        }
    }
}
