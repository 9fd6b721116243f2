import Foundation

/// A typed identifier: a string that cannot be mixed up with another kind of id.
///
/// External ids are strings on purpose (an 18-digit Shopify id must never pass through a `Double`).
/// A valid identifier is 1...200 bytes of UTF-8, with no control characters and no leading or trailing spaces.
/// Ids are compared byte for byte, as the databases compare them: "é" composed and decomposed are two ids.
public struct Identifier<Tag>: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `rawValue`; throws `DomainError.invalidIdentifier` naming the kind.
    public init(_ rawValue: String) throws(DomainError) {
        guard Self.isValid(rawValue) else {
            throw .invalidIdentifier(kind: String(describing: Tag.self), value: String(rawValue.prefix(64)))
        }
        self.rawValue = rawValue
    }

    /// For ids read back from storage, which were validated when written.
    public init(trusted rawValue: String) { self.rawValue = rawValue }

    public static func isValid(_ value: String) -> Bool {
        guard (1...200).contains(value.utf8.count), value.first != " ", value.last != " " else { return false }
        return !value.unicodeScalars.contains { CharacterSet.controlCharacters.contains($0) }
    }

    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue.utf8.lexicographicallyPrecedes(rhs.rawValue.utf8) }
    // By bytes, not by Unicode equivalence: two ids are the same id only when they are spelled the same. On the
    // contiguous UTF-8 of native strings, as SKUs key most of the hub's dictionaries.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.rawValue.utf8.count == rhs.rawValue.utf8.count else { return false }
        var left = lhs.rawValue
        var right = rhs.rawValue
        return left.withUTF8 { a in right.withUTF8 { b in a.elementsEqual(b) } }
    }

    public func hash(into hasher: inout Hasher) {
        var raw = rawValue
        raw.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension Identifier: ExpressibleByStringLiteral {
    /// Literals in code and tests; an invalid literal is a programming error.
    public init(stringLiteral value: String) {
        precondition(Self.isValid(value), "invalid \(Tag.self) literal: \(value)")
        self.rawValue = value
    }
}

extension Identifier: Codable {
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public enum SKUTag {}
public enum LocationTag {}
public enum ChannelTag {}
public enum SystemTag {}
public enum OrderTag {}
public enum ReservationTag {}
public enum EventTag {}
public enum CorrelationTag {}
public enum StreamTag {}
public enum WorkflowRunTag {}

/// A stock keeping unit, as the product master names it.
public typealias SKU = Identifier<SKUTag>
/// A store, warehouse or web fulfilment node.
public typealias LocationID = Identifier<LocationTag>
/// A sales channel (a web shop, a marketplace, the store estate).
public typealias ChannelID = Identifier<ChannelTag>
/// A connected system (an ERP, a POS estate, a shop), as named in the config.
public typealias SystemID = Identifier<SystemTag>
/// A canonical order.
public typealias OrderID = Identifier<OrderTag>
/// A stock reservation; the reservation key given by the caller, so that a repeat is recognised.
public typealias ReservationID = Identifier<ReservationTag>
/// One event in the log.
public typealias EventID = Identifier<EventTag>
/// A business flow (an order, a return, a store day) that events belong to.
public typealias CorrelationID = Identifier<CorrelationTag>
/// An event stream: one aggregate (an order, a SKU at a location).
public typealias StreamID = Identifier<StreamTag>
/// One run of a workflow (saga).
public typealias WorkflowRunID = Identifier<WorkflowRunTag>

extension Identifier {
    /// A random identifier in UUID text form (version 4), drawn from the system random number generator
    /// (cheaper than Foundation's `UUID()` on Linux).
    public static func random() -> Self {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
        bytes.0 = (bytes.0 & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        bytes.1 = (bytes.1 & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let hex = String(bytes.0, radix: 16).leftPadded(16) + String(bytes.1, radix: 16).leftPadded(16)
        let chars = Array(hex)
        let text = String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
            + String(chars[16..<20]) + "-" + String(chars[20..<32])
        return Self(trusted: text)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
