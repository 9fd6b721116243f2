import Dispatch
import GRDB
import Synchronization

/// Runs every write through SQLite's one writer and batches the writes that arrive while a transaction is in
/// flight into one group commit, so that `synchronous=FULL` costs one fsync per batch, not per write.
///
/// Leader/follower: the caller that finds no flush running becomes the leader and commits batches until the queue
/// is empty; the others wait for their result. A write that throws is rolled back alone and its caller gets the
/// error; the batch's other writes still commit. No caller is resumed before the transaction holding its write has
/// committed.
final class GroupCommitter: Sendable {
    private typealias Work = @Sendable (Database) throws -> any Sendable
    private struct Request: Sendable {
        let work: Work
        let promise: Promise
    }
    private struct State {
        var pending: [Request] = []
        var flushing = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// The most writes one transaction takes. Default 1,000.
    private let maximumBatch: Int

    init(writer: any DatabaseWriter, maximumBatch: Int = 1_000) {
        self.writer = writer
        self.maximumBatch = maximumBatch
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let promise = Promise()
        let lead = state.withLock { state in
            state.pending.append(Request(work: { try work($0) }, promise: promise))
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        if lead { await flush() }
        return try await promise.value() as! T
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state -> [Request] in
                guard !state.pending.isEmpty else {
                    state.flushing = false
                    return []
                }
                let batch = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let results = try await commitShieldedFromCancellation(batch)
                for (request, result) in zip(batch, results) { request.promise.fulfil(result) }
            } catch {
                for request in batch { request.promise.fulfil(.failure(error)) }
            }
        }
    }

    /// Commits a batch on a dispatch thread. The batch holds other callers' writes, so the leader's cancellation
    /// must not abort it; and the blocking write must not hold one of the few cooperative threads.
    private func commitShieldedFromCancellation(_ batch: [Request]) async throws -> [Result<any Sendable, any Error>] {
        let writer = self.writer
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.commit(batch, writer: writer) })
            }
        }
    }

    /// Optimistic first: the whole batch in one transaction without savepoints. If any write throws, that
    /// transaction is rolled back and the batch runs again with a savepoint per write, so that only the failing
    /// writes fail. Writes are pure functions of the database, so running one again is safe; failures (version
    /// conflicts, refused rules) are rare, and savepoints cost two statements per write.
    private static func commit(_ batch: [Request], writer: any DatabaseWriter) throws -> [Result<any Sendable, any Error>] {
        try writer.writeWithoutTransaction { db in
            var values: [any Sendable] = []
            values.reserveCapacity(batch.count)
            var failed = false
            try db.inTransaction(.immediate) {
                for request in batch {
                    do {
                        values.append(try request.work(db))
                    } catch {
                        failed = true
                        return .rollback
                    }
                }
                return .commit
            }
            if !failed { return values.map { .success($0) } }

            var results: [Result<any Sendable, any Error>] = []
            results.reserveCapacity(batch.count)
            try db.inTransaction(.immediate) {
                for request in batch {
                    do {
                        var value: (any Sendable)?
                        try db.inSavepoint {
                            value = try request.work(db)
                            return .commit
                        }
                        results.append(.success(value!))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return .commit
            }
            return results
        }
    }
}

/// A one-shot result that one task fulfils and another awaits.
private final class Promise: Sendable {
    private enum State {
        case waiting(CheckedContinuation<any Sendable, any Error>?)
        case done(Result<any Sendable, any Error>)
    }
    private let state = Mutex(State.waiting(nil))

    func fulfil(_ result: Result<any Sendable, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<any Sendable, any Error>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        continuation?.resume(with: result)
    }

    func value() async throws -> any Sendable {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<any Sendable, any Error>? in
                switch state {
                case .done(let result): return result
                case .waiting: state = .waiting(continuation); return nil
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
