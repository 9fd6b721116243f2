import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Synchronization
import Testing
import TillwireApp
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStoragePostgres
import TillwireStorageSQLite
import TillwireTesting

/// DESIGN.md §5.1, §5.2, §5.5 against the real executable: `tillwire serve --drill` (see `Drill`) takes a steady load
/// over HTTP and is killed with SIGKILL at random moments, then restarted; at the end every acknowledged message must
/// have been received, tallied, delivered and run through its workflow exactly once, in order per partition key, with
/// checkpoints that never went back. The kill times come from a seeded generator whose seed is printed.
@Suite(.serialized) struct FaultTests {
    static let rounds = 20

    /// What a driver sent and had acknowledged, in acknowledgement order.
    struct Message: Sendable {
        let key: String
        let group: Int
        let fail: Bool
    }

    /// Sends messages one at a time, resending an unanswered one (same key) after the hub comes back, as a client
    /// with an idempotency key does.
    final class Driver: Sendable {
        let prefix: String
        let groups: Range<Int>
        let acknowledged = Mutex<[Message]>([])
        private let next = Mutex(0)
        /// Set to end `run` after its current request (a running request is never cancelled: see `HTTPCall`).
        let stopped = Mutex(false)

        init(prefix: String, groups: Range<Int>) {
            self.prefix = prefix
            self.groups = groups
        }

        func message(_ index: Int) -> Message {
            Message(key: "\(prefix)-\(index)", group: groups.lowerBound + index % groups.count, fail: index % 5 == 0)
        }

        /// Runs until the hub stops answering or `stopped` is set.
        func run(against base: String) async {
            while !stopped.withLock({ $0 }) {
                let index = next.withLock { $0 }
                let message = message(index)
                var request = URLRequest(url: URL(string: base + "/drill/messages")!)
                request.httpMethod = "POST"
                request.setValue(message.key, forHTTPHeaderField: "Idempotency-Key")
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(#"{"group":\#(message.group),"fail":\#(message.fail)}"#.utf8)
                guard let response = try? await HTTPCall.send(request, timeout: 10),
                      response.statusCode == 200 || response.statusCode == 202 else { return }
                acknowledged.withLock { $0.append(message) }
                next.withLock { $0 += 1 }
            }
        }
    }

    func startHub(_ environment: [String: String]) async throws -> (ChildProcess, String) {
        let child = try ChildProcess(try tillwireExecutable(), ["serve", "--drill"], environment: environment.merging([
            "TILLWIRE_HTTP_PORT": "0", "TILLWIRE_LOG_LEVEL": "info", "TILLWIRE_WORKERS_LEASE_SECONDS": "2",
        ]) { $1 })
        do {
            return (child, try await child.servingAddress())
        } catch {
            child.signal(SIGKILL)
            throw error
        }
    }

    /// Kills a running hub at random moments, `rounds` times, checking after each kill that checkpoints only moved
    /// forward; then lets a last hub drain the work and stops it gracefully.
    func drill(environment: [String: String], open: @escaping () async throws -> any Store) async throws -> [Message] {
        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SeededGenerator(seed: seed)
        // Four clients at once, each with partition keys of its own, so that order per key stays checkable.
        let drivers = (0..<4).map { Driver(prefix: "m\($0)", groups: ($0 * 4)..<($0 * 4 + 4)) }
        var last: [String: Int64] = [:]
        print("fault drill: seed \(seed), \(Self.rounds) rounds of SIGKILL")
        for round in 1...Self.rounds {
            let (hub, base) = try await startHub(environment)
            let before = drivers.map { $0.acknowledged.withLock { $0.count } }.reduce(0, +)
            let loads = drivers.map { driver in Task { await driver.run(against: base) } }
            // The load is under way before the random moment starts (on a busy machine a new hub can take a while to
            // take its first messages; a kill before then would test nothing).
            let started = Date()
            while drivers.map({ $0.acknowledged.withLock { $0.count } }).reduce(0, +) < before + 3, Date().timeIntervalSince(started) < 15 {
                try await Task.sleep(for: .milliseconds(10))
            }
            let delay = Double.random(in: 0.15...1.2, using: &random)
            try await Task.sleep(for: .seconds(delay))
            hub.signal(SIGKILL)
            #expect(try await hub.exit() != 0, "round \(round): killed, not finished")
            for load in loads { await load.value }
            let store = try await open()
            var line = "round \(round): SIGKILL after \(String(format: "%.2f", delay)) s, \(drivers.map { $0.acknowledged.withLock { $0.count } }.reduce(0, +)) acknowledged so far; checkpoints"
            for subscriber in [Drill.tallySubscriber, WorkflowEventWaker.subscriberName] {
                let position = try await store.checkpoint(subscriber)
                #expect(position >= last[subscriber, default: 0], "\(subscriber) checkpoint went back from \(last[subscriber, default: 0]) to \(position)")
                last[subscriber] = position
                line += " \(subscriber)=\(position)"
            }
            try await store.close()
            print(line)
        }
        let (hub, _) = try await startHub(environment)
        let store = try await open()
        do {
            try await waitUntilDrained(store, hub: hub)
        } catch {
            // The hub must not outlive a failed drill.
            hub.signal(SIGKILL)
            try? await store.close()
            throw error
        }
        try await store.close()
        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0, "the last hub stops gracefully; stderr:\n\(hub.standardError.suffix(1500))")
        return drivers.flatMap { $0.acknowledged.withLock { $0 } }
    }

