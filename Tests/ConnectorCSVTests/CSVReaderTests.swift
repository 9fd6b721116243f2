import ConnectorCSV
import Foundation
import Testing
import TillwireTesting

/// The CSV reader: RFC 4180 quoting, line ends, a byte order mark, and bad rows reported with their line while
/// reading goes on; the same records whatever the size of the pieces the bytes arrive in; no crash and no hang on
/// 10,000 malformed variants.
@Suite struct CSVReaderTests {
    static func read(_ bytes: [UInt8], pieces: [Int] = []) -> [CSVReader.Record] {
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        var rest = bytes[...]
        var sizes = pieces.makeIterator()
        while !rest.isEmpty {
            let size = max(1, sizes.next() ?? rest.count)
            reader.read(rest.prefix(size), into: &records)
            rest = rest.dropFirst(size)
        }
        reader.finish(into: &records)
        return records
    }

    static func read(_ text: String) -> [CSVReader.Record] { read(Array(text.utf8)) }

    @Test func quotedFieldsLineEndsAndAByteOrderMark() {
        let text = "\u{FEFF}sku,name,quantity\r\nSHIRT-M,\"Shirt, \"\"medium\"\"\",2\r\n\nMUG,\"two\nlines\",\"\"\nLAST,x,1"
        #expect(Self.read(text) == [
            .fields(line: 1, ["sku", "name", "quantity"]),
            .fields(line: 2, ["SHIRT-M", "Shirt, \"medium\"", "2"]),
            .fields(line: 4, ["MUG", "two\nlines", ""]),
            .fields(line: 6, ["LAST", "x", "1"]),
        ])
    }

    @Test func aBadRowIsReportedWithItsLineAndReadingGoesOn() {
        let records = Self.read(Array("a,b\n1,x\"y\n2,\"q\"z\n3,".utf8) + [0xFF] + Array("\n4,ok\n5,\"never closed\n".utf8))
        #expect(records.count == 6, "\(records)")
        #expect(records[0] == .fields(line: 1, ["a", "b"]))
        #expect(records[1] == .malformed(line: 2, reason: "a quote inside a field that is not quoted"))
        #expect(records[2] == .malformed(line: 3, reason: "text after a closing quote"))
        #expect(records[4] == .fields(line: 5, ["4", "ok"]))
        #expect(records[5] == .malformed(line: 6, reason: "a quoted field is not closed by the end of the file"))
        guard case .malformed(4, let reason) = records[3] else { Issue.record("\(records[3])"); return }
        #expect(reason.contains("not UTF-8"))
        // After text that follows a closing quote, a quoted line break further on does not end the dropped record.
        #expect(Self.read("a,\"b\"x,\"note\nend\",5\nnext,1\n") == [.malformed(line: 1, reason: "text after a closing quote"), .fields(line: 3, ["next", "1"])])
        let long = Self.read("a\n\"" + String(repeating: "x", count: CSVReader.maximumRecordBytes + 10) + "\nb\n")
        guard case .malformed(2, let overflow) = long[1] else { Issue.record("\(long)"); return }
        #expect(overflow.contains("longer than"))
        #expect(long.last == .fields(line: 3, ["b"]), "reading goes on after the overlong record: \(long.last.map { "\($0)" } ?? "")")
    }

    /// A seeded generator of malformed inputs: cuts, byte flips, stray quotes, CRs and line breaks, long runs, over
    /// a valid file. Each is read whole and in random pieces: no crash, the same records either way, and every
    /// malformed record carries a line within the input.
    @Test func malformedVariantsGiveTheSameRecordsInAnyPiecesAndNeverCrash() {
        var random = SeededGenerator(seed: 20261129)
        let base = Array("store,workstation,business_day,transaction,line,sku,quantity\n12,3,2026-11-29,1045,1,SHIRT-M,2\n12,3,2026-11-29,\"10,46\",1,\"MUG \"\"large\"\"\",-1\r\n".utf8)
        let specials: [UInt8] = [0x22, 0x2C, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF, 0xFF, 0x00, 0xC3]
        for _ in 0..<10_000 {
            var bytes = base
            for _ in 0..<Int(random.next() % 6) + 1 {
                let at = Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 5 {
                case 0: bytes = Array(bytes.prefix(at))
                case 1 where at < bytes.count: bytes[at] = specials[Int(random.next() % UInt64(specials.count))]
                case 2: bytes.insert(specials[Int(random.next() % UInt64(specials.count))], at: at)
                case 3 where at < bytes.count: bytes.remove(at: at)
                default: bytes.insert(contentsOf: [UInt8](repeating: 0x22, count: Int(random.next() % 4) + 1), at: at)
                }
                if bytes.isEmpty { break }
            }
            let whole = Self.read(bytes)
            let pieces = (0..<20).map { _ in Int(random.next() % 7) + 1 }
            #expect(Self.read(bytes, pieces: pieces) == whole, "\(bytes) in pieces \(pieces)")
            let lines = bytes.filter { $0 == 0x0A }.count + 1
            for record in whole {
                if case .malformed(let line, _) = record { #expect((1...lines).contains(line), "\(record) in \(bytes)") }
            }
        }
    }
}
