import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// Enqueues one push job per event (the effect, counted through the job queue); can be told to fail on an event a
/// number of times.
final class ProjectingHandler: EventHandler, Sendable {
    let seen = Mutex<[Int64]>([])
    let failuresLeft: Mutex<[EventID: Int]>

    init(failOn: [EventID: Int] = [:]) { failuresLeft = Mutex(failOn) }

    func handle(_ event: EventEnvelope) async throws -> Commit {
        seen.withLock { $0.append(event.position) }
        let fail = failuresLeft.withLock { left -> Bool in
            guard let count = left[event.id], count > 0 else { return false }
            left[event.id] = count - 1
            return true
        }
        if fail { throw JobError.retryable("projection store is down") }
        return Commit(jobs: [NewJob(kind: "channel.push", payload: Data(event.id.rawValue.utf8), runAt: event.event.occurredAt)])
    }
}

/// `ProjectingHandler` whose effects follow from the event alone, so a batch commits together.
final class BatchingHandler: EventHandler, Sendable {
    let inner: ProjectingHandler
    init(failOn: [EventID: Int] = [:]) { inner = ProjectingHandler(failOn: failOn) }
    var commitsInBatches: Bool { true }
    func handle(_ event: EventEnvelope) async throws -> Commit { try await inner.handle(event) }
}

@Suite struct SubscriptionTests {
    let logger = Logger(label: "test")

    func store() async throws -> SQLiteStore {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        return store
    }

    func effects(_ store: any Store) async throws -> Int {
        try await store.jobs(in: .pending, limit: 10_000).filter { $0.kind == "channel.push" }.count
    }

    func append(_ store: any Store, _ count: Int, stream: String = "order-1") async throws -> [EventEnvelope] {
        try await store.commit(Commit(events: (0..<count).map { _ in
            EventAppend(NewEvent(type: "order.captured", stream: StreamID(trusted: stream), correlationID: "c", occurredAt: Date(), source: "web", payload: Data()))
        })).receipt?.events ?? []
    }

    @Test func handlesEveryEventOnceInOrderAndResumesFromItsCheckpoint() async throws {
        let store = try await store()
        let first = try await append(store, 5)
        let handler = ProjectingHandler()
        let subscription = Subscription(name: "projector", store: store, handler: handler, logger: logger)
        #expect(try await subscription.runOnce() == 5)
        #expect(try await subscription.runOnce() == 0, "nothing handled twice")
        #expect(try await store.checkpoint("projector") == first.last?.position)
        let second = try await append(store, 3)
        let restarted = Subscription(name: "projector", store: store, handler: handler, logger: logger)
        #expect(try await restarted.runOnce() == 3, "a restart resumes after the checkpoint")
        #expect(try await effects(store) == 8, "one effect per event")
        let positions = handler.seen.withLock { $0 }
        #expect(positions == positions.sorted() && Set(positions).count == positions.count, "in order, each once")
        #expect(Set((first + second).map(\.position)).isSubset(of: Set(positions)))
    }

    @Test func aBatchingHandlersEffectsCommitTogetherAndAFailureCommitsNoneOfTheBatch() async throws {
        let store = try await store()
        let events = try await append(store, 250)
        let handler = BatchingHandler(failOn: [events[149].id: 1])
        let subscription = Subscription(name: "batched", store: store, handler: handler, configuration: .init(batchSize: 100), logger: logger)
        #expect(try await subscription.runOnce() == 100)
        #expect(try await store.checkpoint("batched") == events[99].position)
        #expect(try await effects(store) == 100, "the first batch, all of it")
        await #expect(throws: JobError.self) { try await subscription.runOnce() }
        #expect(try await store.checkpoint("batched") == events[99].position, "the failure at the 150th event committed nothing of its batch")
        #expect(try await effects(store) == 100)
        while try await subscription.runOnce() > 0 {}
        #expect(try await store.checkpoint("batched") == events.last?.position)
        #expect(try await effects(store) == 250, "every event's effect once")
        let seen = handler.inner.seen.withLock { $0 }
        #expect(Array(seen.suffix(150)) == events.suffix(150).map(\.position), "the batch ran again from its start, in order")
    }

