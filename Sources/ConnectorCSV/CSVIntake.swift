import Crypto
import Foundation
import Logging
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// CSV files from legacy systems that only export files: stock counts and till sales, in the columns of
/// docs/connectors/csv.md, streamed through a fixed amount of memory whatever their length.
///
/// A file is taken once: its SHA-256 is recorded when it is done, and a file with the same bytes (under any name)
/// applies nothing. Within a file each row is applied once too (a count by the file's hash and the row's line, a sale
/// by its natural key, the same as POSLog's), so a file read again after a crash part-way changes nothing already
/// applied. Rows that cannot be applied are refused one by one with their line and reason (`FileReport`); a header
/// that is not one of the formats refuses the whole file. Progress is logged every `progressInterval`.
public struct CSVIntake: FileIntake {
    /// The file formats, told apart by their header.
    public enum Kind: String, Sendable {
        case counts, sales

        static let columns: [Kind: (required: [String], optional: [String])] = [
            .counts: (["location", "sku", "counted", "as_of"], []),
            .sales: (["store", "workstation", "business_day", "transaction", "line", "sku", "quantity"], ["occurred_at"]),
        ]
    }

    /// `csv.file_processed` on the stream `files/csv`: a file done, once per content.
    public struct Processed: VersionedPayload, Hashable {
        public static let eventType = "csv.file_processed"
        public static let schemaVersion = 1
        public let name: String
        public let sha256: String
        public let kind: String
        public let rows: Int
        public let applied: Int
        public let refused: Int
    }

    /// The counts' source system (its divergences are reported under it).
    public static let system: SystemID = "csv"
    /// Refused rows listed in a report; the rest are counted.
    static let maximumListedRefusals = 10_000

    let store: any Store
    let inventory: InventoryService
    let batchSize: Int
    let progressInterval: Duration
    /// SKUs remembered as known or unknown while a file is read, at most.
    let skuCacheLimit: Int

    public init(store: any Store, inventory: InventoryService, batchSize: Int = 1_000, progressInterval: Duration = .seconds(5), skuCacheLimit: Int = 100_000) {
        self.store = store
        self.inventory = inventory
        self.batchSize = batchSize
        self.progressInterval = progressInterval
        self.skuCacheLimit = skuCacheLimit
    }

    public var format: String { "csv" }

    public func accepts(fileNamed name: String) -> Bool {
        name.lowercased().hasSuffix(".csv")
    }

    public func take(_ url: URL, name: String, logger: Logger) async throws -> FileReport {
        let hash = try Self.sha256(of: url)
        let inbox = InboxKey(source: Self.system, messageKey: "file/\(hash)")
        if try await store.hasProcessed(inbox) {
            return FileReport(summary: "csv: the same content as a file taken before (sha256 \(hash.prefix(16))…): nothing applied")
        }
        let size = (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        // A file that cannot be opened now (permissions, too many open files) is tried again, not rejected.
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }

        var run = Run(intake: self, hash: hash, locations: Set(try await store.locations().map(\.id)))
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        let clock = ContinuousClock()
        let started = clock.now
        var lastProgress = started
        var bytesRead = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty {
                reader.finish(into: &records)
            } else {
                bytesRead += chunk.count
                reader.read(chunk, into: &records)
            }
            for record in records { try await run.take(record) }
            records.removeAll(keepingCapacity: true)
            if chunk.isEmpty { break }
            if clock.now - lastProgress >= progressInterval {
                lastProgress = clock.now
                let seconds = max((clock.now - started).timeInterval, 0.001)
                logger.info("csv: reading", metadata: [
                    "file": "\(name)", "rows": "\(run.rows)", "percent": "\(size > 0 ? bytesRead * 100 / size : 100)",
                    "rows_per_second": "\(Int(Double(run.rows) / seconds))"])
            }
        }
        try await run.flush()
        guard let kind = run.kind else { throw FileRefused("the file is empty: a CSV file starts with its header (docs/connectors/csv.md)") }
        let event = try NewEvent(stream: "files/csv", correlationID: try CorrelationID("csv/\(hash.prefix(32))"), occurredAt: Date(), source: Self.system,
                                 payload: Processed(name: String(name.prefix(200)), sha256: hash, kind: kind.rawValue, rows: run.rows,
                                                    applied: run.applied, refused: run.refused))
        _ = try await store.commit(Commit(inbox: inbox, events: [EventAppend(event)]))
        let same = kind == .counts ? "agreeing or seen before" : "seen before"
        var summary = "csv \(kind.rawValue): \(run.rows) rows, \(run.applied) applied, \(run.duplicates) \(same), \(run.refused) refused"
        if run.unmeasured > 0 { summary += ", \(run.unmeasured) by weight or measure (no units moved)" }
        var listed = run.refusals.joined(separator: "\n")
        if run.refused > run.refusals.count { listed += "\n… and \(run.refused - run.refusals.count) more rows refused" }
        return FileReport(summary: summary, refusedRecords: listed.isEmpty ? "" : listed + "\n", refusedCount: run.refused)
    }

    static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

