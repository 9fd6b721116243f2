import Foundation
import Hummingbird
import Logging
import Synchronization
import ConnectorTryton
import TillwireAPI
import TillwireDomain
import TillwireApp
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// `tillwire demo`: a hub on the embedded default, a generated retailer, simulated systems behind the real connector
/// protocols, and the scenarios that show what the hub is for, played on a timeline and checked at the end.
public enum Demo {
    public struct Options: Sendable {
        public var seed: UInt64 = 7
        /// Waits between steps, and the ERP's maintenance window, are divided by this.
        public var speed: Double = 1
        /// 0: any free port.
        public var port: Int = 8080
        /// The demo's own folder: its SQLite file, the hub's configuration and the store agent's file. Emptied at the
        /// start when an earlier demo made it.
        public var data: String = "./tillwire-demo"
        /// Stop the hub after the summary instead of keeping the dashboard up until Ctrl-C.
        public var exitWhenDone = false
        public var logLevel: Logger.Level = .error
        /// A real Tryton ERP takes the sales orders (releases) in place of the simulated one; journal entries go to a
        /// simulated ledger (the Tryton peer's company books one currency, the demo's retailer three).
        public var tryton: TrytonConfiguration?

        public init() {}
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    static let marker = ".tillwire-demo"

    /// Runs the demo; true when every check held.
    public static func run(_ options: Options, print output: @escaping @Sendable (String) -> Void) async throws -> Bool {
        let folder = try prepare(options.data)
        let retailer = DemoRetailer(seed: options.seed)
        let shopify = FakeShopify(location: "71230001", maximumAvailable: 1_000, restoreRate: 50)
        let woo = FakeWooCommerce()
        for (index, product) in retailer.products.enumerated() {
            shopify.addItem(sku: product.sku, id: "4390\(100 + index)", available: 0)
            woo.addProduct(sku: product.sku, id: 300 + index, stock: 0)
        }
        let shopifyPort = PortBox(), wooPort = PortBox()
        let shopifyApp = Application(router: shopify.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                     onServerRunning: { shopifyPort.set($0.localAddress?.port) }, logger: quiet("demo.shopify"))
        let wooApp = Application(router: woo.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                 onServerRunning: { wooPort.set($0.localAddress?.port) }, logger: quiet("demo.woocommerce"))
        let erp = DemoERP(system: options.tryton == nil ? "erp" : "ledger")
        let control = ServeControl()
        let logger = Logger(label: "tillwire.demo")

        return try await withThrowingTaskGroup(of: Bool?.self) { group in
            group.addTask { try await shopifyApp.run(); return nil }
            group.addTask { try await wooApp.run(); return nil }
            let shopURL = "http://127.0.0.1:\(try await shopifyPort.value())"
            let wooURL = "http://127.0.0.1:\(try await wooPort.value())"

            if let tryton = options.tryton {
                output("Preparing Tryton at \(tryton.url): the retailer's products in its product master …")
                try await DemoTryton.prepare(retailer, configuration: tryton)
            }
            let started = Date()
            let sqlite = folder.appendingPathComponent("tillwire.sqlite").path
            let webhookSecret = "demo-" + String(UInt64.random(in: 1...UInt64.max), radix: 36)
            let yaml = configuration(retailer, shop: shopURL, shopLocation: shopify.location, woo: wooURL, tryton: options.tryton)
            try yaml.write(to: folder.appendingPathComponent("hub.yaml"), atomically: true, encoding: .utf8)
            let hub: HubConfiguration
            do {
                hub = try HubConfiguration.load(yaml: yaml, origin: "the demo's configuration", environment: [
                    "TILLWIRE_STORAGE_SQLITE_PATH": sqlite, "TILLWIRE_HTTP_PORT": "\(options.port)", "TILLWIRE_HTTP_HOST": "127.0.0.1",
                    "TILLWIRE_LOG_LEVEL": "\(options.logLevel)",
                    "TILLWIRE_SHOPIFY_ACCESS_TOKEN": shopify.accessToken, "TILLWIRE_SHOPIFY_WEBHOOK_SECRET": webhookSecret,
                    "TILLWIRE_WOOCOMMERCE_CONSUMER_KEY": woo.consumerKey, "TILLWIRE_WOOCOMMERCE_CONSUMER_SECRET": woo.consumerSecret,
                    "TILLWIRE_WOOCOMMERCE_WEBHOOK_SECRET": webhookSecret,
                ].merging(options.tryton.map { ["TILLWIRE_TRYTON_PASSWORD": $0.password] } ?? [:]) { $1 })
            } catch {
                throw Refused(description: "the demo's configuration does not load: \(error)")
            }
            let keys = try await prepareStore(sqlite, agentStore: retailer.offlineStore.id)

            // A hub that cannot start (the port is taken) says why, rather than leaving the demo to wait for it.
            let failure = Failure()
            group.addTask {
                do {
                    try await Hub.serve(hub, hooks: ServeHooks(erp: options.tryton == nil ? erp : nil, ledger: erp, control: control), logger: logger)
                } catch {
                    failure.record(error)
                    throw error
                }
                return nil
            }
            var port: Int?
            for _ in 0..<600 where port == nil {
                if let reason = failure.description { throw Refused(description: "the hub did not start: \(reason)") }
                port = control.port
                if port == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            guard let port else { throw Refused(description: "the hub did not start within 30 s") }

            let run = DemoRun(options: options, retailer: retailer, client: DemoClient(base: "http://127.0.0.1:\(port)", key: keys.admin), keys: keys,
                              shopify: shopify, woo: woo, erp: erp, webhookSecret: webhookSecret, control: control,
                              started: started, output: output)
            output("""
                Tillwire demo: \(retailer.name) (seed \(options.seed), speed \(options.speed)×)
                  hub        http://127.0.0.1:\(port)   (SQLite: \(sqlite))
                  dashboard  http://127.0.0.1:\(port)/ui   sign in with the demo's admin key: \(keys.admin)
                  web-us     a SIMULATED Shopify shop (webhooks signed, GraphQL cost throttling) at \(shopURL)
                  web-de     a SIMULATED WooCommerce shop (signed order webhooks, REST v3) at \(wooURL)
                  \(options.tryton.map { "ERP        the REAL Tryton ERP at \($0.url) (sales orders); journal entries go to a SIMULATED ledger in this process" } ?? "ERP        a SIMULATED cloud ERP in this process (sales orders, journal documents)")

                """)
            let passed: Bool
            do {
                passed = try await run.play()
            } catch {
                output("\nThe demo stopped: \(error)")
                if options.exitWhenDone { await control.stop() }
                throw error
            }
            if options.exitWhenDone {
                await control.stop()
            } else {
                output("\nThe hub keeps running: the dashboard is at http://127.0.0.1:\(port)/ui. Ctrl-C stops it.")
            }
            // The hub ends on stop() or Ctrl-C; then the stand-in shops go.
            while let result = try await group.next() {
                if result == nil { break }
            }
            group.cancelAll()
            return passed
        }
    }

    /// Makes the demo's folder, emptying it if an earlier demo made it; refuses a folder that is not the demo's.
    static func prepare(_ path: String) throws -> URL {
        let folder = URL(fileURLWithPath: path, isDirectory: true)
        let files = FileManager.default
        if let contents = try? files.contentsOfDirectory(atPath: folder.path), !contents.isEmpty {
            guard contents.contains(marker) else {
                throw Refused(description: "\(path) holds files the demo did not make; choose another folder with --data")
            }
            for name in contents { try files.removeItem(at: folder.appendingPathComponent(name)) }
        }
        try files.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("This folder is tillwire demo's: it is emptied when the demo starts again.\n".utf8).write(to: folder.appendingPathComponent(marker))
        return folder
    }

    struct Keys: Sendable {
        let admin: String
        let erp: String
        let marketplace: String
        /// The offline store's agent: a key limited to its location, as `tillwire keys create --location` makes.
        let agent: String
        /// The DC's warehouse system, which reports shipments.
        let wms: String
        /// The stores' tills and back office: POSLog, returns, the pickup counter.
        let pos: String
    }

    /// The demo's API keys, stored hashed like any other, one per system that calls the hub, so that each step's
    /// lineage names the system it came from: an admin (the dashboard), the ERP (owner of prices), the marketplace's
    /// integration, the offline store's agent, the DC's WMS, the stores' tills.
    static func prepareStore(_ path: String, agentStore: String) async throws -> Keys {
        let store = try SQLiteStore.open(path: path)
        _ = try await store.migrate()
        let now = Date()
        let (admin, adminKey) = ApiKeys.generate(client: "demo-ops", scopes: ["admin"], locations: nil, ratePerSecond: 1_000, burst: 1_000, now: now)
        let (erp, erpKey) = ApiKeys.generate(client: "erp", scopes: ["admin"], locations: nil, ratePerSecond: 1_000, burst: 1_000, now: now)
        let (market, marketKey) = ApiKeys.generate(client: "marketplace-uk", scopes: ["orders:write", "orders:read"], locations: nil, now: now)
        let (agent, agentKey) = ApiKeys.generate(client: "\(agentStore)-agent", scopes: ["inventory:write", "inventory:read", "orders:read", "prices:read"],
                                                 locations: [try LocationID(agentStore)], now: now)
        let (wms, wmsKey) = ApiKeys.generate(client: "wms", scopes: ["orders:write", "orders:read"], locations: nil, ratePerSecond: 1_000, burst: 1_000, now: now)
        let (pos, posKey) = ApiKeys.generate(client: "pos", scopes: ["inventory:write", "inventory:read", "orders:write", "orders:read", "returns:write", "returns:read"],
                                             locations: nil, ratePerSecond: 1_000, burst: 1_000, now: now)
        _ = try await store.commit(Commit(access: [.createKey(admin), .createKey(erp), .createKey(market), .createKey(agent), .createKey(wms), .createKey(pos)]))
        try await store.close()
        return Keys(admin: adminKey, erp: erpKey, marketplace: marketKey, agent: agentKey, wms: wmsKey, pos: posKey)
    }

    static func configuration(_ retailer: DemoRetailer, shop: String, shopLocation: String, woo: String, tryton: TrytonConfiguration?) -> String {
        let stores = retailer.stores.map(\.id)
        func fed(_ country: String) -> String { ([retailer.warehouse.id] + retailer.stores(in: country).map(\.id)).joined(separator: ", ") }
        return """
            # Written by tillwire demo for its generated retailer, \(retailer.name).
            tax:
              home_country: GB
              countries:
            \(retailer.countries.map { "    \($0.code): {kind: \($0.taxKind), rates: [0, \($0.taxRate)]}" }.joined(separator: "\n"))
            orders:
              strict_channels: [marketplace-uk]
              fulfilment_system: erp
              ship_from:
                ship_from_dc: [\(retailer.warehouse.id)]
                ship_from_store: [\(stores.joined(separator: ", "))]
            channels:
              web-us: {locations: [\(fed("US"))], buffer: 1}
              web-uk: {locations: [\(fed("GB"))], buffer: 1}
              web-de: {locations: [\(fed("DE"))], buffer: 1}
              marketplace-uk: {locations: [\(retailer.warehouse.id)], buffer: 2}
            \(tryton == nil ? "" : """
            finance:
              system: ledger
            tryton:
              url: \(tryton!.url)
              database: \(tryton!.database)
              username: \(tryton!.username)
              pull_interval_seconds: 0
            """)
            inventory:
              publish_window_ms: 50
            pricing:
              owner: erp
            observability:
              read_every_seconds: 1
            shopify:
              url: \(shop)
              channel: web-us
              location_id: "\(shopLocation)"
            woocommerce:
              url: \(woo)
              channel: web-de

            """
    }

    static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }
}

/// Why a task the demo started (the hub, the store agent) ended, once it has.
final class Failure: Sendable {
    private let reason = Mutex<String?>(nil)

    func record(_ error: any Error) { reason.withLock { $0 = "\(error)" } }
    var description: String? { reason.withLock { $0 } }
}

/// A port learned once a server runs.
final class PortBox: Sendable {
    let port = Mutex<Int?>(nil)

    func set(_ value: Int?) { port.withLock { $0 = value } }

    func value() async throws -> Int {
        for _ in 0..<200 {
            if let value = port.withLock({ $0 }) { return value }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw Demo.Refused(description: "a simulated shop did not start")
    }
}

/// A free TCP port on the loopback, for a server that must be told its port before it starts.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Demo.Refused(description: "no socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw Demo.Refused(description: "no free port: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
