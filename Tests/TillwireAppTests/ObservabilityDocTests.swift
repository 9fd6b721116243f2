import Foundation
import Testing

/// docs/observability.md lists every metric the hub exports, and nothing it does not.
@Suite struct ObservabilityDocTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every `tillwire_*` metric label in the sources.
    static func inCode() throws -> Set<String> {
        var names: Set<String> = []
        // `Counter(label: "…"`, and the (label, dimensions, value) rows the operations monitor sets as gauges.
        let metric = try Regex(#"(?:(?:Counter|Gauge|Timer|Recorder|Meter)\(label: |\()"(tillwire_[a-z_]+)""#)
        let files = FileManager.default.enumerator(at: root.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: metric) {
                if let name = match.output[1].substring { names.insert(String(name)) }
            }
        }
        return names
    }

    /// The metrics the page's tables list (first cell of each row).
    static func documented() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("docs/observability.md"), encoding: .utf8)
        var names: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cell = line.split(separator: "|")[0].trimmingCharacters(in: .whitespaces)
            names.insert(cell.trimmingCharacters(in: CharacterSet(charactersIn: "`")))
        }
        return names
    }

    @Test func everyMetricIsDocumentedAndEveryDocumentedMetricExists() throws {
        let code = try Self.inCode()
        let documented = try Self.documented()
        #expect(code.count >= 15, "found \(code.sorted())")
        #expect(code.subtracting(documented).isEmpty, "metrics missing from docs/observability.md: \(code.subtracting(documented).sorted())")
        let stale = documented.filter { $0.hasPrefix("tillwire_") }.subtracting(code)
        #expect(stale.isEmpty, "docs/observability.md lists metrics the code no longer has: \(stale.sorted())")
    }
}
