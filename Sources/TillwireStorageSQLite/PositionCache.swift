import Synchronization
import TillwireDomain
import TillwireStorage

/// Inventory positions and each SKU's units in transit, held in memory so that availability reads do not go to
/// SQLite. Safe because this process is the file's only writer: the writer thread records what a transaction changed
/// here after the transaction commits and before any of its callers is answered, so a read that follows an
/// acknowledged write sees it.
///
/// - A position a transaction changed is stored with that transaction's number. In-transit figures are not in a
///   commit's outcome, so a change to a SKU leaves a marker instead, and the next read goes to the database.
/// - A reader that missed reads the database and fills the entry, tagged with the last transaction it knew of before
///   reading. A fill never replaces an entry of a later transaction, so a slow reader cannot put back a value that a
///   commit replaced meanwhile.
/// - Nothing is evicted: at `capacity` entries the cache stops growing, and the rest is read from SQLite as before.
final class PositionCache: Sendable {
    private struct Key: Hashable {
        let sku: SKU
        let location: LocationID
    }

    private struct Entry<Value> {
        /// nil: changed by `commit`; read the database.
        var value: Value?
        var commit: UInt64
    }

    private struct State {
        var positions: [Key: Entry<InventoryPosition>] = [:]
        var inTransit: [SKU: Entry<[LocationID: Int64]>] = [:]
        /// The number of the last transaction recorded here.
        var lastCommit: UInt64 = 0
    }

    /// What a reader that missed tags its fill with.
    struct Miss: Error {
        let commit: UInt64
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 250_000) {
        self.capacity = capacity
    }

    func position(sku: SKU, location: LocationID) -> Result<InventoryPosition, Miss> {
        state.withLock { state in
            if let position = state.positions[Key(sku: sku, location: location)]?.value { return .success(position) }
            return .failure(Miss(commit: state.lastCommit))
        }
    }

    func inTransit(sku: SKU) -> Result<[LocationID: Int64], Miss> {
        state.withLock { state in
            if let units = state.inTransit[sku]?.value { return .success(units) }
            return .failure(Miss(commit: state.lastCommit))
        }
    }

    /// Keeps a position read from the database after `miss`, unless a later transaction's is there.
    func fill(_ position: InventoryPosition, after miss: Miss) {
        state.withLock { state in
            Self.fill(&state.positions, Key(sku: position.sku, location: position.location), position, miss, capacity: capacity)
        }
    }

    func fill(inTransit units: [LocationID: Int64], of sku: SKU, after miss: Miss) {
        state.withLock { state in Self.fill(&state.inTransit, sku, units, miss, capacity: capacity) }
    }

    private static func fill<K, V>(_ entries: inout [K: Entry<V>], _ key: K, _ value: V, _ miss: Miss, capacity: Int) {
        if let entry = entries[key] {
            guard entry.commit <= miss.commit else { return }
        } else {
            guard entries.count < capacity else { return }
        }
        entries[key] = Entry(value: value, commit: miss.commit)
    }

    /// Called by the writer thread once a transaction has committed, with the outcomes of its inventory changes in
    /// order.
    func committed(_ outcomes: [InventoryOutcome]) {
        state.withLock { state in
            state.lastCommit += 1
            let commit = state.lastCommit
            for outcome in outcomes where outcome.changed {
                let position = outcome.position
                let key = Key(sku: position.sku, location: position.location)
                if state.positions[key] != nil || state.positions.count < capacity {
                    state.positions[key] = Entry(value: position, commit: commit)
                }
                // Absent or not, the marker goes in: a reader that missed before this commit must not fill after it.
                if state.inTransit[position.sku] != nil || state.inTransit.count < capacity {
                    state.inTransit[position.sku] = Entry(value: nil, commit: commit)
                }
            }
        }
    }
}
