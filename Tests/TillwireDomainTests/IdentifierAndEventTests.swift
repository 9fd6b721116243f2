import Foundation
import Testing
import TillwireDomain

@Suite struct IdentifierAndEventTests {
    @Test func identifiersRefuseEmptyControlAndOverlongValues() throws {
        #expect(try SKU("TSHIRT-M-BLUE").rawValue == "TSHIRT-M-BLUE")
        #expect(try OrderID("450789469412345678").rawValue == "450789469412345678", "an 18-digit id stays exact")
        #expect(try SKU(String(repeating: "é", count: 100)).rawValue.utf8.count == 200)
        #expect(SKU(trusted: "e\u{301}") != SKU(trusted: "\u{e9}"), "ids compare byte for byte, as the databases do")
        for bad in ["", " padded", "trailing ", "tab\there", String(repeating: "x", count: 201), String(repeating: "é", count: 101)] {
            #expect(throws: DomainError.self) { try SKU(bad) }
        }
    }

    @Test func identifiersDecodeWithValidation() throws {
        let decoded = try JSONDecoder().decode([SKU].self, from: Data(#"["A-1"]"#.utf8))
        #expect(decoded == ["A-1"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([SKU].self, from: Data(#"[""]"#.utf8)) }
    }

    @Test func randomIdentifiersAreUUIDShapedAndDistinct() {
        let ids = (0..<10_000).map { _ in EventID.random().rawValue }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(UUID(uuidString: id) != nil, "\(id) parses as a UUID")
            #expect(Array(id)[14] == "4", "version 4")
        }
    }

    @Test func eventPayloadRoundTrips() throws {
        struct Moved: Codable, Equatable { let sku: SKU; let delta: Int64; let at: Date }
        let payload = Moved(sku: "SKU-1", delta: -3, at: Date(timeIntervalSince1970: 1_800_000_000.123))
        let event = try NewEvent(
            type: "inventory.movement_recorded", stream: "SKU-1@store-1", correlationID: "store-1/2026-11-27",
            occurredAt: payload.at, source: "pos", encoding: payload)
        #expect(String(decoding: event.payload, as: UTF8.self) == #"{"at":1800000000123,"delta":-3,"sku":"SKU-1"}"#)
        let envelope = EventEnvelope(event: event, streamVersion: 1, position: 1, recordedAt: payload.at)
        #expect(try envelope.decodePayload(as: Moved.self) == payload)
    }

    /// A payload that changed shape: version 1 carried `quantity` as a string, version 2 an integer `units`.
    struct Counted: VersionedPayload, Equatable {
        static let eventType = "test.counted"
        static let schemaVersion = 2
        let sku: SKU
        let units: Int64

        static func upgrade(fromPrevious payload: Data) throws -> Counted {
            struct Version1: Decodable { let sku: SKU; let quantity: String }
            let old = try EventCoding.decoder.decode(Version1.self, from: payload)
            guard let units = Int64(old.quantity) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "quantity '\(old.quantity)' is not a whole number"))
            }
            return Counted(sku: old.sku, units: units)
        }
    }

    func envelope(type: String = Counted.eventType, version: Int, _ json: String) -> EventEnvelope {
        EventEnvelope(
            event: NewEvent(type: type, schemaVersion: version, stream: "s", correlationID: "c", occurredAt: Date(), source: "test", payload: Data(json.utf8)),
            streamVersion: 1, position: 1, recordedAt: Date())
    }

    @Test func readersAcceptTheCurrentAndThePreviousSchemaVersion() throws {
        let written = try NewEvent(stream: "s", correlationID: "c", occurredAt: Date(), source: "test", payload: Counted(sku: "A", units: 4))
        #expect(written.type == "test.counted" && written.schemaVersion == 2, "writers write the current version")
        #expect(try envelope(version: 2, #"{"sku":"A","units":4}"#).decode(Counted.self) == Counted(sku: "A", units: 4))
        #expect(try envelope(version: 1, #"{"sku":"A","quantity":"4"}"#).decode(Counted.self) == Counted(sku: "A", units: 4),
                "the previous version is upgraded")
        #expect(throws: DecodingError.self) { try envelope(version: 1, #"{"sku":"A","quantity":"four"}"#).decode(Counted.self) }
        #expect(throws: EventSchemaError(type: "test.counted", found: 3, readable: [1, 2])) {
            try envelope(version: 3, #"{"sku":"A","units":4}"#).decode(Counted.self)
        }
        #expect(throws: DecodingError.self, "another type is not read as this one") {
            try envelope(type: "test.other", version: 2, #"{"sku":"A","units":4}"#).decode(Counted.self)
        }
    }

    /// Lengths are counted in code points, as the OpenAPI document's `maxLength` (JSON Schema) counts them: a name of
    /// combining marks that Swift counts as few characters must not pass a limit the document says it breaks (found by
    /// schemathesis: a 200-grapheme location name of 300 code points was accepted).
    @Test func lengthsCountCodePointsAsTheAPIDocumentSays() throws {
        let accent = "e\u{301}"  // one Character, two code points
        #expect(throws: DomainError.self) { try Location(id: "dc-1", kind: .warehouse, name: String(repeating: accent, count: 101)) }
        #expect(try Location(id: "dc-1", kind: .warehouse, name: String(repeating: accent, count: 100)).name.unicodeScalars.count == 200)
        #expect(throws: DomainError.self) { try Product(sku: "MUG", name: String(repeating: accent, count: 251)) }
    }
}

