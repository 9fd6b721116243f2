import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One transaction of an NRF/ARTS POSLog, as the till recorded it. Amounts and quantities are exact decimals (a
/// weighed item sells 0.456 kg).
public struct POSLogTransaction: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// A sale, a return, or both (`RetailTransaction`).
        case retail
        /// A till event that moves no goods: sign-on, sign-off, no-sale, till open and close (`ControlTransaction`);
        /// the associated value is the event's element name.
        case control(String)
    }

    public struct Line: Hashable, Sendable {
        public let sequence: String?
        public let sku: String
        public let description: String?
        /// Positive as sold or returned: `isReturn` says which way the goods went.
        public let quantity: Decimal
        /// The unit of a weighed or measured quantity (`KGM`), nil for pieces.
        public let unit: String?
        public let unitPrice: Decimal?
        public let amount: Decimal?
        public let tax: Decimal?
        /// The tax rate in percent, as the till sent it.
        public let taxPercent: Decimal?
        public let isReturn: Bool
    }

    public struct Tender: Hashable, Sendable {
        public let type: String
        public let amount: Decimal
        /// Change given back (`TenderChange`): counts against the tender.
        public let isChange: Bool
    }

    public let store: String
    public let workstation: String
    public let businessDay: String
    public let sequence: String
    public let kind: Kind
    /// Cancelled or voided as a whole at the till: kept on record, moves no goods.
    public let isVoided: Bool
    public let currency: String?
    public let endedAt: Date?
    /// Sale and return lines; voided lines are left out.
    public let lines: [Line]
    public let tenders: [Tender]
    public let total: Decimal?
    /// The natural keys of the transactions this one refers to (a return's original sale).
    public let links: [String]

    /// What makes a transaction itself, however often it arrives: store, workstation, business day and sequence.
    public var key: String { Self.key(store: store, workstation: workstation, day: businessDay, sequence: sequence) }

    static func key(store: String, workstation: String, day: String, sequence: String) -> String { "\(store)/\(workstation)/\(day)/\(sequence)" }
}

/// A POSLog document that cannot be taken, and why: nothing from it is applied.
public struct POSLogError: Error, Hashable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Reads NRF/ARTS POSLog documents, version 2.x (`http://www.nrf-arts.org/IXRetail/namespace/`) and version 6
/// (`…/v6.0.0/poslog`), into transactions. Pure: no I/O beyond the bytes given.
///
/// What it takes: the store from `RetailStoreID` (2.x) or `BusinessUnit/UnitID` (6); `WorkstationID`,
/// `BusinessDayDate`, `SequenceNumber` (the natural key); `RetailTransaction` line items `Sale` and `Return` with
/// `ItemID` (or `POSIdentity/POSItemID`), `Quantity` (fractional for weighed goods, with its `UnitOfMeasureCode`),
/// unit price, extended amount and `Tax`; `Tender` and `TenderChange`; `Total` (`TransactionGrandAmount`);
/// `TransactionLink`. Voided lines (`VoidFlag`) are left out; a transaction cancelled or voided as a whole is kept and
/// marked. `ControlTransaction`s are kept as control events. Elements of other namespaces (vendor extensions) are
/// skipped. A document that is not well-formed XML, is not a POSLog, nests deeper than 64 levels, or has a
/// transaction without its key, is refused as a whole.
public enum POSLogParser {
    public enum Version: String, Sendable { case v2 = "2", v6 = "6" }

    public struct Document: Sendable {
        public let version: Version
        public let transactions: [POSLogTransaction]
    }

    static let deepest = 64

    public static func parse(_ data: Data) throws(POSLogError) -> Document {
        let builder = TreeBuilder()
        let parser = XMLParser(data: try utf8(data))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let refusal = builder.refusal { throw refusal }
        // Foundation's parser on Linux reports success for a document cut short (a file copied while still being
        // written): the root must have been closed.
        guard parsed, builder.closed, let root = builder.root else {
            let error = parser.parserError.map { " (\($0.localizedDescription))" } ?? ""
            throw POSLogError(reason: "not well-formed XML at line \(parser.lineNumber), column \(parser.columnNumber)\(error)")
        }
        guard root.name == "POSLog", root.isARTS else {
            throw POSLogError(reason: "not a POSLog: the document is <\(root.name)> in namespace '\(root.namespace)'")
        }
        let version: Version = root.namespace.contains("v6") ? .v6 : .v2
        var transactions: [POSLogTransaction] = []
        for (index, node) in root.children(named: "Transaction").enumerated() {
            transactions.append(try transaction(node, index: index))
        }
        return Document(version: version, transactions: transactions)
    }

