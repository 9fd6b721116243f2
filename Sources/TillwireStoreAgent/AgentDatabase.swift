import Foundation
import GRDB

/// The store agent's own SQLite file (WAL, `synchronous=FULL`): the queue of transactions taken at the tills, in the
/// order taken, and the local copy of the store's stock and pickup queue. One transaction per method.
///
/// The queue (`outbox`) is the agent's promise to the till: a transaction acknowledged to the till is in it, and it
/// leaves it only when the hub has acknowledged it (`forwarded_at`) or refused it for good (`refused`), never before.
public final class AgentDatabase: Sendable {
    /// A transaction as the till sent it, waiting to be forwarded.
    public struct Queued: Sendable, Hashable {
        public let sequence: Int64
        public let kind: Kind
        public let key: String
        /// The JSON items of the hub request (`movements` or `counts`), one per item.
        public let items: [Data]
        public let acceptedAt: Date
    }

    public enum Kind: String, Sendable { case movements, counts }

    /// What the till gets back for a transaction: where it stands in the queue.
    public struct Accepted: Sendable, Hashable {
        public let sequence: Int64
        /// The till sent this key before: nothing was queued again.
        public let repeated: Bool
        /// The digest of the request the key was first sent with.
        public let digest: String
    }

    /// A local stock figure: the hub's as of the last refresh, plus what the tills did since that the hub had not seen.
    public struct LocalPosition: Sendable, Hashable {
        public let sku: String
        public let onHand: Int64
        public let reserved: Int64
        public let safetyStock: Int64
        /// Units moved at the tills that the hub's figure does not contain yet.
        public let unsent: Int64
        public var available: Int64 { onHand - reserved - safetyStock }
    }

    public struct QueueState: Sendable, Hashable {
        public let depth: Int
        public let oldestAcceptedAt: Date?
        public let forwardedThrough: Int64
        public let refused: Int
    }

    /// A figure the hub sent: the position of `sku` at the store after its last event.
    public struct HubFigure: Sendable, Hashable {
        public let sku: String
        public let onHand: Int64
        public let reserved: Int64
        public let safetyStock: Int64

        public init(sku: String, onHand: Int64, reserved: Int64, safetyStock: Int64) {
            self.sku = sku
            self.onHand = onHand
            self.reserved = reserved
            self.safetyStock = safetyStock
        }
    }

