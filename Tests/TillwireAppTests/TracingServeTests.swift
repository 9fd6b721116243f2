import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TillwireTesting

/// With `tracing.otlp_endpoint` set, an order is one trace: the request, the capture, the saga's jobs and the call
/// to the fulfilment system, exported over OTLP/HTTP (JSON here) to a collector this test runs.
@Suite struct TracingServeTests {
    struct Span {
        let traceID: String
        let spanID: String
        let parentID: String
        let name: String
        let attributes: [String: String]
    }

    /// The spans in OTLP/JSON export requests (`resourceSpans[].scopeSpans[].spans[]`).
    static func spans(in bodies: [String]) -> [Span] {
        var spans: [Span] = []
        for body in bodies {
            guard let root = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { continue }
            for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] {
                        var attributes: [String: String] = [:]
                        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                            let value = attribute["value"] as? [String: Any] ?? [:]
                            attributes[attribute["key"] as? String ?? ""] = (value["stringValue"] as? String) ?? (value["intValue"].map { "\($0)" })
                        }
                        spans.append(Span(traceID: span["traceId"] as? String ?? "", spanID: span["spanId"] as? String ?? "",
                                          parentID: span["parentSpanId"] as? String ?? "", name: span["name"] as? String ?? "",
                                          attributes: attributes))
                    }
                }
            }
        }
        return spans
    }

    @Test func anOrderIsOneTraceFromTheRequestThroughTheSagasJobsToTheFulfilmentCall() async throws {
        let bodies = Mutex<[String]>([])
        let collector = Router()
        collector.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            bodies.withLock { $0.append(String(buffer: body)) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let orders = OrderServeTests()
        try await Application(router: collector, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let folder = try TemporaryFolder()
            let prepared = try await orders.prepare(folder)
            let hub = try orders.serve(prepared, environment: [
                "TILLWIRE_TRACING_OTLP_ENDPOINT": "http://127.0.0.1:\(client.port!)", "TILLWIRE_TRACING_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            ])
            let base = try await hub.servingAddress()
            let (created, captured) = try await call(base, "POST", "/v1/orders", key: prepared.key, orders.order("7001"))
            #expect(created == 201)
            let id = try #require(captured["id"] as? String)
            _ = try await orders.waitForStatus(base, id, key: prepared.key, "released")

            var found: [Span] = []
            let deadline = Date() + 20
            var release: Span?
            while Date() < deadline {
                found = Self.spans(in: bodies.withLock { $0 })
                release = found.first { $0.name == "call wms" }
                // The job's span ends after its call's, so it may come in a later export.
                if let release, found.contains(where: { $0.spanID == release.parentID }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let names = found.map(\.name)
            let capture = try #require(found.first { $0.name == "order.capture" }, "spans: \(names)")
            #expect(capture.attributes["tillwire.correlation_id"] == id)
            let request = try #require(found.first { $0.spanID == capture.parentID }, "the capture's parent, the request: \(names)")
            #expect(request.name.contains("/v1/orders"), "\(request.name)")
            let trace = request.traceID
            let jobs = found.filter { $0.name.hasPrefix("job ") && $0.traceID == trace }
            #expect(jobs.contains { $0.name == "job workflow.advance" }, "the saga's jobs continue the request's trace: \(names)")
            let call = try #require(release, "a call to the fulfilment system: \(names)")
            #expect(call.traceID == trace, "the release to wms is in the order's trace")
            let releaseJob = try #require(found.first { $0.spanID == call.parentID }, "the call's job")
            #expect(releaseJob.name.hasPrefix("job wms.") && releaseJob.attributes["tillwire.partition_key"]?.hasPrefix(id) == true,
                    "\(releaseJob.name) \(releaseJob.attributes)")
            hub.signal(SIGTERM)
            _ = try await hub.exit(timeout: 30)
        }
    }
}
