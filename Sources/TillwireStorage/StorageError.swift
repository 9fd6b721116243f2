import TillwireDomain

/// Why storage refused or failed. Backends translate their native errors into these at the boundary.
public enum StorageError: Error, Sendable, CustomStringConvertible {
    /// An append's expected version did not match the stream's version: someone else wrote first.
    case versionConflict(stream: StreamID, expected: ExpectedVersion, actual: Int64)
    /// A subscriber's checkpoint was not where the commit expected it: another instance advanced it.
    case checkpointMoved(subscriber: String, expected: Int64, actual: Int64)
    /// A domain rule refused a change inside the commit (insufficient stock, a reservation ended twice).
    case rejected(DomainError)
    /// A record that must be unique already exists (a workflow run id, a recorded step).
    case conflict(String)
    /// A change names a record that does not exist (an unknown reservation or workflow run).
    case notFound(kind: String, id: String)
    /// The database cannot be reached or refused the operation.
    case unavailable(backend: String, reason: String)
    /// The database's schema is not the one this build expects.
    case schemaMismatch(String)
    /// The store was closed.
    case closed

    public var description: String {
        switch self {
        case let .versionConflict(stream, expected, actual): "version conflict on stream \(stream): expected \(expected), found \(actual)"
        case let .checkpointMoved(subscriber, expected, actual): "checkpoint of \(subscriber) moved: expected \(expected), found \(actual)"
        case let .rejected(error): error.description
        case let .conflict(what): "conflict: \(what)"
        case let .notFound(kind, id): "\(kind) \(id) not found"
        case let .unavailable(backend, reason): "\(backend) unavailable: \(reason)"
        case let .schemaMismatch(reason): "schema mismatch: \(reason)"
        case .closed: "the store is closed"
        }
    }
}
