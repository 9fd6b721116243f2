import Foundation
import Logging
import TillwireConnectors

extension POSLogIntake: FileIntake {
    /// The largest POSLog file taken from a drop folder: a store's day is a few megabytes, and a file is read whole
    /// (the parser keeps the document), so a larger one is refused rather than risk the hub's memory.
    static let maximumFileBytes = 32 << 20

    public var format: String { "poslog" }

    /// POSLog files end in `.xml`.
    public func accepts(fileNamed name: String) -> Bool {
        name.lowercased().hasSuffix(".xml")
    }

    /// Reads, checks and applies the whole file; a file that does not parse, or names a store or SKU the hub does not
    /// know, is refused as a whole with nothing applied.
    public func take(_ url: URL, name: String, logger: Logger) async throws -> FileReport {
        let size = (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        guard size <= Self.maximumFileBytes else {
            throw FileRefused("the file has \(size) bytes; a POSLog file may have at most \(Self.maximumFileBytes) (split the day into several files)")
        }
        // A file that cannot be read now (permissions, too many open files) is tried again, not rejected.
        let data = try Data(contentsOf: url)
        let document: POSLogParser.Document
        do {
            document = try POSLogParser.parse(data)
        } catch {
            throw FileRefused("not a POSLog document this hub reads: \(error.reason)")
        }
        do {
            let report = try await apply(document)
            return FileReport(summary: report.summary(of: document))
        } catch let refused as POSLogIntakeError {
            throw FileRefused(refused.description)
        }
    }
}

extension POSLogIntake.Report {
    /// One line for a log or a reason file.
    public func summary(of document: POSLogParser.Document) -> String {
        "POSLog \(document.version.rawValue): \(document.transactions.count) transactions, \(applied) applied, \(duplicates) seen before, "
            + "\(recordedOnly) recorded only (control or voided), \(unmeasuredLines) lines by weight or measure"
    }
}
