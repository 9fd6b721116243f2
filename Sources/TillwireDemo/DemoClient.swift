import Foundation
import TillwireDomain
import TillwireConnectors

/// The demo's calls to the hub: its public HTTP API, as any client of the hub would make them.
struct DemoClient: Sendable {
    struct Answer: @unchecked Sendable {
        let status: Int
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        subscript(key: String) -> Any? { json[key] }
    }

    struct Unexpected: Error, CustomStringConvertible {
        let description: String
    }

    let base: String
    let key: String
    let transport = HTTPTransport()

    func call(_ method: HTTPTransport.Method, _ path: String, _ body: String? = nil, key: String? = nil, contentType: String = "application/json",
              idempotencyKey: String? = nil) async throws -> Answer {
        var headers = [("Authorization", "Bearer \(key ?? self.key)")]
        if body != nil { headers.append(("Content-Type", contentType)) }
        // Every POST carries a key; one the caller names makes a retry of the same request recognisable.
        if let key = idempotencyKey ?? (method == .POST ? "demo-" + UUID().uuidString.lowercased() : nil) { headers.append(("Idempotency-Key", key)) }
        let reply = try await transport.send(method, base + path, headers: headers, body: body.map { Data($0.utf8) })
        return Answer(status: reply.status, body: reply.body)
    }

    /// A call that must answer one of `expected`; anything else stops the demo with the answer.
    @discardableResult
    func expect(_ expected: Set<Int>, _ method: HTTPTransport.Method, _ path: String, _ body: String? = nil, key: String? = nil,
                contentType: String = "application/json", idempotencyKey: String? = nil) async throws -> Answer {
        let answer = try await call(method, path, body, key: key, contentType: contentType, idempotencyKey: idempotencyKey)
        guard expected.contains(answer.status) else {
            throw Unexpected(description: "\(method) \(path) answered \(answer.status), expected \(expected.sorted()): \(answer.text.prefix(600))")
        }
        return answer
    }
}

/// Money as the API writes it: minor units to "12.34".
func decimal(_ minor: Int64) -> String {
    let sign = minor < 0 ? "-" : ""
    let value = abs(minor)
    return "\(sign)\(value / 100).\(String(format: "%02d", Int(value % 100)))"
}

/// The tax the hub's gate expects on `net` minor units at `rate` basis points (`TaxRule.expected`): the demo's shops
/// and tills state their tax as the hub will check it.
func tax(_ net: Int64, rate: Int64, included: Bool) -> Int64 {
    TaxRule.expected(net: net, rate: rate, included: included) ?? 0
}