    @Test func oneInstanceOfASubscriberWorksWhileTheOtherStandsByAndTakesOverWhenItStops() async throws {
        let store = try await store()
        let first = ProjectingHandler(), second = ProjectingHandler()
        let a = Subscription(name: "shared", store: store, handler: first,
                             configuration: .init(pollInterval: .milliseconds(50), lease: .seconds(3), instance: "hub-a"), logger: logger)
        let b = Subscription(name: "shared", store: store, handler: second,
                             configuration: .init(pollInterval: .milliseconds(50), lease: .seconds(3), instance: "hub-b"), logger: logger)
        func append(_ count: Int) async throws {
            for _ in 0..<count {
                _ = try await store.commit(Commit(events: [EventAppend(NewEvent(type: "t", stream: "s", correlationID: "c", occurredAt: Date(), source: "x", payload: Data()))]))
            }
        }
        // A 3 s lease renewed every second: a renewal delayed by 2 s under load still keeps it (600 ms did not).
        func waitFor(_ handled: Int) async throws {
            let deadline = Date() + 20
            while try await store.checkpoint("shared") < Int64(handled) {
                guard Date() < deadline else { Issue.record("not handled in time"); return }
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let runA = Task { try await a.run() }
        try await append(20)
        try await waitFor(20)
        let runB = Task { try await b.run() }
        try await append(20)
        try await waitFor(40)
        #expect(first.seen.withLock { $0.count } == 40 && second.seen.withLock { $0.isEmpty }, "the standby did nothing")
        runA.cancel()
        _ = await runA.result
        try await append(20)
        try await waitFor(60)
        #expect(second.seen.withLock { $0 } == Array(41...60), "the standby took over where the first stopped")
        runB.cancel()
        _ = await runB.result
        #expect(try await effects(store) == 60, "every event's effect once")
    }

    @Test func aRestartedInstanceWithTheSameIdTakesItsLeaseBackAtOnce() async throws {
        let store = try await store()
        let handler = ProjectingHandler()
        let configuration = Subscription.Configuration(pollInterval: .milliseconds(50), lease: .seconds(60), instance: "hub-a")
        let before = Subscription(name: "restart", store: store, handler: handler, configuration: configuration, logger: logger)
        let first = Task { try await before.run() }
        _ = try await append(store, 5)
        while try await store.checkpoint("restart") < 5 { try await Task.sleep(for: .milliseconds(10)) }
        first.cancel()
        _ = await first.result
        // Another instance would wait a minute for the lease; the same instance, restarted, goes on at once.
        #expect(!(try await store.leaseSubscription("restart", owner: "hub-b", lease: .seconds(60), now: Date())))
        let after = Subscription(name: "restart", store: store, handler: handler, configuration: configuration, logger: logger)
        let second = Task { try await after.run() }
        _ = try await append(store, 5)
        let deadline = Date() + 5
        while try await store.checkpoint("restart") < 10 {
            guard Date() < deadline else { Issue.record("the restarted instance did not resume"); break }
            try await Task.sleep(for: .milliseconds(10))
        }
        second.cancel()
        _ = await second.result
        #expect(try await effects(store) == 10)
    }

    @Test func aFailingEventStopsTheSubscriptionUntilItSucceedsAndNothingIsSkipped() async throws {
        let store = try await store()
        let events = try await append(store, 4)
        let handler = ProjectingHandler(failOn: [events[1].id: 2])
        let subscription = Subscription(name: "projector", store: store, handler: handler, logger: logger)
        await #expect(throws: JobError.self) { try await subscription.runOnce() }
        #expect(try await store.checkpoint("projector") == events[0].position, "stopped before the failing event")
        await #expect(throws: JobError.self) { try await subscription.runOnce() }
        #expect(try await subscription.runOnce() == 4 - 1)
        #expect(try await effects(store) == 4)
        #expect(handler.seen.withLock { $0 } == [events[0], events[1], events[1], events[1], events[2], events[3]].map(\.position))
    }

    @Test func aNewEventWakesTheRunningSubscriptionWithoutWaitingForThePoll() async throws {
        let store = try await store()
        let handler = ProjectingHandler()
        let subscription = Subscription(
            name: "projector", store: store, handler: handler,
            configuration: .init(pollInterval: .seconds(3600)), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscription.run() }
            try await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            _ = try await append(store, 1)
            while handler.seen.withLock({ $0.isEmpty }) {
                #expect(ContinuousClock.now - started < .seconds(10), "not woken within 10 s")
                if ContinuousClock.now - started >= .seconds(10) { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            group.cancelAll()
        }
        #expect(handler.seen.withLock { $0.count } >= 1)
    }

    @Test func concurrentWritersNeverMakeTheSubscriptionSkipAnEvent() async throws {
        let store = try await store()
        let handler = ProjectingHandler()
        let subscription = Subscription(name: "projector", store: store, handler: handler,
                                        configuration: .init(batchSize: 7, pollInterval: .milliseconds(20)), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscription.run() }
            try await withThrowingTaskGroup(of: Void.self) { writers in
                for writer in 0..<8 {
                    writers.addTask { for _ in 0..<25 { _ = try await append(store, 2, stream: "order-\(writer)") } }
                }
                try await writers.waitForAll()
            }
            // A correctness test, not a timed one: alone it takes half a second, beside the whole suite on 2 cores it
            // has taken 30 s. The deadline only stops a hang.
            let deadline = ContinuousClock.now + .seconds(120)
            while try await effects(store) < 400, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        #expect(try await effects(store) == 400, "every event's effect exactly once")
        let positions = try await store.readAll(after: 0, limit: 10_000).map(\.position)
        #expect(handler.seen.withLock { $0 } == positions, "every event, in log order")
    }
}
