import Foundation
import Logging
import ConnectorOscar
import ConnectorShopify
import ConnectorTryton
import ConnectorWooCommerce
import TillwireAPI
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import Yams

/// Everything the hub reads at start-up, typed, with its defaults. Read in one place: `HubConfiguration.load`.
///
/// Each key can come from the YAML file (`--config`) and be overridden by an environment variable named
/// `TILLWIRE_` + the key in capitals with dots as underscores (`storage.sqlite.path` → `TILLWIRE_STORAGE_SQLITE_PATH`).
public struct HubConfiguration: Sendable, Equatable {
    public enum StorageBackend: String, Sendable, CaseIterable { case sqlite, postgres }
    public enum LogFormat: String, Sendable, CaseIterable { case text, json }

    /// `http.host`: the address to listen on. Default `127.0.0.1`.
    public var httpHost = "127.0.0.1"
    /// `http.port`: default 8080; 0 picks a free port (logged at start-up).
    public var httpPort = 8080
    /// `storage.backend`: `sqlite` (default, embedded) or `postgres` (several hub instances).
    public var storageBackend = StorageBackend.sqlite
    /// `storage.sqlite.path`: the database file. Default `./tillwire-data/tillwire.sqlite`.
    public var sqlitePath = "./tillwire-data/tillwire.sqlite"
    /// `storage.postgres.url`: `postgres://user[:password]@host:port/database`; required with the postgres backend.
    public var postgresURL: String?
    /// `storage.postgres.max_connections`: pool size per hub instance. Default 20.
    public var postgresMaxConnections = 20
    /// `log.level`: trace, debug, info (default), notice, warning, error, critical.
    public var logLevel = Logger.Level.info
    /// `log.format`: `text` (default) or `json` (one object per line).
    public var logFormat = LogFormat.text
    /// `workers.concurrency`: jobs run at once per hub instance. Default 4.
    public var workerConcurrency = 4
    /// `workers.lease_seconds`: how long a claimed job is leased; a job of an instance that died runs again after
    /// this. Running jobs renew it every third. Default 60.
    public var workerLease = Duration.seconds(60)
    /// `instance.id`: names this hub instance to the others (subscription leases). Instances that run at the same
    /// time on one database need different ids; a restarted instance with the same id takes its subscriptions back
    /// at once. Default: the host name.
    public var instanceID = ProcessInfo.processInfo.hostName
    /// `retention.dead_jobs_days`: dead jobs older than this are deleted (which lets the jobs queued behind them
    /// run); 0 keeps them until replayed. Default 0.
    /// `retention.finished_workflows_days`: completed and compensated workflow runs; 0 keeps them. Default 30.
    public var retention = RetentionPolicy()
    /// `api.rate_per_second` (default 50) and `api.burst` (default 100): requests per API key unless the key or
    /// one of its scopes has its own rate; `api.scope_rates.<scope>`: `<per second>/<burst>` for keys with that
    /// scope (defaults in `APIPolicy.defaultScopeRates`); `api.max_body_bytes`: larger bodies are refused with 413
    /// (default 1 MiB); `api.request_timeout_seconds`: longer requests are stopped with 503 (default 30).
    public var api = APIPolicy()
    /// `inventory.divergence_alert_units` (10): a count correction this large raises an alert;
    /// `inventory.best_location` (`most_available` or `first_listed`): how a reservation without a location picks
    /// among its candidates; `inventory.default_hold_seconds` (900): a reservation's hold when it asks for none.
    public var inventory = InventoryService.Policy()
    /// `systems.<name>`: resilience toward each external system, by the name its job kinds start with
    /// (`erp` for `erp.post_sale`). File only, no environment override. Keys per system (all optional):
    /// `rate_per_second` and `burst` (its published limit; burst defaults to 1), `concurrency` (calls in flight per
    /// hub instance), `breaker.failure_rate` (0.5), `breaker.window` (20 calls), `breaker.minimum_calls` (10),
    /// `breaker.open_seconds` (30), `breaker.half_open_probes` (3), and `maintenance`: a list of windows, each
    /// `weekly sun 02:00-04:00 [Time/Zone]` or an ISO 8601 interval `2026-12-01T02:00:00Z/2026-12-01T04:00:00Z`.
    public var systems: [String: SystemPolicy] = [:]
    /// `channels.<name>`: the sales channels whose availability the hub publishes. File only. Keys per channel:
    /// `locations` (a list of location ids that feed it; required) and `buffer` (units held back per SKU, default
    /// 0). `inventory.publish_window_ms` (50): how long a publish waits for more changes to join it.
    public var channels: [ChannelPolicy] = []
    public var publishWindow: Duration = .milliseconds(50)
    /// `tax.countries.<CC>`: `kind` (`vat_inclusive`, `sales_tax_exclusive` or `unchecked`) and `rates` (basis
    /// points); `tax.home_country`: the stores' country, for pickups. `orders.strict_channels`: channels held to the
    /// gate's stricter checks. File only. See docs/orders.md.
    public var orders = OrderService.Policy()
    /// `returns.*`: the return policy (see docs/returns.md): `window_days` (30), `fault_window_days` (365),
    /// `shipping` (`never`, `full_return`, `fault`; never), `accept_unreferenced` (false),
    /// `unreferenced_limit_minor_units` (10000), `receipt_window_days` (30), `refund_wait_days` (365).
    public var returns = ReturnService.Policy()
    /// `finance.*`: where journal entries go (see docs/finance.md): `system` (erp), `time_zone` of business days
    /// (UTC), `accounts.<part>` for revenue, shipping_revenue, sales_returns, tax_payable, receivable, inventory,
    /// cost_of_goods_sold, shrinkage, and `accounts.tenders.<tender>` (file only); `daily_posting_locations` (location
    /// ids posted summarised per business day, or `*`; none) and `day_close_minutes` (60).
    public var finance = Ledger.Policy()
    /// `pricing.owner`: the system of record for prices and promotions (an API client's name); others are refused.
    /// Default none: any client with `prices:write`.
    public var pricing = PricingService.Policy()
    /// `oscar.*`: a django-oscar shop as a sales channel (docs/connectors/oscar.md): `url`, `channel` (one of
    /// `channels`), `username` and `password` (a staff user), `webhook_secret`, and `system` (default `oscar`). All but
    /// `system` are required once one is set; put the secrets in `TILLWIRE_OSCAR_PASSWORD` and
    /// `TILLWIRE_OSCAR_WEBHOOK_SECRET`. Default: no shop.
    public var oscar: OscarConfiguration?
    /// `shopify.*`: a Shopify shop as a sales channel (docs/connectors/shopify.md): `url` (https://<shop>.myshopify.com),
    /// `channel` (one of `channels`), `access_token` (the app's Admin API token), `webhook_secret` (the app's client
    /// secret), `location_id` (the Shopify location the channel's figure is set at); optional `system` (`shopify`),
    /// `api_version` (2026-04), `poll_interval_seconds` (300) and `poll_overlap_seconds` (600). Put the secrets in
    /// `TILLWIRE_SHOPIFY_ACCESS_TOKEN` and `TILLWIRE_SHOPIFY_WEBHOOK_SECRET`. Default: no shop.
    public var shopify: ShopifyConfiguration?
    /// `woocommerce.*`: a WooCommerce store as a sales channel (docs/connectors/woocommerce.md): `url` (the WordPress
    /// site), `channel` (one of `channels`), `consumer_key` and `consumer_secret` (a read/write REST API key),
    /// `webhook_secret` (the secret set on the store's webhooks); optional `system` (`woocommerce`),
    /// `poll_interval_seconds` (300) and `poll_overlap_seconds` (600). Put the secrets in
    /// `TILLWIRE_WOOCOMMERCE_CONSUMER_SECRET` and `TILLWIRE_WOOCOMMERCE_WEBHOOK_SECRET`. Default: no store.
    public var woocommerce: WooCommerceConfiguration?
    /// `tryton.*`: a Tryton 8.2 ERP as the fulfilling system (docs/connectors/tryton.md): `url`, `database`, `username`,
    /// `password`; optional `stock_location` (the location code of stock snapshots, `STO`) and `party` (the customer
    /// released sales are made for, `Tillwire channels`). Its jobs are those of `orders.fulfilment_system`. Put the
    /// password in `TILLWIRE_TRYTON_PASSWORD`. Default: no ERP connector (releases go to the log).
    public var tryton: TrytonConfiguration?
    /// With `tryton.*`, the product master, list prices and stock pulled from the ERP (`ERPMasterPull`):
    /// `tryton.pull_interval_seconds` (900; 0: never), `tryton.stock_hub_location` (the hub location the ERP's stock
    /// snapshot counts; default none: no stock pull), `tryton.price_lists` (`channel/country` pairs, comma-separated,
    /// where the ERP's list prices are the prices; default none).
    public var erpPull = ERPMasterPull.Policy()
    public var erpPullEnabled = true
    /// `tryton_shadow.*`: during an ERP migration, a second Tryton every journal entry is also posted to after the
    /// primary (`tryton.*`) took it; `tillwire erp-diff` compares them (docs/erp-migration.md). Keys as `tryton.*`
    /// (`url`, `database`, `username`, `password`, `party`, `journal`, `invoice_journal`) and `system` (default `erp-shadow`); the
    /// password in `TILLWIRE_TRYTON_SHADOW_PASSWORD`. Needs `finance.system` to be the primary's. Default: none.
    public var trytonShadow: TrytonConfiguration?
    /// `drop.folder`: a folder watched for files from legacy systems, POSLog (`*.xml`) and CSV (`*.csv`), each applied
    /// once and moved to `processed/` or, refused with its reason, to `rejected/` (docs/connectors/poslog.md, csv.md).
    /// `drop.scan_seconds`: how often it is looked at (default 2). Default: no drop folder.
    public var dropFolder: String?
    public var dropScanInterval = Duration.seconds(2)
    /// `store_agents.offline_after_seconds` (90): a store agent not heard from for this long is shown offline;
    /// `store_agents.alert_after_seconds` (900): and raises `store_agent.offline`, once per outage;
    /// `store_agents.record_every_seconds` (30; at most half of `offline_after_seconds`): the longest gap between two
    /// recorded reports of one store
    /// (docs/store-agent.md).
    public var storeAgents = StoreAgents.Policy()
    /// `slos.<name>`: service-level objectives, judged on a duration metric the hub records. File only. Keys:
    /// `metric` (one of `ServiceLevelObjective.watchable`), `match.<dimension>` (e.g. `match.http_route: /v1/availability`),
    /// `threshold_seconds`, `objective` (a share below 1, e.g. 0.99). A name of a default objective changes its
    /// numbers (keys left out keep the default's); a new name needs all of `metric`, `threshold_seconds` and `objective`.
    /// Defaults: `availability_inquiry` (GET /v1/availability within 50 ms, 0.99), `sale_to_channel` (availability
    /// published within 5 s, 0.99), `financial_posting` (an entry in the ERP within 15 min, 0.99), `refund` (within 24 h, 0.99).
    public var serviceLevels = ServiceLevelObjective.defaults
    /// `observability.slo_window_seconds` (3600, 60-86400): the rolling window over which each instance judges the
    /// objectives (compliance and burn rate at `/metrics` and on the operations pages).
    public var serviceLevelWindow = Duration.seconds(3600)
    /// `observability.order_aging_after_seconds` (7200): an order waiting on the estate (captured to partially
    /// fulfilled, or on hold) that has not changed for this long counts as aging (`tillwire_orders_aging`).
    public var orderAgingAfter = Duration.seconds(7200)
    /// `observability.read_every_seconds` (15, 1-300): how often the hub reads its flow and business figures (the
    /// gauges at `/metrics` and the charts of the operations pages).
    public var operationsInterval = Duration.seconds(15)
    /// `tracing.otlp_endpoint`: an OpenTelemetry collector's OTLP/HTTP address (`http://collector:4318`); spans go there
    /// when it is set, and nowhere (no tracer) when it is not. Default: not set.
    /// `tracing.protocol`: `http/protobuf` (default) or `http/json`. `tracing.service_name`: default `tillwire`.
    public var tracing = TracingConfiguration()

