import Foundation
import Synchronization
import Testing
import TillwireDomain
import TillwireStorage
@testable import TillwireStorageSQLite
import TillwireTesting

/// The in-memory positions behind availability reads: never older than what was acknowledged, and a slow reader
/// cannot put an old value back.
@Suite struct PositionCacheTests {
    let sku: SKU = "SKU-C", location: LocationID = "store-1"

    func receipt(_ delta: Int64, key: String) throws -> InventoryMovement {
        try InventoryMovement(sku: sku, location: location, delta: delta, reason: delta > 0 ? .receipt : .sale,
                              occurredAt: Date(), source: "pos", sourceKey: key)
    }

    @Test func aFillFromBeforeACommitDoesNotReplaceTheCommittedPosition() throws {
        let cache = PositionCache()
        guard case .failure(let miss) = cache.position(sku: sku, location: location) else { Issue.record("an empty cache hits"); return }
        // The reader read 5 from the database; meanwhile a transaction committed 7.
        cache.committed([.applied(InventoryPosition(sku: sku, location: location, onHand: 7))])
        cache.fill(InventoryPosition(sku: sku, location: location, onHand: 5), after: miss)
        #expect(try cache.position(sku: sku, location: location).get().onHand == 7)
    }

    @Test func aChangeMarksTheSKUsInTransitSoThatTheNextReadGoesToTheDatabase() throws {
        let cache = PositionCache()
        guard case .failure(let before) = cache.inTransit(sku: sku) else { Issue.record("an empty cache hits"); return }
        cache.committed([.applied(InventoryPosition(sku: sku, location: location, onHand: 1))])
        cache.fill(inTransit: ["store-2": 6], of: sku, after: before)
        guard case .failure(let after) = cache.inTransit(sku: sku) else { Issue.record("a fill from before the change was kept"); return }
        cache.fill(inTransit: ["store-2": 4], of: sku, after: after)
        #expect(try cache.inTransit(sku: sku).get() == ["store-2": 4])
    }

    @Test func atCapacityItStopsGrowingAndKeepsUpdatingWhatItHolds() throws {
        let cache = PositionCache(capacity: 1)
        cache.committed([.applied(InventoryPosition(sku: sku, location: location, onHand: 1))])
        cache.committed([.applied(InventoryPosition(sku: sku, location: "store-2", onHand: 1))])
        #expect((try? cache.position(sku: sku, location: "store-2").get()) == nil)
        cache.committed([.applied(InventoryPosition(sku: sku, location: location, onHand: 2))])
        #expect(try cache.position(sku: sku, location: location).get().onHand == 2)
    }

    @Test func aSecondServingStoreOnTheSameFileIsRefusedUntilTheFirstCloses() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("hub.sqlite")
        let first = try SQLiteStore.open(path: path, cachesPositions: true)
        #expect(throws: StorageError.self, "one hub serves one file") { try SQLiteStore.open(path: path, cachesPositions: true) }
        let reader = try SQLiteStore.open(path: path)   // the commands beside a hub take no lock
        try await reader.close()
        try await first.close()
        let second = try SQLiteStore.open(path: path, cachesPositions: true)
        try await second.close()
    }

    /// Through the store: every acknowledged write is what the next read sees, while readers run concurrently.
    @Test func readsAfterAcknowledgedWritesSeeThemWhileOthersRead() async throws {
        let folder = try TemporaryFolder()
        let store = try SQLiteStore.open(path: folder.path("hub.sqlite"), cachesPositions: true)
        _ = try await store.migrate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            let done = StopFlag()
            for _ in 0..<4 {
                group.addTask {
                    while !done.isSet {
                        _ = try await store.position(sku: sku, location: location)
                        // A read from memory does not suspend: let the writer's side run.
                        await Task.yield()
                    }
                }
            }
            for index in 1...300 {
                _ = try await store.commit(Commit(inventory: [.record(try receipt(1, key: "r-\(index)"))]))
                let read = try await store.position(sku: sku, location: location).onHand
                #expect(read == Int64(index), "after the write acknowledged as the \(index)th")
                if read != Int64(index) { break }
            }
            done.set()
            try await group.waitForAll()
        }
        try await store.close()
    }
}

/// A flag the test's readers poll.
final class StopFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
