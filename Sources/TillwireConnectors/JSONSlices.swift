import Foundation

/// Cuts the raw bytes of JSON values out of a document without decoding them, so that each element of a page of
/// results can be stored exactly as the platform sent it (a big id stays the digits it was, never a `Double`).
public enum JSONSlices {
    public struct Malformed: Error, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "malformed JSON at byte \(offset): \(reason)" }
    }

    /// The raw bytes of each element of the array under `key` in the top-level object; `[]` when the key is absent.
    public static func elements(of key: String, in data: Data) throws -> [Data] {
        var scanner = Scanner(bytes: [UInt8](data))
        try scanner.expect(UInt8(ascii: "{"))
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "}") { return [] }
        while true {
            scanner.skipSpace()
            let name = try scanner.string()
            scanner.skipSpace()
            try scanner.expect(UInt8(ascii: ":"))
            scanner.skipSpace()
            if name == Array(key.utf8), scanner.peek == UInt8(ascii: "[") { return try scanner.arrayElements() }
            try scanner.skipValue()
            scanner.skipSpace()
            if scanner.peek == UInt8(ascii: "}") { return [] }
            try scanner.expect(UInt8(ascii: ","))
        }
    }

    /// The raw bytes of each element of a document that is an array.
    public static func elements(in data: Data) throws -> [Data] {
        var scanner = Scanner(bytes: [UInt8](data))
        scanner.skipSpace()
        return try scanner.arrayElements()
    }

    struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard peek == byte else { throw Malformed(offset: index, reason: "expected '\(Character(UnicodeScalar(byte)))'") }
            index += 1
        }

        /// A string's raw bytes between its quotes (escapes left as they are).
        mutating func string() throws -> [UInt8] {
            try expect(UInt8(ascii: "\""))
            let start = index
            while let byte = peek {
                if byte == UInt8(ascii: "\\") { index += 2; continue }
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return Array(bytes[start..<(index - 1)])
                }
                index += 1
            }
            throw Malformed(offset: start, reason: "unterminated string")
        }

        /// At a `[`: each element's bytes.
        mutating func arrayElements() throws -> [Data] {
            try expect(UInt8(ascii: "["))
            var elements: [Data] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { return [] }
            while true {
                skipSpace()
                let start = index
                try skipValue()
                elements.append(Data(bytes[start..<index]))
                skipSpace()
                if peek == UInt8(ascii: "]") { return elements }
                try expect(UInt8(ascii: ","))
            }
        }

        mutating func skipValue() throws {
            guard let first = peek else { throw Malformed(offset: index, reason: "a value is missing") }
            switch first {
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                repeat {
                    guard let byte = peek else { throw Malformed(offset: index, reason: "unterminated \(first == UInt8(ascii: "{") ? "object" : "array")") }
                    switch byte {
                    case UInt8(ascii: "\""): _ = try string(); continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                    default: break
                    }
                    index += 1
                } while depth > 0
            default:
                let start = index
                while let byte = peek, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(byte) { index += 1 }
                guard index > start else { throw Malformed(offset: index, reason: "a value is missing") }
            }
        }
    }
}
