import Hummingbird
import TillwireDomain
import TillwireStorage

/// Who is calling: the client an API key belongs to, and what it may do.
public struct AuthenticatedClient: Sendable, Hashable {
    public let keyID: String
    public let client: String
    public let scopes: [String]
    /// The only locations this client may act for; nil for every location.
    public let locations: [LocationID]?

    /// Whether the client may act for `location`.
    public func mayAct(for location: LocationID) -> Bool {
        locations?.contains(location) ?? true
    }
}

/// The request context of every hub route: Hummingbird's core, the authenticated client (set by `AuthMiddleware`
/// under `/v1`) and the body size limit.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var client: AuthenticatedClient?
    /// Bodies larger than this are refused with 413. Default 1 MiB (`api.max_body_bytes`).
    public var bodyLimit = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { bodyLimit }
}
