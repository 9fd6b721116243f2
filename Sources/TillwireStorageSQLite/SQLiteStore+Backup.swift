import Foundation
import GRDB
import TillwireStorage

/// A backup refused before anything was written.
public struct SQLiteBackupError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Reason: Sendable, Equatable {
        case targetExists
    }

    private let reason: Reason
    /// The file the backup was to be written to.
    public let path: String

    /// Something (a file, even an empty one, a folder or a link) is already at `path`: a backup never replaces it.
    public static func targetExists(_ path: String) -> SQLiteBackupError {
        SQLiteBackupError(reason: .targetExists, path: path)
    }

    public var description: String {
        switch reason {
        case .targetExists:
            "backup refused: \(path) already exists, and a backup never replaces a file (move it away or choose another path)"
        }
    }
}

extension SQLiteStore {
    /// Writes a consistent copy of the database, as of its last commit, to a new file at `path`.
    ///
    /// SQLite's `VACUUM INTO` on the writer connection: commits wait while it runs (about as long as reading the whole
    /// file), reads go on. The copy is compacted and in rollback-journal mode; `SQLiteStore.open` turns it back to WAL.
    /// It is written beside `path` under a temporary name, flushed to disk, then linked to `path` in one step, so that
    /// `path` is either absent or a complete copy (never a torn file named like a good backup), and a file that
    /// appears there meanwhile is not replaced. Works for an in-memory store too.
    ///
    /// Throws `SQLiteBackupError.targetExists` when anything is at `path`; `StorageError.unavailable` when SQLite or
    /// the file system fails (the temporary file is removed).
    public func backup(to path: String) async throws {
        guard !Self.exists(path) else { throw SQLiteBackupError.targetExists(path) }
        let partial = "\(path).partial-\(String(UInt64.random(in: 0 ... .max), radix: 36))"
        // Once linked, `path` holds the data: removing the temporary name leaves the backup.
        defer { unlink(partial) }
        do {
            try await writer.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM INTO ?", arguments: [partial])
            }
        } catch {
            throw Self.translate(error)
        }
        try Self.flush(partial)
        // link(2), unlike rename(2), fails when the name is taken.
        guard link(partial, path) == 0 else {
            let code = errno
            if code == EEXIST { throw SQLiteBackupError.targetExists(path) }
            throw StorageError.unavailable(backend: "sqlite", reason: "cannot link backup \(partial) to \(path): \(String(cString: strerror(code)))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        try Self.flush(folder.isEmpty ? "." : folder)
    }

    /// The backup's name before upgrading a database file to schema `version` at `time`:
    /// `<databasePath>.before-schema-<version>-<UTC time>` (`hub.sqlite.before-schema-15-20261130T010500Z`). The time
    /// keeps a second attempt at the same upgrade, after a rollback and more trading, from finding an older copy.
    public static func backupPath(for databasePath: String, beforeSchema version: Int, at time: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: time)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                           parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        return "\(databasePath).before-schema-\(version)-\(stamp)"
    }

    /// Where to back this file up before `migrate()` at `time`: `<path>.before-schema-<N>-<UTC time>`, N the highest
    /// migration that `migrate()` will apply. Nil when nothing is pending, when nothing is applied yet (a new file
    /// holds nothing to keep), and for an in-memory store.
    public func backupPathBeforeMigrating(at time: Date = Date()) async throws -> String? {
        guard let path else { return nil }
        let status = try await migrationStatus()
        guard !status.applied.isEmpty, let target = status.pending.max() else { return nil }
        return Self.backupPath(for: path, beforeSchema: target, at: time)
    }

    /// Whether anything is at `path`, a dangling link included.
    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// fsync(2) of a file or a folder (a folder, so that a new name in it survives a crash).
    private static func flush(_ path: String) throws {
        let descriptor = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw StorageError.unavailable(backend: "sqlite", reason: "cannot open \(path) to flush it: \(String(cString: strerror(errno)))")
        }
        defer { Foundation.close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw StorageError.unavailable(backend: "sqlite", reason: "cannot flush \(path): \(String(cString: strerror(errno)))")
        }
    }
}
