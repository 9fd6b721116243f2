import Foundation
import Testing
import TillwireStoreAgent
import TillwireTesting

/// The agent's own file: what the tills were told is kept, in order, once per key; the local figure is the hub's
/// plus what the hub had not seen when it was read.
@Suite struct AgentDatabaseTests {
    func item(_ text: String) -> Data { Data(text.utf8) }

    @Test func itIsDurableAndKeepsEachKeyOnceInOrder() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("agent.sqlite")
        var database = try AgentDatabase(path: path)
        #expect(try database.synchronousSetting() == 2, "synchronous=FULL: an acknowledged sale survives a power cut")
        let now = Date()
        let first = try database.accept(.movements, key: "till-1/1", digest: "d1", items: [item("{\"a\":1}")], lines: [("SKU", -1)], at: now)
        let second = try database.accept(.counts, key: "till-1/2", digest: "d2", items: [item("{\"b\":2}")], lines: [], at: now + 1)
        let again = try database.accept(.movements, key: "till-1/1", digest: "d1", items: [item("{\"a\":1}")], lines: [("SKU", -1)], at: now + 2)
        #expect(!first.repeated && !second.repeated && again.repeated && again.sequence == first.sequence)
        #expect(try database.position("SKU")?.onHand == -1, "a repeat does not sell twice")

        // Reopened (a restart): the queue is as it was, oldest first.
        database = try AgentDatabase(path: path)
        let waiting = try database.waiting(limit: 10)
        #expect(waiting.map(\.key) == ["till-1/1", "till-1/2"] && waiting.map(\.kind) == [.movements, .counts])
        #expect(waiting.first?.items == [item("{\"a\":1}")])
        var state = try database.queueState()
        #expect(state.depth == 2 && state.oldestAcceptedAt.map { abs($0.timeIntervalSince(now)) < 0.001 } == true)

        try database.forwarded([first.sequence], at: now + 3)
        try database.refused(second.sequence, reason: "counts[0].sku: unknown", at: now + 4)
        state = try database.queueState()
        #expect(state.depth == 0 && state.forwardedThrough == first.sequence && state.refused == 1)
        #expect(try database.refusals(limit: 5).map(\.reason) == ["counts[0].sku: unknown"])
        #expect(try database.lastContact().map { abs($0.timeIntervalSince(now + 4)) < 0.001 } == true)
    }

    @Test func theLocalFigureAddsOnlyWhatTheHubHadNotSeen() throws {
        let folder = try TemporaryFolder()
        let database = try AgentDatabase(path: folder.path("agent.sqlite"))
        let now = Date()
        try database.refreshed([.init(sku: "MUG", onHand: 10, reserved: 2, safetyStock: 1)], version: 5, covering: 0, at: now)
        #expect(try database.position("MUG")?.available == 7)

        let sale = try database.accept(.movements, key: "s1", digest: "d", items: [item("{}")], lines: [("MUG", -3)], at: now)
        #expect(try database.position("MUG")?.onHand == 7 && database.position("MUG")?.unsent == -3, "sold offline: off at once")

        // Forwarded, but the refresh that follows started before it settled: still added.
        let coveringBefore = try database.settledThrough()
        try database.forwarded([sale.sequence], at: now + 1)
        try database.refreshed([.init(sku: "MUG", onHand: 10, reserved: 2, safetyStock: 1)], version: 6, covering: coveringBefore, at: now + 2)
        #expect(try database.position("MUG")?.onHand == 7)

        // A refresh that started after it settled holds it: not added again.
        let covering = try database.settledThrough()
        #expect(covering == sale.sequence)
        try database.refreshed([.init(sku: "MUG", onHand: 7, reserved: 2, safetyStock: 1)], version: 8, covering: covering, at: now + 3)
        #expect(try database.position("MUG")?.onHand == 7 && database.position("MUG")?.unsent == 0)
        #expect(try database.feedVersion() == 8 && database.refreshedAt().map { abs($0.timeIntervalSince(now + 3)) < 0.001 } == true)

        // A sale the hub refused no longer counts.
        let refused = try database.accept(.movements, key: "s2", digest: "d", items: [item("{}")], lines: [("MUG", -1)], at: now + 4)
        #expect(try database.position("MUG")?.onHand == 6)
        try database.refused(refused.sequence, reason: "no", at: now + 5)
        #expect(try database.position("MUG")?.onHand == 7)
        #expect(try database.position("UNKNOWN") == nil)
    }
}
