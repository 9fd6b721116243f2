import ConnectorTryton
import Foundation
import Testing
import TillwireTesting

/// `tillwire demo` played at high speed, as a user runs it: every scenario reaches its end state, and the summary's
/// estate-wide checks (stock conserved, journals balanced, nothing lost) hold.
@Suite struct DemoTests {
    @Test func theDemoPlaysEveryScenarioAndItsChecksHold() async throws {
        let folder = try TemporaryFolder()
        let data = folder.path("demo")
        let demo = try ChildProcess(try tillwireExecutable(), ["demo", "--speed", "50", "--exit", "--port", "0", "--data", data, "--log-level", "warning"],
                                    environment: [:])
        let status = try await demo.exit(timeout: 240)
        let output = demo.lines.joined(separator: "\n")
        #expect(status == 0, "the demo's output:\n\(output)\nstderr:\n\(demo.standardError.suffix(3000))")
        // Every scenario ran, in order, and said so.
        var at = output.startIndex
        for number in 1...9 {
            let heading = try #require(output.range(of: "] \(number). ", range: at..<output.endIndex), "scenario \(number) missing:\n\(output)")
            at = heading.upperBound
        }
        for check in ["every order reached its expected end state", "stock conserved", "journals balanced", "nothing lost"] {
            #expect(output.contains("✓ \(check)"), "\(check):\n\(output)")
        }
        #expect(!output.contains("✗"), "a check failed:\n\(output)")
        let summary = try #require(output.split(separator: "\n").first { $0.contains("checks held.") })
        #expect(summary.contains("All "), "\(summary)")
        // The demo's own folder: a second run empties it; a folder the demo did not make is refused.
        #expect(FileManager.default.fileExists(atPath: data + "/.tillwire-demo"))
        let foreign = folder.path("not-the-demos")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: foreign + "/notes.txt"))
        let refused = try ChildProcess(try tillwireExecutable(), ["demo", "--exit", "--port", "0", "--data", foreign], environment: [:])
        #expect(try await refused.exit(timeout: 30) != 0)
        #expect(refused.standardError.contains("holds files the demo did not make"), "\(refused.standardError)")
        #expect(FileManager.default.fileExists(atPath: foreign + "/notes.txt"))
    }

    static let environment = ProcessInfo.processInfo.environment

    /// `--with-tryton` against a real Tryton (scripts/test starts one for this test alone): the sales orders are
    /// Tryton's, and every check still holds.
    @Test(.enabled(if: environment["TILLWIRE_TEST_DEMO_TRYTON_URL"] != nil || environment["TILLWIRE_REQUIRE_TRYTON"] == "1",
                   "TILLWIRE_TEST_DEMO_TRYTON_URL is not set: the demo's Tryton test needs the ERP; scripts/test starts one"))
    func withTrytonTheSalesOrdersAreTrytons() async throws {
        let url = try #require(Self.environment["TILLWIRE_TEST_DEMO_TRYTON_URL"], "TILLWIRE_REQUIRE_TRYTON=1 but TILLWIRE_TEST_DEMO_TRYTON_URL is not set: run scripts/test")
        let rpc = TrytonRPC(configuration: TrytonConfiguration(url: url, database: "tryton", username: "admin", password: "tryton-admin"))
        func confirmedSales() async throws -> Int {
            (try await rpc.call("model.sale.sale.search", [[["state", "in", ["confirmed", "processing", "done"]]], 0, NSNull(), NSNull()]) as? [Any] ?? []).count
        }
        let before = try await confirmedSales()
        let folder = try TemporaryFolder()
        let demo = try ChildProcess(try tillwireExecutable(), ["demo", "--with-tryton", "--speed", "50", "--exit", "--port", "0", "--data", folder.path("demo")],
                                    environment: ["TILLWIRE_TRYTON_URL": url, "TILLWIRE_TRYTON_PASSWORD": "tryton-admin", "TILLWIRE_TRYTON_DATABASE": "tryton"])
        let status = try await demo.exit(timeout: 240)
        let output = demo.lines.joined(separator: "\n")
        #expect(status == 0, "the demo's output:\n\(output)\nstderr:\n\(demo.standardError.suffix(3000))")
        #expect(output.contains("the REAL Tryton ERP at \(url)"))
        #expect(!output.contains("✗"), "a check failed:\n\(output)")
        // Tryton has the sales orders the demo counted: the four web orders and the two that waited out its maintenance window.
        let made = try await confirmedSales() - before
        #expect(made == 6, "\(made) confirmed sales made in Tryton")
        #expect(output.contains("in Tryton: \(made) sales orders"), "\(output)")
    }
}