    /// Waits until the queue is empty, every run has ended and the tally has read the whole log. On a timeout the
    /// error says which of the three is not done, with the first waiting jobs and the hub's last log lines.
    func waitUntilDrained(_ store: any Store, hub: ChildProcess, timeout: TimeInterval = 180) async throws {
        let deadline = Date() + timeout
        var state = ""
        while Date() < deadline {
            let pending = try await store.jobs(in: .pending, limit: 3)
            let running = try await store.jobs(in: .running, limit: 3)
            let open = try await store.workflowRuns(in: .running, limit: 1).count + (try await store.workflowRuns(in: .compensating, limit: 1).count)
            let head = try await store.headPosition()
            let tally = try await store.checkpoint(Drill.tallySubscriber)
            if pending.isEmpty && running.isEmpty && open == 0 && head == tally { return }
            let jobs = (pending + running).map { "\($0.kind) \($0.state) attempts \($0.attempts) due \($0.runAt) error \($0.lastError ?? "-") wait \($0.waitReason ?? "-")" }
            // A run left open with nothing queued: say what its jobs died of, and where the run stands.
            let dead = try await store.deadJobs(matching: DeadJobFilter(limit: 5)).map { "\($0.kind) attempts \($0.attempts) error \($0.lastError ?? "-")" }
            let runs = try await store.workflowRuns(in: .running, limit: 2) + (try await store.workflowRuns(in: .compensating, limit: 2))
            var stuck: [String] = []
            for run in runs {
                let steps = try await store.workflowRun(run.id)?.steps.map { "\($0.index):\($0.status)" } ?? []
                stuck.append("\(run.id) \(run.state) steps \(steps.joined(separator: ","))")
            }
            state = "jobs: \(jobs.isEmpty ? "none" : jobs.joined(separator: "; ")); open runs: \(open) \(stuck.joined(separator: "; ")); dead jobs: \(dead.isEmpty ? "none" : dead.joined(separator: "; ")); log head \(head), tally at \(tally)"
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChildProcessError("the hub did not finish the drill's work in \(timeout) s; \(state); stderr:\n\(hub.standardError.suffix(3000))")
    }

    /// Checks the log, the runs and the queue against what was acknowledged.
    func verify(_ store: any Store, acknowledged: [Message]) async throws {
        var events: [EventEnvelope] = []
        var after: Int64 = 0
        while true {
            let page = try await store.readAll(after: after, limit: 5_000)
            guard let last = page.last else { break }
            events += page
            after = last.position
        }
        var counts: [String: [String: Int]] = [:]  // type → key → count
        var delivered: [String: [String]] = [:]    // stream → keys in delivery order
        for envelope in events {
            let key: String
            switch envelope.type {
            case "drill.delivered":
                key = String(decoding: envelope.event.payload, as: UTF8.self)
                delivered[envelope.stream.rawValue, default: []].append(key)
            case "drill.tallied":
                key = String(decoding: envelope.event.payload, as: UTF8.self).replacingOccurrences(of: "drill-", with: "")
            default:
                key = envelope.event.correlationID.rawValue.replacingOccurrences(of: "drill-", with: "")
            }
            counts[envelope.type, default: [:]][key, default: 0] += 1
        }
        // Nothing applied twice, acknowledged or not.
        for (type, byKey) in counts {
            let twice = byKey.filter { $0.value > 1 }
            #expect(twice.isEmpty, "\(type) applied more than once for \(twice.count) messages, e.g. \(twice.prefix(3))")
        }
        // Nothing acknowledged lost; every workflow finished or compensated.
        var lost: [String: Int] = [:]
        for message in acknowledged {
            var expected = ["drill.received", "drill.tallied", "drill.delivered", "drill.reserved"]
            expected.append(message.fail ? "drill.released" : "drill.confirmed")
            for type in expected where counts[type]?[message.key] != 1 { lost[type, default: 0] += 1 }
            let run = try await store.workflowRun(WorkflowRunID(trusted: "drill-\(message.key)"))?.run.state
            if run != (message.fail ? .compensated : .completed) { lost["workflow \(message.fail ? "compensated" : "completed")", default: 0] += 1 }
        }
        #expect(lost.isEmpty, "acknowledged messages missing an effect: \(lost)")
        // Order per partition key: each group's deliveries follow the order the messages were acknowledged in.
        var outOfOrder = 0
        for (group, messages) in Dictionary(grouping: acknowledged, by: \.group) {
            let acked = Set(messages.map(\.key))
            let order = delivered["drill-delivered-drill-group-\(group)", default: []].filter { acked.contains($0) }
            if order != messages.map(\.key) { outOfOrder += 1 }
        }
        #expect(outOfOrder == 0, "\(outOfOrder) partition keys delivered out of order")
        #expect(try await store.jobs(in: .dead, limit: 10).isEmpty, "no job died")
        let failing = acknowledged.filter(\.fail).count
        print("checked: \(acknowledged.count) acknowledged messages (\(failing) compensated), \(events.count) events; lost \(lost.values.reduce(0, +)), applied twice \(counts.values.map { $0.values.filter { $0 > 1 }.count }.reduce(0, +)), out of order \(outOfOrder)")
    }

    @Test func sqliteSurvivesRandomKills() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("drill.sqlite")
        let acknowledged = try await drill(environment: ["TILLWIRE_STORAGE_SQLITE_PATH": path]) {
            try SQLiteStore.open(path: path)
        }
        #expect(acknowledged.count >= 50, "the drill drove a real load (\(acknowledged.count) messages)")
        let store = try SQLiteStore.open(path: path)
        try await verify(store, acknowledged: acknowledged)
        try await store.close()
    }

