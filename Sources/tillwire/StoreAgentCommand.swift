import ArgumentParser
import Foundation
import Logging
import TillwireDomain
import TillwireStoreAgent

struct StoreAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-agent",
        abstract: "Run a store's agent: the tills keep selling when the hub or the network is down, and nothing is lost or sent twice.",
        discussion: """
            The tills call the agent as they would call the hub (POST /v1/inventory/movements and /counts with an \
            Idempotency-Key per transaction, GET /v1/availability, GET /v1/stores/<store>/pickups). Every transaction \
            is kept in the agent's SQLite file before the till gets its answer, and forwarded to the hub in the order \
            taken, each applied once, whenever the hub is reachable. GET /v1/agent/status shows the queue and the \
            last contact; the hub shows every store's agent at GET /v1/store-agents. The hub key comes from \
            TILLWIRE_AGENT_HUB_KEY or --hub-key-file, never from the command line; with TILLWIRE_AGENT_TILL_TOKEN set, \
            the tills must send it as a bearer token. See docs/store-agent.md.
            """)

    @Option(help: "The store this agent serves (its location id at the hub).") var store: String
    @Option(help: ArgumentHelp("The hub's base URL.", valueName: "url")) var hub: String
    @Option(help: ArgumentHelp("The agent's SQLite file (created if missing).", valueName: "file")) var database: String
    @Option(help: ArgumentHelp("A file holding the store's API key at the hub (else TILLWIRE_AGENT_HUB_KEY).", valueName: "file"))
    var hubKeyFile: String?
    @Option(help: ArgumentHelp("The channel the store's tills price in (with --country): the agent keeps its prices and promotions.", valueName: "channel"))
    var channel: String?
    @Option(help: ArgumentHelp("The store's country, like GB (with --channel).", valueName: "code")) var country: String?
    @Option(help: "Address the tills reach the agent on.") var host = "127.0.0.1"
    @Option(help: "Port the tills reach the agent on.") var port = 8091
    @Option(help: ArgumentHelp("Seconds between reports to the hub and refreshes of the local copy.", valueName: "seconds"))
    var contactSeconds = 10
    @Option(help: ArgumentHelp("A local copy older than this many seconds is marked stale.", valueName: "seconds"))
    var staleSeconds = 120
    @Option(help: ArgumentHelp("Transactions' items per request to the hub (1-1000); smaller for a slow link.", valueName: "count"))
    var batchItems = 1_000
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"

    func validate() throws {
        guard (try? LocationID(store)) != nil else { throw ValidationError("--store \(store) is not a location id") }
        guard let url = URL(string: hub), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--hub must be an http(s) URL, like https://hub.example:8080")
        }
        guard url.user == nil, url.password == nil, url.query == nil else {
            throw ValidationError("--hub is the hub's base URL only; the key goes in TILLWIRE_AGENT_HUB_KEY or --hub-key-file")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0-65535 (0: any free port, printed at start)") }
        guard contactSeconds >= 1, staleSeconds >= 1 else { throw ValidationError("--contact-seconds and --stale-seconds must be at least 1") }
        guard (channel == nil) == (country == nil) else { throw ValidationError("--channel and --country go together") }
        if let channel, (try? ChannelID(channel)) == nil { throw ValidationError("--channel \(channel) is not a channel id") }
        if let country, country.count != 2 || !country.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            throw ValidationError("--country must be an ISO 3166-1 alpha-2 code like GB")
        }
        guard (1...1_000).contains(batchItems) else { throw ValidationError("--batch-items must be 1-1000") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
    }

    func run() async throws {
        let key: String
        if let hubKeyFile {
            guard let text = try? String(contentsOfFile: hubKeyFile, encoding: .utf8) else {
                throw StartupError("--hub-key-file \(hubKeyFile) cannot be read")
            }
            key = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            key = ProcessInfo.processInfo.environment["TILLWIRE_AGENT_HUB_KEY"] ?? ""
        }
        guard !key.isEmpty else { throw StartupError("the store's hub key is missing: set TILLWIRE_AGENT_HUB_KEY or --hub-key-file") }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tillwire.store-agent")
        let agent: StoreAgent
        do {
            let token = ProcessInfo.processInfo.environment["TILLWIRE_AGENT_TILL_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            if token == nil && !["127.0.0.1", "localhost", "::1"].contains(host) {
                logger.warning("the agent listens beyond this machine without a till token: set TILLWIRE_AGENT_TILL_TOKEN", metadata: ["host": "\(host)"])
            }
            agent = try StoreAgent(configuration: .init(
                store: try LocationID(store), hub: hub, hubKey: key, database: database, tillToken: token,
                pricing: try channel.map { (try ChannelID($0), country ?? "") }, host: host, port: port,
                staleAfter: .seconds(staleSeconds), contactInterval: .seconds(contactSeconds), forwarding: .init(batchItems: batchItems)))
        } catch {
            throw StartupError("the agent's database \(database) cannot be opened: \(error)")
        }
        try await agent.run(logger: logger)
    }
}
