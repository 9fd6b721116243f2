import Foundation
import TillwireConnectors
import TillwireDomain

/// What the django-oscar webhook plugin sends (`X-Oscar-Event`, body `{"id","event","created_at","data"}`), parsed.
/// Pure: no I/O, tested on recorded bodies (Tests/ConnectorOscarTests).
public enum OscarEvent: Sendable, Equatable {
    case orderPlaced(OscarOrder)
    case orderStatusChanged(OscarOrder, from: String, to: String)
    /// A stock record changed in the shop (its own allocations, or a push of ours): nothing to apply.
    case stockRecordUpdated(sku: String)
    /// A topic this connector does not take: acknowledged and logged.
    case other(String)
}

/// An Oscar order as the plugin sends it (`payloads.order_payload`): money as decimal strings, ids as numbers.
public struct OscarOrder: Decodable, Sendable, Equatable {
    public struct Address: Decodable, Sendable, Equatable {
        public let first_name: String?
        public let last_name: String?
        public let state: String?
        public let postcode: String?
        /// ISO 3166-1 alpha-2.
        public let country: String?
    }

    public struct Line: Decodable, Sendable, Equatable {
        public let id: Int64
        public let partner_sku: String?
        public let upc: String?
        public let quantity: Int64
        public let unit_price_excl_tax: String?
        public let unit_price_incl_tax: String?
        public let line_price_excl_tax: String?
        public let line_price_incl_tax: String?
    }

    public let id: Int64
    public let number: String
    public let status: String
    public let currency: String
    public let total_incl_tax: String
    public let total_excl_tax: String?
    public let shipping_incl_tax: String?
    public let shipping_excl_tax: String?
    public let date_placed: String?
    public let email: String?
    public let user_id: Int64?
    public let shipping_address: Address?
    public let lines: [Line]
}

/// A body that verified but cannot be taken: the reason goes to the dead letter with the raw body.
public struct OscarPayloadError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

public enum OscarMapping {
    struct Envelope<Data: Decodable>: Decodable {
        let id: String
        let event: String
        let data: Data
    }

    struct StatusChange: Decodable {
        let old_status: String?
        let new_status: String?
    }

    struct StockRecord: Decodable {
        let partner_sku: String?
    }

    public static func parse(topic: String, body: Data) throws -> OscarEvent {
        let decoder = JSONDecoder()
        do {
            switch topic {
            case "order.placed":
                return .orderPlaced(try decoder.decode(Envelope<OscarOrder>.self, from: body).data)
            case "order.status_changed":
                let order = try decoder.decode(Envelope<OscarOrder>.self, from: body).data
                let change = try decoder.decode(Envelope<StatusChange>.self, from: body).data
                return .orderStatusChanged(order, from: change.old_status ?? "", to: change.new_status ?? order.status)
            case "stockrecord.updated":
                return .stockRecordUpdated(sku: try decoder.decode(Envelope<StockRecord>.self, from: body).data.partner_sku ?? "")
            default:
                return .other(topic)
            }
        } catch let error as DecodingError {
            throw OscarPayloadError("\(topic): the body does not parse: \(PayloadDecoding.describe(error))")
        }
    }

    /// The canonical order of an Oscar order on `channel`: the SKU is the stock record's `partner_sku`; prices are
    /// taken without tax, with the tax (incl − excl) as a tax line, so a shop that charges no tax gives none; the
    /// shop took the order, so the payment is taken as authorized for its total (Oscar's checkout does not report
    /// payments to the plugin). It ships from a warehouse to the shipping address.
    public static func canonical(_ order: OscarOrder, channel: ChannelID) throws -> Order {
        let currency: Currency
        do { currency = try Currency(order.currency) } catch { throw OscarPayloadError("order \(order.number): currency \(order.currency) is not ISO 4217") }
        func money(_ text: String?, _ field: String) throws -> Money {
            guard let text else { throw OscarPayloadError("order \(order.number): \(field) is missing") }
            do { return try Money(parsing: text, currency: currency) } catch { throw OscarPayloadError("order \(order.number): \(field) '\(text)' is not an amount") }
        }
        func tax(net: Money, gross: Money) throws -> [TaxLine] {
            let amount = gross.minorUnits - net.minorUnits
            guard amount > 0 else { return [] }
            let rate = net.minorUnits > 0 ? (amount * 10_000 + net.minorUnits / 2) / net.minorUnits : nil
            return [try TaxLine(title: "Tax", rateBasisPoints: rate, amount: Money(minorUnits: amount, currency: currency))]
        }
        do {
            let lines = try order.lines.map { line -> OrderLine in
                guard let skuText = line.partner_sku, let sku = try? SKU(skuText) else {
                    throw OscarPayloadError("order \(order.number): line \(line.id) has no partner_sku to name its SKU")
                }
                let unit = try money(line.unit_price_excl_tax ?? line.unit_price_incl_tax, "lines.unit_price_excl_tax")
                let net = try money(line.line_price_excl_tax ?? line.line_price_incl_tax, "lines.line_price_excl_tax")
                let gross = try money(line.line_price_incl_tax ?? line.line_price_excl_tax, "lines.line_price_incl_tax")
                return try OrderLine(id: String(line.id), sku: sku, quantity: line.quantity, unitPrice: unit, taxLines: try tax(net: net, gross: gross))
            }
            let shippingNet = try order.shipping_excl_tax.map { try money($0, "shipping_excl_tax") }
            let shippingGross = try order.shipping_incl_tax.map { try money($0, "shipping_incl_tax") }
            let shipping = try shippingNet.map { net in try Shipping(price: net, taxLines: try tax(net: net, gross: shippingGross ?? net)) }
            guard let country = order.shipping_address?.country else { throw OscarPayloadError("order \(order.number): no shipping address country") }
            let total = try money(order.total_incl_tax, "total_incl_tax")
            let placed = order.date_placed.flatMap(parseTime) ?? Date()
            let name = [order.shipping_address?.first_name, order.shipping_address?.last_name].compactMap { $0 }.joined(separator: " ")
            return try Order(
                id: .derived(channel: channel, channelOrderID: order.number), channel: channel, channelOrderID: order.number, placedAt: placed,
                currency: currency, taxesIncluded: false,
                customer: Customer(id: order.user_id.map(String.init), email: order.email, name: name.isEmpty ? nil : name),
                shipTo: try Address(country: country, region: order.shipping_address?.state, postalCode: order.shipping_address?.postcode),
                lines: lines, shipping: shipping,
                payments: try Payments(authorized: total, captured: Money.zero(currency), refunded: Money.zero(currency)),
                fulfilment: try Fulfilment(.shipFromDC), total: total)
        } catch let error as DomainError {
            throw OscarPayloadError("order \(order.number): \(error)")
        }
    }

    /// Django's `isoformat()`: `2026-11-29T10:00:00.123456+00:00`, microseconds optional.
    static func parseTime(_ text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }
}
