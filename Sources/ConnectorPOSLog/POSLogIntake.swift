import Foundation
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Why a POSLog document was not applied: nothing from it was.
public struct POSLogIntakeError: Error, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A store or SKU the hub does not know.
        case unknown
        /// A store the caller may not act for.
        case forbidden
    }

    public let kind: Kind
    public let description: String
}

/// Applies a read POSLog document to the hub, exactly once per transaction however often it arrives: each sale line
/// takes its units off the store's stock, each return line puts them back (movements keyed by the transaction's
/// natural key and the line, so a repeat is recognised line by line); a control transaction, or one cancelled at the
/// till, is recorded once as `pos.transaction_recorded` and moves nothing.
///
/// The whole document is checked before anything is applied: every store must be a location of the hub (its id, or
/// `store-<id>`) and every SKU a product. A till's sale happened: it is recorded even when it takes units reserved
/// for orders (marked `inventory.reserved_stock_sold`, for the oversell to be dealt with). A line sold by weight or
/// measure (a fractional quantity) moves no units: the hub counts pieces.
public struct POSLogIntake: Sendable {
    /// The stream a store's business day is recorded on (control and voided transactions): `pos/<location>/<day>`.
    public static func dayStream(_ location: LocationID, day: String) throws -> StreamID {
        try StreamID("pos/\(location.rawValue)/\(day)")
    }

    public struct Report: Sendable, Equatable {
        /// Retail transactions whose movements were recorded now.
        public var applied = 0
        /// Retail transactions seen before: nothing recorded again.
        public var duplicates = 0
        /// Control transactions and transactions cancelled at the till, recorded (or seen before).
        public var recordedOnly = 0
        /// Lines sold or returned by weight or measure: no units moved.
        public var unmeasuredLines = 0

        public init(applied: Int = 0, duplicates: Int = 0, recordedOnly: Int = 0, unmeasuredLines: Int = 0) {
            self.applied = applied
            self.duplicates = duplicates
            self.recordedOnly = recordedOnly
            self.unmeasuredLines = unmeasuredLines
        }
    }

    public struct Recorded: VersionedPayload, Hashable {
        public static let eventType = "pos.transaction_recorded"
        public static let schemaVersion = 1
        public let key: String
        public let kind: String
        public let voided: Bool
    }

    let store: any Store
    let inventory: InventoryService

    public init(store: any Store, inventory: InventoryService) {
        self.store = store
        self.inventory = inventory
    }

