import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import TillwireAPI
import TillwireConnectors
import TillwireDomain
import TillwireStorage

/// `tillwire store-agent`: the process that runs in a store (docs/store-agent.md). The tills talk to it as they would
/// to the hub; it keeps their transactions in its own SQLite file and forwards them, in order, whenever the hub is
/// reachable, and answers availability and the pickup queue from its local copy when it is not.
public struct StoreAgent: Sendable {
    public struct Configuration: Sendable {
        /// The store (a location of kind store at the hub) this agent serves.
        public var store: LocationID
        /// The hub's base URL, e.g. `https://hub.example:8080`.
        public var hub: String
        /// The store's API key at the hub (scopes `inventory:write`, `inventory:read`, `orders:read`, `prices:read`;
        /// limited to the store). Never logged.
        public var hubKey: String
        /// The agent's SQLite file.
        public var database: String
        /// The token the tills must send (`Authorization: Bearer …`) when set; nil: none (listen on loopback or a
        /// closed store network only). Never logged.
        public var tillToken: String?
        /// The channel and country the store's tills price in (`POST /v1/pricing/quote` from the copy); nil: the
        /// agent keeps no prices.
        public var pricing: (channel: ChannelID, country: String)?
        /// Where the tills reach the agent. Default 127.0.0.1:8091.
        public var host: String
        public var port: Int
        /// A local copy older than this is marked `stale`, and no longer used to refuse unknown SKUs. Default 120 s.
        public var staleAfter: Duration
        /// How often the agent reports to the hub and refreshes its copy. Default 10 s.
        public var contactInterval: Duration
        /// Each call to the hub gives up after this. Default 10 s.
        public var hubTimeout: Duration
        public var forwarding: Forwarder.Policy

        public init(store: LocationID, hub: String, hubKey: String, database: String, tillToken: String? = nil,
                    pricing: (channel: ChannelID, country: String)? = nil, host: String = "127.0.0.1", port: Int = 8091,
                    staleAfter: Duration = .seconds(120), contactInterval: Duration = .seconds(10), hubTimeout: Duration = .seconds(10),
                    forwarding: Forwarder.Policy = .init()) {
            self.store = store
            self.hub = hub
            self.hubKey = hubKey
            self.database = database
            self.tillToken = tillToken
            self.pricing = pricing
            self.host = host
            self.port = port
            self.staleAfter = staleAfter
            self.contactInterval = contactInterval
            self.hubTimeout = hubTimeout
            self.forwarding = forwarding
        }
    }

    public let configuration: Configuration
    public let database: AgentDatabase
    public let link: LinkState
    /// A transaction was queued: the forwarder wakes.
    let forwarderSignal = EventSignal()
    /// The queue emptied: the contact loop refreshes the copy.
    let settledSignal = EventSignal()

    public init(configuration: Configuration) throws {
        self.configuration = configuration
        database = try AgentDatabase(path: configuration.database)
        link = LinkState()
    }

    /// Runs until SIGTERM or SIGINT: the tills' API, the forwarder and the contact loop.
    public func run(logger: Logger) async throws {
        let hub = HubLink(hub: configuration.hub, key: configuration.hubKey, store: configuration.store, timeout: configuration.hubTimeout)
        let router = Router()
        router.add(middleware: AgentProblems())
        if let token = configuration.tillToken { router.add(middleware: TillToken(token: token)) }
        AgentRoutes.add(to: router, agent: self)
        let queue = try database.queueState()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tillwire-store-agent"),
            onServerRunning: { [configuration] channel in
                logger.info("store agent is serving", metadata: [
                    "store": "\(configuration.store)", "address": "http://\(configuration.host):\(channel.localAddress?.port ?? configuration.port)",
                    "hub": "\(configuration.hub)", "queue_depth": "\(queue.depth)", "status": "/v1/agent/status",
                ])
            },
            logger: logger)
        let turn = Turn()
        let forwarder = Forwarder(database: database, link: hub, state: link, signal: forwarderSignal, settled: settledSignal, turn: turn,
                                  policy: configuration.forwarding, logger: logger)
        let contact = Contact(database: database, link: hub, state: link, settled: settledSignal, turn: turn, interval: configuration.contactInterval,
                              pricing: configuration.pricing, logger: logger)
        var group = ServiceGroupConfiguration(
            services: [.init(service: forwarder), .init(service: contact), .init(service: application)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
        let left = (try? database.queueState().depth) ?? -1
        logger.info("store agent stopped", metadata: ["queue_depth": "\(left)"])
    }
}

/// With a till token configured, every call but `/healthz` must carry it.
struct TillToken: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path != "/healthz" else { return try await next(request, context) }
        guard let given = request.headers[.authorization], given.hasPrefix("Bearer "),
              Self.same(Array(given.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw Problem.unauthenticated("the till token is required (Authorization: Bearer …)")
        }
        return try await next(request, context)
    }

    /// Compares in time that does not depend on where the two differ.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Every error a route throws becomes problem+json, as at the hub.
struct AgentProblems: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem(error)
            if problem.statusCode >= 500 { context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"]) }
            throw problem
        }
    }
}
