import Foundation
import Synchronization
import TillwireConnectors
import TillwireDomain
import TillwireEngine

/// Tryton as the hub's ERP over JSON-RPC: the product master (`product.product`: `code` is the SKU, `list_price_used`
/// its list price: a variant's own, else its template's), stock on hand at
/// a location (`quantity` in the context of that location), orders released as confirmed sales, and the shipments
/// done for them. Tryton's client fills many fields through on_change, which JSON-RPC does not run, so every value a
/// sale needs (units, addresses, prices) is sent.
public final class TrytonERP: ERPConnector {
    struct Known {
        var products: [SKU: (id: Int64, unit: Int64)] = [:]
        var party: (id: Int64, address: Int64)?
        var location: Int64?
        var currency: Currency?
        var accounts: [String: (id: Int64, partyRequired: Bool, revenue: Bool)] = [:]
        var journal: Int64?
        var invoiceJournal: Int64?
    }

    let configuration: TrytonConfiguration
    let rpc: TrytonRPC
    let known = Mutex(Known())
    public var system: SystemID { configuration.system }

    public init(configuration: TrytonConfiguration, rpc: TrytonRPC? = nil) {
        self.configuration = configuration
        self.rpc = rpc ?? TrytonRPC(configuration: configuration)
    }

    // MARK: Product master and stock

    public func products() async throws -> [ERPProduct] {
        let currency = try await companyCurrency()
        let rows = try await rows("model.product.product.search_read", [[["code", "!=", NSNull()]], 0, NSNull(), [["code", "ASC"]],
                                                                        ["code", "name", "list_price_used", "cost_price"]])
        return rows.compactMap { row in
            guard let code = row["code"] as? String, let sku = try? SKU(code) else { return nil }
            func money(_ field: String) -> Money? {
                TrytonRPC.decimalText(row[field]).flatMap { try? Money(parsing: Self.trimmed($0, currency), currency: currency) }
            }
            return ERPProduct(sku: sku, name: row["name"] as? String ?? code, listPrice: money("list_price_used"), cost: money("cost_price"))
        }
    }

    public func stockSnapshot() async throws -> ERPStockSnapshot {
        let location = try await locationID()
        let asOf = Date()
        let rows = try await rows("model.product.product.search_read", [[["type", "=", "goods"], ["code", "!=", NSNull()]], 0, NSNull(), NSNull(),
                                                                        ["code", "quantity"]], context: ["locations": [location]])
        var onHand: [SKU: Int64] = [:]
        for row in rows {
            guard let code = row["code"] as? String, let sku = try? SKU(code), let quantity = TrytonRPC.number(row["quantity"]) else { continue }
            onHand[sku] = Int64(quantity.rounded())
        }
        return ERPStockSnapshot(location: configuration.stockLocation, asOf: asOf, onHand: onHand)
    }

    // MARK: Fulfilment

    /// A confirmed sale for the order's open lines, made once per key: the key is the sale's `reference`, so a
    /// release retried after Tryton accepted it (and the answer was lost) finds that sale instead of making another.
    /// The document is the sale's number, returned only once the sale is `processing`: `confirm` answers success
    /// even when the processing behind it failed.
    public func release(_ order: Order, lines: [OrderLine], reservations: [Reservation], key: String) async throws -> String {
        if let existing = try await saleID(reference: key) { return try await confirmed(existing) }
        let currency = try await companyCurrency()
        guard order.currency == currency else {
            throw JobError.terminal("order \(order.id) is in \(order.currency.code), the Tryton company books \(currency.code): release it to an ERP of its currency")
        }
        let (party, address) = try await partyAndAddress()
        var saleLines: [[String: Any]] = []
        for line in lines {
            let product = try await product(line.sku)
            for (quantity, price) in try Self.priced(line) {
                saleLines.append(["type": "line", "product": product.id, "quantity": Double(quantity), "unit": product.unit,
                                  "unit_price": ["__class__": "Decimal", "decimal": price.decimalString]])
            }
        }
        let created = try await rpc.call("model.sale.sale.create", [[[
            "party": party, "invoice_address": address, "shipment_address": address, "reference": key,
            "description": "Tillwire order \(order.id.rawValue)", "lines": [["create", saleLines]],
        ] as [String: Any]]])
        guard var id = (created as? [Any])?.first.flatMap(TrytonRPC.integer) else { throw JobError.terminal("tryton sale.sale.create answered no id") }
        // Two attempts of one release can race (a call timed out while Tryton was still creating): the first sale
        // of the key stands, a later one is deleted while it is still a draft.
        let same = ids(try await rpc.call("model.sale.sale.search", [[["reference", "=", key]], 0, 10, [["id", "ASC"]]]))
        if let first = same.first, first != id {
            _ = try await rpc.call("model.sale.sale.delete", [[id]])
            id = first
            return try await confirmed(id)
        }
        _ = try await rpc.call("model.sale.sale.quote", [[id]])
        _ = try await rpc.call("model.sale.sale.confirm", [[id]])
        return try await confirmed(id)
    }

