import ConnectorPOSLog
import Foundation
import Testing
import TillwireTesting

/// The POSLog reader on realistic files of both versions (Fixtures/: written for these tests in the public ARTS
/// structure, with sales, a return linked to its sale, a voided line, a weighed item, several tenders with change,
/// VAT, vendor extensions and control transactions), on documents it must refuse, and on a few thousand malformed
/// variants of those files: no crash, no hang, every one either read or refused with a reason. (The first run of
/// the fuzz test crashed the process inside Foundation's XML parser on an attribute name that was not valid UTF-8;
/// the reader now refuses such bytes before parsing.)
@Suite struct POSLogParserTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)"))
    }

    @Test func aVersion2DayFileGivesItsSalesReturnsTendersAndControlEvents() throws {
        let document = try POSLogParser.parse(try Self.fixture("store12-v2.xml"))
        #expect(document.version == .v2)
        #expect(document.transactions.map(\.key) == ["12/3/2026-11-27/1045", "12/3/2026-11-27/1046", "12/3/2026-11-27/1047", "12/3/2026-11-27/1048"])
        let sale = document.transactions[0]
        #expect(sale.kind == .retail && !sale.isVoided && sale.currency == "GBP")
        #expect(sale.lines.map(\.sku) == ["SHIRT-M", "BANANA-LOOSE"], "the voided mug is left out")
        #expect(sale.lines[0].quantity == 2 && sale.lines[0].unit == nil && sale.lines[0].amount == Decimal(string: "48.00") && sale.lines[0].tax == 8)
        #expect(sale.lines[1].quantity == Decimal(string: "0.456") && sale.lines[1].unit == "KGM", "a weighed item keeps its exact weight")
        #expect(sale.tenders.map { "\($0.type) \($0.amount) \($0.isChange)" } == ["CreditDebit 30 false", "Cash 20 false", "Cash 1.45 true"])
        #expect(sale.total == Decimal(string: "48.55"), "the grand total, not the tax total")
        #expect(sale.endedAt == ISO8601DateFormatter().date(from: "2026-11-27T10:15:31Z"))
        let ret = document.transactions[1]
        #expect(ret.lines.map { "\($0.sku) \($0.quantity) \($0.isReturn)" } == ["SHIRT-M 1 true"])
        #expect(ret.links == ["12/3/2026-11-27/1045"] && ret.total == -24)
        #expect(document.transactions[2].kind == .control("SignOff") && document.transactions[2].lines.isEmpty)
        #expect(document.transactions[3].isVoided && document.transactions[3].lines.isEmpty, "cancelled at the till: kept, moves nothing")
    }

    @Test func aVersion6FileNamesItsStoreByBusinessUnit() throws {
        let document = try POSLogParser.parse(try Self.fixture("store14-v6.xml"))
        #expect(document.version == .v6)
        #expect(document.transactions.map(\.key) == ["14/1/2026-11-28/88", "14/1/2026-11-28/89"])
        let sale = document.transactions[0]
        #expect(sale.lines.map { "\($0.sku) \($0.quantity) \($0.unitPrice ?? -1) \($0.taxPercent ?? -1)" } == ["MUG 3 7.5 19"])
        #expect(sale.currency == "EUR" && sale.tenders.first?.type == "CreditDebit" && sale.total == Decimal(string: "22.50"))
        #expect(document.transactions[1].kind == .control("NoSale"))
    }

    @Test(arguments: [
        ("not xml at all", "not well-formed XML"),
        ("<POSLog xmlns=\"http://www.nrf-arts.org/IXRetail/namespace/\"><Transaction>", "not well-formed XML"),
        ("<Orders><Order/></Orders>", "not a POSLog"),
        ("<POSLog xmlns=\"urn:other\"/>", "not a POSLog"),
        ("<POSLog><Transaction><RetailStoreID>1</RetailStoreID><SequenceNumber>1</SequenceNumber></Transaction></POSLog>", "lacks its key"),
        ("<POSLog><Transaction><RetailStoreID>1</RetailStoreID><WorkstationID>1</WorkstationID><SequenceNumber>1</SequenceNumber><BusinessDayDate>2026-11-27</BusinessDayDate><RetailTransaction><LineItem><Sale><ItemID>A</ItemID><Quantity>lots</Quantity></Sale></LineItem></RetailTransaction></Transaction></POSLog>", "quantity 'lots'"),
        ("<POSLog>" + String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200) + "</POSLog>", "deeper than 64"),
    ])
    func whatCannotBeTakenIsRefusedWithItsReason(document: String, reason: String) {
        #expect(throws: POSLogError.self) { try POSLogParser.parse(Data(document.utf8)) }
        do { _ = try POSLogParser.parse(Data(document.utf8)) } catch { #expect(error.reason.contains(reason), "\(error.reason)") }
    }

    /// Bounded fuzzing by a seeded generator of malformed inputs: cuts, deletions, duplications, byte flips and
    /// stray markup in the real fixtures. Each input is read or refused; none may crash or hang (the whole run is
    /// bounded to a few seconds and fails if it takes far longer).
    @Test func malformedVariantsAreReadOrRefusedNeverACrash() throws {
        let seeds = [try Self.fixture("store12-v2.xml"), try Self.fixture("store14-v6.xml")]
        var random = SeededGenerator(seed: 20_261_129)
        let started = ContinuousClock.now
        var read = 0
        var refused = 0
        let pieces = ["<", ">", "</Transaction>", "<LineItem>", "&amp;", "&bogus;", "<![CDATA[", "\u{0}", "<?xml version=\"1.0\"?>", "é", "<Quantity>-", "9999999999999999999999999"]
        for round in 0..<3_000 {
            var bytes = [UInt8](seeds[round % seeds.count])
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<max(1, bytes.count), using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0: bytes = Array(bytes.prefix(at))
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...200, using: &random)))
                case 2: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int.random(in: 1...300, using: &random))], at: at)
                case 3: if at < bytes.count { bytes[at] = UInt8.random(in: 0...255, using: &random) }
                default: bytes.insert(contentsOf: Array(pieces.randomElement(using: &random)!.utf8), at: min(at, bytes.count))
                }
            }
            do {
                _ = try POSLogParser.parse(Data(bytes))
                read += 1
            } catch {
                #expect(!error.reason.isEmpty)
                refused += 1
            }
        }
        #expect(read + refused == 3_000 && refused > 0, "read \(read), refused \(refused)")
        #expect(ContinuousClock.now - started < .seconds(60), "3,000 malformed documents took \(ContinuousClock.now - started)")
    }

    @Test func bytesThatAreNotUTF8AreRefusedAndLatin1IsConverted() throws {
        var broken = Data("<POSLog><Transaction>".utf8)
        broken.append(contentsOf: [0xC8, 0x41])
        #expect { try POSLogParser.parse(broken) } throws: { ($0 as? POSLogError)?.reason.contains("not valid UTF-8 (near byte 21)") == true }
        let latin1 = try #require("""
            <?xml version="1.0" encoding="ISO-8859-1"?>
            <POSLog><Transaction><RetailStoreID>1</RetailStoreID><WorkstationID>1</WorkstationID><SequenceNumber>9</SequenceNumber>
            <BusinessDayDate>2026-11-27</BusinessDayDate><RetailTransaction><LineItem><Sale><ItemID>CAFÉ-250</ItemID><Description>Café moulu</Description>
            <Quantity>1</Quantity></Sale></LineItem></RetailTransaction></Transaction></POSLog>
            """.data(using: .isoLatin1))
        #expect(try POSLogParser.parse(latin1).transactions.first?.lines.first?.sku == "CAFÉ-250")
    }
}
