import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Calls to an external system's HTTP API, on AsyncHTTPClient. Every answer comes back whatever its status;
/// `failure` turns one that is not a success into the job error that says whether to try again.
public struct HTTPTransport: Sendable {
    public typealias Method = HTTPMethod

    public struct Reply: Sendable {
        public let status: Int
        public let headers: [(String, String)]
        public let body: Data

        public init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        public var isSuccess: Bool { (200..<300).contains(status) }
    }

    let client: HTTPClient
    /// The largest answer read; a larger one is an error.
    public var maximumBody = 16 << 20

    /// A client that inflates gzip answers whatever the request asked (for servers that send them unasked),
    /// up to 100 times the compressed size. Shared for the process's life, like `HTTPClient.shared`.
    public static let decompressing = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                                                 configuration: .init(decompression: .enabled(limit: .ratio(100))))

    public init(client: HTTPClient = .shared) {
        self.client = client
    }

    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: Data? = nil,
                     timeout: Duration = .seconds(30)) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.timeInterval * 1e9)))
        let buffer = try await response.body.collect(upTo: maximumBody)
        return Reply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Data(buffer.readableBytesView))
    }

    /// The job error for an answer that is not a success: `429` with its `Retry-After`, `408` and `5xx` are tried
    /// again; any other `4xx` is terminal (the request is wrong, and repeating it changes nothing), with the start
    /// of the body as the reason. Bodies may hold customer data, so at most 300 bytes are kept.
    public static func failure(_ reply: Reply, _ what: String) -> JobError {
        let detail = "\(what): HTTP \(reply.status) \(String(decoding: reply.body.prefix(300), as: UTF8.self))"
        switch reply.status {
        case 429:
            return .retryable(detail, retryAfter: .milliseconds(Int64(retryAfter(reply.header("Retry-After")) * 1000)))
        case 408, 500...599: return .retryable(detail, retryAfter: nil)
        default: return .terminal(detail)
        }
    }

    /// `Retry-After` in seconds, as a number the backoff can use: 0–3600, and 2 when it is absent, an HTTP date, or
    /// not a finite number (a server's `nan` must not stop the hub).
    static func retryAfter(_ text: String?) -> Double {
        guard let text, let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite else { return 2 }
        return min(max(seconds, 0), 3600)
    }
}
