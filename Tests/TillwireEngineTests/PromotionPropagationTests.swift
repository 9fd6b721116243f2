import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// In-process channels for promotion pushes: each keeps what it was given once per key, and can be down.
final class RecordingPromotionChannels: ChannelPromotionClient {
    let received = Mutex<[String]>([])
    let keys = Mutex<Set<String>>([])
    let down = Mutex<Set<ChannelID>>([])

    func push(_ promotion: Promotion, to channel: ChannelID, key: String) async throws {
        if down.withLock({ $0.contains(channel) }) { throw JobError.retryable("\(channel): 503 Service Unavailable", retryAfter: nil) }
        guard keys.withLock({ $0.insert(key).inserted }) else { return }
        received.withLock { $0.append("\(channel) \(promotion.id) \(promotion.name)") }
    }
}

@Suite struct PromotionPropagationTests {
    @Test func aPromotionLaunchedWithOneChannelDownGoesLiveThereWhenItComesBack() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let clock = ManualClock()
        var policy = PricingService.Policy()
        policy.channels = ["web": "shopify", "pos": "pos", "marketplace": "amazon"]
        let service = PricingService(store: store, policy: policy, now: clock.now)
        let channels = RecordingPromotionChannels()
        channels.down.withLock { $0 = ["pos"] }
        let worker = JobWorker(store: store, handlers: ["shopify", "pos", "amazon"].map {
            PromotionPropagation.Push(store: store, system: SystemID(trusted: $0), client: channels, now: clock.now)
        }, logger: Logger(label: "test"), now: clock.now)
        func run(hours: Double) async throws {
            let end = clock.now() + hours * 3600
            while clock.now() < end {
                while try await worker.runOnce() > 0 {}
                clock.advance(by: 60)
            }
        }

        let winter = Promotion(id: "winter", name: "Winter 15 %", kind: .percentOff(basisPoints: 1500),
                               scope: PromotionScope(channels: ["web", "pos"]), from: clock.now(), until: clock.now() + 30 * 86_400)
        _ = try await service.putPromotion(winter, source: "erp")
        try await run(hours: 0.5)
        var states = try await service.channelStates(of: "winter")
        #expect(states.map { "\($0.channel)=\($0.state.rawValue)" } == ["pos=pending", "web=live"], "only the channels in scope, the one down pending")
        #expect(states.first?.reason?.contains("503") == true, "with why")
        #expect(channels.received.withLock { $0 } == ["web winter Winter 15 %"])

        channels.down.withLock { $0 = [] }
        try await run(hours: 2)
        states = try await service.channelStates(of: "winter")
        #expect(states.allSatisfy { $0.state == .live }, "\(states)")
        #expect(channels.received.withLock { $0 }.sorted() == ["pos winter Winter 15 %", "web winter Winter 15 %"])

        // A change goes out again, and is pending until acknowledged.
        let renamed = Promotion(id: "winter", name: "Winter 20 %", kind: .percentOff(basisPoints: 2000), scope: winter.scope, from: winter.from, until: winter.until)
        _ = try await service.putPromotion(renamed, source: "erp")
        #expect(try await service.channelStates(of: "winter").allSatisfy { $0.state == .pending })
        try await run(hours: 0.5)
        #expect(try await service.channelStates(of: "winter").allSatisfy { $0.state == .live })
        #expect(channels.received.withLock { $0 }.filter { $0.hasSuffix("20 %") }.count == 2)
    }
}
