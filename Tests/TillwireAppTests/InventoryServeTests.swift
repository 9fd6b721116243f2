import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TillwireAPI
import TillwireDomain
import TillwireStorage
import TillwireStorageSQLite
import TillwireTesting

/// The inventory wired into `tillwire serve`: a configured channel gets its figure published after a sale, a
/// reservation expires through its durable timer, and a divergence shows in `/metrics`.
@Suite struct InventoryServeTests {
    func call(_ base: String, _ method: String, _ path: String, key: String, _ body: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func aSaleIsPublishedToItsChannelAReservationExpiresAndDivergenceIsAMetric() async throws {
        let folder = try TemporaryFolder()
        let (path, key) = try await preparedHubStore(in: folder, catalog: [.putLocation(try Location(id: "store-12", kind: .store, name: "Camden")), .putProduct(try Product(sku: "SHIRT-M", name: "Shirt"))])
        let configuration = folder.path("hub.yaml")
        try """
            channels:
              web-uk:
                locations: [store-12]
                buffer: 1
            inventory:
              publish_window_ms: 20
            """.write(toFile: configuration, atomically: true, encoding: .utf8)
        let hub = try ChildProcess(try tillwireExecutable(), ["serve", "--config", configuration], environment: [
            "TILLWIRE_HTTP_PORT": "0", "TILLWIRE_STORAGE_SQLITE_PATH": path, "TILLWIRE_LOG_LEVEL": "info",
        ])
        let base = try await hub.servingAddress()
        let now = Date().ISO8601Format()
        let (moved, _) = try await call(base, "POST", "/v1/inventory/movements", key: key, #"""
            {"movements":[{"sku":"SHIRT-M","location":"store-12","delta":10,"reason":"receipt","occurred_at":"\#(now)","source":"erp","source_key":"r"},
                          {"sku":"SHIRT-M","location":"store-12","delta":-2,"reason":"sale","occurred_at":"\#(now)","source":"pos-12","source_key":"s"}]}
            """#)
        #expect(moved == 200)
        // 10 received, 2 sold, a buffer of 1: the channel is told 7.
        try await hub.wait(timeout: 20, "the channel publish", until: {
            hub.standardError.split(separator: "\n").contains { $0.contains("channel availability") && $0.contains("available=7") && $0.contains("channel=web-uk") }
        })
        let (reserved, _) = try await call(base, "POST", "/v1/reservations", key: key,
                                           #"{"key":"short-hold","order":"1","sku":"SHIRT-M","location":"store-12","quantity":3,"expires_in_seconds":1}"#)
        #expect(reserved == 201)
        let deadline = Date() + 20
        var state = ""
        while Date() < deadline {
            state = try await call(base, "GET", "/v1/reservations/short-hold", key: key).1
            if state.contains(#""state":"expired""#) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(state.contains(#""state":"expired""#), "the reservation's durable timer expired it: \(state)")
        let (counted, _) = try await call(base, "POST", "/v1/inventory/counts", key: key,
                                          #"{"counts":[{"sku":"SHIRT-M","location":"store-12","counted":5,"as_of":"\#(Date().ISO8601Format())","source":"pos-12","source_key":"c"}]}"#)
        #expect(counted == 200)
        let (_, metrics) = try await call(base, "GET", "/metrics", key: key)
        #expect(metrics.contains(#"tillwire_inventory_mismatches_total{location="store-12",system="pos-12"} 1"#), "\(metrics.split(separator: "\n").filter { $0.contains("inventory") })")
        #expect(metrics.contains(#"tillwire_inventory_counts_total{location="store-12",system="pos-12"} 1"#))
        hub.signal(SIGTERM)
        #expect(try await hub.exit() == 0)
    }
}
