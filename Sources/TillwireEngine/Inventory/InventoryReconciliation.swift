import Foundation
import TillwireDomain
import TillwireStorage

/// Where each system's stock figures disagreed with the ledger: the `inventory.divergence_detected` events, summed
/// per (location, system). What `tillwire reconcile inventory` prints.
public struct InventoryReconciliation: Sendable {
    public struct Line: Sendable, Hashable {
        public let location: LocationID
        public let system: SystemID
        /// Counts that disagreed with the ledger.
        public var mismatches = 0
        /// The sum of |reported − ledger|.
        public var unitsOff: Int64 = 0
        /// The sum of reported − ledger: negative when the system saw less than the hub (shrinkage, unrecorded sales).
        public var net: Int64 = 0
        public var alerts = 0
        /// The largest single difference, and its SKU.
        public var largest: (sku: SKU, difference: Int64)?
        public var last: Date?

        public static func == (a: Line, b: Line) -> Bool {
            a.location == b.location && a.system == b.system && a.mismatches == b.mismatches && a.unitsOff == b.unitsOff && a.net == b.net
                && a.alerts == b.alerts && a.largest?.sku == b.largest?.sku && a.largest?.difference == b.largest?.difference && a.last == b.last
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(location)
            hasher.combine(system)
        }
    }

    public private(set) var lines: [Line] = []
    public private(set) var eventsRead = 0

    /// Reads the whole log from the start (or `since`), calling `progress` with the events read so far.
    public static func build(from store: any Store, since: Date? = nil, progress: (Int) -> Void = { _ in }) async throws -> InventoryReconciliation {
        var report = InventoryReconciliation()
        var byKey: [String: Line] = [:]
        var after: Int64 = 0
        while true {
            let page = try await store.readAll(after: after, limit: 5_000)
            guard let last = page.last else { break }
            after = last.position
            report.eventsRead += page.count
            progress(report.eventsRead)
            for envelope in page where envelope.type == InventoryDivergenceDetected.eventType {
                let divergence = try envelope.decode(InventoryDivergenceDetected.self)
                if let since, divergence.asOf < since { continue }
                let key = "\(divergence.location.rawValue)\u{0}\(divergence.system.rawValue)"
                var line = byKey[key] ?? Line(location: divergence.location, system: divergence.system)
                line.mismatches += 1
                line.unitsOff += Int64(divergence.difference.magnitude)
                line.net += divergence.difference
                if divergence.alert { line.alerts += 1 }
                if divergence.difference.magnitude > (line.largest?.difference.magnitude ?? 0) { line.largest = (divergence.sku, divergence.difference) }
                line.last = max(line.last ?? divergence.asOf, divergence.asOf)
                byKey[key] = line
            }
        }
        report.lines = byKey.values.sorted { ($0.unitsOff, $1.location.rawValue, $1.system.rawValue) > ($1.unitsOff, $0.location.rawValue, $0.system.rawValue) }
        return report
    }

    /// The report as a table, worst first.
    public func text() -> String {
        guard !lines.isEmpty else { return "no divergence: every count agreed with the ledger (\(eventsRead) events read)\n" }
        var out = "location\tsystem\tmismatches\tunits off\tnet\talerts\tlargest\tlast\n"
        for line in lines {
            let largest = line.largest.map { "\($0.sku) \($0.difference > 0 ? "+" : "")\($0.difference)" } ?? "-"
            out += "\(line.location)\t\(line.system)\t\(line.mismatches)\t\(line.unitsOff)\t\(line.net > 0 ? "+" : "")\(line.net)\t\(line.alerts)\t\(largest)\t\(line.last?.ISO8601Format() ?? "-")\n"
        }
        let mismatches = lines.map(\.mismatches).reduce(0, +), units = lines.map(\.unitsOff).reduce(0, +)
        return out + "total: \(mismatches) mismatches, \(units) units off, in \(lines.count) location-system pairs (\(eventsRead) events read)\n"
    }
}