    public init() {}

    // Key paths are immutable values; the array is a constant.
    nonisolated(unsafe) static let accountKeys: [(key: String, path: WritableKeyPath<ChartOfAccounts, String>)] = [
        ("revenue", \.revenue), ("shipping_revenue", \.shippingRevenue), ("sales_returns", \.salesReturns), ("tax_payable", \.taxPayable),
        ("receivable", \.receivable), ("inventory", \.inventory), ("cost_of_goods_sold", \.costOfGoodsSold), ("shrinkage", \.shrinkage),
    ]

    /// Every key the file may hold.
    public static let keys = [
        "http.host", "http.port", "storage.backend", "storage.sqlite.path", "storage.postgres.url",
        "storage.postgres.max_connections", "log.level", "log.format", "workers.concurrency", "workers.lease_seconds", "instance.id",
        "retention.dead_jobs_days", "retention.finished_workflows_days", "retention.idempotency_keys_days", "api.rate_per_second", "api.burst",
        "api.max_body_bytes", "api.request_timeout_seconds", "inventory.divergence_alert_units", "inventory.best_location",
        "inventory.default_hold_seconds", "inventory.publish_window_ms",
        "returns.window_days", "returns.fault_window_days", "returns.shipping", "returns.accept_unreferenced",
        "returns.unreferenced_limit_minor_units", "returns.receipt_window_days", "returns.refund_wait_days",
        "finance.system", "finance.time_zone", "finance.daily_posting_locations", "finance.day_close_minutes", "pricing.owner", "pricing.promotion_refresh_ms",
        "oscar.url", "oscar.channel", "oscar.username", "oscar.password", "oscar.webhook_secret", "oscar.system",
        "shopify.url", "shopify.channel", "shopify.access_token", "shopify.webhook_secret", "shopify.location_id", "shopify.system",
        "shopify.api_version", "shopify.poll_interval_seconds", "shopify.poll_overlap_seconds",
        "woocommerce.url", "woocommerce.channel", "woocommerce.consumer_key", "woocommerce.consumer_secret", "woocommerce.webhook_secret",
        "woocommerce.system", "woocommerce.poll_interval_seconds", "woocommerce.poll_overlap_seconds",
        "tryton.url", "tryton.database", "tryton.username", "tryton.password", "tryton.stock_location", "tryton.party", "tryton.journal", "tryton.invoice_journal",
        "tryton.pull_interval_seconds", "tryton.stock_hub_location", "tryton.price_lists",
        "tryton_shadow.url", "tryton_shadow.database", "tryton_shadow.username", "tryton_shadow.password", "tryton_shadow.system",
        "tryton_shadow.party", "tryton_shadow.journal", "tryton_shadow.invoice_journal",
        "drop.folder", "drop.scan_seconds",
        "store_agents.offline_after_seconds", "store_agents.alert_after_seconds", "store_agents.record_every_seconds",
        "observability.slo_window_seconds", "observability.order_aging_after_seconds", "observability.read_every_seconds",
        "tracing.otlp_endpoint", "tracing.protocol", "tracing.service_name",
    ] + Scope.known.map { "api.scope_rates.\($0)" } + accountKeys.map { "finance.accounts.\($0.key)" }