    /// Applies `document`. `permitted`, for a sender restricted to some locations (a store's key), says which it may
    /// act for; nil: every location.
    public func apply(_ document: POSLogParser.Document, permitted: ((LocationID) -> Bool)? = nil) async throws -> Report {
        let locations = Set(try await store.locations().map(\.id))
        var storeLocations: [String: LocationID] = [:]
        var unknownStores: [String] = []
        for name in Set(document.transactions.map(\.store)) {
            if let at = [name, "store-\(name)"].lazy.compactMap({ try? LocationID($0) }).first(where: { locations.contains($0) }) {
                storeLocations[name] = at
            } else {
                unknownStores.append(name)
            }
        }
        // Permission first, so that a store's key learns nothing of other stores, not even whether they exist.
        if let permitted {
            if let store = unknownStores.sorted().first ?? storeLocations.keys.sorted().first(where: { name in storeLocations[name].map { !permitted($0) } ?? true }) {
                throw POSLogIntakeError(kind: .forbidden, description: "this key may not act for store \(store)")
            }
        }
        guard unknownStores.isEmpty else {
            throw POSLogIntakeError(kind: .unknown, description: "store \(unknownStores.sorted().joined(separator: ", ")) is not a location of the hub (its id, or store-<id>)")
        }
        var skus: Set<SKU> = []
        var badSKUs: Set<String> = []
        for transaction in document.transactions where transaction.kind == .retail && !transaction.isVoided {
            for line in transaction.lines {
                if let sku = try? SKU(line.sku) { skus.insert(sku) } else { badSKUs.insert(line.sku) }
            }
        }
        let known = try await store.products(Array(skus))
        let unknown = badSKUs.union(skus.filter { known[$0] == nil }.map(\.rawValue))
        guard unknown.isEmpty else {
            throw POSLogIntakeError(kind: .unknown, description: "SKU \(unknown.sorted().prefix(20).joined(separator: ", ")) is not a product of the hub" + (unknown.count > 20 ? " (and \(unknown.count - 20) more)" : ""))
        }

        // Everything is built first, so that a transaction that cannot be recorded (a quantity out of range, a key too
        // long for an identifier) refuses the document before any of it is applied.
        enum Step {
            case record(Commit)
            case move([InventoryMovement], overrides: [Int: String], correlation: CorrelationID)
        }
        var steps: [Step] = []
        var report = Report()
        do {
            for transaction in document.transactions {
                guard let at = storeLocations[transaction.store] else { continue }
                // The source and the key name the store's location, however the till spells the store: a transaction
                // sent as POSLog and as CSV, or with `12` and `store-12`, is one transaction.
                let source = try SystemID("pos-\(at.rawValue)")
                let key = "\(at.rawValue)/\(transaction.workstation)/\(transaction.businessDay)/\(transaction.sequence)"
                let correlation = try CorrelationID("poslog/\(key)")
                guard transaction.kind == .retail, !transaction.isVoided else {
                    let kind: String = if case .control(let name) = transaction.kind { name } else { "retail" }
                    let event = try NewEvent(stream: try Self.dayStream(at, day: transaction.businessDay), correlationID: correlation,
                                             occurredAt: transaction.endedAt ?? Date(), source: source,
                                             payload: Recorded(key: key, kind: kind, voided: transaction.isVoided))
                    steps.append(.record(Commit(inbox: InboxKey(source: source, messageKey: "poslog/\(key)"), events: [EventAppend(event)])))
                    continue
                }
                var movements: [InventoryMovement] = []
                var overrides: [Int: String] = [:]
                for (index, line) in transaction.lines.enumerated() {
                    guard line.unit == nil, line.quantity > 0, line.quantity == line.quantity.rounded(), let units = Int64(exactly: NSDecimalNumber(decimal: line.quantity)) else {
                        report.unmeasuredLines += 1
                        continue
                    }
                    if !line.isReturn { overrides[movements.count] = "sold at the till (POSLog \(key))" }
                    // A line without its own sequence number is numbered from 1 in the order of the transaction.
                    movements.append(try InventoryMovement(sku: try SKU(line.sku), location: at, delta: line.isReturn ? units : -units, reason: line.isReturn ? .return : .sale,
                                                           occurredAt: transaction.endedAt ?? Date(), source: source, sourceKey: "\(key)/\(line.sequence ?? String(index + 1))"))
                }
                if !movements.isEmpty { steps.append(.move(movements, overrides: overrides, correlation: correlation)) }
            }
        } catch let error as DomainError {
            throw POSLogIntakeError(kind: .unknown, description: "a transaction cannot be recorded: \(error)")
        }
        for step in steps {
            switch step {
            case .record(let commit):
                _ = try await store.commit(commit)
                report.recordedOnly += 1
            case .move(let movements, let overrides, let correlation):
                let outcomes = try await inventory.record(movements, correlation: correlation, overrides: overrides)
                if outcomes.allSatisfy({ if case .alreadyApplied = $0 { true } else { false } }) { report.duplicates += 1 } else { report.applied += 1 }
            }
        }
        return report
    }
}

extension Decimal {
    /// Rounded to a whole number, halves away from zero.
    func rounded() -> Decimal {
        var value = self
        var result = Decimal()
        NSDecimalRound(&result, &value, 0, .plain)
        return result
    }
}
