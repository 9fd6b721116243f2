import Foundation
import Logging
import Synchronization
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// In-process channels for price and promotion pushes: each keeps what it was given once per key, and can be down.
final class RecordingPromotionChannels: ChannelPricingClient {
    let received = Mutex<[String]>([])
    let keys = Mutex<Set<String>>([])
    let down = Mutex<Set<ChannelID>>([])

    func push(_ promotion: Promotion, to channel: ChannelID, key: String) async throws {
        if down.withLock({ $0.contains(channel) }) { throw JobError.retryable("\(channel): 503 Service Unavailable", retryAfter: nil) }
        guard keys.withLock({ $0.insert(key).inserted }) else { return }
        received.withLock { $0.append("\(channel) \(promotion.id) \(promotion.name)") }
    }

    func push(_ prices: [PriceEntry], to channel: ChannelID, country: String, key: String) async throws {
        if down.withLock({ $0.contains(channel) }) { throw JobError.retryable("\(channel): 503 Service Unavailable", retryAfter: nil) }
        guard keys.withLock({ $0.insert(key).inserted }) else { return }
        received.withLock { $0 += prices.map { "\(channel) \(country) \($0.sku) \($0.price) v\($0.version)" } }
    }
}

@Suite struct PromotionPropagationTests {
    /// The pushes and window timers of `systems` on a manual clock: the returned function runs them for so many hours,
    /// a minute at a time.
    static func worker(store: any Store, systems: [String], channels: RecordingPromotionChannels, clock: ManualClock) -> (_ hours: Double) async throws -> Void {
        let worker = JobWorker(store: store, handlers: systems.flatMap { system -> [any JobHandler] in
            [PricingPropagation.PushPromotion(store: store, system: SystemID(trusted: system), client: channels, now: clock.now),
             PricingPropagation.PushPrices(store: store, system: SystemID(trusted: system), client: channels, now: clock.now)]
        } + [PricingPropagation.Window(store: store, now: clock.now)], logger: Logger(label: "test"), now: clock.now)
        return { hours in
            let end = clock.now() + hours * 3600
            while clock.now() < end {
                while try await worker.runOnce() > 0 {}
                clock.advance(by: 60)
            }
        }
    }

    @Test func aPromotionLaunchedWithOneChannelDownGoesLiveThereWhenItComesBack() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let clock = ManualClock()
        var policy = PricingService.Policy()
        policy.channels = ["web": "shopify", "pos": "pos", "marketplace": "amazon"]
        let service = PricingService(store: store, policy: policy, now: clock.now)
        let channels = RecordingPromotionChannels()
        channels.down.withLock { $0 = ["pos"] }
        let run = Self.worker(store: store, systems: ["shopify", "pos", "amazon"], channels: channels, clock: clock)

        let winter = Promotion(id: "winter", name: "Winter 15 %", kind: .percentOff(basisPoints: 1500),
                               scope: PromotionScope(channels: ["web", "pos"]), from: clock.now(), until: clock.now() + 30 * 86_400)
        _ = try await service.putPromotion(winter, source: "erp")
        try await run(0.5)
        var states = try await service.channelStates(of: "winter")
        #expect(states.map { "\($0.channel)=\($0.state.rawValue)" } == ["pos=pending", "web=live"], "only the channels in scope, the one down pending")
        #expect(states.first?.reason?.contains("503") == true, "with why")
        #expect(channels.received.withLock { $0 } == ["web winter Winter 15 %"])

        channels.down.withLock { $0 = [] }
        try await run(2)
        states = try await service.channelStates(of: "winter")
        #expect(states.allSatisfy { $0.state == .live }, "\(states)")
        #expect(channels.received.withLock { $0 }.sorted() == ["pos winter Winter 15 %", "web winter Winter 15 %"])

