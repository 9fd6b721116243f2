import Foundation
import Synchronization
import TillwireConnectors
import TillwireDomain
import TillwireEngine

/// A SIMULATED cloud ERP, in the demo's process: it takes releases (as sales orders) and journal postings through the
/// hub's ERP and ledger connector protocols, as a real one would, and keeps what it was given so the demo can show
/// and check it. Not an ERP: it checks only what the protocols promise (a repeated key finds the first document, an
/// entry is balanced, and in one currency).
public final class DemoERP: ERPConnector, LedgerClient {
    public struct Posting: Sendable {
        public let document: String
        public let entry: JournalEntry
        public let at: Date
    }

    struct State {
        var releases: [String: String] = [:]
        var postings: [String: Posting] = [:]
        var order: [String] = []
        var nextSale = 10_001
        var nextMove = 500_001
        /// When each call that created a document arrived.
        var arrivals: [Date] = []
    }

    public let system: SystemID
    let state = Mutex(State())

    public init(system: SystemID = "erp") {
        self.system = system
    }

    public func release(_ order: Order, lines: [OrderLine], reservations: [Reservation], key: String) async throws -> String {
        state.withLock { state in
            if let document = state.releases[key] { return document }
            let document = "SO\(state.nextSale)"
            state.nextSale += 1
            state.arrivals.append(Date())
            state.releases[key] = document
            return document
        }
    }

    public func cancel(_ order: OrderID, document: String, lines: [String]?, reason: String, key: String) async throws {
        // The demo cancels nothing it released; a real ERP would stop the sales order here.
    }

    public func products() async throws -> [ERPProduct] { [] }

    public func stockSnapshot() async throws -> ERPStockSnapshot {
        throw JobError.terminal("the demo's ERP keeps no stock of its own: the hub's ledger is the demo's record")
    }

    /// The DC reports its shipments through the hub's API in the demo, so the ERP has none to report.
    public func shipments(of document: String, order: Order) async throws -> [ERPShipment] { [] }

    public func post(_ entry: JournalEntry, reference: String) async throws -> String {
        guard entry.lines.reduce(0, { $0 + $1.debit }) == entry.lines.reduce(0, { $0 + $1.credit }) else {
            throw JobError.terminal("entry \(entry.id) does not balance")
        }
        return state.withLock { state in
            if let posting = state.postings[reference] { return posting.document }
            let document = "JE\(state.nextMove)"
            state.nextMove += 1
            state.arrivals.append(Date())
            state.postings[reference] = Posting(document: document, entry: entry, at: Date())
            state.order.append(reference)
            return document
        }
    }

    public func find(reference: String) async throws -> String? {
        state.withLock { $0.postings[reference]?.document }
    }

    /// The documents posted, in the order they arrived.
    public var postings: [Posting] { state.withLock { state in state.order.compactMap { state.postings[$0] } } }
    /// When each sales order and journal document was created.
    public var arrivals: [Date] { state.withLock { $0.arrivals } }
}
