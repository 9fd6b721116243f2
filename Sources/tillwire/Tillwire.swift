import ArgumentParser
import Foundation
import Logging
import TillwireApp

@main
struct Tillwire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tillwire",
        abstract: "Tillwire: a retail connectivity hub between ERP, store POS and ecommerce.",
        discussion: """
            With no configuration, the hub runs on the embedded default: SQLite at ./tillwire-data/tillwire.sqlite \
            and HTTP on 127.0.0.1:8080. Every configuration key can also be set by an environment variable: \
            storage.sqlite.path is TILLWIRE_STORAGE_SQLITE_PATH. See docs/configuration.md.
            """,
        subcommands: [Serve.self, DemoCommand.self, StoreAgentCommand.self, Migrate.self, Import.self, ERPDiffCommand.self, Keys.self, Audit.self, Jobs.self, Dlq.self, Reconcile.self, Lineage.self, OpenAPI.self, ProbeAppend.self],
        defaultSubcommand: nil)
}

/// Options every command that reads the configuration shares.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: ArgumentHelp("A YAML configuration file.", valueName: "file"))
    var path: String?

    func load() throws -> HubConfiguration {
        var yaml: String?
        if let path {
            guard FileManager.default.fileExists(atPath: path) else {
                throw StartupError("configuration file \(path) does not exist")
            }
            yaml = try String(contentsOfFile: path, encoding: .utf8)
        }
        do {
            return try HubConfiguration.load(yaml: yaml, origin: path ?? "defaults", environment: ProcessInfo.processInfo.environment)
        } catch {
            throw StartupError(error.description)
        }
    }
}

/// A reason the command cannot start, printed as `Error: …` without the usage text (the usage is not at fault).
struct StartupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func bootstrapLogging(_ configuration: HubConfiguration) -> Logger {
    let level = configuration.logLevel
    switch configuration.logFormat {
    case .text:
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    case .json:
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    }
    return Logger(label: "tillwire")
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub: HTTP API, job workers, storage. Stops gracefully on SIGTERM or SIGINT.",
        discussion: """
            Endpoints: /healthz (the process answers), /readyz (storage answers and its schema is current), \
            /metrics (Prometheus text format, with an API key of scope metrics:read), /v1 (the API, with an API key: \
            tillwire keys create). Pending migrations are applied at start-up.
            """)

    @OptionGroup var options: ConfigurationOptions

    @Flag(help: ArgumentHelp(
        "Also run the synthetic fault-drill workload (an unauthenticated POST /drill/messages route, a workflow, jobs and a subscription), for kill -9 drills. Not for business data.",
        visibility: .hidden))
    var drill = false

    func run() async throws {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        try await Hub.serve(configuration, drill: drill, logger: logger)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending storage migrations and print the schema status, without starting the hub.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        let store = try await Hub.openStore(configuration, logger: logger)
        let status = try await store.migrationStatus()
        try await store.close()
        print("storage \(store.backend): schema versions applied \(status.applied), this build knows \(status.known): \(status.isCurrent ? "current" : "NOT current")")
    }
}
