import Foundation
import GRDB
import Synchronization
import TillwireDomain
import TillwireStorage

/// The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`, one writer with group commit,
/// concurrent readers.
public final class SQLiteStore: Store {
    public var backend: String { "sqlite" }
    let writer: any DatabaseWriter
    let committer: GroupCommitter
    /// Positions in memory for availability reads, when this store is the file's only writer (see `PositionCache`).
    let positionCache: PositionCache?
    private let closed = Mutex(false)
    public let eventSignal = EventSignal()
    /// Where the file is; nil for an in-memory database.
    public let path: String?
    /// The descriptor of `<path>.lock`, locked while this store serves the file with positions in memory.
    private let ownerLock: Int32?

    /// Opens (creating if needed) the database file at `path`, creating its folder too. Does not migrate.
    ///
    /// `cachesPositions`: keep inventory positions in memory for reads (`PositionCache`). Only for the process that
    /// is the file's one writer of inventory, `tillwire serve`: a change made through another process's store would
    /// not be seen. The commands beside a running hub (`keys`, `dlq`, `reconcile`) leave it off.
    public static func open(path: String, maximumBatch: Int = 1_000, cachesPositions: Bool = false) throws -> SQLiteStore {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        // Positions in memory are only right while no other hub writes the file: a second one is refused.
        let ownerLock = cachesPositions ? try lockOwner(of: path) : nil
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
            // GRDB can leave the writer at synchronous=NORMAL after its own setup: set FULL once it is open.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            if let ownerLock { Foundation.close(ownerLock) }
            throw StorageError.unavailable(backend: "sqlite", reason: "cannot open \(path): \(error)")
        }
        return SQLiteStore(writer: pool, path: path, maximumBatch: maximumBatch, cachesPositions: cachesPositions, ownerLock: ownerLock)
    }

    /// Whether a process serves the file at `path` now (holds `<path>.lock`, as `tillwire serve` does).
    public static func isServed(path: String) -> Bool {
        let descriptor = Foundation.open(path + ".lock", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { Foundation.close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// Takes `<path>.lock` for this process (released by `close()`, or by the kernel when the process ends).
    private static func lockOwner(of path: String) throws -> Int32 {
        let descriptor = Foundation.open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StorageError.unavailable(backend: "sqlite", reason: "cannot open \(path).lock: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(descriptor)
            throw StorageError.unavailable(backend: "sqlite", reason: "\(path) is served by another hub (\(path).lock is held); one hub serves one SQLite file, and several instances share PostgreSQL")
        }
        return descriptor
    }

    /// A private in-memory database, for tests and throwaway runs.
    public static func inMemory() throws -> SQLiteStore {
        let queue = try DatabaseQueue(configuration: configuration())
        return SQLiteStore(writer: queue, path: nil, maximumBatch: 1_000, cachesPositions: true, ownerLock: nil)
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return configuration
    }

    init(writer: any DatabaseWriter, path: String?, maximumBatch: Int, cachesPositions: Bool, ownerLock: Int32?) {
        self.writer = writer
        self.path = path
        self.ownerLock = ownerLock
        guard cachesPositions else {
            positionCache = nil
            committer = GroupCommitter(writer: writer, maximumBatch: maximumBatch)
            return
        }
        let positionCache = PositionCache()
        self.positionCache = positionCache
        self.committer = GroupCommitter(writer: writer, maximumBatch: maximumBatch) { values in
            var changed: [InventoryOutcome] = []
            for value in values {
                // A commit answers CommitOutcome; a job's completion CommitOutcome? (the cast unwraps it).
                if let outcome = value as? CommitOutcome, case .committed(let receipt) = outcome {
                    changed.append(contentsOf: receipt.inventory)
                }
            }
            positionCache.committed(changed)
        }
    }

    /// The writer connection's `synchronous` setting: 2 is FULL. Exposed so that a test can assert durability.
    public func writerSynchronousSetting() async throws -> Int {
        try await write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The journal mode of the file: `wal` for a file database.
    public func journalMode() async throws -> String {
        try await writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    public func migrate() async throws -> MigrationStatus {
        let now = Date().millisecondsSince1970
        try await write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)
                """)
            let applied = Set(try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations"))
            let unknown = applied.subtracting(SQLiteSchema.migrations.map(\.version))
            guard unknown.isEmpty else {
                throw StorageError.schemaMismatch("the database has schema versions \(unknown.sorted()) that this build does not know: it was migrated by a newer Tillwire")
            }
            for migration in SQLiteSchema.migrations where !applied.contains(migration.version) {
                try db.execute(sql: migration.sql)
                try db.execute(
                    sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    arguments: [migration.version, migration.name, now])
            }
        }
        return try await migrationStatus()
    }

    public func migrationStatus() async throws -> MigrationStatus {
        let applied = try await read { db -> [Int] in
            guard try db.tableExists("schema_migrations") else { return [] }
            return try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations ORDER BY version")
        }
        return MigrationStatus(known: SQLiteSchema.migrations.map(\.version), applied: applied)
    }

    public func commit(_ commit: Commit) async throws -> CommitOutcome {
        let now = Date()
        let outcome = try await write { db in try Self.apply(commit, in: db, now: now) }
        if case .committed(let receipt) = outcome, !receipt.events.isEmpty { eventSignal.signal() }
        return outcome
    }

    public func hasProcessed(_ key: InboxKey) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM inbox WHERE source = ? AND message_key = ?)",
                arguments: [key.source.rawValue, key.messageKey]) ?? false
        }
    }

    public func close() async throws {
        guard closed.withLock({ closed in defer { closed = true }; return !closed }) else { return }
        committer.close()
        if let pool = writer as? DatabasePool { try pool.close() }
        if let queue = writer as? DatabaseQueue { try queue.close() }
        if let ownerLock { Foundation.close(ownerLock) }
    }

    /// A write through the group committer, with native errors translated.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await committer.write(work) } catch { throw Self.translate(error) }
    }

    func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard !closed.withLock({ $0 }) else { throw StorageError.closed }
        do { return try await writer.read(work) } catch { throw Self.translate(error) }
    }

    static func translate(_ error: any Error) -> any Error {
        switch error {
        case is StorageError, is CancellationError: return error
        case let error as DomainError: return StorageError.rejected(error)
        case let error as DatabaseError:
            if error.resultCode == .SQLITE_CONSTRAINT {
                return StorageError.conflict(error.message ?? "constraint violated")
            }
            return StorageError.unavailable(backend: "sqlite", reason: "\(error)")
        default: return StorageError.unavailable(backend: "sqlite", reason: "\(error)")
        }
    }
}