        // A change goes out again, and is pending until acknowledged.
        let renamed = Promotion(id: "winter", name: "Winter 20 %", kind: .percentOff(basisPoints: 2000), scope: winter.scope, from: winter.from, until: winter.until)
        _ = try await service.putPromotion(renamed, source: "erp")
        #expect(try await service.channelStates(of: "winter").allSatisfy { $0.state == .pending })
        try await run(0.5)
        #expect(try await service.channelStates(of: "winter").allSatisfy { $0.state == .live })
        #expect(channels.received.withLock { $0 }.filter { $0.hasSuffix("20 %") }.count == 2)
    }

    @Test func pricesReachTheirChannelInOrderAndWindowsOpenAndCloseOnTime() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let clock = ManualClock()
        var policy = PricingService.Policy()
        policy.channels = ["web": "shopify", "pos": "pos"]
        let service = PricingService(store: store, policy: policy, now: clock.now)
        let channels = RecordingPromotionChannels()
        let run = Self.worker(store: store, systems: ["shopify", "pos"], channels: channels, clock: clock)
        func gbp(_ text: String) throws -> Money { try Money(parsing: text, currency: .gbp) }

        // Prices: each change goes to its channel only, in order, pending until acknowledged; a channel down keeps it pending.
        channels.down.withLock { $0 = ["web"] }
        let first = try await service.setPrices([.init(sku: "SHIRT", price: try gbp("20.00"), from: clock.now(), until: nil)],
                                                channel: "web", country: "GB", source: "erp").change
        let second = try await service.setPrices([.init(sku: "SHIRT", price: try gbp("18.00"), from: clock.now(), until: nil)],
                                                 channel: "web", country: "GB", source: "erp").change
        try await run(0.2)
        #expect(try await service.priceChange(first)?.channels.map(\.state) == [.pending])
        #expect(try await service.priceChange(first)?.channels.first?.reason?.contains("503") == true)
        channels.down.withLock { $0 = [] }
        try await run(2)
        #expect(try await service.priceChange(first)?.channels.map(\.state) == [.live])
        #expect(try await service.priceChange(second)?.channels.map(\.state) == [.live])
        #expect(channels.received.withLock { $0 } == ["web GB SHIRT 20.00 GBP v1", "web GB SHIRT 18.00 GBP v2"], "in order, once each")
        let unpushed = try await service.setPrices([.init(sku: "SHIRT", price: try gbp("19.00"), from: clock.now(), until: nil)],
                                                   channel: "marketplace", country: "GB", source: "erp").change
        #expect(try await service.priceChange(unpushed)?.channels == [], "a channel the hub has no connection to gets no push")
        #expect(try await service.priceChange(EventID(trusted: "evt_nothing")) == nil)

        // A promotion that starts tomorrow and lasts two days: its timers record the start and the end, on time.
        let start = clock.now() + 86_400
        let flash = Promotion(id: "flash", name: "Flash", kind: .percentOff(basisPoints: 1000), from: start, until: start + 2 * 86_400)
        _ = try await service.putPromotion(flash, source: "erp")
        try await run(1)
        var window = try await service.window(of: "flash")
        #expect(window.activated == nil && window.ended == nil, "not yet")
        try await run(24)
        window = try await service.window(of: "flash")
        #expect(window.activated.map { $0 >= start && $0 < start + 120 } == true, "activated when the window opened: \(String(describing: window.activated))")
        #expect(window.ended == nil)
        try await run(48)
        window = try await service.window(of: "flash")
        #expect(window.ended.map { $0 >= start + 2 * 86_400 && $0 < start + 2 * 86_400 + 120 } == true)
        let reached = try await store.readStream("promotion/flash", fromVersion: 1, limit: 100).filter { $0.type == PromotionWindowReached.eventType }
        #expect(reached.count == 2, "each edge once")

        // A change moves the window: the old timers fire and do nothing, the new ones record the new window.
        let later = Promotion(id: "later", name: "Later", kind: .percentOff(basisPoints: 500), from: clock.now() + 3600, until: clock.now() + 7200)
        _ = try await service.putPromotion(later, source: "erp")
        let moved = Promotion(id: "later", name: "Later", kind: .percentOff(basisPoints: 500), from: clock.now() + 4 * 3600, until: clock.now() + 5 * 3600)
        _ = try await service.putPromotion(moved, source: "erp")
        try await run(2.5)
        #expect(try await service.window(of: "later").activated == nil, "the first window's timer was for a version that no longer is")
        try await run(3)
        window = try await service.window(of: "later")
        #expect(window.activated.map { $0 >= moved.from } == true && window.ended.map { $0 >= moved.until } == true)

        // Ended early: the new end is recorded on time, not behind the old version's timer weeks later.
        let month = Promotion(id: "month", name: "Month", kind: .percentOff(basisPoints: 500), from: clock.now() - 60, until: clock.now() + 30 * 86_400)
        _ = try await service.putPromotion(month, source: "erp")
        try await run(0.1)
        let early = Promotion(id: "month", name: "Month", kind: .percentOff(basisPoints: 500), from: month.from, until: clock.now() + 3600)
        _ = try await service.putPromotion(early, source: "erp")
        try await run(1.5)
        window = try await service.window(of: "month")
        #expect(window.ended.map { $0 >= early.until && $0 < early.until + 120 } == true, "ended when the new window said: \(String(describing: window.ended))")
    }

    @Test func quotesSeeThisInstancesPromotionsAtOnceAndAnothersWithinTheRefresh() async throws {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        var policy = PricingService.Policy()
        policy.taxRules = ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [2000])]
        policy.promotionRefresh = .milliseconds(300)
        let clock = ManualClock()
        let here = PricingService(store: store, policy: policy, now: clock.now)
        let there = PricingService(store: store, policy: policy, now: clock.now)
        let start = clock.now() - 86_400
        _ = try await here.setPrices([.init(sku: "SHIRT", price: Money(minorUnits: 2_000, currency: .gbp), from: start, until: nil)],
                                     channel: "web", country: "GB", source: "erp")
        let basket = try Basket(channel: "web", store: nil, country: "GB", currency: .gbp, lines: [try .init(sku: "SHIRT", quantity: 1)])
        #expect(try await here.quote(basket, at: clock.now()).total == 2_000)
        #expect(try await there.quote(basket, at: clock.now()).total == 2_000)
        _ = try await here.putPromotion(Promotion(id: "ten", name: "10 %", kind: .percentOff(basisPoints: 1000), from: start, until: clock.now() + 3600),
                                        source: "erp")
        #expect(try await here.quote(basket, at: clock.now()).total == 1_800, "this instance's change counts at once")
        clock.advance(by: 0.2)
        #expect(try await there.quote(basket, at: clock.now()).total == 2_000, "the other instance's copy is still the one it read")
        clock.advance(by: 0.2)
        #expect(try await there.quote(basket, at: clock.now()).total == 1_800, "and is read again once the refresh has passed")
        #expect(try await there.quote(basket, at: start + 60).total == 1_800, "a time more than a minute back reads the store")
    }
}
