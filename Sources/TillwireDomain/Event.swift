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
