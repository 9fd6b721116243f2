import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import TillwireStorage

/// `Idempotency-Key` on POST: the first request with a key runs and its response is kept (per client); a repeat
/// with the same method, path and body gets that response again (with `Idempotent-Replayed: true`) and changes
/// nothing; the same key with a different request is a 422; a repeat while the first still runs is a 409. A
/// response of 5xx is not kept, so that a retry runs again. Keys are kept `retention.idempotency_keys_days` (7).
public struct IdempotencyMiddleware: RouterMiddleware {
    public typealias Context = HubRequestContext
    let store: any Store
    /// A first use still unfinished after this is taken to be abandoned (its hub died) and may run again.
    let staleAfter: Duration

    public init(store: any Store, staleAfter: Duration = .seconds(60)) {
        self.store = store
        self.staleAfter = staleAfter
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[.idempotencyKey] else { return try await next(request, context) }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
            throw Problem.invalid("an Idempotency-Key is 1-255 visible ASCII characters", field: "Idempotency-Key")
        }
        guard let client = context.client?.client else { return try await next(request, context) }
        let body = try await request.collectBody(context: context)
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method) \(request.uri.path)?\(request.uri.query ?? "")\n".utf8))
        hasher.update(data: Data(buffer: body))
        let hash = ApiKeys.hex(hasher.finalize())

        switch try await store.claimIdempotencyKey(client: client, key: key, requestHash: hash, now: Date(), staleAfter: staleAfter) {
        case .replay(let kept):
            var headers: HTTPFields = [.idempotentReplayed: "true"]
            if let type = kept.contentType { headers[.contentType] = type }
            return Response(status: .init(code: kept.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: kept.body)))
        case .mismatch:
            throw Problem(kind: "idempotency-key-reused", title: "Idempotency key reused", status: .unprocessableContent,
                          detail: "the Idempotency-Key \(key) was used before with a different request", field: "Idempotency-Key")
        case .inProgress:
            var problem = Problem(kind: "idempotency-in-progress", title: "Request in progress", status: .conflict,
                                  detail: "the first request with Idempotency-Key \(key) is still running; try again shortly",
                                  field: "Idempotency-Key")
            problem.headers["Retry-After"] = "1"
            throw problem
        case .started:
            var replayable = request
            replayable.body = .init(buffer: body)
            let response: Response
            do {
                response = try await next(replayable, context)
            } catch {
                let problem = Problem(error)
                if problem.statusCode >= 500 {
                    await release(client: client, key: key)
                } else {
                    let kept = try problem.response(from: request, context: context)
                    try await keep(kept, client: client, key: key)
                }
                throw error
            }
            return try await keep(response, client: client, key: key)
        }
    }

    /// Frees a key whose request failed, so that a retry runs again. It runs as a task of its own: a request stopped
    /// by its deadline is cancelled, and the release must happen all the same (else the key waits `staleAfter`).
    private func release(client: String, key: String) async {
        let store = self.store
        await Task { try? await store.releaseIdempotencyKey(client: client, key: key) }.value
    }

    /// Keeps a response (not a 5xx) and returns it with its body buffered.
    @discardableResult
    private func keep(_ response: Response, client: String, key: String) async throws -> Response {
        let collector = Collector()
        try await response.body.write(collector.writer)
        let bytes = collector.buffer.withLock { Data(buffer: $0) }
        if response.status.code >= 500 {
            await release(client: client, key: key)
        } else {
            try await store.finishIdempotencyKey(client: client, key: key, response: IdempotentResponse(
                status: response.status.code, contentType: response.headers[.contentType], body: bytes))
        }
        var buffered = response
        buffered.body = .init(byteBuffer: ByteBuffer(bytes: bytes))
        return buffered
    }
}

/// Collects a response body into memory.
private final class Collector: Sendable {
    let buffer = Mutex(ByteBuffer())

    struct Writer: ResponseBodyWriter {
        let collector: Collector
        mutating func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            _ = collector.buffer.withLock { $0.writeBuffer(&buffer) }
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    var writer: Writer { Writer(collector: self) }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