    /// The document as valid UTF-8. Foundation's XML parser on Linux crashes the process on a name that is not
    /// valid UTF-8 (found by this reader's fuzz test), so nothing else reaches it: a document declared
    /// ISO-8859-1 (legacy tills) is converted, and any other invalid byte refuses the document.
    static func utf8(_ data: Data) throws(POSLogError) -> Data {
        if String(validating: data, as: UTF8.self) != nil { return data }
        let head = String(decoding: data.prefix(100), as: UTF8.self).lowercased()
        if head.hasPrefix("<?xml"), head.contains("iso-8859-1") || head.contains("latin1") || head.contains("latin-1"),
           let text = String(data: data, encoding: .isoLatin1) {
            return Data(text.replacingOccurrences(of: #"encoding=["'][^"']*["']"#, with: #"encoding="UTF-8""#, options: .regularExpression).utf8)
        }
        var bytes = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        decoding: while true {
            switch decoder.decode(&bytes) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: break decoding
            }
        }
        throw POSLogError(reason: "not valid UTF-8 (near byte \(offset)); declare encoding=\"ISO-8859-1\" if the till writes Latin-1")
    }

    static func transaction(_ node: Node, index: Int) throws(POSLogError) -> POSLogTransaction {
        let store = node.text("RetailStoreID") ?? node.child("BusinessUnit")?.text("UnitID")
        let workstation = node.text("WorkstationID") ?? node.child("Workstation")?.text("WorkstationID")
        guard let store, let workstation, let sequence = node.text("SequenceNumber"), let day = node.text("BusinessDayDate") else {
            throw POSLogError(reason: "transaction \(index + 1) lacks its key: a store (RetailStoreID or BusinessUnit/UnitID), WorkstationID, BusinessDayDate and SequenceNumber are all required")
        }
        let retail = node.child("RetailTransaction")
        let control = node.child("ControlTransaction")
        let kind: POSLogTransaction.Kind = retail != nil ? .retail : .control(control?.children.first?.name ?? (control == nil ? "Unknown" : "Control"))
        let status = (retail?.attributes["TransactionStatus"] ?? retail?.text("TransactionStatus") ?? node.attributes["TransactionStatus"] ?? "").lowercased()
        let voided = flag(node.attributes["CancelFlag"]) || flag(node.attributes["VoidFlag"]) || flag(node.text("CancelFlag"))
            || ["cancelled", "canceled", "voided", "suspended"].contains(status)
        var lines: [POSLogTransaction.Line] = []
        var tenders: [POSLogTransaction.Tender] = []
        var links = node.children(named: "TransactionLink").compactMap(link)
        for item in retail?.children(named: "LineItem") ?? [] {
            guard !flag(item.attributes["VoidFlag"]), !flag(item.text("VoidFlag")) else { continue }
            if let sale = item.child("Sale") ?? item.child("Return") {
                guard !flag(sale.attributes["VoidFlag"]) else { continue }
                lines.append(try line(sale, item: item, isReturn: sale.name == "Return", transaction: index))
                links += sale.children(named: "TransactionLink").compactMap(link)
            } else if let tender = item.child("Tender") ?? item.child("TenderChange") {
                let type = tender.attributes["TenderType"] ?? tender.text("TenderType") ?? tender.attributes["TypeCode"] ?? "Unknown"
                guard let amount = decimal(tender.text("Amount")) else {
                    throw POSLogError(reason: "transaction \(index + 1): a tender without an amount")
                }
                tenders.append(.init(type: type, amount: amount, isChange: tender.name == "TenderChange"))
            }
        }
        let totals = retail?.children(named: "Total") ?? []
        let grand = totals.first { ($0.attributes["TotalType"] ?? "") == "TransactionGrandAmount" } ?? totals.first
        return POSLogTransaction(
            store: store, workstation: workstation, businessDay: day, sequence: sequence, kind: kind, isVoided: voided,
            currency: node.text("CurrencyCode") ?? retail?.text("CurrencyCode"), endedAt: (node.text("EndDateTime") ?? node.text("BeginDateTime")).flatMap(time),
            lines: voided ? [] : lines, tenders: tenders, total: decimal(grand?.text), links: links)
    }

    static func line(_ node: Node, item: Node, isReturn: Bool, transaction index: Int) throws(POSLogError) -> POSLogTransaction.Line {
        guard let sku = node.text("ItemID") ?? node.child("POSIdentity")?.text("POSItemID") ?? node.text("POSItemID"), !sku.isEmpty else {
            throw POSLogError(reason: "transaction \(index + 1): a \(isReturn ? "return" : "sale") line without ItemID")
        }
        let quantityNode = node.child("Quantity")
        var quantity = Decimal(1)
        if let text = quantityNode?.text {
            guard let value = decimal(text), value >= 0 else {
                throw POSLogError(reason: "transaction \(index + 1): line \(sku) has quantity '\(text.prefix(20))'")
            }
            quantity = value
        }
        let tax = node.child("Tax")
        return .init(sequence: item.text("SequenceNumber"), sku: sku, description: node.text("Description"), quantity: quantity,
                     unit: quantityNode?.attributes["UnitOfMeasureCode"].flatMap { $0 == "EA" || $0.isEmpty ? nil : $0 },
                     unitPrice: decimal(node.text("ActualSalesUnitPrice") ?? node.text("UnitListPrice") ?? node.text("RegularSalesUnitPrice")),
                     amount: decimal(node.text("ExtendedAmount") ?? node.text("ExtendedDiscountAmount")), tax: decimal(tax?.text("Amount")),
                     taxPercent: decimal(tax?.text("Percent") ?? tax?.text("TaxRate")), isReturn: isReturn)
    }

    static func link(_ node: Node) -> String? {
        let store = node.text("RetailStoreID") ?? node.child("BusinessUnit")?.text("UnitID")
        guard let store, let workstation = node.text("WorkstationID"), let sequence = node.text("SequenceNumber"), let day = node.text("BusinessDayDate") else { return nil }
        return POSLogTransaction.key(store: store, workstation: workstation, day: day, sequence: sequence)
    }

    static func flag(_ text: String?) -> Bool { ["true", "1", "yes"].contains(text?.lowercased() ?? "") }

    /// An exact decimal in the XML form (`-12.50`, `0.456`); nil for anything else (`1e3`, `12,50`, `NaN`).
    static func decimal(_ text: String?) -> Decimal? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty, text.count <= 40,
              text.wholeMatch(of: /[+-]?[0-9]+(\.[0-9]+)?|[+-]?\.[0-9]+/) != nil else { return nil }
        return Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    static func time(_ text: String) -> Date? {
        let withZone = ISO8601DateFormatter()
        if let date = withZone.date(from: text) { return date }
        withZone.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withZone.date(from: text) { return date }
        // A till's local time without a zone: read as UTC, and said so in docs/connectors/poslog.md.
        return ISO8601DateFormatter().date(from: text + "Z")
    }

    /// An element of the ARTS namespaces (or of none), with its children in order; elements of other namespaces
    /// (vendor extensions) are not kept.
    final class Node {
        let name: String
        let namespace: String
        let attributes: [String: String]
        var children: [Node] = []
        var text = ""

        init(name: String, namespace: String, attributes: [String: String]) {
            self.name = name
            self.namespace = namespace
            self.attributes = attributes
        }

        var isARTS: Bool { namespace.isEmpty || namespace.hasPrefix("http://www.nrf-arts.org/IXRetail/namespace") }

        func child(_ name: String) -> Node? { children.first { $0.name == name } }
        func children(named name: String) -> [Node] { children.filter { $0.name == name } }

        /// The trimmed text of the first child of that name, nil when absent or empty.
        func text(_ name: String) -> String? {
            guard let value = child(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
    }

    /// Builds the ARTS elements into nodes as the SAX parser reads them, without recursion (a hostile depth cannot
    /// exhaust the stack): more than 64 levels is refused.
    final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: Node?
        var stack: [Node?] = []
        var refusal: POSLogError?
        /// The root element ended: the document is whole.
        var closed = false

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            guard stack.count < POSLogParser.deepest else {
                refusal = POSLogError(reason: "the document nests deeper than \(POSLogParser.deepest) levels")
                parser.abortParsing()
                return
            }
            let node = Node(name: elementName, namespace: namespaceURI ?? "", attributes: attributes)
            // A vendor's element (and everything in it) is skipped: it has no parent to be added to.
            let parent = stack.last ?? nil
            if stack.isEmpty {
                root = node
                stack.append(node)
            } else if let parent, node.isARTS {
                parent.children.append(node)
                stack.append(node)
            } else {
                stack.append(nil)
            }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
            if stack.isEmpty { closed = true }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard let current = stack.last ?? nil, current.text.utf8.count < 4_096 else { return }
            current.text += string
        }
    }
}