extension CSVIntake {
    /// One file being read: its header, the rows waiting in the batch, and the tally.
    struct Run {
        let intake: CSVIntake
        let hash: String
        let locations: Set<LocationID>
        var kind: Kind?
        var index: [String: Int] = [:]
        var knownSKUs: Set<SKU> = []
        var unknownSKUs: Set<String> = []
        var counts: [(line: Int, count: InventoryService.Count)] = []
        var sales: [(line: Int, movement: InventoryMovement)] = []
        var rows = 0, applied = 0, duplicates = 0, refused = 0, unmeasured = 0
        var refusals: [String] = []

        init(intake: CSVIntake, hash: String, locations: Set<LocationID>) {
            self.intake = intake
            self.hash = hash
            self.locations = locations
        }

        var correlation: CorrelationID { CorrelationID(trusted: "csv/\(hash.prefix(32))") }

        mutating func take(_ record: CSVReader.Record) async throws {
            guard let kind else {
                try readHeader(record)
                return
            }
            rows += 1
            switch record {
            case .malformed(let line, let reason):
                refuse(line, reason)
            case .fields(let line, let fields):
                guard fields.count == index.count else {
                    refuse(line, "\(fields.count) fields where the header has \(index.count)")
                    return
                }
                let index = index
                func field(_ name: String) -> String? { index[name].map { fields[$0].trimmingCharacters(in: .whitespaces) } }
                do {
                    switch kind {
                    case .counts: try count(line, field)
                    case .sales: try sale(line, field)
                    }
                } catch let error as RowError {
                    refuse(line, error.reason)
                } catch let error as DomainError {
                    refuse(line, "\(error)")
                }
            }
            if counts.count + sales.count >= intake.batchSize { try await flush() }
        }

