import Foundation
import GRDB
import Metrics
import Synchronization
import TillwireStorage

/// Runs every write through SQLite's one writer and batches the writes that arrive while a transaction is in
/// flight into one group commit, so that `synchronous=FULL` costs one fsync per batch, not per write.
///
/// One writer thread, owned by the committer, takes whatever is queued (up to `maximumBatch`) and commits it in one
/// transaction; callers wait for their own result. No caller is answered before the transaction holding its write
/// has committed, and no caller's wait depends on anyone else's load. A write that throws is rolled back alone and
/// its caller gets the error; the batch's other writes still commit.
///
/// Write closures must be pure functions of the database (no clock reads, no side effects): when a write in a
/// batch fails, the batch runs again with a savepoint per write.
final class GroupCommitter: @unchecked Sendable {
    private typealias Work = @Sendable (Database) throws -> any Sendable
    private struct Request {
        let work: Work
        let promise: Promise
    }

    private let writer: any DatabaseWriter
    private let maximumBatch: Int
    /// Runs on the writer thread after each transaction commits, with the values of the writes that succeeded, before
    /// any of their callers is answered.
    private let afterCommit: @Sendable ([any Sendable]) -> Void
    /// Guards `pending` and `closed`; the writer thread waits on it when there is nothing to do.
    private let condition = NSCondition()
    private var pending: [Request] = []
    private var closed = false
    private let stopped = DispatchSemaphore(value: 0)

    /// `maximumBatch`: the most writes one transaction takes (≥ 1). Default 1,000.
    init(writer: any DatabaseWriter, maximumBatch: Int = 1_000, afterCommit: @escaping @Sendable ([any Sendable]) -> Void = { _ in }) {
        precondition(maximumBatch >= 1, "maximumBatch must be at least 1")
        self.writer = writer
        self.maximumBatch = maximumBatch
        self.afterCommit = afterCommit
        let thread = Thread { [self] in run() }
        thread.name = "tillwire-sqlite-writer"
        thread.start()
    }

    /// A caller's wait for its transaction: the queue ahead of it and the group's commit.
    private let latency = Timer(label: "tillwire_storage_commit_seconds", dimensions: [("backend", "sqlite")], preferredDisplayUnit: .seconds)

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let promise = Promise()
        let started = ContinuousClock.now
        guard enqueue(Request(work: { try work($0) }, promise: promise)) else { throw StorageError.closed }
        defer { latency.record(duration: ContinuousClock.now - started) }
        return try await promise.value() as! T
    }

    /// False when the committer is closed.
    private func enqueue(_ request: Request) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        pending.append(request)
        condition.signal()
        return true
    }

    /// Commits what is queued, then stops the writer thread. Later writes throw `StorageError.closed`.
    func close() {
        condition.lock()
        let wasClosed = closed
        closed = true
        condition.signal()
        condition.unlock()
        if !wasClosed { stopped.wait() }
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty {
                condition.unlock()
                stopped.signal()
                return
            }
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            condition.unlock()
            do {
                let results = try Self.commit(batch, writer: writer)
                afterCommit(results.compactMap { try? $0.get() })
                for (request, result) in zip(batch, results) { request.promise.fulfil(result) }
            } catch {
                for request in batch { request.promise.fulfil(.failure(error)) }
            }
        }
    }

    /// Optimistic first: the whole batch in one transaction without savepoints. If any write throws, that
    /// transaction is rolled back and the batch runs again with a savepoint per write, so that only the failing
    /// writes fail. Failures (version conflicts, refused rules) are rare, and savepoints cost two statements per
    /// write. If SQLite itself abandons the transaction (disk full, I/O error), the whole batch fails and nothing of
    /// it is committed.
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
                        // SQLite rolls the whole transaction back on some errors; the writes after this one must not
                        // then run in transactions of their own.
                        guard db.isInsideTransaction else { throw error }
                        results.append(.failure(error))
                    }
                }
                return .commit
            }
            return results
        }
    }
}

/// A one-shot result that one thread fulfils and a task awaits.
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
