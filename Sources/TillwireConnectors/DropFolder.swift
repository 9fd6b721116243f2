import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A file format that legacy systems drop into a folder (POSLog, CSV): read, applied, and reported.
///
/// Semantics every intake keeps: applying a file twice changes nothing the second time (its records carry natural
/// keys); a file refused as a whole (`FileRefused`) has had nothing applied; any other error is taken to be passing
/// (storage away) and the file is tried again later.
public protocol FileIntake: Sendable {
    /// Its name in logs ("poslog", "csv").
    var format: String { get }
    /// Whether a file of this name is for this intake (by its extension).
    func accepts(fileNamed name: String) -> Bool
    /// Applies the file at `url`, whose name in the drop folder is `name`.
    func take(_ url: URL, name: String, logger: Logger) async throws -> FileReport
}

/// What a file did: a one-line summary for the log, and the records it refused, if any (a CSV file's bad rows),
/// as text for a report file beside it.
public struct FileReport: Sendable, Equatable {
    public var summary: String
    /// One line per refused record; empty when every record was taken.
    public var refusedRecords: String
    public var refusedCount: Int

    public init(summary: String, refusedRecords: String = "", refusedCount: Int = 0) {
        self.summary = summary
        self.refusedRecords = refusedRecords
        self.refusedCount = refusedCount
    }
}

/// A file refused as a whole, and why: nothing from it was applied, and trying again would not help.
public struct FileRefused: Error, Sendable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// A `Service` that watches a folder for files and hands each to the intake that takes its kind.
///
/// Layout (the subfolders are made at start):
/// - `<folder>/` files arrive here. Names starting with `.` or ending in `.tmp`, `.part` or `.filepart` are left alone
///   (write under such a name, then rename). Any other file is taken once two scans in a row have seen it with the
///   same size and modification time, and it was last modified at least `settle` (default 2 s) before, so that a
///   file still being written, even by a writer that stalls, is not read half-written.
/// - `<folder>/processed/` taken files; beside one whose records were partly refused, `<name>.errors.txt` lists them.
/// - `<folder>/rejected/` files refused as a whole, each with `<name>.reason.txt`. Nothing from them was applied: fix
///   the file and drop it again.
///
/// Files are taken one at a time in name order. A file of no known kind is rejected. After a passing error the file
/// stays where it is and is tried again at the next scan. A crash between applying a file and moving it applies it
/// again at the next start, which changes nothing (`FileIntake`).
public struct DropFolder: Service {
    public let folder: URL
    let intakes: [any FileIntake]
    let interval: Duration
    let settle: TimeInterval
    let logger: Logger
    /// What the previous scan saw of each file: its size and modification time.
    let seen = Seen()

    final class Seen: Sendable {
        let stamps = Mutex<[String: Stamp]>([:])
    }

    struct Stamp: Equatable {
        let size: Int
        let modified: Date
    }

    public init(folder: URL, intakes: [any FileIntake], interval: Duration = .seconds(2), settle: TimeInterval = 2, logger: Logger) {
        self.folder = folder
        self.intakes = intakes
        self.interval = interval
        self.settle = settle
        self.logger = logger
    }

    var processed: URL { folder.appendingPathComponent("processed", isDirectory: true) }
    var rejected: URL { folder.appendingPathComponent("rejected", isDirectory: true) }

    public func run() async throws {
        try prepare()
        logger.info("drop folder: watching", metadata: ["folder": "\(folder.path)", "formats": "\(intakes.map(\.format).joined(separator: ","))"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await scan()
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
        }
    }

    /// Makes the folder and its subfolders; fails naming the folder if it cannot.
    public func prepare() throws {
        for directory in [folder, processed, rejected] {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw FileRefused("the drop folder \(directory.path) cannot be made: \(error.localizedDescription)")
            }
        }
    }

    /// Takes every file that is ready now; returns what became of each, by name.
    @discardableResult
    public func scan(now: Date = Date()) async -> [String: Outcome] {
        var outcomes: [String: Outcome] = [:]
        for name in readyFiles(now: now) {
            guard !Task.isCancelled else { break }
            outcomes[name] = await take(name)
        }
        return outcomes
    }

