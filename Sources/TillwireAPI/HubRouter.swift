import ConnectorPOSLog
import Foundation
import Hummingbird
import TillwireConnectors
import Prometheus
import TillwireEngine
import TillwireStorage

/// The hub's HTTP routes. `/healthz` and `/readyz` need no key; `/metrics` and everything under `/v1` pass the
/// `Gatekeeper` (API key, rate limit, body size, audit) and a `RequireScope` per group.
public enum HubRouter {
    public static func build(
        store: any Store, metrics: PrometheusCollectorRegistry, api: APIPolicy = APIPolicy(), inventory: InventoryService? = nil,
        systems: SystemGate? = nil, orders: OrderService? = nil, returns: ReturnService? = nil, pricing: PricingService? = nil,
        webhooks: [any WebhookReceiver] = [], erpDiff: ERPDiff? = nil, storeAgents: StoreAgents? = nil,
        operations: OperationsMonitor? = nil
    ) -> Router<HubRequestContext> {
        let inventory = inventory ?? InventoryService(store: store)
        let router = Router(context: HubRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        // A span per request (continuing a caller's `traceparent`); no tracer is set up unless tracing is configured.
        router.add(middleware: TracingMiddleware())
        router.add(middleware: AccessLogMiddleware())
        // Outside the problem and deadline middleware: every request is timed and counted with the status it got,
        // a refused or timed-out one included (inside, a thrown error would leave the duration unrecorded).
        router.add(middleware: MetricsMiddleware())
        let table = RouteTable()
        router.add(middleware: ProblemMiddleware(routes: table))
        router.add(middleware: DeadlineMiddleware(api.requestTimeout))

        // Alive: the process answers. Says nothing about storage, so an orchestrator does not restart a hub whose
        // database is briefly away.
        router.get("/healthz") { _, _ in
            Health(status: "ok", storage: nil, schema: nil)
        }

        // Ready: storage answers and every migration this build knows is applied.
        // The cause of a failure goes to the log, not to the unauthenticated caller (it names hosts and paths).
        router.get("/readyz") { _, context -> Health in
            let status: MigrationStatus
            do {
                status = try await store.migrationStatus()
            } catch {
                context.logger.error("readiness: storage does not answer", metadata: ["error": "\(error)"])
                throw Problem.unavailable("storage (\(store.backend)) does not answer; the cause is logged with this request id")
            }
            guard status.isCurrent else {
                throw Problem.unavailable("storage (\(store.backend)) schema is not current: applied \(status.applied), this build expects \(status.known)")
            }
            return Health(status: "ready", storage: store.backend, schema: status.applied.last)
        }

        // Metrics name systems and volumes, so they need a key too (Prometheus sends it with `authorization:` in its
        // scrape config).
        let gate = Gatekeeper(store: store, policy: api)
        router.group("/metrics").add(middleware: gate).add(middleware: RequireScope("metrics:read")).get { _, _ -> Response in
            var buffer = [UInt8]()
            buffer.reserveCapacity(4096)
            metrics.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }

        let v1 = router.group("/v1").add(middleware: gate).add(middleware: ClientMetricsMiddleware())
            .add(middleware: IdempotencyMiddleware(store: store))
        v1.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
        v1.get("/reference") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: OpenAPIReference.html)))
        }
        DeadLetterRoutes.add(to: v1.group().add(middleware: RequireScope("admin")), store: store, systems: systems)
        InventoryRoutes.add(to: v1, service: inventory, store: store)
        POSLogRoutes.add(to: v1, intake: POSLogIntake(store: store, inventory: inventory))
        let orders = orders ?? OrderService(store: store)
        OperationsPages.add(to: router, store: store, gate: gate, systems: systems, operations: operations, storeAgents: storeAgents, orders: orders)
        OrderRoutes.add(to: v1, service: orders, store: store)
        ReturnRoutes.add(to: v1, returns: returns ?? ReturnService(store: store, orders: orders), orders: orders, store: store)
        let pricing = pricing ?? PricingService(store: store)
        PricingRoutes.add(to: v1, service: pricing)
        ERPDiffRoutes.add(to: v1, diff: erpDiff)
        StoreAgentRoutes.add(to: v1, agents: storeAgents ?? StoreAgents(store: store), store: store, pricing: pricing)
        WebhookRoutes.add(to: router, receivers: webhooks, maxBodyBytes: api.maxBodyBytes)
        table.record(router.routes.map { ("\($0.path)", $0.method.rawValue) })
        return router
    }
}

struct Health: ResponseCodable {
    let status: String
    let storage: String?
    let schema: Int?
}