        mutating func readHeader(_ record: CSVReader.Record) throws {
            guard case .fields(_, let names) = record else {
                if case .malformed(let line, let reason) = record { throw FileRefused("the header (line \(line)) cannot be read: \(reason)") }
                return
            }
            let columns = names.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let given = Set(columns)
            guard given.count == columns.count else { throw FileRefused("the header names a column twice: \(columns.joined(separator: ","))") }
            let matches = Kind.columns.filter { Set($0.value.required).isSubset(of: given) }
            guard let (kind, expected) = matches.first, matches.count == 1 else {
                throw FileRefused("the header \(columns.joined(separator: ",")) is not a format this hub reads: counts need "
                                  + "\(Kind.columns[.counts]?.required.joined(separator: ",") ?? ""), sales need "
                                  + "\(Kind.columns[.sales]?.required.joined(separator: ",") ?? "") (docs/connectors/csv.md)")
            }
            let unknown = columns.filter { !expected.required.contains($0) && !expected.optional.contains($0) }
            guard unknown.isEmpty else {
                throw FileRefused("column \(unknown.joined(separator: ", ")) is not a column of a \(kind.rawValue) file (its columns: "
                                  + "\((expected.required + expected.optional).joined(separator: ",")))")
            }
            self.kind = kind
            index = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($1, $0) })
        }

        struct RowError: Error {
            let reason: String
        }

        func required(_ name: String, _ field: (String) -> String?) throws -> String {
            guard let value = field(name), !value.isEmpty else { throw RowError(reason: "\(name) is empty") }
            return value
        }

        static let posix = Locale(identifier: "en_US_POSIX")
        static let plainTime = Date.ISO8601FormatStyle()
        static let fractionalTime = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

        func time(_ name: String, _ text: String) throws -> Date {
            if let date = (try? Self.plainTime.parse(text)) ?? (try? Self.fractionalTime.parse(text)) { return date }
            throw RowError(reason: "\(name) '\(text.prefix(40))' is not an ISO 8601 time (2026-11-29T18:00:00Z)")
        }

        func location(_ text: String) throws -> LocationID {
            guard let id = try? LocationID(text), locations.contains(id) else { throw RowError(reason: "location \(text.prefix(60)) is not a location of the hub") }
            return id
        }

        mutating func count(_ line: Int, _ field: (String) -> String?) throws {
            let at = try location(try required("location", field))
            let sku = try SKU(try required("sku", field))
            let text = try required("counted", field)
            guard let counted = Int64(text) else { throw RowError(reason: "counted '\(text.prefix(40))' is not a whole number") }
            guard (0...InventoryMovement.maximumCount).contains(counted) else {
                throw RowError(reason: "counted \(counted) is not between 0 and \(InventoryMovement.maximumCount)")
            }
            let asOf = try time("as_of", try required("as_of", field))
            counts.append((line, InventoryService.Count(sku: sku, location: at, counted: counted, asOf: asOf, source: CSVIntake.system,
                                                        sourceKey: "\(hash.prefix(32))/\(line)")))
        }

        mutating func sale(_ line: Int, _ field: (String) -> String?) throws {
            let store = try required("store", field)
            guard let at = [store, "store-\(store)"].lazy.compactMap({ try? LocationID($0) }).first(where: { locations.contains($0) }) else {
                throw RowError(reason: "store \(store.prefix(60)) is not a location of the hub (its id, or store-<id>)")
            }
            // The key names the store's location however the export spells it, as POSLog's does.
            let key = try ([at.rawValue] + ["workstation", "business_day", "transaction", "line"].map { try required($0, field) }).joined(separator: "/")
            let sku = try SKU(try required("sku", field))
            let text = try required("quantity", field)
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }),
                  let quantity = Decimal(string: text, locale: Self.posix), quantity.isFinite, !quantity.isZero
            else { throw RowError(reason: "quantity '\(text.prefix(40))' is not a number other than 0") }
            guard quantity.magnitude <= Decimal(InventoryMovement.maximumMagnitude) else {
                throw RowError(reason: "quantity \(text.prefix(40)) is more than \(InventoryMovement.maximumMagnitude) units in one line")
            }
            let whole = NSDecimalNumber(decimal: quantity).int64Value
            guard Decimal(whole) == quantity else {
                // Weighed or measured goods (a fraction): the hub counts pieces, as with POSLog.
                unmeasured += 1
                return
            }
            let occurred = try field("occurred_at").flatMap { $0.isEmpty ? nil : try time("occurred_at", $0) } ?? Date()
            sales.append((line, try InventoryMovement(sku: sku, location: at, delta: -whole, reason: whole > 0 ? .sale : .return, occurredAt: occurred,
                                                      source: try SystemID("pos-\(at.rawValue)"), sourceKey: key)))
        }

        mutating func refuse(_ line: Int, _ reason: String) {
            refused += 1
            if refusals.count < CSVIntake.maximumListedRefusals { refusals.append("line \(line): \(reason)") }
        }

        /// Applies the rows waiting: those naming an unknown SKU are refused, the others applied at once, or one by
        /// one when the batch is refused (so that one bad row refuses only itself).
        mutating func flush() async throws {
            let lines = counts.map(\.line) + sales.map(\.line)
            let skus = counts.map(\.count.sku) + sales.map(\.movement.sku)
            // The caches stay bounded whatever the file holds: emptied before a batch that would overfill them, so that
            // every SKU of the batch is looked up again.
            if knownSKUs.count + unknownSKUs.count + skus.count > intake.skuCacheLimit {
                knownSKUs.removeAll()
                unknownSKUs.removeAll()
            }
            let unseen = Set(skus).subtracting(knownSKUs).filter { !unknownSKUs.contains($0.rawValue) }
            if !unseen.isEmpty {
                let found = try await intake.store.products(Array(unseen))
                for sku in unseen {
                    if found[sku] != nil { knownSKUs.insert(sku) } else { unknownSKUs.insert(sku.rawValue) }
                }
            }
            for (line, sku) in zip(lines, skus) where unknownSKUs.contains(sku.rawValue) {
                refuse(line, "sku \(sku) is not a product of the hub")
            }
            let batchCounts = counts.filter { knownSKUs.contains($0.count.sku) }
            let batchSales = sales.filter { knownSKUs.contains($0.movement.sku) }
            counts.removeAll(keepingCapacity: true)
            sales.removeAll(keepingCapacity: true)
            let inventory = intake.inventory, correlation = correlation
            if !batchCounts.isEmpty {
                try await apply(batchCounts.map(\.line)) { indices in
                    try await inventory.count(indices.map { batchCounts[$0].count }, correlation: correlation)
                }
            }
            if !batchSales.isEmpty {
                try await apply(batchSales.map(\.line)) { indices in
                    let movements = indices.map { batchSales[$0].movement }
                    // A till's sale happened: recorded even over units reserved for orders, as with POSLog.
                    let overrides = Dictionary(uniqueKeysWithValues: movements.indices.filter { movements[$0].reason == .sale }
                        .map { ($0, "sold at the till (CSV \(movements[$0].sourceKey))") })
                    return try await inventory.record(movements, correlation: correlation, overrides: overrides)
                }
            }
        }

        /// Runs `operation` over the whole batch; when the batch is refused for a row's sake, over each row alone.
        mutating func apply(_ lines: [Int], _ operation: ([Int]) async throws -> [InventoryOutcome]) async throws {
            do {
                tally(try await operation(Array(lines.indices)))
            } catch let error where Self.rowReason(error) != nil {
                for index in lines.indices {
                    do {
                        tally(try await operation([index]))
                    } catch let error {
                        guard let reason = Self.rowReason(error) else { throw error }
                        refuse(lines[index], reason)
                    }
                }
            }
        }

        /// Why a row was refused, when `error` is about the row's data (a domain rule), nil when it is not (storage
        /// away: the file is tried again later).
        static func rowReason(_ error: any Error) -> String? {
            switch error {
            case let error as DomainError: "\(error)"
            case StorageError.rejected(let error): "\(error)"
            case let error as InventoryService.InvalidItems: error.problems.map(\.detail).joined(separator: "; ")
            default: nil
            }
        }

        mutating func tally(_ outcomes: [InventoryOutcome]) {
            for outcome in outcomes {
                // A sale seen before, or a count that agreed with the ledger (or was applied before).
                if case .alreadyApplied = outcome { duplicates += 1 } else { applied += 1 }
            }
        }
    }
}