    /// The sale's number once it is `processing`; a sale still a draft or a quotation (a release interrupted before
    /// its confirmation) is confirmed first.
    func confirmed(_ id: Int64) async throws -> String {
        for attempt in 0..<10 {
            let sale = try await rows("model.sale.sale.read", [[id], ["number", "state"]]).first ?? [:]
            let state = sale["state"] as? String ?? ""
            switch state {
            case "processing", "done": return sale["number"] as? String ?? "\(id)"
            case "draft":
                _ = try await rpc.call("model.sale.sale.quote", [[id]])
                _ = try await rpc.call("model.sale.sale.confirm", [[id]])
            case "quotation": _ = try await rpc.call("model.sale.sale.confirm", [[id]])
            case "confirmed" where attempt < 9: try await Task.sleep(for: .milliseconds(200))
            case "confirmed":
                // Tryton's queue workers may still be processing it: look again later rather than give up.
                throw JobError.retryable("tryton sale \(sale["number"] as? String ?? "\(id)") is confirmed but not processing yet", retryAfter: .seconds(30))
            default:
                throw JobError.terminal("tryton sale \(sale["number"] as? String ?? "\(id)") is \(state.isEmpty ? "unreadable" : state), not processing: its processing failed in Tryton (see its log)")
            }
        }
        throw JobError.terminal("tryton sale \(id) did not reach processing")
    }

    public func cancel(_ order: OrderID, document: String, lines: [String]?, reason: String, key: String) async throws {
        guard lines == nil else { throw JobError.terminal("tryton sale \(document): cancel those lines in Tryton (a partial cancellation is not sent)") }
        guard let id = try await saleID(number: document) else { throw JobError.terminal("tryton has no sale \(document)") }
        let state = try await rows("model.sale.sale.read", [[id], ["state"]]).first?["state"] as? String ?? ""
        switch state {
        case "cancelled": return
        case "draft", "quotation": _ = try await rpc.call("model.sale.sale.cancel", [[id]])
        default: throw JobError.terminal("tryton sale \(document) is \(state): cancel its shipment in Tryton")
        }
    }

    public func shipments(of document: String, order: Order) async throws -> [ERPShipment] {
        guard let id = try await saleID(number: document) else { throw JobError.terminal("tryton has no sale \(document)") }
        let sale = try await rows("model.sale.sale.read", [[id], ["shipments", "state"]]).first ?? [:]
        if sale["state"] as? String == "cancelled" {
            throw JobError.terminal("tryton sale \(document) was cancelled in Tryton while order \(order.id) waits for it: cancel the order in the hub, or release it again")
        }
        let shipmentIDs = (sale["shipments"] as? [Any] ?? []).compactMap(TrytonRPC.integer)
        guard !shipmentIDs.isEmpty else { return [] }
        let shipments = try await rows("model.stock.shipment.out.read", [shipmentIDs, ["number", "state", "outgoing_moves"]])
        var done: [ERPShipment] = []
        for shipment in shipments where shipment["state"] as? String == "done" {
            let moves = (shipment["outgoing_moves"] as? [Any] ?? []).compactMap(TrytonRPC.integer)
            let products = Set(try await rows("model.stock.move.read", [moves, ["product"]]).compactMap { TrytonRPC.integer($0["product"]) })
            var lines: [String] = []
            for line in order.lines where products.contains(try await product(line.sku).id) { lines.append(line.id) }
            done.append(ERPShipment(id: "tryton:\(shipment["number"] as? String ?? "\(shipment["id"] ?? "")")", lines: lines, tracking: nil))
        }
        return done
    }

    // MARK: Look-ups

    /// The ids a `search` or `create` answered.
    func ids(_ answer: Any) -> [Int64] { ((answer as? [Any]) ?? []).compactMap(TrytonRPC.integer) }

