import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// The hub's side of the store agents (docs/store-agent.md):
///
/// - `PUT /v1/store-agents/{store}` (scope `inventory:write`, a store's key for its own store): the agent's report
///   (queue depth, oldest unsent transaction); answers the store's status.
/// - `GET /v1/store-agents` and `/v1/store-agents/{store}` (scope `inventory:read`): online or offline (since when),
///   backlog, last contact.
/// - `GET /v1/store-agents/{store}/feed?after=` (scope `inventory:read`): the store's stock figures that changed after
///   event `after` of its inventory stream (all of them from 0), a page at a time, for the agent's local copy.
enum StoreAgentRoutes {
    struct ReportBody: Decodable {
        let queue_depth: Int
        let oldest_unsent_at: String?
        let forwarded_through: Int64
        let refused: Int
    }

    struct StatusView: ResponseEncodable, Codable {
        let store: String
        let status: String
        let last_contact_at: String
        let offline_since: String?
        let queue_depth: Int
        let oldest_unsent_at: String?
        let forwarded_through: Int64
        let refused: Int
        let alerted: Bool

        init(_ status: StoreAgents.Status) {
            store = status.store.rawValue
            self.status = status.state.rawValue
            last_contact_at = status.lastContactAt.ISO8601Format()
            offline_since = status.offlineSince?.ISO8601Format()
            queue_depth = status.report.queueDepth
            oldest_unsent_at = status.report.oldestUnsentAt?.ISO8601Format()
            forwarded_through = status.report.forwardedThrough
            refused = status.report.refused
            alerted = status.alerted
        }
    }

    struct StatusList: ResponseEncodable {
        let agents: [StatusView]
        let online: Int
        let offline: Int
    }

    struct Feed: ResponseEncodable {
        struct Figure: Codable {
            let sku: String
            let on_hand: Int64
            let reserved: Int64
            let safety_stock: Int64
            let available: Int64
        }
        let store: String
        /// The version of the last event read: the next page's `after`.
        let version: Int64
        /// More events follow: ask again with `after=version`.
        let more: Bool
        let positions: [Figure]
    }

    struct PricingCopyBody: Decodable {
        let channel: String
        let country: String
        let skus: [String]
    }

    static let feedPage = 5_000
    static let pricingSKUs = 5_000

    static func add(to v1: RouterGroup<HubRequestContext>, agents: StoreAgents, store: any Store, pricing: PricingService) {
        let write = v1.group("/store-agents").add(middleware: RequireScope("inventory:write"))
        let read = v1.group("/store-agents").add(middleware: RequireScope("inventory:read"))

        @Sendable func storeLocation(_ context: HubRequestContext) async throws -> LocationID {
            let id = try InventoryRoutes.pathIdentifier(context, "store") { try LocationID($0) }
            try InventoryRoutes.requireMayAct(context, for: [id])
            guard try await store.locations().contains(where: { $0.id == id && $0.kind == .store }) else {
                throw Problem.notFound("no store \(id)")
            }
            return id
        }

        write.put("/{store}") { request, context -> StatusView in
            let location = try await storeLocation(context)
            let body = try await request.decodeJSON(as: ReportBody.self, context: context)
            guard body.queue_depth >= 0 else { throw Problem.invalid("queue_depth must be 0 or more", field: "queue_depth") }
            guard body.refused >= 0 else { throw Problem.invalid("refused must be 0 or more", field: "refused") }
            guard body.forwarded_through >= 0 else { throw Problem.invalid("forwarded_through must be 0 or more", field: "forwarded_through") }
            var oldest: Date?
            if let text = body.oldest_unsent_at {
                guard let date = parseTimestamp(text) else {
                    throw Problem.invalid("an ISO 8601 time with a zone, like 2026-11-28T09:30:00Z, is expected", field: "oldest_unsent_at")
                }
                oldest = date
            }
            let report = StoreAgentReport(queueDepth: body.queue_depth, oldestUnsentAt: oldest, forwardedThrough: body.forwarded_through, refused: body.refused)
            return StatusView(try await agents.report(report, from: location))
        }

        read.get("") { _, context -> StatusList in
            let client = context.client
            let statuses = try await agents.statuses().filter { client?.mayAct(for: $0.store) ?? false }
            return StatusList(agents: statuses.map(StatusView.init), online: statuses.count { $0.state == .online },
                              offline: statuses.count { $0.state == .offline })
        }

        read.get("/{store}") { _, context -> StatusView in
            let location = try await storeLocation(context)
            guard let status = try await agents.status(of: location) else {
                throw Problem.notFound("the agent of store \(location) has never reported")
            }
            return StatusView(status)
        }

        // The store's prices and promotions for its agent's copy (scope prices:read), in the domain's own encoding:
        // the agent prices with the same engine, so it needs the same facts, not a view of them.
        v1.group("/store-agents").add(middleware: RequireScope("prices:read")).post("/{store}/pricing") { request, context -> Response in
            _ = try await storeLocation(context)
            let body = try await request.decodeJSON(as: PricingCopyBody.self, context: context)
            let channel = try InventoryRoutes.domain("channel") { try ChannelID(body.channel) }
            let country = try PricingRoutes.country(body.country, "country")
            guard body.skus.count <= pricingSKUs else { throw Problem.invalid("at most \(pricingSKUs) SKUs a request", field: "skus") }
            let skus = try body.skus.enumerated().map { index, text in try InventoryRoutes.domain("skus[\(index)]") { try SKU(text) } }
            let now = Date()
            // Active now or later: a promotion that starts while the store is offline is in the copy already.
            let promotions = try await store.promotions(endingAfter: now)
            let categories = promotions.contains { $0.scope.categories != nil } ? try await store.products(skus).mapValues(\.categories) : [:]
            let copy = StorePricingCopy(channel: channel, country: country, taxRule: pricing.policy.taxRules[country],
                                        entries: skus.isEmpty ? [] : try await store.priceEntries(channel: channel, country: country, skus: skus),
                                        promotions: promotions, categories: categories, asOf: now)
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(copy))))
        }

        read.get("/{store}/feed") { request, context -> Feed in
            let location = try await storeLocation(context)
            var after: Int64 = 0
            if let text = request.uri.queryParameters["after"] {
                guard let value = Int64(text), value >= 0, value < Int64.max else {
                    throw Problem.invalid("after must be a whole number, 0 or more", field: "after")
                }
                after = value
            }
            let events = try await store.readStream(InventoryService.stream(location), fromVersion: after + 1, limit: feedPage)
            var latest: [SKU: PositionFigures] = [:]
            var order: [SKU] = []
            for event in events where event.type == AvailabilityChanged.eventType {
                let changed = try event.decode(AvailabilityChanged.self)
                if latest[changed.sku] == nil { order.append(changed.sku) }
                latest[changed.sku] = changed.figures
            }
            return Feed(store: location.rawValue, version: events.last?.streamVersion ?? after, more: events.count == feedPage,
                        positions: order.map { sku in
                            let figures = latest[sku]!
                            return Feed.Figure(sku: sku.rawValue, on_hand: figures.onHand, reserved: figures.reserved,
                                               safety_stock: figures.safetyStock, available: figures.availableToPromise)
                        })
        }
    }
}
