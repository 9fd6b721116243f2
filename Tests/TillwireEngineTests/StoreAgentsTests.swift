import Foundation
import Testing
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The hub's view of its store agents on a manual clock: online while reports come, offline after `offlineAfter`,
/// one alert per outage after `alertAfter`, back online with an event, and what it records in the log.
@Suite struct StoreAgentsTests {
    func setUp() async throws -> (store: SQLiteStore, clock: ManualClock, agents: StoreAgents) {
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        _ = try await store.commit(Commit(catalog: [
            .putLocation(try Location(id: "store-1", kind: .store, name: "Leeds")),
            .putLocation(try Location(id: "store-2", kind: .store, name: "York")),
            .putLocation(try Location(id: "dc-1", kind: .warehouse, name: "DC")),
        ]))
        let clock = ManualClock()
        let agents = StoreAgents(store: store, policy: .init(offlineAfter: .seconds(90), alertAfter: .seconds(900), recordEvery: .seconds(60)),
                                 now: { clock.now() })
        return (store, clock, agents)
    }

    func report(_ depth: Int, oldest: Date? = nil) -> StoreAgentReport {
        StoreAgentReport(queueDepth: depth, oldestUnsentAt: oldest, forwardedThrough: 7, refused: 0)
    }

    func types(_ store: SQLiteStore, _ location: LocationID) async throws -> [String] {
        try await store.readStream(StoreAgents.stream(location), fromVersion: 1, limit: 100).map(\.type)
    }

    @Test func anAgentGoesOfflineRaisesOneAlertAndComesBack() async throws {
        let (store, clock, agents) = try await setUp()
        var status = try await agents.report(report(0), from: "store-1")
        #expect(status.state == .online)
        #expect(try await agents.statuses().map(\.store) == ["store-1"], "a store whose agent never reported is not listed")

        clock.advance(by: 89)
        #expect(try await agents.status(of: "store-1")?.state == .online)
        clock.advance(by: 1)
        status = try #require(try await agents.status(of: "store-1"))
        #expect(status.state == .offline && status.offlineSince == clock.now() - 90)

        #expect(try await agents.sweep().isEmpty, "offline, but not yet for alertAfter")
        clock.advance(by: 810)
        let alerts = try await agents.sweep()
        #expect(alerts.map(\.store) == ["store-1"] && alerts.first?.backlog == 0)
        #expect(try await agents.sweep().isEmpty, "one alert per outage")
        #expect(try await agents.status(of: "store-1")?.alerted == true)

        clock.advance(by: 5)
        status = try await agents.report(report(3, oldest: clock.now() - 950), from: "store-1")
        #expect(status.state == .online && status.alerted == false && status.report.queueDepth == 3)
        #expect(try await types(store, "store-1") == [StoreAgentReported.eventType, StoreAgentOffline.eventType,
                                                      StoreAgentBackOnline.eventType, StoreAgentReported.eventType])
    }

    @Test func reportsAreRecordedAtMostOncePerIntervalUnlessTheBacklogTurns() async throws {
        let (store, clock, agents) = try await setUp()
        try await agents.report(report(0), from: "store-2")
        clock.advance(by: 10)
        try await agents.report(report(0), from: "store-2")
        #expect(try await types(store, "store-2").count == 1, "the same state 10 s later is kept in memory only")
        clock.advance(by: 10)
        try await agents.report(report(4), from: "store-2")
        #expect(try await types(store, "store-2").count == 2, "a backlog starting is recorded at once")
        clock.advance(by: 61)
        try await agents.report(report(4), from: "store-2")
        #expect(try await types(store, "store-2").count == 3, "and the state at least every recordEvery")

        // Another hub instance (a fresh StoreAgents on the same log) sees the last recorded report.
        let other = StoreAgents(store: store, policy: agents.policy, now: { clock.now() })
        let seen = try #require(try await other.status(of: "store-2"))
        #expect(seen.report.queueDepth == 4 && seen.state == .online)
    }
}
