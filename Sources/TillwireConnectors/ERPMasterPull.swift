import Foundation
import Logging
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The ERP as the system of record for the product master, its list prices and its warehouse's stock: pulled on a
/// schedule (job `<system>.master_pull`) and applied to the hub.
///
/// Each pull: products new to the hub are added to the catalog and renamed ones renamed (the hub's own fields of a
/// product, backorder and categories, are kept); list prices that differ from the hub's current price are set as new
/// versions for each configured channel and country (through `PricingService`, so `pricing.owner` must be the ERP or
/// unset); the stock snapshot is applied as absolute counts at the hub location it stands for, as of the snapshot's
/// time, so sales recorded after it are kept. A pull that finds nothing different changes nothing. Each pull records
/// `erp.master_pulled` on the stream `erp/<system>/master` and schedules the next, even when it failed.
public struct ERPMasterPull: JobHandler {
    public struct Policy: Sendable, Hashable {
        /// How often (`tryton.pull_interval_seconds`, default 900).
        public var interval: Duration = .seconds(900)
        /// The hub location the ERP's stock snapshot is a count of (`tryton.stock_hub_location`); nil: no stock pull.
        public var stockLocation: LocationID?
        /// Where the ERP's list prices are the prices (`tryton.price_lists`: `channel/country` pairs); default none.
        public var priceLists: [PriceList] = []

        public init() {}
    }

    public struct PriceList: Sendable, Hashable, CustomStringConvertible {
        public let channel: ChannelID
        public let country: String

        public init(channel: ChannelID, country: String) {
            self.channel = channel
            self.country = country
        }

        public var description: String { "\(channel)/\(country)" }
    }

    /// `erp.master_pulled`: what one pull changed.
    public struct Pulled: VersionedPayload, Hashable {
        public static let eventType = "erp.master_pulled"
        public static let schemaVersion = 1
        public let products: Int
        public let added: Int
        public let renamed: Int
        public let prices: Int
        public let counts: Int
        public let corrected: Int
    }

    /// `erp.master_pull_failed`: a pull that gave up, and why.
    public struct PullFailed: VersionedPayload, Hashable {
        public static let eventType = "erp.master_pull_failed"
        public static let schemaVersion = 1
        public let reason: String
    }

    let erp: any ERPConnector
    let store: any Store
    let inventory: InventoryService
    let pricing: PricingService
    let policy: Policy
    let logger: Logger
    let now: @Sendable () -> Date

    public init(erp: any ERPConnector, store: any Store, inventory: InventoryService, pricing: PricingService, policy: Policy, logger: Logger,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.erp = erp
        self.store = store
        self.inventory = inventory
        self.pricing = pricing
        self.policy = policy
        self.logger = logger
        self.now = now
    }

    public var kind: String { Self.kind(erp.system) }
    var stream: StreamID { StreamID(trusted: "erp/\(erp.system.rawValue)/master") }
    var correlation: CorrelationID { CorrelationID(trusted: "erp/\(erp.system.rawValue)/master") }

    public static func kind(_ system: SystemID) -> String { "\(system.rawValue).master_pull" }

    /// The next pull of `system`, at `at`; a pull already pending keeps its place.
    public static func job(_ system: SystemID, at: Date) -> NewJob {
        NewJob(kind: kind(system), payload: Data(), partitionKey: "\(system.rawValue)/master", coalesceKey: "\(system.rawValue)/master_pull",
               runAt: at, maxAttempts: 5)
    }

    public func handle(_ job: Job) async throws -> Commit {
        let next = Self.job(erp.system, at: now().addingTimeInterval(policy.interval.timeInterval))
        let pulled: Pulled
        do {
            pulled = try await pull()
        } catch {
            // A terminal answer, or the last attempt of a passing one: recorded, and the chain goes on, so that one bad
            // pull never stops the pulling.
            let terminal: String? = if case JobError.terminal(let reason) = error { reason } else { nil }
            guard let reason = terminal ?? (job.attempts >= job.maxAttempts ? "\(error)" : nil) else { throw error }
            logger.error("erp: master pull failed; the next one is due as usual", metadata: ["system": "\(erp.system)", "reason": "\(reason)"])
            let event = try NewEvent(stream: stream, correlationID: correlation, causationID: job.id.rawValue, occurredAt: now(), source: erp.system,
                                     payload: PullFailed(reason: String(reason.prefix(1_000))))
            return Commit(events: [EventAppend(event)], jobs: [next])
        }
        logger.info("erp: master pulled", metadata: [
            "system": "\(erp.system)", "products": "\(pulled.products)", "added": "\(pulled.added)", "renamed": "\(pulled.renamed)",
            "prices": "\(pulled.prices)", "counts": "\(pulled.counts)", "corrected": "\(pulled.corrected)"])
        let event = try NewEvent(stream: stream, correlationID: correlation, causationID: job.id.rawValue, occurredAt: now(), source: erp.system, payload: pulled)
        return Commit(events: [EventAppend(event)], jobs: [next])
    }