    func rows(_ method: String, _ params: [Any], context: [String: Any] = [:]) async throws -> [[String: Any]] {
        let answer = try await rpc.call(method, params, context: context)
        guard let rows = answer as? [[String: Any]] else { throw JobError.terminal("tryton \(method) answered no rows") }
        return rows
    }

    func saleID(reference: String) async throws -> Int64? {
        ids(try await rpc.call("model.sale.sale.search", [[["reference", "=", reference]], 0, 1, [["id", "ASC"]]])).first
    }

    func saleID(number: String) async throws -> Int64? {
        ids(try await rpc.call("model.sale.sale.search", [[["number", "=", number]], 0, 1, NSNull()])).first
    }

    func product(_ sku: SKU) async throws -> (id: Int64, unit: Int64) {
        if let known = known.withLock({ $0.products[sku] }) { return known }
        guard let row = try await rows("model.product.product.search_read", [[["code", "=", sku.rawValue]], 0, 1, NSNull(), ["sale_uom", "default_uom"]]).first,
              let id = TrytonRPC.integer(row["id"]), let unit = TrytonRPC.integer(row["sale_uom"]) ?? TrytonRPC.integer(row["default_uom"]) else {
            throw JobError.terminal("tryton has no product with code \(sku)")
        }
        known.withLock { $0.products[sku] = (id, unit) }
        return (id, unit)
    }

    /// The configured party and its first address, created when the ERP has none by that name.
    func partyAndAddress() async throws -> (Int64, Int64) {
        if let party = known.withLock({ $0.party }) { return party }
        var party = ids(try await rpc.call("model.party.party.search", [[["name", "=", configuration.party]], 0, 1, NSNull()])).first
        if party == nil {
            party = ids(try await rpc.call("model.party.party.create", [[["name": configuration.party, "addresses": [["create", [["street": "(each order's own)"]]]]]]])).first
        }
        guard let party, let address = ids(try await rpc.call("model.party.address.search", [[["party", "=", party]], 0, 1, NSNull()])).first else {
            throw JobError.terminal("tryton party \(configuration.party) has no address")
        }
        known.withLock { $0.party = (party, address) }
        return (party, address)
    }

    func locationID() async throws -> Int64 {
        if let location = known.withLock({ $0.location }) { return location }
        guard let id = ids(try await rpc.call("model.stock.location.search", [[["code", "=", configuration.stockLocation]], 0, 1, NSNull()])).first else {
            throw JobError.terminal("tryton has no stock location with code \(configuration.stockLocation) (tryton.stock_location)")
        }
        known.withLock { $0.location = id }
        return id
    }

    func companyCurrency() async throws -> Currency {
        if let currency = known.withLock({ $0.currency }) { return currency }
        let company = try await rpc.companyID()
        guard let currencyID = TrytonRPC.integer(try await rows("model.company.company.read", [[company], ["currency"]]).first?["currency"]),
              let code = try await rows("model.currency.currency.read", [[currencyID], ["code"]]).first?["code"] as? String,
              let currency = try? Currency(code) else {
            throw JobError.terminal("tryton: the company's currency cannot be read, or is not one the hub knows")
        }
        known.withLock { $0.currency = currency }
        return currency
    }

    /// The sale lines of an order line: its price after discounts, per unit, in whole minor units, so that Tryton's
    /// quantity × price is the hub's line exactly. When the units do not share the price evenly (3 for 58.97), the
    /// last unit goes on a line of its own with the remainder (2 at 19.65, 1 at 19.67).
    public static func priced(_ line: OrderLine) throws -> [(quantity: Int64, price: Money)] {
        let net = try line.net()
        let each = net.minorUnits / line.quantity
        let rest = net.minorUnits - each * line.quantity
        guard rest != 0, line.quantity > 1 else { return [(line.quantity, Money(minorUnits: each + rest, currency: net.currency))] }
        return [(line.quantity - 1, Money(minorUnits: each, currency: net.currency)),
                (1, Money(minorUnits: net.minorUnits - each * (line.quantity - 1), currency: net.currency))]
    }

    /// Tryton's Decimals carry its own precision (`19.9900`); the hub's money has the currency's.
    static func trimmed(_ text: String, _ currency: Currency) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        let fraction = text[text.index(after: dot)...]
        let kept = fraction.prefix(currency.minorUnitDigits)
        guard fraction.dropFirst(currency.minorUnitDigits).allSatisfy({ $0 == "0" }) else { return text }
        return currency.minorUnitDigits == 0 ? String(text[..<dot]) : String(text[..<dot]) + "." + kept
    }
}