    @Test(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
    func postgresSurvivesRandomKills() async throws {
        try await PostgresTestDatabase.withFreshDatabase { url in
            let environment = ["TILLWIRE_STORAGE_BACKEND": "postgres", "TILLWIRE_STORAGE_POSTGRES_URL": url]
            let acknowledged = try await drill(environment: environment) {
                try await PostgresStore.connect(url: url, maxConnections: 2)
            }
            #expect(acknowledged.count >= 50, "the drill drove a real load (\(acknowledged.count) messages)")
            let store = try await PostgresStore.connect(url: url, maxConnections: 2)
            try await verify(store, acknowledged: acknowledged)
            try await store.close()
        }
    }

    @Test(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.skipReason))
    func threeInstancesOnPostgresLoseOneMidLoad() async throws {
        try await PostgresTestDatabase.withFreshDatabase { url in
            let environment = ["TILLWIRE_STORAGE_BACKEND": "postgres", "TILLWIRE_STORAGE_POSTGRES_URL": url]
            var hubs: [(ChildProcess, String)] = []
            for index in 0..<3 { hubs.append(try await startHub(environment.merging(["TILLWIRE_INSTANCE_ID": "hub-\(index)"]) { $1 })) }
            let drivers = (0..<3).map { Driver(prefix: "i\($0)", groups: ($0 * 4)..<($0 * 4 + 4)) }
            let bases = hubs.map(\.1)
            var loads: [Task<Void, Never>] = []
            for (driver, base) in zip(drivers, bases) { loads.append(Task { await driver.run(against: base) }) }
            try await Task.sleep(for: .seconds(2.5))
            hubs[0].0.signal(SIGKILL)
            #expect(try await hubs[0].0.exit() != 0)
            await loads[0].value
            let store = try await PostgresStore.connect(url: url, maxConnections: 2)
            let leased = try await store.jobs(in: .running, limit: 1_000).count
            // The killed instance's driver goes on against another instance, resending its unanswered message.
            let first = drivers[0], second = bases[1]
            loads[0] = Task { await first.run(against: second) }
            try await Task.sleep(for: .seconds(2.5))
            drivers.forEach { driver in driver.stopped.withLock { $0 = true } }
            for load in loads { await load.value }
            try await waitUntilDrained(store, hub: hubs[1].0)
            for (hub, _) in hubs.dropFirst() {
                hub.signal(SIGTERM)
                #expect(try await hub.exit() == 0)
            }
            let acknowledged = drivers.flatMap { $0.acknowledged.withLock { $0 } }
            print("three instances: killed one mid-load with \(leased) jobs leased in the cluster; \(acknowledged.count) acknowledged in all")
            #expect(acknowledged.count >= 10, "the drill drove a real load (\(acknowledged.count) messages)")
            try await verify(store, acknowledged: acknowledged)
            try await store.close()
        }
    }
}
