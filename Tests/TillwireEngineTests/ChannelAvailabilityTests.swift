import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite

/// A recording stand-in for a channel connector: every publish call, in the order made.
final class RecordingPublisher: AvailabilityPublisher {
    let calls = Mutex<[(channel: ChannelID, sku: SKU, available: Int64)]>([])

    func publish(channel: ChannelID, sku: SKU, available: Int64) async throws {
        calls.withLock { $0.append((channel, sku, available)) }
    }
}

@Suite struct ChannelAvailabilityTests {
    @Test func aChannelSellsTheAvailableOfItsLocationsLessItsBuffer() throws {
        let web = try ChannelPolicy(channel: "web-uk", locations: ["dc-1", "store-12"], buffer: 2)
        let positions = [
            InventoryPosition(sku: "S", location: "dc-1", onHand: 10, reserved: 3, safetyStock: 1),   // 6
            InventoryPosition(sku: "S", location: "store-12", onHand: 1, reserved: 3),                 // -2 counts as 0
            InventoryPosition(sku: "S", location: "store-14", onHand: 50),                             // not a feeding location
        ]
        #expect(web.available(from: positions) == 4)
        #expect(try ChannelPolicy(channel: "web-uk", locations: ["dc-1"], buffer: 10).available(from: positions) == 0, "never below zero")
        #expect(throws: DomainError.self) { try ChannelPolicy(channel: "empty", locations: []) }
    }

    @Test func changesArePublishedCoalescedWithTheLatestFigureToTheChannelsTheyFeed() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")), .putLocation(try Location(id: "store-12", kind: .store, name: "Camden")),
            .putLocation(try Location(id: "store-14", kind: .store, name: "Leeds")), .putProduct(try Product(sku: "SHIRT-M", name: "Shirt")),
        ]))
        let web = try ChannelPolicy(channel: "web-uk", locations: ["dc-1", "store-12"], buffer: 2)
        let leeds = try ChannelPolicy(channel: "leeds-app", locations: ["store-14"])
        let publisher = RecordingPublisher()
        let logger = Logger(label: "channels")
        let service = InventoryService(store: store)
        _ = try await service.record([try InventoryMovement(sku: "SHIRT-M", location: "dc-1", delta: 40, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "r")], correlation: "t")
        // A burst of 20 till sales at store-12 after its receipt.
        _ = try await service.record([try InventoryMovement(sku: "SHIRT-M", location: "store-12", delta: 30, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "r12")], correlation: "t")
        for sale in 0..<20 {
            _ = try await service.record([try InventoryMovement(sku: "SHIRT-M", location: "store-12", delta: -1, reason: .sale, occurredAt: Date(), source: "pos-12", sourceKey: "s\(sale)")], correlation: "t")
        }
        let subscription = Subscription(
            name: ChannelAvailabilitySubscriber.subscriberName, store: store,
            handler: ChannelAvailabilitySubscriber(channels: [web, leeds], window: .milliseconds(500)), logger: logger)
        let worker = JobWorker(
            store: store, handlers: [web, leeds].map { ChannelAvailabilityJob(policy: $0, store: store, publisher: publisher) },
            configuration: .init(concurrency: 2, idleWait: .milliseconds(20)), logger: logger)
        func waitUntilPublished(_ figure: Int64) async throws {
            let deadline = Date() + 20
            while Date() < deadline {
                let published = publisher.calls.withLock { $0.last?.available }
                let queued = try await store.jobs(in: .pending, limit: 1).count + (try await store.jobs(in: .running, limit: 1).count)
                if published == figure, queued == 0 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("\(figure) was not published; calls: \(publisher.calls.withLock { $0.map(\.available) })")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscription.run() }
            group.addTask { try await worker.run() }
            try await waitUntilPublished(48)
            // A later sale, in a later window: published again, with the new figure.
            _ = try await service.record([try InventoryMovement(sku: "SHIRT-M", location: "dc-1", delta: -5, reason: .sale, occurredAt: Date(), source: "web", sourceKey: "w1")], correlation: "t")
            try await waitUntilPublished(43)
            group.cancelAll()
        }
        let calls = publisher.calls.withLock { $0 }
        print("channel availability: 23 changes at web-uk's locations, \(calls.count) publish calls: \(calls.map(\.available))")
        #expect(calls.contains { $0.available == 48 }, "40 at the DC + (30 − 20) at store-12 − a buffer of 2")
        #expect(calls.last?.available == 43, "then 5 sold from the DC")
        #expect(calls.allSatisfy { $0.channel == "web-uk" }, "store-14 feeds leeds-app, and nothing changed there")
        #expect(calls.count < 23, "changes within a window are published once")
        let events = try await store.readStream("channel/web-uk", fromVersion: 1, limit: 100)
        #expect(events.count == calls.count)
        #expect(try events.last?.decode(ChannelAvailabilityJob.Published.self).available == 43)
    }
}
