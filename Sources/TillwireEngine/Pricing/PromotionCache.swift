import Foundation
import Synchronization
import TillwireDomain
import TillwireStorage

/// The promotions that have not ended, held in memory for quotes: without it, a quote of a 20-line basket against
/// 50 promotions spends most of its time reading and decoding them. This instance's changes drop the copy at once;
/// another instance's (several hubs on one PostgreSQL) show within `refresh`. A quote for a time before the copy
/// was taken reads the store.
final class PromotionCache: Sendable {
    struct Snapshot {
        /// Holds every promotion whose window ends after this time.
        let takenAt: Date
        let loadedAt: Date
        let promotions: [Promotion]
    }

    struct State {
        var snapshot: Snapshot?
        /// Bumped by each local change, so that a load that began before it is not kept.
        var generation = 0
    }

    let store: any Store
    let refresh: Duration
    let state = Mutex(State())

    init(store: any Store, refresh: Duration) {
        self.store = store
        self.refresh = refresh
    }

    /// The promotions active at `time`; `now` is the service's clock, which also ages the copy.
    func promotions(activeAt time: Date, now: Date) async throws -> [Promotion] {
        let (snapshot, generation) = state.withLock { ($0.snapshot, $0.generation) }
        if let snapshot, now.timeIntervalSince(snapshot.loadedAt) < refresh.timeInterval, time >= snapshot.takenAt {
            return snapshot.promotions.filter { $0.isActive(at: time) }
        }
        // A minute's margin, so that quotes for "now" taken a moment before the copy still use it.
        let takenAt = now - 60
        guard time >= takenAt else { return try await store.promotions(activeAt: time) }
        let loadedAt = now
        let loaded = try await store.promotions(endingAfter: takenAt)
        state.withLock { state in
            if state.generation == generation { state.snapshot = Snapshot(takenAt: takenAt, loadedAt: loadedAt, promotions: loaded) }
        }
        return loaded.filter { $0.isActive(at: time) }
    }

    func invalidate() {
        state.withLock { state in
            state.snapshot = nil
            state.generation += 1
        }
    }
}