    public enum Outcome: Sendable, Equatable {
        case processed(FileReport)
        case rejected(String)
        /// A passing error: the file stays and is tried again.
        case deferred(String)
    }

    func readyFiles(now: Date) -> [String] {
        let keys: [URLResourceKey] = [.isRegularFileKey, .contentModificationDateKey, .fileSizeKey]
        guard let entries = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: keys) else {
            logger.error("drop folder: cannot list it", metadata: ["folder": "\(folder.path)"])
            return []
        }
        var stamps: [String: Stamp] = [:]
        for url in entries {
            let name = url.lastPathComponent
            guard !name.hasPrefix("."), !name.hasSuffix(".tmp"), !name.hasSuffix(".part"), !name.hasSuffix(".filepart"),
                  let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true,
                  let modified = values.contentModificationDate, let size = values.fileSize
            else { continue }
            stamps[name] = Stamp(size: size, modified: modified)
        }
        let previous = seen.stamps.withLock { seen in
            defer { seen = stamps }
            return seen
        }
        return stamps.filter { name, stamp in previous[name] == stamp && now.timeIntervalSince(stamp.modified) >= settle }.keys.sorted()
    }

    func take(_ name: String) async -> Outcome {
        let file = folder.appendingPathComponent(name)
        guard let intake = intakes.first(where: { $0.accepts(fileNamed: name) }) else {
            let known = intakes.map(\.format).joined(separator: ", ")
            return reject(name, reason: "no intake takes a file named \(name) (this hub takes: \(known)); see docs/connectors/poslog.md and csv.md")
        }
        logger.info("drop folder: taking a file", metadata: ["file": "\(name)", "format": "\(intake.format)"])
        do {
            let report = try await intake.take(file, name: name, logger: logger)
            let destination = try move(file, into: processed)
            if report.refusedCount > 0 {
                let errors = processed.appendingPathComponent(destination.lastPathComponent + ".errors.txt")
                do {
                    try Data(report.refusedRecords.utf8).write(to: errors, options: .atomic)
                } catch {
                    // The file is taken and moved: the refused rows go to the log instead.
                    logger.error("drop folder: the list of refused records cannot be written; here it is", metadata: [
                        "file": "\(name)", "error": "\(error)", "refused": "\(report.refusedRecords.prefix(10_000))"])
                }
                logger.warning("drop folder: file taken, some records refused", metadata: [
                    "file": "\(name)", "summary": "\(report.summary)", "refused": "\(report.refusedCount)", "errors": "\(errors.lastPathComponent)"])
            } else {
                logger.info("drop folder: file taken", metadata: ["file": "\(name)", "summary": "\(report.summary)"])
            }
            return .processed(report)
        } catch let refused as FileRefused {
            return reject(name, reason: refused.reason)
        } catch {
            logger.error("drop folder: file not taken; trying again at the next scan", metadata: ["file": "\(name)", "error": "\(error)"])
            return .deferred("\(error)")
        }
    }

    func reject(_ name: String, reason: String) -> Outcome {
        let file = folder.appendingPathComponent(name)
        do {
            let destination = try move(file, into: rejected)
            try Data((reason + "\n").utf8).write(to: rejected.appendingPathComponent(destination.lastPathComponent + ".reason.txt"), options: .atomic)
            logger.error("drop folder: file rejected, nothing from it applied", metadata: [
                "file": "\(name)", "moved_to": "rejected/\(destination.lastPathComponent)", "reason": "\(reason)"])
            return .rejected(reason)
        } catch {
            logger.error("drop folder: file refused but cannot be moved; it stays", metadata: ["file": "\(name)", "reason": "\(reason)", "error": "\(error)"])
            return .deferred("\(error)")
        }
    }

    /// Moves `file` into `directory` under its name, or its name with `.2`, `.3`… when that is taken (a file
    /// dropped again under the same name keeps the earlier one).
    func move(_ file: URL, into directory: URL) throws -> URL {
        let name = file.lastPathComponent
        var destination = directory.appendingPathComponent(name)
        var attempt = 1
        while FileManager.default.fileExists(atPath: destination.path) {
            attempt += 1
            destination = directory.appendingPathComponent("\(name).\(attempt)")
        }
        try FileManager.default.moveItem(at: file, to: destination)
        return destination
    }
}
