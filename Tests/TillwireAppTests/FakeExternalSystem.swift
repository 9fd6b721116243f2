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
        /// When the request arrived.
        let at: Date
        let status: Int
    }

    /// What the hub's side saw (recorded by `DeliveryHandler`): when it made each call, and the keys answered 2xx.
    struct Seen: Sendable {
        var calls: [Date] = []
        var accepted: Set<String> = []
    }

    let behaviour = Mutex(Behaviour.healthy)
    let seen = Mutex(Seen())
    let requests = Mutex<[Request]>([])
    /// Keys delivered (answered 201), with how many times each was accepted.
    let delivered = Mutex<[String: Int]>([:])

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/deliveries") { request, _ -> Response in
            let arrived = Date()
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
            self.requests.withLock { $0.append(Request(key: key, at: arrived, status: status)) }
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
    let fake: FakeExternalSystem

    func handle(_ job: Job) async throws -> Commit {
        fake.seen.withLock { $0.calls.append(Date()) }
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/deliveries")!)
        request.httpMethod = "POST"
        request.setValue(job.id.rawValue, forHTTPHeaderField: "Idempotency-Key")
        let response = try await HTTPCall.send(request, timeout: timeout)
        let status = response.statusCode
        switch status {
        case 200..<300:
            fake.seen.withLock { _ = $0.accepted.insert(job.id.rawValue) }
            return Commit()
        case 429, 408, 500...:
            let retryAfter = response.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init)
            throw JobError.retryable("HTTP \(status)", retryAfter: retryAfter.map { .seconds($0) })
        default:
            throw JobError.terminal("HTTP \(status)")
        }
    }
}

/// One HTTP call with a deadline, on Foundation's URLSession, written around two of its Linux behaviours measured
/// here: with its own `timeoutInterval`, later requests kept timing out once the first ones had; and cancelling a
/// Swift task that awaits `URLSession.data(for:)` can block the cancelling thread forever (a cooperative-pool
/// thread, which starves every other task). So the call uses the completion-handler API, its own session and
/// connection, and a deadline that resumes the caller and cancels the request from a dispatch thread.
enum HTTPCall {
    private final class Once: Sendable {
        let done = Mutex(false)
        func claim() -> Bool { done.withLock { done in defer { done = true }; return !done } }
    }

    static func send(_ request: URLRequest, timeout: TimeInterval) async throws -> HTTPURLResponse {
        var request = request
        request.timeoutInterval = timeout + 30
        request.setValue("close", forHTTPHeaderField: "Connection")
        let session = URLSession(configuration: .ephemeral)
        let once = Once()
        return try await withCheckedThrowingContinuation { continuation in
            let task = session.dataTask(with: request) { _, response, error in
                guard once.claim() else { return }
                session.finishTasksAndInvalidate()
                if let response = response as? HTTPURLResponse {
                    continuation.resume(returning: response)
                } else {
                    continuation.resume(throwing: JobError.retryable("no answer: \(error.map { "\($0)" } ?? "no response")"))
                }
            }
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                guard once.claim() else { return }
                continuation.resume(throwing: JobError.retryable("no answer within \(timeout) s"))
                task.cancel()
                session.finishTasksAndInvalidate()
            }
        }
    }
}
