/// Reads RFC 4180 CSV from bytes given in pieces of any size, so that a file of any length streams through a fixed
/// amount of memory. Pure: no I/O.
///
/// Fields are separated by `,`; a field may be quoted with `"` (then it may hold commas, line breaks and `""` for a
/// quote); records end at LF or CRLF (a CR outside quotes is dropped); a UTF-8 byte order mark at the start is
/// skipped; blank lines are skipped. A record that cannot be read is reported as `malformed` with its line and the
/// reason, and reading goes on at the next line: one bad row never stops a file.
public struct CSVReader: Sendable {
    public enum Record: Sendable, Equatable {
        /// A record's fields, and the line it starts on (1-based).
        case fields(line: Int, [String])
        /// A record that cannot be read, the line it starts on, and why.
        case malformed(line: Int, reason: String)
    }

    /// The longest record read: longer is malformed (a quote never closed would otherwise take the rest of the file).
    public static let maximumRecordBytes = 64 << 10
    /// The most fields a record may have.
    public static let maximumFields = 64

    private var field: [UInt8] = []
    private var fields: [String] = []
    private var recordBytes = 0
    private var inQuotes = false
    private var afterQuote = false
    private var fieldStarted = false
    /// Why the current record is being dropped, up to its end of line.
    private var dropping: String?
    private var dropTracksQuotes = false
    private var line = 1
    private var recordLine = 1
    /// Bytes of a byte order mark matched at the start; 3 once the start is behind.
    private var bomMatched = 0

    public init() {}

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Reads the next piece of the input; complete records are appended to `records`.
    public mutating func read(_ bytes: some Sequence<UInt8>, into records: inout [Record]) {
        for byte in bytes {
            if bomMatched < 3 {
                // A byte order mark at the very start is skipped; a part of one is content after all.
                if byte == Self.bom[bomMatched] {
                    bomMatched += 1
                    continue
                }
                giveBackBOM(into: &records)
            }
            take(byte, into: &records)
        }
    }

    /// The end of the input: a last record without its line break is appended, a quote still open is malformed.
    public mutating func finish(into records: inout [Record]) {
        giveBackBOM(into: &records)
        if let reason = dropping {
            records.append(.malformed(line: recordLine, reason: reason))
        } else if inQuotes {
            records.append(.malformed(line: recordLine, reason: "a quoted field is not closed by the end of the file"))
        } else if fieldStarted || !fields.isEmpty || afterQuote {
            endRecord(into: &records)
        }
        reset()
    }

    /// Ends the look for a byte order mark: the bytes that matched part of one are read as content.
    private mutating func giveBackBOM(into records: inout [Record]) {
        let matched = bomMatched
        bomMatched = 3
        guard matched < 3 else { return }
        for byte in Self.bom.prefix(matched) { take(byte, into: &records) }
    }

    private mutating func take(_ byte: UInt8, into records: inout [Record]) {
        if dropping != nil {
            // A dropped record still ends at a line break outside quotes, where it can be told; after a stray quote
            // or an overlong record it cannot, and the next line break ends it.
            if dropTracksQuotes && byte == Self.quote { inQuotes.toggle() }
            if byte == Self.lf {
                if inQuotes {
                    line += 1
                    return
                }
                records.append(.malformed(line: recordLine, reason: dropping ?? ""))
                line += 1
                reset()
            }
            return
        }
        recordBytes += 1
        if recordBytes > Self.maximumRecordBytes {
            drop("the record is longer than \(Self.maximumRecordBytes) bytes (a quote never closed?)", at: byte, into: &records)
            return
        }
        if inQuotes {
            if byte == Self.quote {
                inQuotes = false
                afterQuote = true
            } else {
                if byte == Self.lf { line += 1 }
                field.append(byte)
            }
            return
        }
        if afterQuote {
            switch byte {
            case Self.quote:
                field.append(Self.quote)
                inQuotes = true
                afterQuote = false
            case Self.comma:
                endField(into: &records)
            case Self.lf:
                endRecord(into: &records)
            case Self.cr:
                break
            default:
                drop("text after a closing quote", at: byte, tracksQuotes: true, into: &records)
            }
            return
        }
        switch byte {
        case Self.comma:
            endField(into: &records)
        case Self.lf:
            endRecord(into: &records)
        case Self.cr:
            break
        case Self.quote where !fieldStarted:
            inQuotes = true
            fieldStarted = true
        case Self.quote:
            drop("a quote inside a field that is not quoted", at: byte, into: &records)
        default:
            fieldStarted = true
            field.append(byte)
        }
    }

    /// Drops the current record up to its end of line; `byte`, the one that made it bad, may be that end.
    /// `tracksQuotes`: the reader is outside quotes here, so a quoted line break ahead is still told from the end.
    private mutating func drop(_ reason: String, at byte: UInt8, tracksQuotes: Bool = false, into records: inout [Record]) {
        dropping = reason
        dropTracksQuotes = tracksQuotes
        inQuotes = false
        if byte == Self.lf {
            records.append(.malformed(line: recordLine, reason: reason))
            line += 1
            reset()
        }
    }

    private mutating func endField(into records: inout [Record]) {
        guard dropping == nil else { return }
        guard let text = String(validating: field, as: UTF8.self) else {
            dropping = "field \(fields.count + 1) is not UTF-8 text"
            dropTracksQuotes = true
            return
        }
        guard fields.count < Self.maximumFields else {
            dropping = "more than \(Self.maximumFields) fields"
            dropTracksQuotes = true
            return
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
        fieldStarted = false
        afterQuote = false
    }

    private mutating func endRecord(into records: inout [Record]) {
        endField(into: &records)
        if let reason = dropping {
            records.append(.malformed(line: recordLine, reason: reason))
        } else if !(fields.count == 1 && fields[0].isEmpty) {
            records.append(.fields(line: recordLine, fields))
        }
        line += 1
        reset()
    }

    private mutating func reset() {
        field.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        recordBytes = 0
        inQuotes = false
        afterQuote = false
        fieldStarted = false
        dropping = nil
        dropTracksQuotes = false
        recordLine = line
    }
}
