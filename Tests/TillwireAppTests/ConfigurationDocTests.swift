import Foundation
import Testing
import TillwireApp

/// docs/configuration.md's Reference lists every key the hub reads, with its environment variable, and no other; the
/// page's other key tables name only keys the hub reads.
@Suite struct ConfigurationDocTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One row of a table keyed by configuration key: its cells, the first being the key(s).
    struct Row {
        var cells: [String]
        var heading: String
    }

    /// The keys of the file-only sections, each written below its section with `<…>` for a name the retailer picks.
    static func fileOnlyKeys() -> [String] {
        func below(_ prefix: String, _ keys: [String], nested: [String: [String]] = [:]) -> [String] {
            keys.flatMap { key in nested[key].map { subkeys in subkeys.map { "\(prefix).\(key).\($0)" } } ?? ["\(prefix).\(key)"] }
        }
        var keys: [String] = []
        keys += below("systems.<name>", HubConfiguration.systemKeys)
        keys += below("channels.<name>", HubConfiguration.channelKeys)
        keys += below("tax", HubConfiguration.taxKeys, nested: ["countries": HubConfiguration.taxCountryKeys.map { "<CC>.\($0)" }])
        keys += below("orders", HubConfiguration.orderKeys, nested: ["ship_from": HubConfiguration.orderShipFromKeys])
        keys += below("slos.<name>", HubConfiguration.serviceLevelKeys)
        // Tender names are the retailer's own: `load` reads them apart from the fixed keys.
        keys.append("finance.accounts.tenders.<tender>")
        return keys
    }

    /// The body rows of every table whose first column is `key`, with the `##` heading they are under.
    static func keyTables() throws -> [Row] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        var rows: [Row] = []
        var heading = "Configuration"
        var inTable = false
        var inKeyTable = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("## ") { heading = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("|") else {
                inTable = false
                continue
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let first = cells.first ?? ""
            if !inTable {
                // The header row.
                inTable = true
                inKeyTable = first == "key"
            } else if inKeyTable && !first.hasPrefix("-") {
                rows.append(Row(cells: cells, heading: heading))
            }
        }
        return rows
    }

    /// The keys a first cell names: `` `a.b` ``, or several, where `` `.c` `` is a sibling of the key before it.
    static func keys(in cell: String) -> [String] {
        var found: [String] = []
        for (index, part) in cell.split(separator: "`", omittingEmptySubsequences: false).enumerated() where index % 2 == 1 {
            if part.hasPrefix("."), let previous = found.last, let dot = previous.lastIndex(of: ".") {
                found.append(String(previous[..<dot]) + String(part))
            } else {
                found.append(String(part))
            }
        }
        return found
    }

    /// Whether a documented key stands for a known one: the same segments, where a documented `<…>` stands for any.
    static func covers(_ documented: String, _ known: String) -> Bool {
        let written = documented.split(separator: ".", omittingEmptySubsequences: false)
        let actual = known.split(separator: ".", omittingEmptySubsequences: false)
        return written.count == actual.count
            && zip(written, actual).allSatisfy { $0 == $1 || ($0.hasPrefix("<") && $0.hasSuffix(">")) }
    }

    /// The Reference's rows: one key each.
    static func reference() throws -> [(key: String, environment: String)] {
        try keyTables().filter { $0.heading == "Reference" }.map { row in
            (key: row.cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")), environment: row.cells.count > 1 ? row.cells[1] : "")
        }
    }

    @Test func theReferenceListsEveryKeyOnce() throws {
        let documented = try Self.reference().map(\.key)
        let known = HubConfiguration.keys + Self.fileOnlyKeys()
        #expect(HubConfiguration.keys.count >= 90, "found \(HubConfiguration.keys.count) keys")
        let missing = Set(known).subtracting(documented)
        #expect(missing.isEmpty, "keys missing from the Reference of docs/configuration.md: \(missing.sorted())")
        let unknown = Set(documented).subtracting(known)
        #expect(unknown.isEmpty, "the Reference of docs/configuration.md lists keys the code does not read: \(unknown.sorted())")
        let twice = Dictionary(grouping: documented, by: { $0 }).filter { $0.value.count > 1 }.keys
        #expect(twice.isEmpty, "keys listed twice in the Reference: \(twice.sorted())")
    }

    @Test func theReferenceNamesEachKeysEnvironmentVariable() throws {
        let flat = Set(HubConfiguration.keys)
        for (key, environment) in try Self.reference() {
            let expected = flat.contains(key) ? "`\(HubConfiguration.environmentName(of: key))`" : "file only"
            #expect(environment == expected, "\(key): the Reference says \(environment), expected \(expected)")
        }
    }

    @Test func everyKeyTableNamesOnlyKeysTheCodeReads() throws {
        let known = HubConfiguration.keys + Self.fileOnlyKeys()
        let rows = try Self.keyTables()
        #expect(rows.count >= 100, "found \(rows.count) rows in key tables")
        for row in rows {
            for key in Self.keys(in: row.cells[0]) {
                let isKnown = known.contains { Self.covers(key, $0) }
                #expect(isKnown, "docs/configuration.md (\(row.heading)): \(key) is not a key the code reads")
            }
        }
    }
}
