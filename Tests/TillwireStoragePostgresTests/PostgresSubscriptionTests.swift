import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
@testable import TillwireStoragePostgres

/// Records the positions it is given; its effect is one job per event.
final class RecordingHandler: EventHandler, Sendable {
    let seen = Mutex<[Int64]>([])

    func handle(_ event: EventEnvelope) async throws -> Commit {
        seen.withLock { $0.append(event.position) }
        return Commit(jobs: [NewJob(kind: "channel.push", payload: Data(event.id.rawValue.utf8), runAt: event.event.occurredAt)])
    }
}

@Suite("Subscriptions on a real server", .enabled(if: TestPostgres.enabled, TestPostgres.skipReason))
struct PostgresSubscriptionTests {
    /// Another instance's commit wakes the subscription through LISTEN/NOTIFY (the poll is an hour), and events
    /// appended concurrently by two instances are all handled, once, in log order.
    @Test func anotherInstancesAppendsWakeTheSubscriptionAndNoneIsSkipped() async throws {
        try await TestPostgres.withFreshDatabase { url in
            let reader = try await PostgresStore.connect(url: url, maxConnections: 4)
            let writerA = try await PostgresStore.connect(url: url, maxConnections: 8)
            let writerB = try await PostgresStore.connect(url: url, maxConnections: 8)
            _ = try await reader.migrate()
            let handler = RecordingHandler()
            let subscription = Subscription(
                name: "projector", store: reader, handler: handler,
                configuration: .init(batchSize: 25, pollInterval: .seconds(3600)), logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await subscription.run() }
                try await Task.sleep(for: .milliseconds(500))
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for (index, store) in [writerA, writerB].enumerated() {
                        for lane in 0..<4 {
                            writers.addTask {
                                for _ in 0..<25 {
                                    _ = try await store.commit(Commit(events: [EventAppend(NewEvent(
                                        type: "order.captured", stream: StreamID(trusted: "order-\(index)-\(lane)"),
                                        correlationID: "c", occurredAt: Date(), source: "web", payload: Data()))]))
                                }
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
                // Wait for the last event's effects and checkpoint to commit, not only for the handler to see it:
                // cancelling between the two would abandon that commit.
                let head = try await reader.headPosition()
                let deadline = ContinuousClock.now + .seconds(30)
                while try await reader.checkpoint("projector") < head, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                group.cancelAll()
            }
            let positions = try await reader.readAll(after: 0, limit: 1_000).map(\.position)
            #expect(positions.count == 200)
            #expect(handler.seen.withLock { $0 } == positions, "every event once, in log order, woken by NOTIFY")
            #expect(try await reader.jobs(in: .pending, limit: 1_000).count == 200, "one effect per event")
            #expect(try await reader.checkpoint("projector") == positions.last)
            for store in [reader, writerA, writerB] { try await store.close() }
        }
    }
}