    public static func environmentName(of key: String) -> String {
        "TILLWIRE_" + key.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: ":", with: "_")
    }

    /// Reads the YAML text (nil: no file) and the environment; a bad value fails naming the key, where it came
    /// from, and what is expected.
    public static func load(yaml: String?, origin: String = "config file", environment: [String: String]) throws(ConfigurationError) -> HubConfiguration {
        var values: [String: (value: String, origin: String)] = [:]
        var configurationSystems: [String: SystemPolicy] = [:]
        var configurationChannels: [ChannelPolicy] = []
        var configurationObjectives = ServiceLevelObjective.defaults
        var configurationOrders = OrderService.Policy()
        var tenderAccounts: [String: String] = [:]
        if let yaml {
            let node: Node?
            do { node = try Yams.compose(yaml: yaml) } catch {
                throw ConfigurationError(key: nil, origin: origin, reason: "not valid YAML: \(yamlProblem(error))")
            }
            if case .mapping(var mapping)? = node, ["systems", "channels", "tax", "orders", "finance", "slos"].contains(where: { mapping[Node($0)] != nil }) {
                // `finance.accounts.tenders` names tenders of the retailer's own choosing: read apart from the fixed keys.
                if case .mapping(var finance)? = mapping["finance"], case .mapping(var accounts)? = finance["accounts"],
                   let tenders = accounts["tenders"] {
                    guard case .mapping(let pairs) = tenders else {
                        throw ConfigurationError(key: "finance.accounts.tenders", origin: origin, reason: "must map tender names to accounts")
                    }
                    for (name, account) in pairs {
                        guard let tender = name.string, let text = account.string, !text.isEmpty else {
                            throw ConfigurationError(key: "finance.accounts.tenders", origin: origin, reason: "must map tender names to account codes")
                        }
                        tenderAccounts[tender] = text
                    }
                    accounts["tenders"] = nil
                    finance["accounts"] = .mapping(accounts)
                    mapping["finance"] = .mapping(finance)
                }
                if let tax = mapping["tax"] {
                    mapping["tax"] = nil
                    (configurationOrders.taxRules, configurationOrders.homeCountry) = try parseTax(tax, origin: origin)
                }
                if let orders = mapping["orders"] {
                    mapping["orders"] = nil
                    try parseOrders(orders, origin: origin, into: &configurationOrders)
                }
                if let systems = mapping["systems"] {
                    mapping["systems"] = nil
                    configurationSystems = try parseSystems(systems, origin: origin)
                }
                if let slos = mapping["slos"] {
                    mapping["slos"] = nil
                    configurationObjectives = try parseServiceLevels(slos, origin: origin)
                }
                if let channels = mapping["channels"] {
                    mapping["channels"] = nil
                    configurationChannels = try parseChannels(channels, origin: origin)
                }
                try flatten(.mapping(mapping), prefix: "", origin: origin, into: &values)
            } else if let node {
                try flatten(node, prefix: "", origin: origin, into: &values)
            }
        }
        for key in keys {
            let name = environmentName(of: key)
            if let value = environment[name] { values[key] = (value, "environment variable \(name)") }
        }

        var configuration = HubConfiguration()
        configuration.systems = configurationSystems
        configuration.channels = configurationChannels
        configuration.serviceLevels = configurationObjectives
        configuration.orders = configurationOrders
        configuration.finance.chart.tenders = tenderAccounts
        func value(_ key: String) -> (value: String, origin: String)? { values[key] }
        func fail(_ key: String, _ reason: String) -> ConfigurationError {
            ConfigurationError(key: key, origin: values[key]?.origin ?? origin, reason: reason)
        }
        func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
            guard let entry = value(key) else { return nil }
            guard let number = Int(entry.value), range.contains(number) else {
                throw fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(entry.value)'")
            }
            return number
        }
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws(ConfigurationError) -> T? where T.RawValue == String {
            guard let entry = value(key) else { return nil }
            guard let parsed = T(rawValue: entry.value) else {
                throw fail(key, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(entry.value)'")
            }
            return parsed
        }

        if let host = value("http.host")?.value {
            guard !host.isEmpty, !host.contains(" ") else { throw fail("http.host", "must be a host name or address, got '\(host)'") }
            configuration.httpHost = host
        }
        configuration.httpPort = try integer("http.port", in: 0...65535) ?? configuration.httpPort
        configuration.storageBackend = try choice("storage.backend", StorageBackend.self) ?? configuration.storageBackend
        if let path = value("storage.sqlite.path")?.value {
            guard !path.isEmpty else { throw fail("storage.sqlite.path", "must not be empty") }
            configuration.sqlitePath = path
        }
        if let url = value("storage.postgres.url")?.value {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw fail("storage.postgres.url", "must look like postgres://user:password@host:5432/database")
            }
            configuration.postgresURL = url
        }
        configuration.postgresMaxConnections = try integer("storage.postgres.max_connections", in: 1...1000) ?? configuration.postgresMaxConnections
        if configuration.storageBackend == .postgres, configuration.postgresURL == nil {
            throw ConfigurationError(key: "storage.postgres.url", origin: values["storage.backend"]?.origin ?? origin,
                                     reason: "is required when storage.backend is postgres")
        }
        if let level = value("log.level") {
            guard let parsed = Logger.Level(rawValue: level.value) else {
                throw fail("log.level", "must be one of trace, debug, info, notice, warning, error, critical, got '\(level.value)'")
            }
            configuration.logLevel = parsed
        }
        configuration.logFormat = try choice("log.format", LogFormat.self) ?? configuration.logFormat
        configuration.workerConcurrency = try integer("workers.concurrency", in: 1...256) ?? configuration.workerConcurrency
        if let seconds = try integer("workers.lease_seconds", in: 1...86_400) { configuration.workerLease = .seconds(seconds) }
        if let id = value("instance.id")?.value {
            guard (1...200).contains(id.utf8.count), !id.contains(" ") else { throw fail("instance.id", "must be 1-200 characters without spaces") }
            configuration.instanceID = id
        }
        if let entry = value("api.rate_per_second") {
            guard let rate = Double(entry.value), rate > 0, rate <= 1_000_000 else {
                throw fail("api.rate_per_second", "must be a number above 0, got '\(entry.value)'")
            }
            configuration.api.ratePerSecond = rate
        }
        configuration.api.burst = try integer("api.burst", in: 1...1_000_000) ?? configuration.api.burst
        configuration.api.maxBodyBytes = try integer("api.max_body_bytes", in: 1_024...(256 << 20)) ?? configuration.api.maxBodyBytes
        if let seconds = try integer("api.request_timeout_seconds", in: 1...3_600) { configuration.api.requestTimeout = .seconds(seconds) }
        if let units = try integer("inventory.divergence_alert_units", in: 1...1_000_000) { configuration.inventory.divergenceAlertUnits = Int64(units) }
        configuration.inventory.locationChoice = try choice("inventory.best_location", InventoryService.LocationChoice.self) ?? configuration.inventory.locationChoice
        if let seconds = try integer("inventory.default_hold_seconds", in: 1...(30 * 86_400)) { configuration.inventory.defaultHold = .seconds(seconds) }
        if let milliseconds = try integer("inventory.publish_window_ms", in: 1...60_000) { configuration.publishWindow = .milliseconds(milliseconds) }
        for scope in Scope.known {
            let key = "api.scope_rates.\(scope)"
            guard let entry = value(key) else { continue }
            let parts = entry.value.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let rate = Double(parts[0]), rate > 0, rate <= 1_000_000,
                  let burst = Int(parts[1]), (1...1_000_000).contains(burst) else {
                throw fail(key, "must be '<requests per second>/<burst>', e.g. '200/400', got '\(entry.value)'")
            }
            configuration.api.scopeRates[scope] = RateLimit(perSecond: rate, burst: burst)
        }
        if let days = try integer("returns.window_days", in: 0...3_650) { configuration.returns.rules.window = .seconds(days * 86_400) }
        if let days = try integer("returns.fault_window_days", in: 0...3_650) { configuration.returns.rules.faultWindow = .seconds(days * 86_400) }
        configuration.returns.rules.shipping = try choice("returns.shipping", ReturnPolicy.ShippingRefund.self) ?? configuration.returns.rules.shipping
        if let entry = value("returns.accept_unreferenced") {
            guard let flag = Bool(entry.value) else { throw fail("returns.accept_unreferenced", "must be true or false, got '\(entry.value)'") }
            configuration.returns.rules.acceptUnreferenced = flag
        }
        if let units = try integer("returns.unreferenced_limit_minor_units", in: 0...100_000_000) { configuration.returns.rules.unreferencedLimit = Int64(units) }
        if let days = try integer("returns.receipt_window_days", in: 1...3_650) { configuration.returns.receiptWindow = .seconds(days * 86_400) }
        if let days = try integer("returns.refund_wait_days", in: 1...3_650) { configuration.returns.refundWait = .seconds(days * 86_400) }
        if let entry = value("finance.system") {
            guard let id = try? SystemID(entry.value), !entry.value.contains(".") else { throw fail("finance.system", "must be a system id without a dot") }
            configuration.finance.system = id
        }
        if let entry = value("finance.time_zone") {
            guard let zone = TimeZone(identifier: entry.value) else { throw fail("finance.time_zone", "must be an IANA time zone like Europe/London, got '\(entry.value)'") }
            configuration.finance.timeZone = zone
        }
        if let entry = value("finance.daily_posting_locations") {
            let ids = entry.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for id in ids where id != "*" && (try? LocationID(id)) == nil {
                throw fail("finance.daily_posting_locations", "must be location ids separated by commas, or *, got '\(id)'")
            }
            configuration.finance.dailyLocations = Set(ids)
        }
        if let entry = value("pricing.owner") {
            guard let id = try? SystemID(entry.value) else { throw fail("pricing.owner", "must be a system (API client) name, got '\(entry.value)'") }
            configuration.pricing.owner = id
        }
        if let milliseconds = try integer("pricing.promotion_refresh_ms", in: 0...60_000) { configuration.pricing.promotionRefresh = .milliseconds(milliseconds) }
        /// A connector's section (`<prefix>.*`): nil when none of its keys is set; once one is, the others it needs.
        struct Section {
            let prefix: String
            let value: (String) -> (value: String, origin: String)?
            let fail: (String, String) -> ConfigurationError

            func required(_ key: String) throws(ConfigurationError) -> String {
                guard let entry = value("\(prefix).\(key)"), !entry.value.isEmpty else { throw fail("\(prefix).\(key)", "is required once a \(prefix).* key is set") }
                return entry.value
            }

            func url(example: String) throws(ConfigurationError) -> String {
                let url = try required("url")
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
                    throw fail("\(prefix).url", "must be an http(s) URL like \(example), got '\(url)'")
                }
                return url
            }

            func channel(among channels: [ChannelPolicy]) throws(ConfigurationError) -> ChannelID {
                let text = try required("channel")
                guard let channel = try? ChannelID(text), channels.contains(where: { $0.channel == channel }) else {
                    throw fail("\(prefix).channel", "must be one of the configured channels (channels.*), got '\(text)'")
                }
                return channel
            }

            func system() throws(ConfigurationError) -> SystemID {
                let text = value("\(prefix).system")?.value ?? prefix
                guard let system = try? SystemID(text), text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                    throw fail("\(prefix).system", "must be a system name of letters, digits, '-' and '_', got '\(text)'")
                }
                return system
            }
        }
        func section(_ prefix: String) -> Section? {
            guard keys.contains(where: { $0.hasPrefix("\(prefix).") && value($0) != nil }) else { return nil }
            return Section(prefix: prefix, value: value, fail: fail)
        }
        if let oscar = section("oscar") {
            configuration.oscar = OscarConfiguration(system: try oscar.system(), channel: try oscar.channel(among: configuration.channels),
                                                     baseURL: try oscar.url(example: "http://127.0.0.1:8001"), username: try oscar.required("username"),
                                                     password: try oscar.required("password"), webhookSecret: try oscar.required("webhook_secret"))
        }
        if let shopify = section("shopify") {
            let location = try shopify.required("location_id")
            guard location.allSatisfy(\.isNumber) || location.hasPrefix("gid://shopify/Location/") else {
                throw fail("shopify.location_id", "must be the Shopify location's id (digits, or gid://shopify/Location/<digits>), got '\(location)'")
            }
            var shop = ShopifyConfiguration(system: try shopify.system(), channel: try shopify.channel(among: configuration.channels),
                                            shopURL: try shopify.url(example: "https://your-shop.myshopify.com"), accessToken: try shopify.required("access_token"),
                                            webhookSecret: try shopify.required("webhook_secret"), location: ShopifyID(location))
            if let version = value("shopify.api_version")?.value {
                guard version.wholeMatch(of: /[0-9]{4}-[0-9]{2}/) != nil else { throw fail("shopify.api_version", "must be a version like 2026-04, got '\(version)'") }
                shop.apiVersion = version
            }
            if let seconds = try integer("shopify.poll_interval_seconds", in: 10...86_400) { shop.pollInterval = .seconds(seconds) }
            if let seconds = try integer("shopify.poll_overlap_seconds", in: 0...86_400) { shop.pollOverlap = .seconds(seconds) }
            guard shop.system != configuration.oscar?.system else { throw fail("shopify.system", "is also oscar.system; each shop needs its own") }
            guard shop.channel != configuration.oscar?.channel else { throw fail("shopify.channel", "already has a shop connector (oscar.channel); each channel has one") }
            configuration.shopify = shop
            // The shop's channel is told about its orders (fulfilment, refunds) through the shop's system.
            configuration.orders.channelSystems[shop.channel] = shop.system
        }
        if let erp = section("tryton") {
            var tryton = TrytonConfiguration(system: configuration.orders.fulfilmentSystem, url: try erp.url(example: "https://erp.example.com:8000"),
                                             database: try erp.required("database"), username: try erp.required("username"),
                                             password: try erp.required("password"))
            if let location = value("tryton.stock_location")?.value { tryton.stockLocation = location }
            if let party = value("tryton.party")?.value { tryton.party = party }
            if let journal = value("tryton.journal")?.value { tryton.journal = journal }
            if let journal = value("tryton.invoice_journal")?.value { tryton.invoiceJournal = journal }
            if let seconds = try integer("tryton.pull_interval_seconds", in: 0...86_400) {
                guard seconds == 0 || seconds >= 60 else { throw fail("tryton.pull_interval_seconds", "must be 0 (never) or at least 60, got \(seconds)") }
                configuration.erpPullEnabled = seconds > 0
                if seconds > 0 { configuration.erpPull.interval = .seconds(seconds) }
            }
            if let location = value("tryton.stock_hub_location")?.value {
                do { configuration.erpPull.stockLocation = try LocationID(location) } catch {
                    throw fail("tryton.stock_hub_location", "must be a hub location id, got '\(location)'")
                }
            }
            if let lists = value("tryton.price_lists")?.value {
                var priceLists: [ERPMasterPull.PriceList] = []
                for pair in lists.split(separator: ",") {
                    let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "/").map(String.init)
                    guard parts.count == 2, let channel = try? ChannelID(parts[0]), parts[1].count == 2, parts[1].allSatisfy(\.isUppercase) else {
                        throw fail("tryton.price_lists", "must be channel/country pairs like web-us/US, separated by commas; got '\(pair)'")
                    }
                    priceLists.append(ERPMasterPull.PriceList(channel: channel, country: parts[1]))
                }
                configuration.erpPull.priceLists = priceLists
            }
            configuration.tryton = tryton
        }
        if let woo = section("woocommerce") {
            var store = WooCommerceConfiguration(system: try woo.system(), channel: try woo.channel(among: configuration.channels),
                                                 storeURL: try woo.url(example: "https://shop.example.com"), consumerKey: try woo.required("consumer_key"),
                                                 consumerSecret: try woo.required("consumer_secret"), webhookSecret: try woo.required("webhook_secret"))
            if let seconds = try integer("woocommerce.poll_interval_seconds", in: 10...86_400) { store.pollInterval = .seconds(seconds) }
            if let seconds = try integer("woocommerce.poll_overlap_seconds", in: 0...86_400) { store.pollOverlap = .seconds(seconds) }
            guard ![configuration.oscar?.system, configuration.shopify?.system].contains(store.system) else {
                throw fail("woocommerce.system", "is also another connector's system; each shop needs its own")
            }
            guard ![configuration.oscar?.channel, configuration.shopify?.channel].contains(store.channel) else {
                throw fail("woocommerce.channel", "already has a shop connector; each channel has one")
            }
            configuration.woocommerce = store
            configuration.orders.channelSystems[store.channel] = store.system
        }
        if let folder = value("drop.folder")?.value {
            guard !folder.isEmpty else { throw fail("drop.folder", "must not be empty (leave it out for no drop folder)") }
            configuration.dropFolder = folder
        }
        if let seconds = try integer("drop.scan_seconds", in: 1...3_600) { configuration.dropScanInterval = .seconds(seconds) }
        if let seconds = try integer("store_agents.offline_after_seconds", in: 5...86_400) { configuration.storeAgents.offlineAfter = .seconds(seconds) }
        if let seconds = try integer("store_agents.alert_after_seconds", in: 5...(7 * 86_400)) { configuration.storeAgents.alertAfter = .seconds(seconds) }
        if let seconds = try integer("store_agents.record_every_seconds", in: 1...3_600) { configuration.storeAgents.recordEvery = .seconds(seconds) }
        if let seconds = try integer("observability.slo_window_seconds", in: 60...86_400) { configuration.serviceLevelWindow = .seconds(seconds) }
        if let seconds = try integer("observability.order_aging_after_seconds", in: 60...(30 * 86_400)) { configuration.orderAgingAfter = .seconds(seconds) }
        if let seconds = try integer("observability.read_every_seconds", in: 1...300) { configuration.operationsInterval = .seconds(seconds) }
        if let endpoint = value("tracing.otlp_endpoint") {
            guard let url = URL(string: endpoint.value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.user == nil else {
                throw fail("tracing.otlp_endpoint", "must be an http(s) address of an OTLP/HTTP collector without credentials, e.g. http://collector:4318")
            }
            configuration.tracing.endpoint = endpoint.value
        }
        if let text = value("tracing.protocol") {
            guard TracingConfiguration.protocols.contains(text.value) else {
                throw fail("tracing.protocol", "must be one of \(TracingConfiguration.protocols.joined(separator: ", ")), got '\(text.value)'")
            }
            configuration.tracing.protocol = text.value
        }
        if let name = value("tracing.service_name") {
            guard !name.value.isEmpty else { throw fail("tracing.service_name", "must not be empty") }
            configuration.tracing.serviceName = name.value
        }
        guard configuration.storeAgents.recordEvery * 2 <= configuration.storeAgents.offlineAfter else {
            throw fail("store_agents.record_every_seconds", "must be at most half of store_agents.offline_after_seconds, or another hub instance sees a store offline between two records (a record waits for the agent's next report)")
        }
        if let minutes = try integer("finance.day_close_minutes", in: 0...(7 * 24 * 60)) { configuration.finance.dayCloseDelay = .seconds(minutes * 60) }
        for (key, path) in accountKeys {
            if let entry = value("finance.accounts.\(key)") {
                guard !entry.value.isEmpty, entry.value.utf8.count <= 100 else { throw fail("finance.accounts.\(key)", "must be an account code of 1-100 characters") }
                configuration.finance.chart[keyPath: path] = entry.value
            }
        }
        if let days = try integer("retention.dead_jobs_days", in: 0...36_500) {
            configuration.retention.deadJobs = days == 0 ? nil : .seconds(days * 86_400)
        }
        if let days = try integer("retention.idempotency_keys_days", in: 1...3_650) {
            configuration.retention.idempotencyKeys = .seconds(days * 86_400)
        }
        if let days = try integer("retention.finished_workflows_days", in: 0...36_500) {
            configuration.retention.finishedWorkflows = days == 0 ? nil : .seconds(days * 86_400)
        }
        if let shadow = section("tryton_shadow") {
            guard let primary = configuration.tryton else { throw fail("tryton_shadow.url", "a shadow ERP needs the primary one: set tryton.* too") }
            let system = value("tryton_shadow.system") == nil ? SystemID(trusted: "erp-shadow") : try shadow.system()
            var tryton = TrytonConfiguration(system: system, url: try shadow.url(example: "https://new-erp.example.com:8000"),
                                             database: try shadow.required("database"), username: try shadow.required("username"),
                                             password: try shadow.required("password"))
            if let party = value("tryton_shadow.party")?.value { tryton.party = party }
            if let journal = value("tryton_shadow.journal")?.value { tryton.journal = journal }
            if let journal = value("tryton_shadow.invoice_journal")?.value { tryton.invoiceJournal = journal }
            guard system != primary.system else { throw fail("tryton_shadow.system", "is the primary's system (\(primary.system)); the shadow needs its own") }
            guard configuration.finance.system == primary.system else {
                throw fail("tryton_shadow.url", "a shadow ERP takes the primary's journal postings: finance.system must be the primary's system (\(primary.system)), it is \(configuration.finance.system)")
            }
            configuration.trytonShadow = tryton
            // A shadow that stops answering must not take every worker: one call at a time, behind a breaker, unless
            // systems.<shadow> says otherwise.
            if configuration.systems[system.rawValue] == nil { configuration.systems[system.rawValue] = SystemPolicy(concurrency: 1) }
        }
        if let tryton = configuration.tryton, !configuration.erpPull.priceLists.isEmpty, let owner = configuration.pricing.owner, owner != tryton.system {
            throw fail("tryton.price_lists", "sets prices as the ERP (\(tryton.system)), but pricing.owner is \(owner): make the ERP the owner of prices, or leave the key out")
        }
        return configuration
    }

    /// The keys of each `systems.<name>`, dotted below it.
    public static let systemKeys = [
        "rate_per_second", "burst", "concurrency", "breaker.failure_rate", "breaker.window", "breaker.minimum_calls",
        "breaker.open_seconds", "breaker.half_open_probes", "maintenance",
    ]
    /// The keys of `tax:`.
    public static let taxKeys = ["countries", "home_country"]
    /// The keys of each `tax.countries.<CC>`.
    public static let taxCountryKeys = ["kind", "rates"]
    /// The keys of `orders:`.
    public static let orderKeys = ["strict_channels", "fulfilment_system", "pickup_system", "ship_from", "release_timeout_hours",
                                   "fulfilment_timeout_hours", "picking_timeout_hours", "pickup_window_hours"]
    /// The keys of `orders.ship_from`: the modes that reserve where they are told (a pickup reserves at its store).
    public static let orderShipFromKeys = [Fulfilment.Mode.shipFromDC, .shipFromStore].map(\.rawValue)
    /// The keys of each `channels.<name>`.
    public static let channelKeys = ["locations", "buffer"]
    /// The keys of each `slos.<name>`.
    public static let serviceLevelKeys = ["metric", "match", "threshold_seconds", "objective"]

    /// Reads `tax:`: `home_country` and `countries`, a mapping from ISO 3166-1 alpha-2 code to `kind` and `rates`.
    private static func parseTax(_ node: Node, origin: String) throws(ConfigurationError) -> ([String: TaxRule], String?) {
        guard case .mapping(let tax) = node else { throw ConfigurationError(key: "tax", origin: origin, reason: "must be a mapping with countries and home_country") }
        for (keyNode, _) in tax where !taxKeys.contains(keyNode.string ?? "") {
            throw ConfigurationError(key: "tax.\(keyNode.string ?? "?")", origin: origin, reason: "is not a known key; known keys: \(taxKeys.joined(separator: ", "))")
        }
        let isCountry = { (text: String) in text.count == 2 && text.allSatisfy { $0.isASCII && $0.isUppercase } }
        var home: String?
        if let node = tax["home_country"] {
            guard let text = node.string, isCountry(text) else {
                throw ConfigurationError(key: "tax.home_country", origin: origin, reason: "must be an ISO 3166-1 alpha-2 code like GB")
            }
            home = text
        }
        var rules: [String: TaxRule] = [:]
        guard let countriesNode = tax["countries"] else { return (rules, home) }
        guard case .mapping(let countries) = countriesNode else {
            throw ConfigurationError(key: "tax.countries", origin: origin, reason: "must map country codes to their kind and rates")
        }
        for (countryNode, settings) in countries {
            guard let country = countryNode.string, isCountry(country) else {
                throw ConfigurationError(key: "tax.countries", origin: origin, reason: "country codes are ISO 3166-1 alpha-2 like GB, got '\(countryNode.string ?? "?")'")
            }
            let key = "tax.countries.\(country)"
            guard case .mapping(let mapping) = settings else { throw ConfigurationError(key: key, origin: origin, reason: "must be a mapping with kind and rates") }
            for (settingNode, _) in mapping where !taxCountryKeys.contains(settingNode.string ?? "") {
                throw ConfigurationError(key: "\(key).\(settingNode.string ?? "?")", origin: origin, reason: "is not a known key; known keys: \(taxCountryKeys.joined(separator: ", "))")
            }
            guard let kindText = mapping["kind"]?.string, let kind = TaxRule.Kind(rawValue: kindText) else {
                throw ConfigurationError(key: "\(key).kind", origin: origin, reason: "must be one of \(TaxRule.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var rates: Set<Int64> = []
            if let ratesNode = mapping["rates"] {
                guard case .sequence(let list) = ratesNode else {
                    throw ConfigurationError(key: "\(key).rates", origin: origin, reason: "must be a list of rates in basis points (2000 for 20 %)")
                }
                for item in list {
                    guard let text = item.string, let rate = Int64(text), (0...10_000).contains(rate) else {
                        throw ConfigurationError(key: "\(key).rates", origin: origin, reason: "must be a list of rates in basis points from 0 to 10000 (2000 for 20 %)")
                    }
                    rates.insert(rate)
                }
            }
            rules[country] = TaxRule(country: country, kind: kind, rates: rates)
        }
        return (rules, home)
    }

    /// Reads `orders:`: `strict_channels` (channel ids), `fulfilment_system` and `pickup_system` (system ids),
    /// `ship_from.ship_from_dc` and `ship_from.ship_from_store` (location ids, best first), and the saga's timeouts in
    /// hours: `release_timeout_hours`, `fulfilment_timeout_hours`, `picking_timeout_hours`, `pickup_window_hours`.
    private static func parseOrders(_ node: Node, origin: String, into policy: inout OrderService.Policy) throws(ConfigurationError) {
        let known = orderKeys
        guard case .mapping(let orders) = node else { throw ConfigurationError(key: "orders", origin: origin, reason: "must be a mapping of \(known.joined(separator: ", "))") }
        for (keyNode, _) in orders where !known.contains(keyNode.string ?? "") {
            throw ConfigurationError(key: "orders.\(keyNode.string ?? "?")", origin: origin, reason: "is not a known key; known keys: \(known.joined(separator: ", "))")
        }
        func identifiers<Tag>(_ node: Node, key: String, as: Tag.Type) throws(ConfigurationError) -> [Identifier<Tag>] {
            guard case .sequence(let list) = node else { throw ConfigurationError(key: key, origin: origin, reason: "must be a list of ids") }
            var ids: [Identifier<Tag>] = []
            for item in list {
                guard let text = item.string, let id = try? Identifier<Tag>(text) else {
                    throw ConfigurationError(key: key, origin: origin, reason: "must be a list of ids, got '\(item.string ?? "?")'")
                }
                ids.append(id)
            }
            return ids
        }
        func system(_ key: String) throws(ConfigurationError) -> SystemID? {
            guard let node = orders[Node(key)] else { return nil }
            guard let text = node.string, let id = try? SystemID(text), !text.contains(".") else {
                throw ConfigurationError(key: "orders.\(key)", origin: origin, reason: "must be a system id without a dot")
            }
            return id
        }
        func hours(_ key: String) throws(ConfigurationError) -> Duration? {
            guard let node = orders[Node(key)] else { return nil }
            guard let text = node.string, let value = Int(text), (1...24 * 90).contains(value) else {
                throw ConfigurationError(key: "orders.\(key)", origin: origin, reason: "must be a whole number of hours, 1-2160")
            }
            return .seconds(value * 3600)
        }
        if let list = orders["strict_channels"] {
            policy.strictChannels = Set(try identifiers(list, key: "orders.strict_channels", as: ChannelTag.self))
        }
        if let id = try system("fulfilment_system") { policy.fulfilmentSystem = id }
        if let id = try system("pickup_system") { policy.pickupSystem = id }
        if let shipFrom = orders["ship_from"] {
            guard case .mapping(let modes) = shipFrom else {
                throw ConfigurationError(key: "orders.ship_from", origin: origin, reason: "must map ship_from_dc and ship_from_store to location lists")
            }
            for (modeNode, list) in modes {
                guard let mode = Fulfilment.Mode(rawValue: modeNode.string ?? ""), orderShipFromKeys.contains(mode.rawValue) else {
                    throw ConfigurationError(key: "orders.ship_from.\(modeNode.string ?? "?")", origin: origin,
                                             reason: "is not a known key; known keys: \(orderShipFromKeys.joined(separator: ", "))")
                }
                policy.shipFrom[mode] = try identifiers(list, key: "orders.ship_from.\(mode.rawValue)", as: LocationTag.self)
            }
        }
        if let value = try hours("release_timeout_hours") { policy.releaseTimeout = value }
        if let value = try hours("fulfilment_timeout_hours") { policy.fulfilmentTimeout = value }
        if let value = try hours("picking_timeout_hours") { policy.pickingTimeout = value }
        if let value = try hours("pickup_window_hours") { policy.pickupWindow = value }
    }

    /// Reads `channels:`: a mapping from channel name to `locations` and `buffer`.
    private static func parseChannels(_ node: Node, origin: String) throws(ConfigurationError) -> [ChannelPolicy] {
        guard case .mapping(let channels) = node else {
            throw ConfigurationError(key: "channels", origin: origin, reason: "must map channel names to their settings")
        }
        var policies: [ChannelPolicy] = []
        for (nameNode, settings) in channels {
            guard let name = nameNode.string, let channel = try? ChannelID(name), !name.contains(".") else {
                throw ConfigurationError(key: "channels", origin: origin, reason: "channel names are identifiers without a dot, got '\(nameNode.string ?? "?")'")
            }
            let key = "channels.\(name)"
            guard case .mapping(let mapping) = settings else { throw ConfigurationError(key: key, origin: origin, reason: "must be a mapping with locations and buffer") }
            for (settingNode, _) in mapping where !channelKeys.contains(settingNode.string ?? "") {
                throw ConfigurationError(key: "\(key).\(settingNode.string ?? "?")", origin: origin, reason: "is not a known key; known keys: \(channelKeys.joined(separator: ", "))")
            }
            guard case .sequence(let list)? = mapping["locations"], !list.isEmpty else {
                throw ConfigurationError(key: "\(key).locations", origin: origin, reason: "must be a list of one or more location ids")
            }
            var locations: [LocationID] = []
            for item in list {
                guard let text = item.string, let location = try? LocationID(text) else {
                    throw ConfigurationError(key: "\(key).locations", origin: origin, reason: "must be a list of location ids")
                }
                locations.append(location)
            }
            var buffer: Int64 = 0
            if let node = mapping["buffer"] {
                guard let text = node.string, let value = Int64(text), value >= 0 else {
                    throw ConfigurationError(key: "\(key).buffer", origin: origin, reason: "must be a whole number of units, 0 or more")
                }
                buffer = value
            }
            do {
                policies.append(try ChannelPolicy(channel: channel, locations: locations, buffer: buffer))
            } catch {
                throw ConfigurationError(key: key, origin: origin, reason: error.description)
            }
        }
        return policies.sorted { $0.channel < $1.channel }
    }

    /// Reads `systems:`: a mapping from system name to its settings.
    private static func parseSystems(_ node: Node, origin: String) throws(ConfigurationError) -> [String: SystemPolicy] {
        guard case .mapping(let systems) = node else {
            throw ConfigurationError(key: "systems", origin: origin, reason: "must map system names to their settings")
        }
        var policies: [String: SystemPolicy] = [:]
        for (nameNode, settings) in systems {
            guard let name = nameNode.string, !name.isEmpty, !name.contains(".") else {
                throw ConfigurationError(key: "systems", origin: origin, reason: "system names are non-empty and have no dot")
            }
            var values: [String: Node] = [:]
            func collect(_ node: Node, prefix: String) throws(ConfigurationError) {
                guard case .mapping(let mapping) = node else {
                    throw ConfigurationError(key: "systems.\(name)\(prefix.isEmpty ? "" : "." + prefix)", origin: origin, reason: "must be a mapping")
                }
                for (keyNode, child) in mapping {
                    let key = prefix.isEmpty ? (keyNode.string ?? "") : "\(prefix).\(keyNode.string ?? "")"
                    if systemKeys.contains(key) {
                        values[key] = child
                    } else if systemKeys.contains(where: { $0.hasPrefix(key + ".") }) {
                        try collect(child, prefix: key)
                    } else {
                        throw ConfigurationError(key: "systems.\(name).\(key)", origin: origin,
                                                 reason: "is not a known key; known keys: \(systemKeys.joined(separator: ", "))")
                    }
                }
            }
            try collect(settings, prefix: "")
            func fail(_ key: String, _ reason: String) -> ConfigurationError {
                ConfigurationError(key: "systems.\(name).\(key)", origin: origin, reason: reason)
            }
            func number(_ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
                guard let node = values[key] else { return nil }
                guard let text = node.string, let value = Double(text), range.contains(value) else {
                    throw fail(key, "must be a number from \(range.lowerBound) to \(range.upperBound), got '\(node.string ?? "a list or mapping")'")
                }
                return value
            }
            func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
                guard let node = values[key] else { return nil }
                guard let text = node.string, let value = Int(text), range.contains(value) else {
                    throw fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(node.string ?? "a list or mapping")'")
                }
                return value
            }
            var policy = SystemPolicy()
            if let rate = try number("rate_per_second", in: 0.001...100_000) {
                policy.rate = RateLimit(perSecond: rate, burst: try integer("burst", in: 1...100_000) ?? 1)
            } else if values["burst"] != nil {
                throw fail("burst", "needs rate_per_second")
            }
            policy.concurrency = try integer("concurrency", in: 1...10_000)
            var breaker = CircuitBreakerPolicy()
            breaker.failureRateThreshold = try number("breaker.failure_rate", in: 0.01...1) ?? breaker.failureRateThreshold
            breaker.windowSize = try integer("breaker.window", in: 1...10_000) ?? breaker.windowSize
            breaker.minimumCalls = min(try integer("breaker.minimum_calls", in: 1...10_000) ?? breaker.minimumCalls, breaker.windowSize)
            breaker.openDuration = .milliseconds(Int64(1_000 * (try number("breaker.open_seconds", in: 0.001...86_400) ?? breaker.openDuration.timeInterval)))
            breaker.halfOpenProbes = try integer("breaker.half_open_probes", in: 1...1_000) ?? breaker.halfOpenProbes
            policy.breaker = breaker
            if let node = values["maintenance"] {
                guard case .sequence(let windows) = node else {
                    throw fail("maintenance", "must be a list of windows, e.g. ['weekly sun 02:00-04:00']")
                }
                for window in windows {
                    do {
                        policy.maintenance.append(try MaintenanceWindow(parsing: window.string ?? ""))
                    } catch {
                        throw fail("maintenance", error.description)
                    }
                }
            }
            policies[name] = policy
        }
        return policies
    }

    /// Reads `slos:`: a mapping from objective name to `metric`, `match`, `threshold_seconds` and `objective`.
    private static func parseServiceLevels(_ node: Node, origin: String) throws(ConfigurationError) -> [ServiceLevelObjective] {
        guard case .mapping(let mapping) = node else {
            throw ConfigurationError(key: "slos", origin: origin, reason: "must map objective names to their settings")
        }
        var objectives = ServiceLevelObjective.defaults
        for (nameNode, settings) in mapping {
            guard let name = nameNode.string, !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw ConfigurationError(key: "slos", origin: origin, reason: "objective names are letters, digits and '_', got '\(nameNode.string ?? "?")'")
            }
            func fail(_ key: String, _ reason: String) -> ConfigurationError {
                ConfigurationError(key: "slos.\(name).\(key)", origin: origin, reason: reason)
            }
            guard case .mapping(let fields) = settings else {
                throw ConfigurationError(key: "slos.\(name)", origin: origin, reason: "must be a mapping of metric, match, threshold_seconds, objective")
            }
            let known = objectives.firstIndex { $0.name == name }
            var objective = known.map { objectives[$0] } ?? ServiceLevelObjective(name: name, metric: "", threshold: .zero, objective: 0)
            var given: Set<String> = []
            for (keyNode, value) in fields {
                let key = keyNode.string ?? "?"
                given.insert(key)
                switch key {
                case "metric":
                    guard let metric = value.string, ServiceLevelObjective.watchable.contains(metric) else {
                        throw fail(key, "must be one of \(ServiceLevelObjective.watchable.joined(separator: ", ")), got '\(value.string ?? "a list or mapping")'")
                    }
                    objective.metric = metric
                case "match":
                    guard case .mapping(let pairs) = value else { throw fail(key, "must map dimension names to values, e.g. http_route: /v1/availability") }
                    var match: [String: String] = [:]
                    for (dimension, wanted) in pairs {
                        guard let dimension = dimension.string, let wanted = wanted.string else { throw fail(key, "must map dimension names to values") }
                        match[dimension] = wanted
                    }
                    objective.match = match
                case "threshold_seconds":
                    guard let text = value.string, let seconds = Double(text), seconds > 0, seconds <= 30 * 86_400 else {
                        throw fail(key, "must be a number of seconds above 0 and at most 2592000, got '\(value.string ?? "a list or mapping")'")
                    }
                    objective.threshold = .milliseconds(Int64((seconds * 1_000).rounded()))
                    if objective.threshold <= .zero { throw fail(key, "must be at least 0.001") }
                case "objective":
                    guard let text = value.string, let share = Double(text), share > 0, share < 1 else {
                        throw fail(key, "must be a share above 0 and below 1 (0.99 is 99%), got '\(value.string ?? "a list or mapping")'")
                    }
                    objective.objective = share
                default:
                    throw fail(key, "is not a known key; known keys: \(serviceLevelKeys.joined(separator: ", "))")
                }
            }
            let dimensions = ServiceLevelObjective.watchableDimensions[objective.metric] ?? []
            for dimension in objective.match.keys where !dimensions.contains(dimension) {
                throw fail("match", "\(objective.metric) has no dimension '\(dimension)'; it has \(dimensions.isEmpty ? "none" : dimensions.joined(separator: ", ")) (an objective that matches nothing is always met)")
            }
            if let known {
                objectives[known] = objective
            } else {
                for key in ["metric", "threshold_seconds", "objective"] where !given.contains(key) {
                    throw fail(key, "is required for a new objective (defaults exist only for \(ServiceLevelObjective.defaults.map(\.name).joined(separator: ", ")))")
                }
                objectives.append(objective)
            }
        }
        return objectives
    }

    private static func flatten(_ node: Node, prefix: String, origin: String, into values: inout [String: (value: String, origin: String)]) throws(ConfigurationError) {
        switch node {
        case .mapping(let mapping):
            for (keyNode, child) in mapping {
                guard let name = keyNode.string else {
                    throw ConfigurationError(key: prefix.isEmpty ? nil : prefix, origin: origin, reason: "keys must be strings")
                }
                let key = prefix.isEmpty ? name : "\(prefix).\(name)"
                guard keys.contains(key) || keys.contains(where: { $0.hasPrefix(key + ".") }) else {
                    throw ConfigurationError(key: key, origin: origin, reason: "is not a known key; known keys: \(keys.joined(separator: ", "))")
                }
                try flatten(child, prefix: key, origin: origin, into: &values)
            }
        case .scalar(let scalar):
            guard keys.contains(prefix) else {
                throw ConfigurationError(key: prefix, origin: origin, reason: "needs nested keys, not a value")
            }
            values[prefix] = (scalar.string, origin)
        default:
            throw ConfigurationError(key: prefix.isEmpty ? nil : prefix, origin: origin, reason: "must be a mapping or a plain value")
        }
    }

    /// Where and what the YAML problem is, without quoting the file: the line may hold a password.
    private static func yamlProblem(_ error: any Error) -> String {
        switch error as? YamlError {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case let .reader(problem, _, _, _):
            return problem
        case let .duplicatedKeysInMapping(duplicates, _):
            return "duplicated keys \(duplicates.joined(separator: ", "))"
        default:
            return "the parser refused it"
        }
    }

    /// The Postgres URL with its password replaced, for logs.
    public var redactedPostgresURL: String? {
        guard let url = postgresURL, var components = URLComponents(string: url) else { return nil }
        if components.password != nil { components.password = "***" }
        return components.string
    }
}

/// A configuration value the hub cannot start with.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The dotted key, nil when the whole file is at fault.
    public let key: String?
    /// The file or the environment variable the value came from.
    public let origin: String
    public let reason: String

    public init(key: String?, origin: String, reason: String) {
        self.key = key
        self.origin = origin
        self.reason = reason
    }

    public var description: String {
        if let key { return "configuration error: \(key) (\(origin)) \(reason)" }
        return "configuration error in \(origin): \(reason)"
    }
}

/// Where spans go: an OTLP/HTTP collector, or nowhere.
public struct TracingConfiguration: Sendable, Equatable {
    public static let protocols = ["http/protobuf", "http/json"]
    /// The collector's base address; nil: tracing is off.
    public var endpoint: String?
    public var `protocol` = "http/protobuf"
    public var serviceName = "tillwire"
}
