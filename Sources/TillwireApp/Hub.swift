import ConnectorCSV
import ConnectorOscar
import ConnectorPOSLog
import ConnectorShopify
import ConnectorTryton
import ConnectorWooCommerce
import Foundation
import Hummingbird
import Logging
import Metrics
import OTel
import Prometheus
import Synchronization
import ServiceLifecycle
import TillwireAPI
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage
import TillwireStoragePostgres
import TillwireStorageSQLite
import Tracing

/// The one place where everything is wired: configuration → store → services → one `ServiceGroup`.
public enum Hub {
    /// Opens the configured store and applies pending migrations. `serving`: this process is the hub that owns the
    /// store, so an embedded SQLite store may keep inventory positions in memory (`SQLiteStore.open`).
    public static func openStore(_ configuration: HubConfiguration, serving: Bool = false, logger: Logger) async throws -> any Store {
        let store: any Store
        switch configuration.storageBackend {
        case .sqlite:
            let sqlite = try SQLiteStore.open(path: configuration.sqlitePath, cachesPositions: serving)
            logger.info("storage: sqlite", metadata: ["path": "\(configuration.sqlitePath)"])
            do {
                try await backUpBeforeMigrating(sqlite, logger: logger)
            } catch {
                try? await sqlite.close()
                throw error
            }
            store = sqlite
        case .postgres:
            guard let url = configuration.postgresURL else {
                throw ConfigurationError(key: "storage.postgres.url", origin: "configuration", reason: "is required when storage.backend is postgres")
            }
            store = try await PostgresStore.connect(url: url, maxConnections: configuration.postgresMaxConnections, logger: logger)
            logger.info("storage: postgres", metadata: ["url": "\(configuration.redactedPostgresURL ?? "?")"])
        }
        do {
            let status = try await store.migrate()
            logger.info("storage schema current", metadata: ["schema": "\(status.applied.last ?? 0)"])
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    /// Before a schema upgrade, a copy of the SQLite file as it was: `<file>.before-schema-<N>-<UTC time>`, N the
    /// highest migration about to run. Each attempt makes its own (two in the same second: the first is kept).
    static func backUpBeforeMigrating(_ store: SQLiteStore, logger: Logger) async throws {
        guard let backup = try await store.backupPathBeforeMigrating() else { return }
        if FileManager.default.fileExists(atPath: backup) {
            logger.notice("storage: schema upgrade; a backup made this second is kept", metadata: ["backup": "\(backup)"])
            return
        }
        let started = Date()
        try await store.backup(to: backup)
        logger.notice("storage: schema upgrade; backed up the database first", metadata: [
            "backup": "\(backup)", "seconds": "\(String(format: "%.1f", Date().timeIntervalSince(started)))",
        ])
    }

    /// The comparison of the primary ERP with the shadow during a migration; nil without a shadow.
    static func erpDiff(store: any Store, primary: TrytonERP?, shadow: TrytonERP?) -> ERPDiff? {
        guard let primary, let shadow else { return nil }
        return ERPDiff(store: store, primary: (primary.system, primary), shadow: (shadow.system, shadow))
    }

    /// `tillwire erp-diff`: the comparison over business days `from` … `to`.
    public static func erpDiffReport(_ configuration: HubConfiguration, from: String, to: String, logger: Logger) async throws -> ERPDiff.Report {
        guard let primary = configuration.tryton, let shadow = configuration.trytonShadow else {
            throw ConfigurationError(key: "tryton_shadow.url", origin: "configuration", reason: "no shadow ERP is configured (tryton_shadow.*): there is nothing to compare the primary with")
        }
        let store = try await openStore(configuration, logger: logger)
        do {
            let primaryERP = TrytonERP(configuration: primary), shadowERP = TrytonERP(configuration: shadow)
            let report = try await ERPDiff(store: store, primary: (primaryERP.system, primaryERP), shadow: (shadowERP.system, shadowERP)).run(from: from, to: to)
            try await store.close()
            return report
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// What takes files from legacy systems, in the drop folder and `tillwire import`: POSLog and CSV.
    public static func fileIntakes(store: any Store, inventory: InventoryService) -> [any FileIntake] {
        [POSLogIntake(store: store, inventory: inventory), CSVIntake(store: store, inventory: inventory)]
    }

    /// Applies files now, as the drop folder would, without moving them: each file's outcome is passed to `report`
    /// as it finishes (a refused record list is written beside the file as `<file>.errors.txt`). Returns how many
    /// files were refused whole.
    ///
    /// On SQLite, only into a file no hub serves: a serving hub keeps stock positions in memory and would not see what
    /// is written here (its availability and publishes would go stale). The file is held for the import's duration, so
    /// a hub cannot start on it meanwhile.
    public static func importFiles(_ paths: [String], configuration: HubConfiguration, logger: Logger, report: (String) -> Void) async throws -> Int {
        let sqlite = configuration.storageBackend == .sqlite
        if sqlite, SQLiteStore.isServed(path: configuration.sqlitePath) {
            throw ConfigurationError(key: "storage.sqlite.path", origin: "configuration", reason: """
                \(configuration.sqlitePath) is served by a running hub, which keeps its stock positions in memory and would \
                not see what an import writes beside it: give the files to that hub instead (its drop folder, drop.folder, \
                or POST /v1/poslog), or stop it and import then
                """)
        }
        let store = try await openStore(configuration, serving: sqlite, logger: logger)
        do {
            let intakes = fileIntakes(store: store, inventory: InventoryService(store: store, policy: configuration.inventory))
            var refused = 0
            for path in paths {
                let url = URL(fileURLWithPath: path)
                let name = url.lastPathComponent
                guard let intake = intakes.first(where: { $0.accepts(fileNamed: name) }) else {
                    refused += 1
                    report("\(path): refused, nothing applied: no intake takes a file named \(name) (POSLog *.xml, CSV *.csv)")
                    continue
                }
                do {
                    let result = try await intake.take(url, name: name, logger: logger)
                    var line = "\(path): \(result.summary)"
                    if result.refusedCount > 0 {
                        let errors = url.path + ".errors.txt"
                        try Data(result.refusedRecords.utf8).write(to: URL(fileURLWithPath: errors), options: .atomic)
                        line += "; refused rows listed in \(errors)"
                    }
                    report(line)
                } catch let error as FileRefused {
                    refused += 1
                    report("\(path): refused, nothing applied: \(error.reason)")
                }
            }
            try await store.close()
            return refused
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Sets up the tracer when `tracing.otlp_endpoint` is configured and returns the exporter's service; nil (no
    /// tracer: spans cost next to nothing) when it is not.
    static func startTracing(_ tracing: TracingConfiguration, logger: Logger) throws -> (any Service)? {
        guard let endpoint = tracing.endpoint else { return nil }
        var otel = OTel.Configuration.default
        otel.serviceName = tracing.serviceName
        otel.logs.enabled = false
        otel.metrics.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.protocol = tracing.protocol == "http/json" ? .httpJSON : .httpProtobuf
        otel.traces.otlpExporter.endpoint = (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/v1/traces"
        let backend = try OTel.makeTracingBackend(configuration: otel)
        InstrumentationSystem.bootstrap(backend.factory)
        logger.info("tracing: spans go to an OTLP/HTTP collector", metadata: ["endpoint": "\(otel.traces.otlpExporter.endpoint)", "protocol": "\(tracing.protocol)"])
        return backend.service
    }

    /// Prometheus with buckets that fit what each histogram measures: the defaults (5 ms to 10 s) suit requests and
    /// jobs; posting and refunds take minutes to days; attempts are small counts.
    static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        let minutes: [Duration] = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 14_400, 43_200, 86_400, 172_800].map { .seconds($0) }
        factory.durationHistogramBuckets["tillwire_journal_posting_delay_seconds"] = minutes
        factory.durationHistogramBuckets["tillwire_refund_latency_seconds"] = minutes
        factory.durationHistogramBuckets["tillwire_availability_publish_lag_seconds"] =
            [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300].map { .milliseconds(Int64($0 * 1_000)) }
        factory.durationHistogramBuckets["tillwire_storage_commit_seconds"] =
            [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5].map { .microseconds(Int64($0 * 1_000_000)) }
        factory.valueHistogramBuckets["tillwire_job_attempts"] = [1, 2, 3, 5, 8, 13, 20]
        return factory
    }

    /// Runs the hub until SIGTERM or SIGINT, then shuts down gracefully: the HTTP server stops taking requests,
    /// running jobs finish (for at most 30 s), and the store is closed last.
    ///
    /// `drill` adds the synthetic fault-drill workload (`Drill`); `hooks` lets `tillwire demo` put its simulated ERP in
    /// place of a configured one and learn the port and stop the hub.
    public static func serve(_ configuration: HubConfiguration, drill: Bool = false, hooks: ServeHooks = ServeHooks(), logger: Logger) async throws {
        let registry = PrometheusCollectorRegistry()
        let serviceLevels = ServiceLevelTracker(objectives: configuration.serviceLevels, window: configuration.serviceLevelWindow)
        MetricsSystem.bootstrap(ServiceLevelMetricsFactory(base: metricsFactory(registry), tracker: serviceLevels))

        let tracing = try startTracing(configuration.tracing, logger: logger)
        let store = try await openStore(configuration, serving: true, logger: logger)
        let inventory = InventoryService(store: store, policy: configuration.inventory)
        // One gate per process: the worker's calls move its breakers, and the API and dashboard read them.
        let systems = SystemGate(policies: configuration.systems)
        // Shipments, collections and refunds book their journal entries, posted to the finance system.
        let ledger = Ledger(policy: configuration.finance)
        var orderPolicy = configuration.orders
        orderPolicy.ledger = ledger
        let orders = OrderService(store: store, policy: orderPolicy)
        var returnPolicy = configuration.returns
        returnPolicy.ledger = ledger
        let returns = ReturnService(store: store, orders: orders, policy: returnPolicy)
        var pricingPolicy = configuration.pricing
        pricingPolicy.taxRules = configuration.orders.taxRules
        // Promotions go to the configured channels, each through its system (`channels.<id>.system`, else its id).
        pricingPolicy.channels = Dictionary(configuration.channels.map { ($0.channel, configuration.orders.system(of: $0.channel)) }) { first, _ in first }
        // The shops: one connector each, built once per process (a connector's client and its budget are shared by
        // every call to its platform from here).
        var connectors: [any ChannelConnector] = []
        if let oscar = configuration.oscar { connectors.append(OscarConnector(configuration: oscar)) }
        if let shop = configuration.shopify { connectors.append(ShopifyConnector(configuration: shop, store: store)) }
        if let shop = configuration.woocommerce {
            if shop.storeURL.hasPrefix("http://") {
                logger.warning("woocommerce.url is plain http: the REST API key travels in every request; use https outside a test")
            }
            connectors.append(WooCommerceConnector(configuration: shop, store: store))
        }
        for connector in connectors {
            logger.info("channel connector", metadata: [
                "system": "\(connector.system)", "channel": "\(connector.channel)", "capabilities": "\(connector.capabilities)",
            ])
        }
        let webhooks = connectors.compactMap { $0.webhookReceiver(store: store) }
        // The ERP, and during a migration the shadow ERP its journal postings are copied to (docs/erp-migration.md).
        let tryton = configuration.tryton.map { TrytonERP(configuration: $0) }
        let shadow = configuration.trytonShadow.map { TrytonERP(configuration: $0) }
        if let tryton, let shadow {
            logger.info("erp migration: journal postings go to the primary, then the shadow", metadata: ["primary": "\(tryton.system)", "shadow": "\(shadow.system)"])
        }
        let storeAgents = StoreAgents(store: store, policy: configuration.storeAgents)
        let flow = OrderFlow(service: orders, inventory: configuration.inventory)
        let workflows = WorkflowRunner(store: store, definitions: flow.definitions + ReturnFlow(service: returns).definitions
                                           + (drill ? [Drill.workflow] : []))
        // Without an ERP, releases go to the log (LoggingFulfilment); so do notifications to a channel without a connector.
        let notified = Set(configuration.channels.map(\.channel)).union(configuration.orders.strictChannels)
            .map { configuration.orders.system(of: $0) }
        // A shop's channel is told through its connector; a channel without one, through the log.
        func channelClient(_ system: SystemID) -> any ChannelOrderClient & ChannelRefundClient {
            connectors.first { configuration.orders.system(of: $0.channel) == system }?.orderClient(logger: logger) ?? LoggingChannelOrders(logger: logger)
        }
        var handlers: [any JobHandler] = [workflows, ReservationExpiry(service: inventory)] + (drill ? [Drill.Deliver()] : [])
        // Releases go to the ERP when one is configured (and its shipments are watched), else to the log.
        let erp: (any ERPConnector)? = hooks.erp ?? tryton
        handlers += OrderJobs.fulfilmentHandlers(orders, client: erp ?? LoggingFulfilment(logger: logger))
        if let erp {
            handlers.append(ERPShipmentWatch(erp: erp, orders: orders, logger: logger))
            handlers.append(ERPMasterPull(erp: erp, store: store, inventory: inventory, pricing: PricingService(store: store, policy: pricingPolicy),
                                          policy: configuration.erpPull, logger: logger))
        }
        handlers += Set(notified).map { OrderJobs.Notify(service: orders, system: $0, client: channelClient($0)) }
        handlers += Set(notified).map { ReturnJobs.Refund(returns: returns, system: $0, client: channelClient($0)) }
        for system in Set(pricingPolicy.channels.values) {
            handlers += [PricingPropagation.PushPromotion(store: store, system: system, client: LoggingChannelOrders(logger: logger)),
                         PricingPropagation.PushPrices(store: store, system: system, client: LoggingChannelOrders(logger: logger))]
        }
        handlers += [PricingPropagation.Window(store: store),
                     // Journal entries go to the ERP when it is the finance system, else to the log.
                     Ledger.Post(store: store, system: configuration.finance.system,
                                 client: hooks.ledger ?? tryton.flatMap { $0.system == configuration.finance.system ? $0 : nil }
                                     ?? LoggingLedger(logger: logger),
                                 shadow: shadow?.system),
                     Ledger.CloseDay(store: store, ledger: ledger)]
        for channel in configuration.channels {
            // A shop's channel is published to the shop; a channel without a connector, to the log.
            let publisher = connectors.first { $0.channel == channel.channel }?.availabilityPublisher() ?? LoggingPublisher(logger: logger)
            handlers.append(ChannelAvailabilityJob(policy: channel, store: store, publisher: publisher))
        }
        handlers += connectors.flatMap { $0.intakeHandlers(orders: orders, store: store, logger: logger) }
        if let shadow { handlers.append(Ledger.ShadowPost(store: store, system: shadow.system, client: shadow)) }
        let worker = JobWorker(
            store: store, handlers: handlers, configuration: .init(concurrency: configuration.workerConcurrency, lease: configuration.workerLease),
            gate: systems, logger: logger)
        var subscriptions = [Subscription(
            name: WorkflowEventWaker.subscriberName, store: store, handler: WorkflowEventWaker(store: store),
            configuration: .init(instance: configuration.instanceID), logger: logger)]
        // Units reserved for orders sold at a till (a store that was offline): the orders are held (docs/store-agent.md).
        subscriptions.append(Subscription(
            name: OversellPolicy.subscriberName, store: store, handler: OversellPolicy(orders: orders),
            configuration: .init(batchSize: 1_000, instance: configuration.instanceID), logger: logger))
        if !configuration.channels.isEmpty {
            subscriptions.append(Subscription(
                name: ChannelAvailabilitySubscriber.subscriberName, store: store,
                handler: ChannelAvailabilitySubscriber(channels: configuration.channels, window: configuration.publishWindow),
                // Its batches commit at once, so a large batch keeps up with a busy estate (measured: 100 fell behind
                // by 12,000 events at 1,800 sales/s; 1,000 stayed within 300).
                configuration: .init(batchSize: 1_000, instance: configuration.instanceID), logger: logger))
        }
        if let erp {
            subscriptions.append(Subscription(
                name: ERPShipmentWatch.Starter.subscriberName, store: store, handler: ERPShipmentWatch.Starter(system: erp.system),
                configuration: .init(instance: configuration.instanceID), logger: logger))
        }
        if drill {
            subscriptions.append(Subscription(
                name: Drill.tallySubscriber, store: store, handler: Drill.Tally(), configuration: .init(instance: configuration.instanceID),
                logger: logger))
        }
        // Graceful shutdown runs in reverse order: the HTTP server stops taking requests first, then the worker lets
        // its running jobs finish. Whatever is still running after 30 s is cancelled.
        let monitor = OperationsMonitor(store: store, systems: systems, subscriptions: subscriptions.map(\.name), tracker: serviceLevels,
                                        history: OperationsHistory(), agingAfter: configuration.orderAgingAfter,
                                        interval: configuration.operationsInterval, logger: logger)
        let router = HubRouter.build(store: store, metrics: registry, api: configuration.api, inventory: inventory, systems: systems,
                                     orders: orders, returns: returns, pricing: PricingService(store: store, policy: pricingPolicy),
                                     webhooks: webhooks, erpDiff: erpDiff(store: store, primary: tryton, shadow: shadow), storeAgents: storeAgents,
                                     operations: monitor)
        if drill {
            Drill.addRoutes(to: router, store: store)
            logger.warning("fault-drill workload enabled: POST /drill/messages is unauthenticated; not for business data")
        }
        let application = Application(
            router: router,
            // A connection that sends nothing for as long as a request may take is closed (slow or stuck clients).
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.api.requestTimeout.timeInterval * 1e9)))),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "tillwire"),
            onServerRunning: { channel in
                hooks.control?.serving(port: channel.localAddress?.port ?? configuration.httpPort)
                logger.info("tillwire is serving", metadata: [
                    "address": "http://\(configuration.httpHost):\(channel.localAddress?.port ?? configuration.httpPort)",
                    "health": "/healthz", "ready": "/readyz", "metrics": "/metrics",
                ])
            },
            logger: logger)
        let sweeper = RetentionSweeper(store: store, policy: configuration.retention, logger: logger)
        // The exporter first, so that it stops last and sends the spans of the shutdown too.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = tracing.map { [.init(service: $0)] } ?? []
        services += [
            .init(service: sweeper),
            .init(service: monitor),
            .init(service: StoreAgentMonitor(agents: storeAgents, logger: logger)),
        ]
        // Files from legacy systems: POSLog from store estates that batch-load, CSV from those that only export files.
        if let folder = configuration.dropFolder {
            let drop = DropFolder(folder: URL(fileURLWithPath: folder, isDirectory: true), intakes: fileIntakes(store: store, inventory: inventory),
                                  interval: configuration.dropScanInterval, logger: logger)
            do {
                try drop.prepare()
            } catch {
                try? await store.close()
                throw ConfigurationError(key: "drop.folder", origin: "configuration", reason: "\(error)")
            }
            services.append(.init(service: drop))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services + [.init(service: worker)] + subscriptions.map { .init(service: $0) }
                + [.init(service: application)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(30)
        let group = ServiceGroup(configuration: groupConfiguration)
        hooks.control?.attach(group, systems: systems)
        // The reconciliation polls' chains start here; a poll already pending (from a previous run, or another
        // instance) absorbs this one and keeps its place.
        let polled = connectors.filter { $0.capabilities.contains(.orderPoll) }.map(\.system)
        var chains = polled.map { OrderPoll.job($0, at: Date()) }
        // The ERP's master pull likewise: its product master, list prices and stock.
        if let erp, configuration.erpPullEnabled, hooks.erp == nil { chains.append(ERPMasterPull.job(erp.system, at: Date())) }
        if !chains.isEmpty { _ = try await store.commit(Commit(jobs: chains)) }
        do {
            try await group.run()
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        logger.info("tillwire stopped")
    }
}

/// What a process that runs the hub inside itself (`tillwire demo`) may add to `Hub.serve`.
public struct ServeHooks: Sendable {
    /// An ERP in place of the configured one: releases and shipments (no master pull).
    public var erp: (any ERPConnector)?
    /// Where journal entries are posted (`finance.system`'s jobs), in place of the configured ERP or the log.
    public var ledger: (any LedgerClient)?
    /// Learns the port once the hub serves, and stops the hub.
    public var control: ServeControl?

    public init(erp: (any ERPConnector)? = nil, ledger: (any LedgerClient)? = nil, control: ServeControl? = nil) {
        self.erp = erp
        self.ledger = ledger
        self.control = control
    }
}

/// The port a running hub serves on, and a graceful stop (as SIGTERM would).
public final class ServeControl: Sendable {
    struct State {
        var port: Int?
        var group: ServiceGroup?
        var systems: SystemGate?
        var stopRequested = false
    }

    let state = Mutex(State())

    public init() {}

    /// The port, once the hub serves; nil before.
    public var port: Int? { state.withLock { $0.port } }

    /// Stops the hub gracefully: the HTTP server first, then running jobs finish.
    public func stop() async {
        let group = state.withLock { state -> ServiceGroup? in
            state.stopRequested = true
            return state.group
        }
        await group?.triggerGracefulShutdown()
    }

    func serving(port: Int) { state.withLock { $0.port = port } }

    /// Announces a maintenance window of `system` to the running hub (`SystemGate.addMaintenance`); false before the
    /// hub runs.
    public func announceMaintenance(of system: String, from: Date, until: Date) -> Bool {
        guard let systems = state.withLock({ $0.systems }) else { return false }
        systems.addMaintenance(.once(from: from, until: until), to: system)
        return true
    }

    func attach(_ group: ServiceGroup, systems: SystemGate) {
        let stopped = state.withLock { state in
            state.group = group
            state.systems = systems
            return state.stopRequested
        }
        if stopped { Task { await group.triggerGracefulShutdown() } }
    }
}
