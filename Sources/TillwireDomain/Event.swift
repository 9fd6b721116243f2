import Foundation

/// An event to append: what happened, to which stream, in which business flow, caused by what.
public struct NewEvent: Hashable, Sendable {
    public let id: EventID
    /// Dotted name, past tense: `inventory.movement_recorded`, `order.status_changed`.
    public let type: String
    /// The payload's schema version for this type; readers upcast older versions.
    public let schemaVersion: Int
    public let stream: StreamID
    public let correlationID: CorrelationID
    /// The event id or message key that caused this event; nil for a flow's first message.
    public let causationID: String?
    public let occurredAt: Date
    public let source: SystemID
    /// The payload as JSON bytes.
    public let payload: Data

    public init(
        id: EventID = .random(), type: String, schemaVersion: Int = 1, stream: StreamID,
        correlationID: CorrelationID, causationID: String? = nil, occurredAt: Date, source: SystemID, payload: Data
    ) {
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.stream = stream
        self.correlationID = correlationID
        self.causationID = causationID
        self.occurredAt = occurredAt
        self.source = source
        self.payload = payload
    }

    /// An event whose payload is a `Codable` value, encoded as JSON with sorted keys.
    public init<Payload: Encodable>(
        id: EventID = .random(), type: String, schemaVersion: Int = 1, stream: StreamID,
        correlationID: CorrelationID, causationID: String? = nil, occurredAt: Date, source: SystemID,
        encoding payload: Payload
    ) throws {
        self.init(
            id: id, type: type, schemaVersion: schemaVersion, stream: stream, correlationID: correlationID,
            causationID: causationID, occurredAt: occurredAt, source: source, payload: try EventCoding.encode(payload))
    }
}

/// An event as the log holds it: the new event plus where it landed.
public struct EventEnvelope: Hashable, Sendable {
    public let event: NewEvent
    /// 1 for a stream's first event, then +1 per event: the optimistic-concurrency version.
    public let streamVersion: Int64
    /// The event's place in the whole log, increasing in commit order on one backend.
    public let position: Int64
    public let recordedAt: Date

    public init(event: NewEvent, streamVersion: Int64, position: Int64, recordedAt: Date) {
        self.event = event
        self.streamVersion = streamVersion
        self.position = position
        self.recordedAt = recordedAt
    }

    public var id: EventID { event.id }
    public var type: String { event.type }
    public var stream: StreamID { event.stream }

    public func decodePayload<Payload: Decodable>(as: Payload.Type) throws -> Payload {
        try EventCoding.decoder.decode(Payload.self, from: event.payload)
    }
}

/// The JSON coding used for event payloads: sorted keys, dates as epoch milliseconds.
public enum EventCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return try encoder.encode(value)
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }
}

/// A typed event payload with a versioned schema. Writers always write `schemaVersion`; readers accept that version
/// and the one before it, which `upgrade(fromPrevious:)` turns into the current shape. So a hub can be upgraded
/// while events of the old shape are still in the log, in a queue, or arriving from an instance not yet upgraded.
/// Changing a payload: add optional fields without a new version; anything else (a rename, a new required field,
/// another meaning) is a new version with an `upgrade` from the previous one.
public protocol VersionedPayload: Codable, Sendable {
    /// The event type this payload belongs to, e.g. `inventory.movement_recorded`.
    static var eventType: String { get }
    static var schemaVersion: Int { get }
    /// Reads a payload written at `schemaVersion - 1`. Default: there is no previous version to read.
    static func upgrade(fromPrevious payload: Data) throws -> Self
}

extension VersionedPayload {
    public static func upgrade(fromPrevious payload: Data) throws -> Self {
        throw EventSchemaError(type: eventType, found: schemaVersion - 1, readable: [schemaVersion])
    }
}

/// An event whose schema version this build cannot read (too old, or written by a newer build).
public struct EventSchemaError: Error, CustomStringConvertible, Equatable {
    public let type: String
    public let found: Int
    public let readable: [Int]

    public init(type: String, found: Int, readable: [Int]) {
        self.type = type
        self.found = found
        self.readable = readable
    }

    public var description: String {
        "\(type) version \(found) cannot be read by this build, which reads version\(readable.count > 1 ? "s" : "") \(readable.map(String.init).joined(separator: " and "))"
    }
}

extension NewEvent {
    /// An event carrying `payload` at its type's current schema version.
    public init<Payload: VersionedPayload>(
        id: EventID = .random(), stream: StreamID, correlationID: CorrelationID, causationID: String? = nil,
        occurredAt: Date, source: SystemID, payload: Payload
    ) throws {
        try self.init(
            id: id, type: Payload.eventType, schemaVersion: Payload.schemaVersion, stream: stream, correlationID: correlationID,
            causationID: causationID, occurredAt: occurredAt, source: source, encoding: payload)
    }
}

extension EventEnvelope {
    /// The payload in its current shape: read as is at the current version, upgraded from the previous one, and
    /// refused (`EventSchemaError`) at any other, or when the event is of another type.
    public func decode<Payload: VersionedPayload>(_: Payload.Type) throws -> Payload {
        guard type == Payload.eventType else {
            throw DecodingError.typeMismatch(Payload.self, .init(codingPath: [], debugDescription: "event \(id) is a \(type), not a \(Payload.eventType)"))
        }
        switch event.schemaVersion {
        case Payload.schemaVersion:
            return try decodePayload(as: Payload.self)
        case Payload.schemaVersion - 1 where Payload.schemaVersion > 1:
            return try Payload.upgrade(fromPrevious: event.payload)
        default:
            let readable = Payload.schemaVersion > 1 ? [Payload.schemaVersion - 1, Payload.schemaVersion] : [Payload.schemaVersion]
            throw EventSchemaError(type: type, found: event.schemaVersion, readable: readable)
        }
    }
}