    let queue: DatabaseQueue

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        queue = try DatabaseQueue(path: path, configuration: configuration)
        // GRDB can leave the connection at synchronous=NORMAL after its own setup: set FULL once it is open.
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(queue)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Frozen once shipped: a change is a new migration.
        migrator.registerMigration("1") { db in
            try db.execute(sql: """
                CREATE TABLE outbox (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    key TEXT NOT NULL UNIQUE,
                    digest TEXT NOT NULL,
                    items BLOB NOT NULL,
                    accepted_at REAL NOT NULL,
                    forwarded_at REAL,
                    refused TEXT
                );
                CREATE INDEX outbox_waiting ON outbox(sequence) WHERE forwarded_at IS NULL AND refused IS NULL;
                CREATE TABLE outbox_lines (
                    sequence INTEGER NOT NULL REFERENCES outbox(sequence),
                    sku TEXT NOT NULL,
                    delta INTEGER NOT NULL
                );
                CREATE INDEX outbox_lines_sku ON outbox_lines(sku, sequence);
                CREATE TABLE stock (
                    sku TEXT PRIMARY KEY,
                    on_hand INTEGER NOT NULL,
                    reserved INTEGER NOT NULL,
                    safety_stock INTEGER NOT NULL
                );
                CREATE TABLE state (
                    name TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """)
        }
        return migrator
    }

    /// The connection's `synchronous` setting (2 is FULL), for a test to assert durability.
    public func synchronousSetting() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    // MARK: The queue

    /// Queues a till's transaction under its key; the same key again is `repeated` and queues nothing. `lines`
    /// (SKU, units moved at this store) count in the local figures at once.
    public func accept(_ kind: Kind, key: String, digest: String, items: [Data], lines: [(sku: String, delta: Int64)], at: Date) throws -> Accepted {
        try queue.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT sequence, digest FROM outbox WHERE key = ?", arguments: [key]) {
                return Accepted(sequence: row["sequence"], repeated: true, digest: row["digest"])
            }
            try db.execute(sql: "INSERT INTO outbox (kind, key, digest, items, accepted_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [kind.rawValue, key, digest, try JSONEncoder().encode(items), at.timeIntervalSince1970])
            let sequence = db.lastInsertedRowID
            for line in lines {
                try db.execute(sql: "INSERT INTO outbox_lines (sequence, sku, delta) VALUES (?, ?, ?)", arguments: [sequence, line.sku, line.delta])
            }
            return Accepted(sequence: sequence, repeated: false, digest: digest)
        }
    }

    /// The transaction queued under a till's key, as a repeat; nil when the key is new.
    public func sequence(ofKey key: String) throws -> Accepted? {
        try queue.read { db in
            try Row.fetchOne(db, sql: "SELECT sequence, digest FROM outbox WHERE key = ?", arguments: [key]).map {
                Accepted(sequence: $0["sequence"], repeated: true, digest: $0["digest"])
            }
        }
    }

    /// The oldest waiting transactions, in the order taken.
    public func waiting(limit: Int) throws -> [Queued] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT sequence, kind, key, items, accepted_at FROM outbox
                WHERE forwarded_at IS NULL AND refused IS NULL ORDER BY sequence LIMIT ?
                """, arguments: [limit]).map { row in
                Queued(sequence: row["sequence"], kind: Kind(rawValue: row["kind"]) ?? .movements, key: row["key"],
                       items: try JSONDecoder().decode([Data].self, from: row["items"] as Data),
                       acceptedAt: Date(timeIntervalSince1970: row["accepted_at"]))
            }
        }
    }

    /// The hub acknowledged these transactions: they leave the queue.
    public func forwarded(_ sequences: [Int64], at: Date) throws {
        guard !sequences.isEmpty else { return }
        try queue.write { db in
            for sequence in sequences {
                try db.execute(sql: "UPDATE outbox SET forwarded_at = ? WHERE sequence = ? AND forwarded_at IS NULL",
                               arguments: [at.timeIntervalSince1970, sequence])
            }
            try Self.setState(db, "last_contact", String(at.timeIntervalSince1970))
        }
    }

    /// The hub refused this transaction for good: it leaves the queue, with the reason kept for the store's staff.
    public func refused(_ sequence: Int64, reason: String, at: Date) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE outbox SET refused = ?, forwarded_at = NULL WHERE sequence = ?", arguments: [reason, sequence])
            // A refused sale did not happen for the hub: it no longer counts in the local figures.
            try db.execute(sql: "DELETE FROM outbox_lines WHERE sequence = ?", arguments: [sequence])
            try Self.setState(db, "last_contact", String(at.timeIntervalSince1970))
        }
    }

    public func queueState() throws -> QueueState {
        try queue.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT count(*) AS depth, min(accepted_at) AS oldest FROM outbox WHERE forwarded_at IS NULL AND refused IS NULL
                """)
            let through = try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM outbox WHERE forwarded_at IS NOT NULL") ?? 0
            let refused = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE refused IS NOT NULL") ?? 0
            let oldest: Double? = row?["oldest"]
            return QueueState(depth: row?["depth"] ?? 0, oldestAcceptedAt: oldest.map(Date.init(timeIntervalSince1970:)),
                              forwardedThrough: through, refused: refused)
        }
    }

    /// Transactions the hub refused, newest first.
    public func refusals(limit: Int) throws -> [(sequence: Int64, key: String, reason: String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT sequence, key, refused FROM outbox WHERE refused IS NOT NULL ORDER BY sequence DESC LIMIT ?",
                             arguments: [limit]).map { ($0["sequence"], $0["key"], $0["refused"]) }
        }
    }

    // MARK: The local copy

    /// The highest sequence the hub has acknowledged or refused with every one before it: a refresh that starts
    /// now reads a hub that contains them.
    public func settledThrough() throws -> Int64 {
        try queue.read { db in
            let firstWaiting = try Int64.fetchOne(db, sql: "SELECT min(sequence) FROM outbox WHERE forwarded_at IS NULL AND refused IS NULL")
            if let firstWaiting { return firstWaiting - 1 }
            return try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM outbox") ?? 0
        }
    }

    /// Stores what a refresh read from the hub, all its pages at once: figures as of its event `version`, read after
    /// every transaction up to `covering` was settled at the hub (so those no longer add to the figures).
    public func refreshed(_ figures: [HubFigure], version: Int64, covering: Int64, at: Date) throws {
        try queue.write { db in
            for figure in figures {
                try db.execute(sql: """
                    INSERT INTO stock (sku, on_hand, reserved, safety_stock) VALUES (?, ?, ?, ?)
                    ON CONFLICT(sku) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved, safety_stock = excluded.safety_stock
                    """, arguments: [figure.sku, figure.onHand, figure.reserved, figure.safetyStock])
            }
            try Self.setState(db, "feed_version", String(version))
            try Self.setState(db, "last_contact", String(at.timeIntervalSince1970))
            try Self.setState(db, "refreshed_at", String(at.timeIntervalSince1970))
            // Lines the hub's figures now contain are no longer added to them.
            try db.execute(sql: "DELETE FROM outbox_lines WHERE sequence <= ?", arguments: [covering])
        }
    }

    /// The store's figure for a SKU: the hub's as of the last refresh plus the tills' moves it had not seen; nil when
    /// the SKU is neither in the copy nor moved here.
    public func position(_ sku: String) throws -> LocalPosition? {
        try queue.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT on_hand, reserved, safety_stock FROM stock WHERE sku = ?", arguments: [sku])
            let unsent = try Int64.fetchOne(db, sql: "SELECT sum(delta) FROM outbox_lines WHERE sku = ?", arguments: [sku])
            guard row != nil || unsent != nil else { return nil }
            let onHand: Int64 = row?["on_hand"] ?? 0
            return LocalPosition(sku: sku, onHand: onHand + (unsent ?? 0), reserved: row?["reserved"] ?? 0,
                                 safetyStock: row?["safety_stock"] ?? 0, unsent: unsent ?? 0)
        }
    }

    /// Every SKU of the copy.
    public func skus() throws -> [String] {
        try queue.read { db in try String.fetchAll(db, sql: "SELECT sku FROM stock ORDER BY sku") }
    }

    /// The store's prices and promotions as the hub last sent them (its JSON), and when.
    public func pricing() throws -> (body: Data, at: Date)? { try document("pricing") }

    public func storePricing(_ body: Data, at: Date) throws { try storeDocument("pricing", body, at: at) }

    public func stockCount() throws -> Int {
        try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM stock") ?? 0 }
    }

    public func feedVersion() throws -> Int64 {
        try queue.read { db in Int64(try Self.state(db, "feed_version") ?? "0") ?? 0 }
    }

    /// When the copy was last read whole from the hub; nil before the first time.
    public func refreshedAt() throws -> Date? {
        try date("refreshed_at")
    }

    /// When the hub last answered.
    public func lastContact() throws -> Date? {
        try date("last_contact")
    }

    public func contacted(at: Date) throws {
        try queue.write { db in try Self.setState(db, "last_contact", String(at.timeIntervalSince1970)) }
    }

    /// The pickup queue as the hub last sent it (its JSON), and when.
    public func pickups() throws -> (body: Data, at: Date)? { try document("pickups") }

    public func storePickups(_ body: Data, at: Date) throws { try storeDocument("pickups", body, at: at) }

    /// A document the hub sent, kept whole with the time it came.
    func document(_ name: String) throws -> (body: Data, at: Date)? {
        try queue.read { db in
            guard let text = try Self.state(db, name), let at = try Self.state(db, name + "_at").flatMap(Double.init) else { return nil }
            return (Data(text.utf8), Date(timeIntervalSince1970: at))
        }
    }

    func storeDocument(_ name: String, _ body: Data, at: Date) throws {
        try queue.write { db in
            try Self.setState(db, name, String(decoding: body, as: UTF8.self))
            try Self.setState(db, name + "_at", String(at.timeIntervalSince1970))
        }
    }

    func date(_ name: String) throws -> Date? {
        try queue.read { db in try Self.state(db, name).flatMap(Double.init).map(Date.init(timeIntervalSince1970:)) }
    }

    static func state(_ db: Database, _ name: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM state WHERE name = ?", arguments: [name])
    }

    static func setState(_ db: Database, _ name: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                       arguments: [name, value])
    }
}
