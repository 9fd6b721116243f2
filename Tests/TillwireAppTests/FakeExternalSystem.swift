import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import Synchronization
import TillwireEngine
import TillwireStorage

/// A FAKE external system: a local HTTP server standing in for an ERP or a shop API, not any real platform. It
/// accepts `POST /deliveries` with an `Idempotency-Key` header and behaves as the test scripts it: healthy, failing
/// with 503, too slow to answer, throttling with 429 and `Retry-After`. It records every request it receives.
final class FakeExternalSystem: Sendable {
    enum Behaviour: Sendable, Equatable {
        case healthy
        case failing
        /// Answers after this long (the client times out first).
        case slow(Duration)
        /// Answers 429 with `Retry-After: seconds`, once per request, then goes healthy.
        case throttleOnce(seconds: Int)
    }

    struct Request: Sendable {
        let key: String
        let at: Date
        let status: Int
    }

    let behaviour = Mutex(Behaviour.healthy)
    let requests = Mutex<[Request]>([])
    /// Keys delivered (answered 201), with how many times each was accepted.
    let delivered = Mutex<[String: Int]>([:])

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/deliveries") { request, _ -> Response in
            let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? "-"
            let behaviour = self.behaviour.withLock { current in
                let now = current
                if case .throttleOnce = current { current = .healthy }
                return now
            }
            let status: Int
            var headers = HTTPFields()
            switch behaviour {
            case .healthy:
                status = 201
                self.delivered.withLock { $0[key, default: 0] += 1 }
            case .failing:
                status = 503
            case .slow(let delay):
                try await Task.sleep(for: delay)
                status = 503
            case .throttleOnce(let seconds):
                status = 429
                headers[.retryAfter] = "\(seconds)"
            }
            self.requests.withLock { $0.append(Request(key: key, at: Date(), status: status)) }
            return Response(status: .init(code: status), headers: headers)
        }
        return router
    }

    func requests(between start: Date, and end: Date) -> [Request] {
        requests.withLock { $0.filter { $0.at > start && $0.at < end } }
    }
}

/// Delivers a job's payload to the fake system over real HTTP, mapping answers as a connector does: 2xx done;
/// 429 and 5xx and timeouts retryable (with `Retry-After`); other 4xx terminal.
struct DeliveryHandler: JobHandler {
    let kind = "fake.deliver"
    let port: Int
    let timeout: TimeInterval

    func handle(_ job: Job) async throws -> Commit {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/deliveries")!)
        request.httpMethod = "POST"
        request.timeoutInterval = 30
        request.setValue(job.id.rawValue, forHTTPHeaderField: "Idempotency-Key")
        // Measured here: with URLSession's own `timeoutInterval`, Foundation on Linux went on timing out every later
        // request once the first ones had timed out. So each call gets its own session and connection, and the
        // deadline is enforced by racing the call against a sleep.
        request.setValue("close", forHTTPHeaderField: "Connection")
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        request.httpBody = job.payload
        let response: URLResponse
        let call = request
        do {
            response = try await withThrowingTaskGroup(of: URLResponse?.self) { group in
                group.addTask { try await session.data(for: call).1 }
                group.addTask { try await Task.sleep(for: .seconds(timeout)); return nil }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else { throw URLError(.timedOut) }
                return response
            }
        } catch {
            throw JobError.retryable("no answer within \(timeout) s: \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        switch status {
        case 200..<300:
            return Commit()
        case 429, 408, 500...:
            let retryAfter = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init)
            throw JobError.retryable("HTTP \(status)", retryAfter: retryAfter.map { .seconds($0) })
        default:
            throw JobError.terminal("HTTP \(status)")
        }
    }
}
