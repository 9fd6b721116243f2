import Foundation
import Logging
import Metrics
import PostgresNIO
import Synchronization
import TillwireDomain
import TillwireStorage

/// The shared store for several hub instances: one PostgreSQL database, reached through a PostgresNIO connection
/// pool that this store runs and closes.
///
/// Semantics are `SQLiteStore`'s (the conformance suite checks both). What differs is how writers are serialised:
/// - per key, by row locks (`SELECT … FOR UPDATE` on the stream and on the inventory position rows);
/// - event positions, by one transaction-scoped advisory lock taken by every commit that appends events (see
///   `PostgresStore.eventLogLock`);
/// - job claims, by `FOR UPDATE SKIP LOCKED`, so that instances claim disjoint jobs without waiting on each other.
///
/// Errors: `StorageError.rejected` for a domain rule, `.conflict` for an integrity violation (SQLSTATE class 23),
/// `.unavailable` for anything the server or the network refused (with the server's message), `.closed` after
/// `close()`.
public final class PostgresStore: Store {
    public var backend: String { "postgres" }

    let client: PostgresClient
    let logger: Logger
    /// `host:port/database`, for error messages (never the password).
    let target: String
    /// Runs `client.run()` for the store's lifetime; cancelled by `close()`.
    private let runner: Task<Void, Never>
    /// Listens for other instances' event notifications for the store's lifetime; cancelled by `close()`.
    private let listener: Task<Void, Never>
    public let eventSignal: EventSignal
    private let isClosed = Mutex(false)

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database`, port 5432 when omitted), without TLS,
    /// and checks that the server answers. Does not migrate.
    ///
    /// - Parameter maxConnections: the pool's ceiling. Default 20.
    /// - Throws: `StorageError.unavailable` for a malformed URL or a server that cannot be reached.
    public static func connect(
        url: String, maxConnections: Int = 20, logger: Logger = Logger(label: "tillwire.storage.postgres")
    ) async throws -> PostgresStore {
        let parsed = try PostgresURL(parsing: url)
        guard maxConnections >= 1 else {
            throw StorageError.unavailable(backend: "postgres", reason: "maxConnections must be at least 1, got \(maxConnections)")
        }
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password,
            database: parsed.database, tls: .disable)
        configuration.options.maximumConnections = maxConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let direct = PostgresConnection.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password,
            database: parsed.database, tls: .disable)
        let store = PostgresStore(client: client, listenerConfiguration: direct, logger: logger, target: parsed.target)
        // One direct connection first: the pool retries a refused connection for about a minute and then reports
        // only that it gave up, while this fails at once with the cause (refused, authentication, no such database).
        do {
            let probe = try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(
                    host: parsed.host, port: parsed.port, username: parsed.username, password: parsed.password,
                    database: parsed.database, tls: .disable),
                id: 0, logger: logger)
            try await probe.close()
        } catch {
            try? await store.close()
            var reason = "\(store.translate(error))"
            if case StorageError.unavailable(_, let detail) = store.translate(error) { reason = detail }
            throw StorageError.unavailable(backend: "postgres", reason: "cannot connect: \(reason)")
        }
        return store
    }

    private init(client: PostgresClient, listenerConfiguration: PostgresConnection.Configuration, logger: Logger, target: String) {
        self.client = client
        self.logger = logger
        self.target = target
        self.runner = Task { await client.run() }
        let signal = EventSignal()
        self.eventSignal = signal
        self.listener = Task { await Self.listen(configuration: listenerConfiguration, signal: signal, logger: logger) }
    }

    deinit {
        listener.cancel()
        runner.cancel()
    }

    /// Holds a dedicated connection (not one of the pool's, so a small pool is never starved) in LISTEN and signals
    /// on every notification, reconnecting after a failure. Subscribers also poll, so a notification lost while
    /// reconnecting costs latency, never an event.
    private static func listen(configuration: PostgresConnection.Configuration, signal: EventSignal, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                do {
                    try await connection.listen(on: eventChannel) { notifications in
                        signal.signal()  // events may have arrived while not listening
                        for try await _ in notifications { signal.signal() }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("event notifications interrupted; subscribers fall back to polling", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    public func migrate() async throws -> MigrationStatus {
        try await transaction { session in
            // Serialises migrators across instances: the second one finds the first one's work applied.
            try await session.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))")
            try await session.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)
                """)
            let applied = Set(try await session.rows("SELECT version FROM schema_migrations").map { try $0.decode("version", as: Int.self) })
            let unknown = applied.subtracting(PostgresSchema.migrations.map(\.version))
            guard unknown.isEmpty else {
                throw StorageError.schemaMismatch("the database has schema versions \(unknown.sorted()) that this build does not know: it was migrated by a newer Tillwire")
            }
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await session.execute(PostgresQuery(unsafeSQL: statement))
                }
                try await session.execute("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(migration.version), \(migration.name), \(Date().millisecondsSince1970))
                    """)
            }
        }
        return try await migrationStatus()
    }

    public func migrationStatus() async throws -> MigrationStatus {
        let applied = try await transaction { session -> [Int] in
            let exists = try await session.value("SELECT to_regclass('schema_migrations') IS NOT NULL", as: Bool.self) ?? false
            guard exists else { return [] }
            return try await session.rows("SELECT version FROM schema_migrations ORDER BY version").map {
                try $0.decode("version", as: Int.self)
            }
        }
        return MigrationStatus(known: PostgresSchema.migrations.map(\.version), applied: applied)
    }

    public func commit(_ commit: Commit) async throws -> CommitOutcome {
        let now = Date()
        let outcome = try await transaction { session in try await Self.apply(commit, in: session, now: now) }
        if case .committed(let receipt) = outcome, !receipt.events.isEmpty { eventSignal.signal() }
        return outcome
    }

    public func hasProcessed(_ key: InboxKey) async throws -> Bool {
        try await fetch(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE source = \(key.source.rawValue) AND message_key = \(key.messageKey)) AS seen"
        ) { try $0.decode("seen", as: Bool.self) }.first ?? false
    }

    /// Stops the connection pool and waits for it; later calls fail with `StorageError.closed`. Idempotent.
    public func close() async throws {
        let first = isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        listener.cancel()
        await listener.value
        runner.cancel()
        await runner.value
    }

    // MARK: Plumbing

    /// The advisory lock key that serialises migrations (ASCII "TWMIGRAT").
    static let migrationLock: Int64 = 0x5457_4D49_4752_4154

    private func checkOpen() throws {
        if isClosed.withLock({ $0 }) { throw StorageError.closed }
    }

    /// A caller's wait for its transaction, retries included.
    private let latency = Timer(label: "tillwire_storage_commit_seconds", dimensions: [("backend", "postgres")], preferredDisplayUnit: .seconds)

    /// Runs `work` in one transaction (READ COMMITTED), committing when it returns and rolling back when it throws,
    /// with errors translated to `StorageError`. A transaction the server aborted as a deadlock victim or a
    /// serialization failure (SQLSTATE 40P01, 40001) was rolled back whole, and is run again, up to 3 times.
    func transaction<T: Sendable>(_ work: (PostgresSession) async throws -> T) async throws -> T {
        try checkOpen()
        let started = ContinuousClock.now
        defer { latency.record(duration: ContinuousClock.now - started) }
        var attempt = 1
        while true {
            do {
                return try await client.withTransaction(logger: logger) { connection in
                    try await work(PostgresSession(connection: connection, logger: logger))
                }
            } catch where attempt < 3 && Self.isRetryable(error) {
                logger.debug("transaction aborted by the server, running it again", metadata: ["attempt": "\(attempt)"])
                attempt += 1
            } catch {
                throw translate(error)
            }
        }
    }

    /// Deadlock victims and serialization failures: the server rolled the transaction back, so it can run again.
    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresTransactionError:
            return (error.closureError ?? error.commitError).map(isRetryable) ?? false
        case let error as PSQLError:
            guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
            return state == "40P01" || state == "40001"
        default:
            return false
        }
    }

    /// One statement outside a transaction, its rows mapped by `transform`, with errors translated.
    func fetch<T>(_ query: PostgresQuery, _ transform: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        try checkOpen()
        do {
            return try await client.query(query, logger: logger).collect().map { try transform($0.makeRandomAccess()) }
        } catch {
            throw translate(error)
        }
    }

    /// Runs SQL outside any transaction (`CREATE DATABASE` cannot run inside one); for tests and tooling.
    func executeOutsideTransaction(_ sql: String) async throws {
        _ = try await fetch(PostgresQuery(unsafeSQL: sql)) { _ in () }
    }

    /// Translates a native error into `StorageError`, keeping the server's message as context.
    func translate(_ error: any Error) -> any Error {
        switch error {
        case is StorageError, is CancellationError:
            return error
        case let error as DomainError:
            return StorageError.rejected(error)
        case let error as PostgresTransactionError:
            guard let cause = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError else {
                return StorageError.unavailable(backend: "postgres", reason: "transaction failed at \(target)")
            }
            return translate(cause)
        case let error as PSQLError:
            if error.code == .poolClosed || error.code == .clientClosedConnection, isClosed.withLock({ $0 }) {
                return StorageError.closed
            }
            guard error.code == .server, let info = error.serverInfo else {
                let underlying = error.underlying.map { ": \($0)" } ?? ""
                return StorageError.unavailable(backend: "postgres", reason: "\(error.code) at \(target)\(underlying)")
            }
            let state = info[.sqlState] ?? "?"
            var message = info[.message] ?? "server error"
            if let detail = info[.detail] { message += " (\(detail))" }
            // Class 23 is integrity constraint violation: a unique key, a foreign key, a check.
            if state.hasPrefix("23") {
                return StorageError.conflict("\(message) [SQLSTATE \(state)]")
            }
            return StorageError.unavailable(backend: "postgres", reason: "\(message) [SQLSTATE \(state)] at \(target)")
        case let error as PostgresDecodingError:
            return StorageError.schemaMismatch("cannot decode column \(error.columnName) (\(error.postgresType)) as \(error.targetType): \(error.code)")
        default:
            return StorageError.unavailable(backend: "postgres", reason: "\(error) at \(target)")
        }
    }
}

/// A connection inside a transaction, with the logger its queries log to.
struct PostgresSession: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    func execute(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }

    /// The first column of the first row; nil when there is no row or the value is NULL.
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type) async throws -> T? where T._DecodableType == T {
        guard let row = try await rows(query).first else { return nil }
        return try row[0].decode(T?.self)
    }
}

extension PostgresRandomAccessRow {
    func decode<T: PostgresDecodable>(_ column: String, as type: T.Type) throws -> T {
        try self[column].decode(T.self)
    }
}

/// A parsed `postgres://user[:password]@host[:port]/database` URL.
struct PostgresURL: Sendable, Hashable {
    var username: String
    var password: String?
    var host: String
    var port: Int
    var database: String

    static let expected = "expected postgres://user[:password]@host[:port]/database"

    init(parsing text: String) throws(StorageError) {
        func malformed(_ why: String) -> StorageError {
            .unavailable(backend: "postgres", reason: "malformed PostgreSQL URL: \(why); \(Self.expected)")
        }
        guard let components = URLComponents(string: text) else { throw malformed("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw malformed("the scheme must be postgres or postgresql")
        }
        guard let host = components.host, !host.isEmpty else { throw malformed("no host") }
        guard let username = components.user, !username.isEmpty else { throw malformed("no user") }
        let path = components.path
        let database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard !database.isEmpty, !database.contains("/") else { throw malformed("no database name after the host") }
        guard components.query == nil, components.fragment == nil else {
            throw malformed("query parameters are not supported (TLS is off; pool size is a parameter of connect)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw malformed("port \(port) out of range") }
        self.username = username
        self.password = components.password
        self.host = host
        self.port = port
        self.database = database
    }

    /// Where the store connects, without credentials.
    var target: String { "\(host):\(port)/\(database)" }

    /// The same server and credentials, another database.
    func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL as text, password included.
    var text: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = username
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        return components.string ?? "postgres://\(username)@\(host):\(port)/\(database)"
    }
}