    /// One pull, applied; returns what it changed.
    public func pull() async throws -> Pulled {
        // A code the ERP gives two products (codes are not unique in every ERP) is no SKU: left out, and said, rather
        // than letting the two take turns in the hub's catalog, prices and counts.
        let all = try await erp.products()
        let duplicated = Set(Dictionary(grouping: all, by: \.sku).filter { $0.value.count > 1 }.keys)
        if !duplicated.isEmpty {
            logger.warning("erp: SKUs on more than one product in the ERP are left out", metadata: [
                "system": "\(erp.system)", "skus": "\(duplicated.map(\.rawValue).sorted().prefix(20).joined(separator: ","))", "count": "\(duplicated.count)"])
        }
        var products = all.filter { !duplicated.contains($0.sku) }
        let existing = try await store.products(products.map(\.sku))
        var catalog: [CatalogChange] = []
        var added = 0, renamed = 0
        var refused: [String] = []
        for product in products {
            do {
                if let known = existing[product.sku] {
                    guard known.name != product.name else { continue }
                    catalog.append(.putProduct(try Product(sku: product.sku, name: product.name, allowBackorder: known.allowBackorder, categories: known.categories)))
                    renamed += 1
                } else {
                    catalog.append(.putProduct(try Product(sku: product.sku, name: product.name)))
                    added += 1
                }
            } catch {
                // A name the hub cannot take (too long, a line break): that product waits, the others go on.
                refused.append(product.sku.rawValue)
            }
        }
        if !refused.isEmpty {
            logger.warning("erp: products the hub cannot take are left out", metadata: ["system": "\(erp.system)", "skus": "\(refused.prefix(20).joined(separator: ","))"])
            products.removeAll { refused.contains($0.sku.rawValue) }
        }
        if !catalog.isEmpty { _ = try await store.commit(Commit(catalog: catalog)) }

        var counts = 0, corrected = 0
        if let location = policy.stockLocation {
            let snapshot = try await erp.stockSnapshot()
            let stamp = Int64(snapshot.asOf.timeIntervalSince1970 * 1_000)
            let known = try await store.products(Array(snapshot.onHand.keys))
            let negative = snapshot.onHand.filter { $0.value < 0 }.keys.map(\.rawValue).sorted()
            if !negative.isEmpty {
                logger.warning("erp: negative stock in the snapshot is not a count; left out", metadata: [
                    "system": "\(erp.system)", "skus": "\(negative.prefix(20).joined(separator: ","))", "count": "\(negative.count)"])
            }
            let items = snapshot.onHand.filter { known[$0.key] != nil && $0.value >= 0 }.sorted { $0.key.rawValue < $1.key.rawValue }.map { sku, units in
                InventoryService.Count(sku: sku, location: location, counted: units, asOf: snapshot.asOf, source: erp.system,
                                       sourceKey: "snapshot/\(snapshot.location)/\(stamp)/\(sku.rawValue)")
            }
            for batch in stride(from: 0, to: items.count, by: 500).map({ Array(items[$0..<min($0 + 500, items.count)]) }) {
                let outcomes = try await inventory.count(batch, correlation: try CorrelationID("erp/\(erp.system.rawValue)/snapshot/\(stamp)"))
                counts += batch.count
                corrected += outcomes.filter { if case .corrected = $0 { true } else { false } }.count
            }
        }
        var prices = 0
        for list in policy.priceLists {
            var changed: [PricingService.NewPrice] = []
            for product in products {
                guard let price = product.listPrice else { continue }
                let current = try await pricing.price(of: product.sku, channel: list.channel, country: list.country, at: now())
                if current?.price != price { changed.append(.init(sku: product.sku, price: price, from: now(), until: nil)) }
            }
            if !changed.isEmpty {
                _ = try await pricing.setPrices(changed, channel: list.channel, country: list.country, source: erp.system)
                prices += changed.count
            }
        }

        return Pulled(products: products.count, added: added, renamed: renamed, prices: prices, counts: counts, corrected: corrected)
    }
}
