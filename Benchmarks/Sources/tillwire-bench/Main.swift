import CoreMetrics
import Foundation
import GRDB
import Hummingbird
import Logging
import Synchronization
import Prometheus
import TillwireAPI
import TillwireDomain
import TillwireEngine
import PostgresNIO
import TillwireStorage
import TillwireStoragePostgres
import TillwireStorageSQLite

/// Measures each figure beside a ceiling taken in the same run, and prints Markdown rows for BENCHMARKS.md.
@main
struct TillwireBench {
    static func main() async throws {
        // As `tillwire serve` does: Prometheus behind the service-level tracker, so that the hub's routes pay for their
        // metrics here too (the bare hello route, the ceiling, has none). BENCH_METRICS=off leaves them out, to see
        // what they cost.
        if ProcessInfo.processInfo.environment["BENCH_METRICS"] != "off" { MetricsSystem.bootstrap(ServiceLevelMetricsFactory(base: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()),
                                                           tracker: ServiceLevelTracker(objectives: ServiceLevelObjective.defaults))) }
        let arguments = CommandLine.arguments.dropFirst()
        let which = arguments.first ?? "all"
        let events = Int(ProcessInfo.processInfo.environment["BENCH_EVENTS"] ?? "") ?? 60_000
        if which == "storage" || which == "all" { try await storage(events: events) }
        if which == "engine" || which == "all" { try await engine() }
        if which == "http" || which == "all" { try await http() }
        if which == "inventory" || which == "all" { try await inventory() }
        if which == "publish" || which == "inventory" || which == "all" {
            try await publishLag(window: .milliseconds(20))
        }
        if which == "orders" || which == "all" { try await orders() }
        if which == "pricing" || which == "all" { try await pricing() }
        // In a process of its own (Benchmarks/run starts it), so that its resident memory is only its own.
        if which == "rss" { try await residentMemory() }
    }

    // MARK: Storage

    static func storage(events: Int) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let payload = Data(String(repeating: "x", count: 300).utf8)

        // Ceiling: raw batched inserts of event rows, 1,000 per transaction, cached statement, WAL + synchronous=FULL.
        let raw = try await rawBatchedInsertRate(path: folder.appendingPathComponent("raw.sqlite").path, rows: events, payload: payload)
        print("| raw SQLite batched insert (ceiling) | \(format(raw)) rows/s | 1.00 |")

        do {
            let store = try SQLiteStore.open(path: folder.appendingPathComponent("x.sqlite").path)
            _ = try await store.migrate()
            let start = ContinuousClock.now
            for round in 0..<(events / 1000) {
                let appends = (0..<1000).map { n in EventAppend(NewEvent(type: "bench.appended", stream: StreamID(trusted: "stream-\(n % 64)"), correlationID: "bench", occurredAt: Date(), source: "bench", payload: payload)) }
                _ = round
                _ = try await store.commit(Commit(events: appends))
            }
            let rate = Double(events) / (ContinuousClock.now - start).timeInterval
            print("| one caller, 1,000 events in each commit (the SQL path without per-caller handoff) | \(format(rate)) events/s | \(String(format: "%.2f", rate / raw)) |")
        }
        for (name, callers, batch) in [("append, group commit, 1,024 concurrent callers", 1_024, 1_000),
                                       ("append, group commit, 512 concurrent callers", 512, 1_000),
                                       ("append, group commit, 256 concurrent callers", 256, 1_000),
                                       ("append, group commit, 64 concurrent callers", 64, 1_000),
                                       ("append, group commit, 16 concurrent callers", 16, 1_000),
                                       ("append, one transaction per event (naive), 64 callers", 64, 1)] {
            let store = try SQLiteStore.open(path: folder.appendingPathComponent("\(callers)-\(batch).sqlite").path, maximumBatch: batch)
            _ = try await store.migrate()
            let count = batch == 1 ? min(events, 6_000) : events
            let rate = try await appendRate(store: store, callers: callers, events: count, payload: payload)
            print("| \(name) | \(format(rate)) events/s | \(String(format: "%.2f", rate / raw)) |")
            try await store.close()
        }
    }

    static func rawBatchedInsertRate(path: String, rows: Int, payload: Data) async throws -> Double {
        let pool = try DatabasePool(path: path)
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: """
                CREATE TABLE events (
                    position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL,
                    stream_version INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
                    correlation_id TEXT NOT NULL, causation_id TEXT, occurred_at INTEGER NOT NULL,
                    recorded_at INTEGER NOT NULL, source TEXT NOT NULL, payload BLOB NOT NULL,
                    UNIQUE (stream, stream_version))
                """)
        }
        let start = ContinuousClock.now
        var written = 0
        while written < rows {
            let base = written
            let count = min(1_000, rows - written)
            try await pool.write { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO events (id, stream, stream_version, type, schema_version, correlation_id, causation_id,
                                        occurred_at, recorded_at, source, payload)
                    VALUES (?, ?, ?, 'bench.appended', 1, 'bench', NULL, ?, ?, 'bench', ?)
                    """)
                for n in base..<(base + count) {
                    try statement.execute(arguments: [EventID.random().rawValue, "stream-\(n % 64)", n / 64 + 1, n, n, payload])
                }
            }
            written += count
        }
        let seconds = (ContinuousClock.now - start).timeInterval
        try pool.close()
        return Double(rows) / seconds
    }

    static func appendRate(store: SQLiteStore, callers: Int, events: Int, payload: Data) async throws -> Double {
        let perCaller = events / callers
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    let stream = StreamID(trusted: "stream-\(caller)")
                    for _ in 0..<perCaller {
                        let event = NewEvent(type: "bench.appended", stream: stream, correlationID: "bench",
                                             occurredAt: Date(), source: "bench", payload: payload)
                        // Returns only once the group commit holding this event is durable.
                        _ = try await store.commit(Commit(events: [EventAppend(event)]))
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perCaller * callers) / (ContinuousClock.now - start).timeInterval
    }

    // MARK: Engine

    struct NoOp: JobHandler {
        let kind = "bench.noop"
        func handle(_ job: Job) async throws -> Commit { Commit() }
    }

    final class Stamp: EventHandler, Sendable {
        let seen = Mutex<[EventID: ContinuousClock.Instant]>([:])
        func handle(_ event: EventEnvelope) async throws -> Commit {
            seen.withLock { $0[event.id] = ContinuousClock.now }
            return Commit()
        }
        func time(_ id: EventID) -> ContinuousClock.Instant? { seen.withLock { $0[id] } }
    }

    /// Jobs completed per second by 1, 4 and 16 workers (claim, no-op handler, guarded completion, each its own
    /// transaction, on a SQLite file), and the wake-up latency from an append to a running subscription's handler.
    static func engine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let payload = Data(String(repeating: "x", count: 300).utf8)
        let raw = try await rawBatchedInsertRate(path: folder.appendingPathComponent("raw.sqlite").path, rows: 30_000, payload: payload)
        print("| raw SQLite batched insert (ceiling, engine run) | \(format(raw)) rows/s | 1.00 |")
        let quiet: Logger = {
            var logger = Logger(label: "bench")
            logger.logLevel = .critical
            return logger
        }()
        try await jobRates(backend: "SQLite", ceiling: raw, logger: quiet) { workers in
            try SQLiteStore.open(path: folder.appendingPathComponent("jobs-\(workers).sqlite").path)
        }
        try await workflowRate(backend: "SQLite", ceiling: raw, logger: quiet) {
            try SQLiteStore.open(path: folder.appendingPathComponent("workflows.sqlite").path)
        }

        let wakeStore = try SQLiteStore.open(path: folder.appendingPathComponent("wake.sqlite").path)
        _ = try await wakeStore.migrate()
        try await wakeUp(label: "SQLite: wake-up, commit returned → subscription handler (300 events, poll 60 s)",
                         writer: wakeStore, reader: wakeStore, payload: payload, logger: quiet)
        try await wakeStore.close()

        guard let url = ProcessInfo.processInfo.environment["TILLWIRE_BENCH_POSTGRES_URL"] else {
            print("(PostgreSQL rows skipped: TILLWIRE_BENCH_POSTGRES_URL is not set; Benchmarks/run starts a throwaway server)")
            return
        }
        let pgCeiling = try await rawSkipLockedRate(url: url, workers: 4, jobs: 6_000)
        print("| raw PostgreSQL SKIP LOCKED claim + delete, 4 connections, one job per transaction (ceiling) | \(format(pgCeiling)) jobs/s | 1.00 |")
        try await jobRates(backend: "PostgreSQL", ceiling: pgCeiling, logger: quiet) { workers in
            try await PostgresStore.connect(url: url, maxConnections: workers + 2, logger: quiet)
        }
        try await workflowRate(backend: "PostgreSQL", ceiling: pgCeiling, logger: quiet) {
            try await PostgresStore.connect(url: url, maxConnections: 18, logger: quiet)
        }
        // Two instances: one appends, the other's subscription is woken by LISTEN/NOTIFY.
        let writer = try await PostgresStore.connect(url: url, maxConnections: 4, logger: quiet)
        let reader = try await PostgresStore.connect(url: url, maxConnections: 4, logger: quiet)
        try await wakeUp(label: "PostgreSQL: wake-up across instances, commit returned → other instance's handler (LISTEN/NOTIFY, 300 events, poll 60 s)",
                         writer: writer, reader: reader, payload: payload, logger: quiet)
        try await writer.close()
        try await reader.close()
    }

    /// The time from a commit returning to a running subscription's handler seeing the event, p50 and p99.
    static func wakeUp(label: String, writer: any Store, reader: any Store, payload: Data, logger: Logger) async throws {
        let stamp = Stamp()
        let name = "bench-wake-" + EventID.random().rawValue.prefix(8)
        let subscription = Subscription(name: name, store: reader, handler: stamp, configuration: .init(pollInterval: .seconds(60)), logger: logger)
        var latencies: [Double] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscription.run() }
            try await Task.sleep(for: .milliseconds(500))
            for _ in 0..<300 {
                let event = NewEvent(type: "bench.appended", stream: "wake", correlationID: "bench", occurredAt: Date(), source: "bench", payload: payload)
                _ = try await writer.commit(Commit(events: [EventAppend(event)]))
                let committed = ContinuousClock.now
                while stamp.time(event.id) == nil { try await Task.sleep(for: .microseconds(100)) }
                latencies.append((stamp.time(event.id)! - committed).timeInterval * 1000)
                try await Task.sleep(for: .milliseconds(5))
            }
            group.cancelAll()
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2], p99 = latencies[latencies.count * 99 / 100]
        print("| \(label) | p50 \(String(format: "%.2f", p50)) ms, p99 \(String(format: "%.2f", p99)) ms | |")
    }

    /// Jobs completed per second by 1, 4 and 16 workers: claim, no-op handler, guarded completion, each its own
    /// transaction.
    static func jobRates(backend: String, ceiling: Double, logger: Logger, open: (Int) async throws -> any Store) async throws {
        for workers in [1, 4, 16] {
            let store = try await open(workers)
            _ = try await store.migrate()
            let total = 6_000
            for _ in 0..<(total / 1_000) {
                _ = try await store.commit(Commit(jobs: (0..<1_000).map { _ in NewJob(kind: "bench.noop", runAt: Date(timeIntervalSince1970: 0)) }))
            }
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<workers {
                    group.addTask {
                        let worker = JobWorker(store: store, handlers: [NoOp()], configuration: .init(owner: "w\(index)", concurrency: 1), logger: logger)
                        while try await worker.runOnce() > 0 {}
                    }
                }
                try await group.waitForAll()
            }
            let rate = Double(total) / (ContinuousClock.now - start).timeInterval
            let left = try await store.jobs(in: .pending, limit: 10).count + (try await store.jobs(in: .running, limit: 10).count)
            guard left == 0 else { throw BenchError("\(left) jobs were not completed") }
            print("| \(backend): jobs completed, \(workers) worker\(workers == 1 ? "" : "s") (claim + complete, one job per claim) | \(format(rate)) jobs/s | \(String(format: "%.2f", rate / ceiling)) |")
            try await store.close()
        }
    }

    /// Workflow steps per second: 300 runs of a three-step workflow whose steps each append an event, run by 16
    /// workers; every step is one job (claim, step, record + effects + next job in one commit).
    static func workflowRate(backend: String, ceiling: Double, logger: Logger, open: () async throws -> any Store) async throws {
        let store = try await open()
        _ = try await store.migrate()
        let step: WorkflowStepDefinition.Action = { context in
            WorkflowStepResult(effects: Commit(events: [EventAppend(NewEvent(
                type: "bench.step", stream: StreamID(trusted: "wf-\(context.run.id)"), correlationID: context.run.correlationID,
                occurredAt: context.now, source: "bench", payload: Data()))]))
        }
        let definition = WorkflowDefinition(type: "bench.flow", steps: [.action("a", run: step), .action("b", run: step), .action("c", run: step)])
        let runs = 300
        var commit = Commit()
        for _ in 0..<runs {
            commit.startWorkflow(definition, input: Data(), correlationID: "bench", now: Date(timeIntervalSince1970: 0))
        }
        _ = try await store.commit(commit)
        let runner = WorkflowRunner(store: store, definitions: [definition])
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let worker = JobWorker(store: store, handlers: [runner], configuration: .init(owner: "w\(index)", concurrency: 1), logger: logger)
                    while try await worker.runOnce() > 0 {}
                }
            }
            try await group.waitForAll()
        }
        let rate = Double(runs * definition.steps.count) / (ContinuousClock.now - start).timeInterval
        let unfinished = try await store.workflowRuns(in: .running, limit: 10).count
        guard unfinished == 0 else { throw BenchError("\(unfinished) workflow runs did not finish") }
        print("| \(backend): workflow steps, 16 workers (\(runs) runs × 3 steps, one job per step) | \(format(rate)) steps/s | \(String(format: "%.2f", rate / ceiling)) |")
        try await store.close()
    }

    /// The most PostgreSQL does for a job queue on this machine: `workers` connections each deleting the next
    /// unlocked row (`FOR UPDATE SKIP LOCKED`) in its own transaction, one round trip per job.
    static func rawSkipLockedRate(url: String, workers: Int, jobs: Int) async throws -> Double {
        guard let components = URLComponents(string: url), let host = components.host else { throw BenchError("bad URL \(url)") }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres", password: components.password,
            database: String(components.path.dropFirst()), tls: .disable)
        configuration.options.maximumConnections = workers
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query("DROP TABLE IF EXISTS bench_raw_jobs")
            try await client.query("CREATE TABLE bench_raw_jobs (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, payload BYTEA NOT NULL)")
            try await client.query("INSERT INTO bench_raw_jobs (kind, payload) SELECT 'bench', '\\x00' FROM generate_series(1, \(jobs))")
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { workersGroup in
                for _ in 0..<workers {
                    workersGroup.addTask {
                        while true {
                            let rows = try await client.query("""
                                DELETE FROM bench_raw_jobs WHERE id = (
                                    SELECT id FROM bench_raw_jobs ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id
                                """)
                            var found = false
                            for try await _ in rows { found = true }
                            if !found { return }
                        }
                    }
                }
                try await workersGroup.waitForAll()
            }
            let rate = Double(jobs) / (ContinuousClock.now - start).timeInterval
            try await client.query("DROP TABLE bench_raw_jobs")
            return rate
        }
    }

    // MARK: HTTP

    /// A bare hello-world route on its own router (the ceiling), then the hub's router with its middleware
    /// (request id, problem+json, metrics), each driven by wrk (1 thread, 16 connections, 10 s).
    static func http() async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let bare = Router()
        bare.get("/hello") { _, _ in "Hello" }
        let store = try SQLiteStore.inMemory()
        _ = try await store.migrate()
        let hub = HubRouter.build(store: store, metrics: PrometheusCollectorRegistry())
        let bareApp = Application(router: bare, configuration: .init(address: .hostname("127.0.0.1", port: 18_080)), logger: quiet)
        let hubApp = Application(router: hub, configuration: .init(address: .hostname("127.0.0.1", port: 18_081)), logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bareApp.runService() }
            group.addTask { try await hubApp.runService() }
            try await Task.sleep(for: .seconds(1))
            let hello = try wrk("http://127.0.0.1:18080/hello")
            let health = try wrk("http://127.0.0.1:18081/healthz")
            let ready = try wrk("http://127.0.0.1:18081/readyz")
            print("| hello-world route, bare router (ceiling) | \(format(hello.rate)) req/s, p99 \(hello.p99) | 1.00 |")
            print("| hub GET /healthz (request id, problem+json and metrics middleware) | \(format(health.rate)) req/s, p99 \(health.p99) | \(String(format: "%.2f", health.rate / hello.rate)) |")
            print("| hub GET /readyz (reads the schema status from SQLite) | \(format(ready.rate)) req/s, p99 \(ready.p99) | \(String(format: "%.2f", ready.rate / hello.rate)) |")
            group.cancelAll()
        }
    }

    // MARK: Inventory

    /// The inventory through the hub's HTTP API on a SQLite file (WAL, synchronous=FULL), beside the raw batched
    /// insert ceiling and the hello-world route, all measured in this run. 1,000 SKUs at 10 locations.
    static func inventory() async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let raw = try await rawBatchedInsertRate(path: folder.appendingPathComponent("raw.sqlite").path, rows: 60_000, payload: Data(String(repeating: "x", count: 300).utf8))
        print("| raw SQLite batched insert (ceiling, this run) | \(format(raw)) rows/s | 1.00 |")

        let store = try SQLiteStore.open(path: folder.appendingPathComponent("hub.sqlite").path, cachesPositions: true)   // as `tillwire serve` opens it
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "bench", scopes: ["admin"], locations: nil, ratePerSecond: 1_000_000, burst: 1_000_000, now: Date())
        let locations = (0..<10).map { LocationID(trusted: "loc-\($0)") }
        let skus = (0..<1_000).map { SKU(trusted: "SKU-\($0)") }
        _ = try await store.commit(Commit(
            catalog: locations.map { .putLocation(Location(trusted: $0, kind: .store, name: "bench")) }
                + skus.map { .putProduct(Product(trusted: $0, name: "bench", allowBackorder: false)) },
            access: [.createKey(record)]))
        let hub = HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), api: APIPolicy(ratePerSecond: 1_000_000, burst: 1_000_000, maxBodyBytes: 8 << 20))
        let bare = Router()
        bare.get("/hello") { _, _ in "Hello" }
        let hubApp = Application(router: hub, configuration: .init(address: .hostname("127.0.0.1", port: 18_091)), logger: quiet)
        let bareApp = Application(router: bare, configuration: .init(address: .hostname("127.0.0.1", port: 18_090)), logger: quiet)
        let scripts = folder.path
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hubApp.runService() }
            group.addTask { try await bareApp.runService() }
            try await Task.sleep(for: .seconds(1))

            let hello = try wrk("http://127.0.0.1:18090/hello")
            print("| hello-world route, bare router (ceiling, this run) | \(format(hello.rate)) req/s, p99 \(hello.p99) | 1.00 |")
            let keyOnly = try wrk("http://127.0.0.1:18091/v1/locations", headers: ["Authorization: Bearer \(key)"])
            print("| GET /v1/locations (the key check and a read of 10 rows) | \(format(keyOnly.rate)) req/s, p99 \(keyOnly.p99) | \(String(format: "%.2f", keyOnly.rate / hello.rate)) |")
            let one = try wrk("http://127.0.0.1:18091/v1/availability?sku=SKU-17&location=loc-3", headers: ["Authorization: Bearer \(key)"])
            print("| GET /v1/availability (one SKU-location; key check, rate limit, positions from memory) | \(format(one.rate)) req/s, p99 \(one.p99) | \(String(format: "%.2f", one.rate / hello.rate)) |")

            // Movements: batches of 1,000 receipts with fresh source keys, 4 connections.
            let movements = try wrkScript(scripts, "movements", key: key, """
                counter = 0
                request = function()
                  counter = counter + 1
                  local items = {}
                  for i = 1, 1000 do
                    items[i] = string.format('{"sku":"SKU-%d","location":"loc-%d","delta":1,"reason":"receipt","occurred_at":"2026-01-01T00:00:00Z","source":"bench","source_key":"m%d-%d"}', (counter * 7 + i) % 1000, i % 10, counter, i)
                  end
                  return wrk.format("POST", "/v1/inventory/movements", headers, '{"movements":[' .. table.concat(items, ",") .. ']}')
                end
                """)
            let ingest = try wrk("http://127.0.0.1:18091/v1/inventory/movements", script: movements, connections: 4)
            let movementRate = ingest.rate * 1_000
            print("| movements through POST /v1/inventory/movements, batches of 1,000, 4 connections (each: a ledger row, a position, 2 events) | \(format(movementRate)) movements/s, p99 \(ingest.p99) per batch | \(String(format: "%.2f", movementRate / raw)) of the raw insert ceiling |")

            // Reservations under contention: 16 connections reserving one unit of the same 10 SKUs at one location.
            _ = try await store.commit(Commit(inventory: skus.prefix(10).map {
                .record(try! InventoryMovement(sku: $0, location: "loc-0", delta: 1_000_000, reason: .receipt, occurredAt: Date(), source: "bench", sourceKey: "stock-\($0)"))
            }))
            let reservations = try wrkScript(scripts, "reservations", key: key, """
                counter = 0
                request = function()
                  counter = counter + 1
                  local body = string.format('{"key":"r-%d","order":"o-%d","sku":"SKU-%d","location":"loc-0","quantity":1}', counter, counter, counter % 10)
                  return wrk.format("POST", "/v1/reservations", headers, body)
                end
                """)
            let reserved = try wrk("http://127.0.0.1:18091/v1/reservations", script: reservations)
            var oversold = 0
            var held: Int64 = 0
            for sku in skus.prefix(10) {
                let position = try await store.position(sku: sku, location: "loc-0")
                if position.availableToPromise < 0 { oversold += 1 }
                held += position.reserved
            }
            print("| POST /v1/reservations, 16 connections on the same 10 SKUs | \(format(reserved.rate)) reservations/s, p99 \(reserved.p99); \(format(Double(held))) held, \(oversold) SKUs oversold | \(String(format: "%.2f", reserved.rate / hello.rate)) of the hello route |")

            // The same with 128 connections: each commit waits for its fsync, so throughput grows with the callers
            // that share one group commit.
            let many = try wrkScript(scripts, "reservations-many", key: key, """
                counter = 0
                request = function()
                  counter = counter + 1
                  local body = string.format('{"key":"s-%d","order":"o-%d","sku":"SKU-%d","location":"loc-0","quantity":1}', counter, counter, counter % 10)
                  return wrk.format("POST", "/v1/reservations", headers, body)
                end
                """)
            let crowd = try wrk("http://127.0.0.1:18091/v1/reservations", script: many, connections: 128)
            oversold = 0
            var heldAfter: Int64 = 0
            for sku in skus.prefix(10) {
                let position = try await store.position(sku: sku, location: "loc-0")
                if position.availableToPromise < 0 { oversold += 1 }
                heldAfter += position.reserved
            }
            print("| POST /v1/reservations, 128 connections on the same 10 SKUs | \(format(crowd.rate)) reservations/s, p99 \(crowd.p99); \(format(Double(heldAfter - held))) more held, \(oversold) SKUs oversold | \(String(format: "%.2f", crowd.rate / hello.rate)) of the hello route |")
            group.cancelAll()
        }
        try await store.close()
    }

    /// Orders through the fulfilment saga's first part, as `tillwire serve` runs it: capture (the gate, the saga's
    /// start) → reserve → release to the fulfilling system, whose in-process client answers at once → the run
    /// waiting for the shipment. 16 callers capture 3,000 two-line orders on 200 SKUs at 2 DCs; 4 workers of 16
    /// run the jobs; the event waker runs beside them. Reported: orders/s from the first capture to the last
    /// release call, and the p99 from a capture's start to its release call.
    static func orders() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let quiet = logger
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let raw = try await rawBatchedInsertRate(path: folder.appendingPathComponent("raw.sqlite").path, rows: 60_000, payload: Data(String(repeating: "x", count: 300).utf8))
        print("| raw SQLite batched insert (ceiling, this run) | \(format(raw)) rows/s | 1.00 |")

        let store = try SQLiteStore.open(path: folder.appendingPathComponent("hub.sqlite").path, cachesPositions: true)
        _ = try await store.migrate()
        let skus = (0..<200).map { SKU(trusted: "SKU-\($0)") }
        let dcs: [LocationID] = ["dc-1", "dc-2"]
        _ = try await store.commit(Commit(
            catalog: dcs.map { .putLocation(Location(trusted: $0, kind: .warehouse, name: "bench")) }
                + skus.map { .putProduct(Product(trusted: $0, name: "bench", allowBackorder: false)) }))
        _ = try await store.commit(Commit(inventory: skus.flatMap { sku in dcs.map { dc in
            .record(try! InventoryMovement(sku: sku, location: dc, delta: 1_000_000, reason: .receipt, occurredAt: Date(), source: "bench", sourceKey: "stock-\(sku)-\(dc)"))
        } }))
        var policy = OrderService.Policy(taxRules: ["GB": TaxRule(country: "GB", kind: .unchecked)])
        policy.shipFrom = [.shipFromDC: dcs]
        policy.channelSystems = ["web": "web"]
        let service = OrderService(store: store, policy: policy)
        let flow = OrderFlow(service: service)

        /// The fulfilling system and the channel: they answer at once, and note when each order was released.
        final class InstantSystems: FulfilmentClient, ChannelOrderClient {
            let released = Mutex<[OrderID: ContinuousClock.Instant]>([:])
            func release(_ order: Order, lines: [OrderLine], reservations: [Reservation], key: String) async throws -> String {
                released.withLock { $0[order.id] = $0[order.id] ?? .now }
                return "doc-\(order.id)"
            }
            func cancel(_ order: OrderID, document: String, lines: [String]?, reason: String, key: String) async throws {}
            func notify(_ order: Order, status: OrderStatus, tracking: Tracking?, key: String) async throws {}
        }
        let systems = InstantSystems()
        let handlers: [any JobHandler] = [WorkflowRunner(store: store, definitions: flow.definitions)]
            + OrderJobs.fulfilmentHandlers(service, client: systems) + [OrderJobs.Notify(service: service, system: "web", client: systems)]
        let gbp = Currency.gbp
        let order: @Sendable (Int) throws -> Order = { n in
            let lines = try (0..<2).map { line in
                try OrderLine(id: "\(line + 1)", sku: skus[(n * 2 + line) % skus.count], quantity: 1, unitPrice: Money(minorUnits: 1_000, currency: gbp))
            }
            let total = Money(minorUnits: 2_000, currency: gbp)
            return try Order(
                id: .derived(channel: "web", channelOrderID: "B\(n)"), channel: "web", channelOrderID: "B\(n)", placedAt: Date(), currency: gbp,
                taxesIncluded: true, customer: Customer(email: "bench@example.org"), shipTo: try Address(country: "GB"), lines: lines, shipping: nil,
                payments: try Payments(authorized: total, captured: total, refunded: Money(minorUnits: 0, currency: gbp)),
                fulfilment: try Fulfilment(.shipFromDC), total: total)
        }
        final class Stamps: Sendable { let at = Mutex<[OrderID: ContinuousClock.Instant]>([:]) }
        let captured = Stamps()
        /// Captures `count` orders numbered from `first` (16 callers; at most `rate` orders/s when given), and waits
        /// until each is released. Returns the rate from the first capture to the last release, and the p50 and p99
        /// from a capture's start to its release call.
        func run(first: Int, count: Int, rate paced: Double?) async throws -> (rate: Double, settledRate: Double, p50: Double, p99: Double) {
            let start = ContinuousClock.now
            var settled = start
            let target = systems.released.withLock { $0.count } + count
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        let worker = JobWorker(store: store, handlers: handlers, configuration: .init(owner: "w\(index)", concurrency: 16), logger: quiet)
                        while !Task.isCancelled {
                            if try await worker.runOnce() == 0 { try await Task.sleep(for: .milliseconds(2)) }
                        }
                    }
                }
                group.addTask {
                    let waker = Subscription(name: WorkflowEventWaker.subscriberName, store: store, handler: WorkflowEventWaker(store: store),
                                             configuration: .init(batchSize: 1_000), logger: quiet)
                    while !Task.isCancelled {
                        if try await waker.runOnce() == 0 { try await Task.sleep(for: .milliseconds(2)) }
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { callers in
                    for caller in 0..<16 {
                        callers.addTask {
                            for (k, n) in stride(from: first + caller, to: first + count, by: 16).enumerated() {
                                if let paced {
                                    try await Task.sleep(until: start + .seconds(Double(k * 16 + caller) / paced), clock: .continuous)
                                }
                                let order = try order(n)
                                captured.at.withLock { $0[order.id] = .now }
                                _ = try await service.capture(order, source: "web")
                            }
                        }
                    }
                    try await callers.waitForAll()
                }
                let deadline = ContinuousClock.now + .seconds(300)
                while systems.released.withLock({ $0.count }) < target, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                // Then until the work that follows a release (the wait for the shipment armed, the channel told)
                // is done: nothing due, nothing running.
                while ContinuousClock.now < deadline {
                    let due = try await store.jobs(in: .pending, limit: 100_000).filter { $0.runAt <= Date() }.count
                    let running = try await store.jobs(in: .running, limit: 10).count
                    if due == 0 && running == 0 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                settled = ContinuousClock.now
                group.cancelAll()
            }
            let released = systems.released.withLock { $0 }.filter { id, _ in captured.at.withLock { $0[id] }.map { $0 >= start } ?? false }
            guard released.count == count else { throw BenchError("\(count - released.count) orders were not released within 300 s") }
            let starts = captured.at.withLock { $0 }
            let latencies = released.map { id, at in (at - starts[id]!).timeInterval * 1_000 }.sorted()
            return (Double(count) / (released.values.max()! - start).timeInterval, Double(count) / (settled - start).timeInterval,
                    latencies[latencies.count / 2],
                    latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
        }
        let burst = try await run(first: 0, count: 3_000, rate: nil)
        print("| orders through capture → gate → reserve → release, a burst of 3,000 (16 callers, 4 workers × 16, 2 lines each; about 10 jobs and 12 commits per order) | \(format(burst.rate)) orders/s released (\(format(burst.settledRate))/s with the work after the release); intake→release p50 \(String(format: "%.0f", burst.p50)) ms, p99 \(String(format: "%.0f", burst.p99)) ms (queueing behind the burst) | \(String(format: "%.3f", burst.rate / raw)) of the raw insert ceiling |")
        let steadyRate = (burst.settledRate / 2).rounded()
        let steady = try await run(first: 3_000, count: Int(steadyRate * 10), rate: steadyRate)
        print("| the same at half that rate, \(format(steadyRate)) orders/s for 10 s | intake→release p50 \(String(format: "%.0f", steady.p50)) ms, p99 \(String(format: "%.0f", steady.p99)) ms | — |")
        var held: Int64 = 0
        for sku in skus { for dc in dcs { held += try await store.position(sku: sku, location: dc).reserved } }
        let orders = 3_000 + Int(steadyRate * 10)
        guard held == Int64(orders * 2) else { throw BenchError("\(held) units reserved for \(orders * 2) order lines") }
        try await store.close()
    }

    /// From a POS sale's acknowledgment (the commit returned) to the channel publish call that carries it: 64 tills
    /// record one sale each at a time, as fast as the store takes them, on 100 SKUs at 10 stores feeding one channel
    /// (coalescing `window`). The subscription and the publish worker run in the same process, as in `tillwire serve`.
    static func publishLag(window: Duration) async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore.open(path: folder.appendingPathComponent("hub.sqlite").path, cachesPositions: true)   // as `tillwire serve` opens it
        _ = try await store.migrate()
        let locations = (0..<10).map { LocationID(trusted: "store-\($0)") }
        let skus = (0..<100).map { SKU(trusted: "SKU-\($0)") }
        _ = try await store.commit(Commit(
            inventory: try skus.flatMap { sku in try locations.map { .record(try InventoryMovement(sku: sku, location: $0, delta: 100_000, reason: .receipt, occurredAt: Date(), source: "erp", sourceKey: "seed-\(sku)-\($0)")) } },
            catalog: locations.map { .putLocation(Location(trusted: $0, kind: .store, name: "bench")) } + skus.map { .putProduct(Product(trusted: $0, name: "bench", allowBackorder: false)) }))
        final class Calls: AvailabilityPublisher {
            let times = Mutex<[SKU: [ContinuousClock.Instant]]>([:])
            func publish(channel: ChannelID, sku: SKU, available: Int64) async throws {
                let now = ContinuousClock.now
                times.withLock { $0[sku, default: []].append(now) }
            }
        }
        let calls = Calls()
        let channel = try ChannelPolicy(channel: "web", locations: locations)
        // Subscription checkpoints start at the head: the seed is not part of the measurement.
        let head = try await store.headPosition()
        if head > 0 { _ = try await store.commit(Commit(checkpoint: CheckpointAdvance(subscriber: ChannelAvailabilitySubscriber.subscriberName, from: 0, to: head))) }
        let subscription = Subscription(name: ChannelAvailabilitySubscriber.subscriberName, store: store,
                                        handler: ChannelAvailabilitySubscriber(channels: [channel], window: window),
                                        configuration: .init(batchSize: 1_000), logger: quiet)
        let worker = JobWorker(store: store, handlers: [ChannelAvailabilityJob(policy: channel, store: store, publisher: calls)],
                               configuration: .init(concurrency: 4, idleWait: .milliseconds(5)), logger: quiet)
        let service = InventoryService(store: store)
        final class Sales: Sendable { let list = Mutex<[(sku: SKU, at: ContinuousClock.Instant)]>([]) }
        final class Backlog: Sendable { let samples = Mutex<[(events: Int64, jobs: Int)]>([]) }
        let backlog = Backlog()
        let sales = Sales()
        let duration = Duration.seconds(10)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await subscription.run() }
            group.addTask { try await worker.run() }
            // Where the time goes: the subscription's backlog (events not yet read) and the publish jobs waiting.
            group.addTask {
                while ContinuousClock.now - start < duration {
                    let behind = try await store.headPosition() - (try await store.checkpoint(ChannelAvailabilitySubscriber.subscriberName))
                    let waiting = try await store.jobs(in: .pending, limit: 1_000).count
                    backlog.samples.withLock { $0.append((behind, waiting)) }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { tills in
                for till in 0..<64 {
                    tills.addTask {
                        var n = 0
                        while ContinuousClock.now - start < duration {
                            n += 1
                            let sku = skus[(till * 7 + n) % skus.count]
                            _ = try await service.record([try InventoryMovement(sku: sku, location: locations[till % locations.count], delta: -1, reason: .sale,
                                                                                 occurredAt: Date(), source: "pos", sourceKey: "t\(till)-\(n)")], correlation: "bench")
                            let acked = ContinuousClock.now
                            sales.list.withLock { $0.append((sku, acked)) }
                        }
                    }
                }
                try await tills.waitForAll()
            }
            // Let the pipeline drain, then stop.
            try await Task.sleep(for: .seconds(3))
            group.cancelAll()
        }
        let published = calls.times.withLock { $0 }
        var lags: [Double] = []
        var unpublished = 0
        for sale in sales.list.withLock({ $0 }) {
            // The first publish call that started after the sale was acknowledged carries it (it reads the figure then).
            guard let call = published[sale.sku]?.first(where: { $0 >= sale.at }) else { unpublished += 1; continue }
            lags.append((call - sale.at).timeInterval * 1000)
        }
        lags.sort()
        let rate = Double(sales.list.withLock { $0.count }) / duration.timeInterval
        func percentile(_ p: Double) -> String { lags.isEmpty ? "-" : String(format: "%.1f ms", lags[min(lags.count - 1, Int(Double(lags.count) * p))]) }
        print("| sale acknowledged → channel publish call (64 tills, one sale per commit, window \(Int(window.timeInterval * 1000)) ms) | at \(format(rate)) sales/s: p50 \(percentile(0.5)), p99 \(percentile(0.99)); \(published.values.map(\.count).reduce(0, +)) publish calls, \(unpublished) sales not published; subscription backlog at most \(backlog.samples.withLock { $0.map(\.events).max() ?? 0 }) events, pending publish jobs at most \(backlog.samples.withLock { $0.map(\.jobs).max() ?? 0 }) | |")
        try await store.close()
    }

    /// Resident memory of a hub with 1,000,000 SKU-locations (100,000 SKUs at 10 locations) after 10 s of
    /// availability reads spread over all of them.
    static func residentMemory() async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("hub.sqlite").path
        do {
            let store = try SQLiteStore.open(path: path)
            _ = try await store.migrate()
            try await store.close()
            let pool = try DatabasePool(path: path)
            for sku in stride(from: 0, to: 100_000, by: 5_000) {
                try await pool.write { db in
                    let statement = try db.cachedStatement(sql: "INSERT INTO inventory_positions (sku, location, on_hand, reserved, safety_stock, updated_at) VALUES (?, ?, ?, 0, 0, 0)")
                    for n in sku..<(sku + 5_000) {
                        for location in 0..<10 { try statement.execute(arguments: ["SKU-\(n)", "loc-\(location)", n % 50]) }
                    }
                }
            }
            try pool.close()
        }
        let store = try SQLiteStore.open(path: path, cachesPositions: true)
        let (record, key) = ApiKeys.generate(client: "bench", scopes: ["admin"], locations: nil, ratePerSecond: 1_000_000, burst: 1_000_000, now: Date())
        _ = try await store.commit(Commit(access: [.createKey(record)]))
        let before = residentKilobytes()
        let hub = Application(router: HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), api: APIPolicy(ratePerSecond: 1_000_000, burst: 1_000_000)),
                              configuration: .init(address: .hostname("127.0.0.1", port: 18_093)), logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hub.runService() }
            try await Task.sleep(for: .seconds(1))
            let script = try wrkScript(folder.path, "spread", key: key, """
                counter = 0
                request = function()
                  counter = counter + 1
                  return wrk.format("GET", string.format("/v1/availability?sku=SKU-%d&location=loc-%d", (counter * 7919) % 100000, counter % 10), headers)
                end
                """)
            let reads = try wrk("http://127.0.0.1:18093/", script: script)
            let after = residentKilobytes()
            print("| resident memory, 1,000,000 SKU-locations in SQLite, after \(format(reads.rate * 10)) availability reads spread over them | \(after / 1024) MB (\(before / 1024) MB before the reads; \(format(reads.rate)) req/s, p99 \(reads.p99)) | goal ≤ 256 MB |")
            group.cancelAll()
        }
        try await store.close()
    }

    static func residentKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// A wrk Lua script with the key in its headers; returns its path.
    static func wrkScript(_ folder: String, _ name: String, key: String, _ body: String) throws -> String {
        let path = "\(folder)/\(name).lua"
        let text = "headers = {[\"Content-Type\"] = \"application/json\", [\"Authorization\"] = \"Bearer \(key)\"}\n" + body
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: Pricing

    /// The checkout quote: a 20-line basket with 50 active promotions of every kind (some scoped by category, one a
    /// coupon), priced by the engine alone on one core, then through POST /v1/pricing/quote on a SQLite file, beside
    /// the hello-world route measured in this run with the same wrk settings.
    static func pricing() async throws {
        var quiet = Logger(label: "bench")
        quiet.logLevel = .critical
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tillwire-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore.open(path: folder.appendingPathComponent("hub.sqlite").path, cachesPositions: true)
        _ = try await store.migrate()
        let (record, key) = ApiKeys.generate(client: "bench", scopes: ["admin"], locations: nil, ratePerSecond: 1_000_000, burst: 1_000_000, now: Date())
        let skus = (0..<1_000).map { SKU(trusted: "SKU-\($0)") }
        _ = try await store.commit(Commit(
            catalog: skus.map { .putProduct(Product(trusted: $0, name: "bench", allowBackorder: false, categories: ["cat-\(Int($0.rawValue.dropFirst(4))! % 10)"])) },
            access: [.createKey(record)]))
        var policy = PricingService.Policy()
        policy.taxRules = ["GB": TaxRule(country: "GB", kind: .vatInclusive, rates: [0, 500, 2000])]
        let service = PricingService(store: store, policy: policy)
        let start = Date(timeIntervalSince1970: 1_767_225_600)
        let gbp = { (units: Int64) in Money(minorUnits: units, currency: .gbp) }
        _ = try await service.setPrices(skus.enumerated().map { .init(sku: $1, price: gbp(500 + Int64($0 % 50) * 100), from: start, until: nil) },
                                        channel: "web", country: "GB", source: "bench")
        var promotions: [Promotion] = []
        for index in 0..<50 {
            let on = Set((0..<6).map { skus[(index * 7 + $0 * 3) % 40] })
            let kind: Promotion.Kind = switch index % 6 {
            case 0: .percentOff(basisPoints: 500 + Int64(index) * 10)
            case 1: .amountOff(gbp(50))
            case 2: .fixedPrice(gbp(900))
            case 3: .buyXGetY(buy: 2, get: 1, basisPoints: 5_000)
            case 4: .bundle(items: [skus[index % 20]: 1, skus[(index + 1) % 20]: 1], price: gbp(1_500))
            default: .threshold(minimum: gbp(10_000), off: gbp(500), basisPoints: nil)
            }
            let scope = index % 10 == 9 ? PromotionScope(categories: ["cat-\(index % 10)"]) : PromotionScope(skus: on)
            promotions.append(Promotion(id: "p\(index)", name: "promotion \(index)", kind: kind, scope: scope, from: start, until: Date() + 86_400,
                                        priority: index, stacking: .stackable, coupon: index == 49 ? "BENCH" : nil))
        }
        for promotion in promotions { _ = try await service.putPromotion(promotion, source: "bench") }
        let lines = (0..<20).map { "{\"sku\":\"SKU-\($0)\",\"quantity\":\($0 % 3 + 1)}" }.joined(separator: ",")
        let body = "{\"channel\":\"web\",\"country\":\"GB\",\"currency\":\"GBP\",\"coupons\":[\"BENCH\"],\"lines\":[\(lines)]}"

        // The engine alone, one core: the facts read once.
        let basket = try Basket(channel: "web", store: nil, country: "GB", currency: .gbp,
                                lines: (0..<20).map { try Basket.Line(sku: skus[$0], quantity: Int64($0 % 3 + 1)) }, coupons: ["BENCH"])
        let facts = PricingFacts(prices: PriceBook(try await store.priceEntries(channel: "web", country: "GB", skus: Array(skus.prefix(20)))),
                                 promotions: try await store.promotions(activeAt: Date()),
                                 categories: try await store.products(Array(skus.prefix(20))).mapValues(\.categories),
                                 taxRule: policy.taxRules["GB"]!, defaultTaxRate: 2000)
        let sample = try PricingEngine.quote(basket, facts: facts, at: Date())
        guard sample.applied.count >= 20 else { throw BenchError("the bench basket took only \(sample.applied.count) promotions") }
        let clock = ContinuousClock()
        var quotes = 0
        let began = clock.now
        while clock.now - began < .seconds(3) {
            for _ in 0..<100 { _ = try PricingEngine.quote(basket, facts: facts, at: Date()) }
            quotes += 100
        }
        let engineRate = Double(quotes) / ((clock.now - began) / .seconds(1))

        let hub = HubRouter.build(store: store, metrics: PrometheusCollectorRegistry(), api: APIPolicy(ratePerSecond: 1_000_000, burst: 1_000_000),
                                  pricing: service)
        let bare = Router()
        bare.get("/hello") { _, _ in "Hello" }
        let hubApp = Application(router: hub, configuration: .init(address: .hostname("127.0.0.1", port: 18_101)), logger: quiet)
        let bareApp = Application(router: bare, configuration: .init(address: .hostname("127.0.0.1", port: 18_100)), logger: quiet)
        let script = try wrkScript(folder.path, "quote", key: key, """
            request = function()
              return wrk.format("POST", "/v1/pricing/quote", headers, '\(body)')
            end
            """)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hubApp.runService() }
            group.addTask { try await bareApp.runService() }
            try await Task.sleep(for: .seconds(1))
            let hello = try wrk("http://127.0.0.1:18100/hello")
            let quoted = try wrk("http://127.0.0.1:18101/v1/pricing/quote", script: script)
            print("| hello-world route, bare router (ceiling, this run) | \(format(hello.rate)) req/s, p99 \(hello.p99) | 1.00 |")
            print("| PricingEngine.quote alone, one core: 20 lines, 50 active promotions (\(sample.applied.count) apply) | \(format(engineRate)) quotes/s | \(String(format: "%.2f", engineRate / hello.rate)) of the hello route |")
            print("| POST /v1/pricing/quote, 16 connections: the same basket through the API (key, body, prices and promotions read, JSON out) | \(format(quoted.rate)) quotes/s, p99 \(quoted.p99) | \(String(format: "%.2f", quoted.rate / hello.rate)) of the hello route |")
            group.cancelAll()
        }
        try await store.close()
    }

    static func wrk(_ url: String, script: String? = nil, headers: [String] = [], connections: Int = 16) throws -> (rate: Double, p99: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["wrk", "-t1", "-c\(connections)", "-d10s", "--latency"] + (script.map { ["-s", $0] } ?? []) + headers.flatMap { ["-H", $0] } + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let rateLine = output.split(separator: "\n").first(where: { $0.contains("Requests/sec:") }),
              let rate = Double(rateLine.split(separator: " ").last ?? ""),
              let p99Line = output.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("99%") })
        else { throw BenchError("wrk failed or printed no rate for \(url):\n\(output)") }
        // A benchmark of refusals would measure the wrong thing.
        if let refused = output.split(separator: "\n").first(where: { $0.contains("Non-2xx or 3xx responses") }) {
            throw BenchError("wrk got error answers from \(url): \(refused.trimmingCharacters(in: .whitespaces))")
        }
        return (rate, String(p99Line.split(separator: " ").last ?? "?"))
    }

    static func format(_ value: Double) -> String {
        let number = NumberFormatter()
        number.numberStyle = .decimal
        number.maximumFractionDigits = 0
        return number.string(from: NSNumber(value: value)) ?? "\(Int(value))"
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
