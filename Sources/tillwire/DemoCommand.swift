import ArgumentParser
import Foundation
import Logging
import ConnectorTryton
import TillwireDemo

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a hub with a generated retailer and simulated shops and ERP, and play the scenarios that show what it is for.",
        discussion: """
            The hub runs on the embedded default (a fresh SQLite file in --data), with a retailer generated from --seed \
            (the US, the UK and Germany; a dozen stores, a distribution centre) and SIMULATED systems behind the real \
            connector protocols: a Shopify-shaped shop (signed webhooks, cost throttling), a WooCommerce-shaped shop, a \
            cloud ERP, and the stores' tills sending POSLog. It plays store sales, online orders, click-and-collect, a \
            web order returned in a store, a promotion, an ERP maintenance window, a store offline and a marketplace \
            order held at the gate, prints each step, and ends with a summary of what flowed and what was checked. \
            The dashboard stays up (its URL and key are printed) until Ctrl-C, unless --exit. Exit status 1 when a \
            check failed.
            """)

    @Option(help: "The retailer and the scenario's numbers come from this seed: the same seed, the same run.") var seed: UInt64 = 7
    @Option(help: "Compresses the waits between steps and the ERP's maintenance window (2 = twice as fast).") var speed = 1.0
    @Option(help: "The hub's HTTP port (0: any free port).") var port = 8080
    @Option(help: ArgumentHelp("The demo's folder, emptied at the start (only if an earlier demo made it).", valueName: "folder"))
    var data = "./tillwire-demo"
    @Flag(help: "Stop the hub after the summary instead of keeping the dashboard up.") var exit = false
    @Option(help: "The hub's log level on standard error: trace, debug, info, notice, warning, error, critical.") var logLevel = "error"
    @Flag(help: ArgumentHelp(
        "Use a real Tryton ERP for the sales orders, named as `tillwire serve` reads it: TILLWIRE_TRYTON_URL, TILLWIRE_TRYTON_PASSWORD, TILLWIRE_TRYTON_DATABASE (tryton), TILLWIRE_TRYTON_USERNAME (admin). scripts/tryton-peer.sh starts the Tryton peer and prints them. Journal entries go to a simulated ledger: the peer books one currency."))
    var withTryton = false

    func validate() throws {
        guard speed > 0, speed <= 1_000 else { throw ValidationError("--speed must be above 0 and at most 1000") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
    }

    func run() async throws {
        var options = Demo.Options()
        options.seed = seed
        options.speed = speed
        options.port = port
        options.data = data
        options.exitWhenDone = exit
        options.logLevel = Logger.Level(rawValue: logLevel) ?? .error
        if withTryton {
            let environment = ProcessInfo.processInfo.environment
            guard let url = environment["TILLWIRE_TRYTON_URL"], !url.isEmpty, let password = environment["TILLWIRE_TRYTON_PASSWORD"], !password.isEmpty else {
                throw StartupError("--with-tryton needs the Tryton ERP's address and password: TILLWIRE_TRYTON_URL and TILLWIRE_TRYTON_PASSWORD (with TILLWIRE_TRYTON_DATABASE, default tryton, and TILLWIRE_TRYTON_USERNAME, default admin); scripts/tryton-peer.sh starts the Tryton peer and prints them")
            }
            options.tryton = TrytonConfiguration(url: url, database: environment["TILLWIRE_TRYTON_DATABASE"] ?? "tryton",
                                                 username: environment["TILLWIRE_TRYTON_USERNAME"] ?? "admin", password: password)
        }
        let level = options.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let passed: Bool
        do {
            // Written at once, line by line: a pipe (`| tee`) sees each step as it happens.
            passed = try await Demo.run(options) { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        } catch let refused as Demo.Refused {
            throw StartupError(refused.description)
        }
        if !passed { throw ExitCode(1) }
    }
}
