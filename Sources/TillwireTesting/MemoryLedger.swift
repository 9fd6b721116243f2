import Foundation
import Synchronization
import TillwireDomain
import TillwireEngine

/// An ERP's ledger kept in memory: the cheap `LedgerReader` for tests where the real ERP is beside the point (a
/// shadow ERP in a migration test). Documents are `mem-<n>`. It can be told to refuse an entry (a terminal error, as
/// an ERP refusing an account) or to book a different total for one (as an ERP that rounds or maps differently).
public final class MemoryLedger: LedgerReader {
    struct State {
        var documents: [String: LedgerDocument] = [:]
        var refused: Set<String> = []
        var skewed: [String: Int64] = [:]
        var posts = 0
    }

    let state = Mutex(State())

    public init() {}

    /// Posts of the entry with this reference are refused from now on.
    public func refuse(reference: String) { state.withLock { _ = $0.refused.insert(reference) } }

    /// The entry with this reference is booked with `delta` minor units more on each side.
    public func skew(reference: String, by delta: Int64) { state.withLock { $0.skewed[reference] = delta } }

    /// Removes a document, as someone deleting it in the ERP.
    public func delete(reference: String) { state.withLock { _ = $0.documents.removeValue(forKey: reference) } }

    /// How many documents were made.
    public var posts: Int { state.withLock { $0.posts } }

    public func post(_ entry: JournalEntry, reference: String) async throws -> String {
        try state.withLock { state in
            if let existing = state.documents[reference] { return existing.document }
            guard !state.refused.contains(reference) else { throw JobError.terminal("memory ledger: \(reference) refused") }
            state.posts += 1
            let total = entry.lines.reduce(0) { $0 + $1.debit } + (state.skewed[reference] ?? 0)
            let document = LedgerDocument(document: "mem-\(state.posts)", total: total)
            state.documents[reference] = document
            return document.document
        }
    }

    public func find(reference: String) async throws -> String? {
        state.withLock { $0.documents[reference]?.document }
    }

    public func document(reference: String) async throws -> LedgerDocument? {
        state.withLock { $0.documents[reference] }
    }
}
