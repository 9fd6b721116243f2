import Foundation
import Testing

/// docs/architecture.md's table of targets and what each may import must be Package.swift's.
@Suite struct ArchitectureDocTests {
    struct Imports: Equatable, CustomStringConvertible {
        var targets: Set<String>
        var products: Set<String>
        var description: String { "targets \(targets.sorted()), products \(products.sorted())" }
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The dependencies of every non-test target, read from Package.swift's text.
    static func manifest() throws -> [String: Imports] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var result: [String: Imports] = [:]
        let declaration = try Regex(#"\.(target|executableTarget)\(name: "([^"]+)"(?:, dependencies: \[(.*?)\])?\)"#)
            .dotMatchesNewlines()
        for match in text.matches(of: declaration) {
            guard let name = match.output[2].substring.map(String.init) else { continue }
            let body = match.output[3].substring.map(String.init) ?? ""
            let products = Set(body.matches(of: try Regex(#"\.product\(name: "([^"]+)""#)).compactMap { $0.output[1].substring.map(String.init) })
            let withoutProducts = body.replacing(try Regex(#"\.product\([^)]*\)"#), with: "")
            let targets = Set(withoutProducts.matches(of: try Regex(#""([^"]+)""#)).compactMap { $0.output[1].substring.map(String.init) })
            result[name] = Imports(targets: targets, products: products)
        }
        return result
    }

    static func documented() throws -> [String: Imports] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        var result: [String: Imports] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            func names(_ cell: String) -> Set<String> {
                cell == "—" ? [] : Set(cell.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
            result[cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = Imports(targets: names(cells[2]), products: names(cells[3]))
        }
        return result
    }

    @Test func theTableMatchesPackageSwift() throws {
        let manifest = try Self.manifest()
        let documented = try Self.documented()
        #expect(manifest.count >= 9, "parsed \(manifest.keys.sorted())")
        #expect(Set(documented.keys) == Set(manifest.keys), "targets in the doc vs Package.swift")
        for (target, imports) in manifest {
            #expect(documented[target] == imports, "\(target): doc says \(documented[target].map(\.description) ?? "nothing"), Package.swift says \(imports)")
        }
    }

    @Test func theDomainImportsNothingButFoundation() throws {
        let folder = Self.root.appendingPathComponent("Sources/TillwireDomain")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                #expect(line == "import Foundation", "\(file): \(line)")
            }
        }
    }
}
