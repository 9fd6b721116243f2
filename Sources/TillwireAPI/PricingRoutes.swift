import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Price lists, promotions and the checkout quote over HTTP: the pricing owner writes (`prices:write`); tills, web
/// shops and marketplaces read and quote (`prices:read`). See docs/pricing.md.
enum PricingRoutes {
    struct PricesBody: Decodable {
        struct Item: Decodable {
            let sku: String
            let price: String
            let from: String?
            let until: String?
        }
        let channel: String
        let country: String
        let currency: String
        let prices: [Item]
    }

    struct PriceView: ResponseEncodable {
        let sku: String
        let channel: String
        let country: String
        let version: Int64
        let price: String
        let currency: String
        let from: String
        let until: String?

        init(_ entry: PriceEntry) {
            sku = entry.sku.rawValue
            channel = entry.channel.rawValue
            country = entry.country
            version = entry.version
            price = entry.price.decimalString
            currency = entry.price.currency.code
            from = entry.from.ISO8601Format()
            until = entry.until?.ISO8601Format()
        }
    }

    /// A price change: its versions and where it stands on its channel.
    struct PriceChangeView: ResponseEncodable {
        let change: String
        let channel: String
        let country: String
        let prices: [PriceView]
        /// The channel's state when the hub pushes to it (pending, live, failed with the reason); empty otherwise.
        let channels: [ChannelStateView]
    }

    struct ChannelStateView: Codable {
        let channel: String
        let state: String
        let reason: String?

        init(_ state: PricingChannelState) {
            channel = state.channel.rawValue
            self.state = state.state.rawValue
            reason = state.reason
        }
    }

    struct ScopeBody: Codable {
        let channels: [String]?
        let stores: [String]?
        let countries: [String]?
        let skus: [String]?
        let categories: [String]?
    }

    struct PromotionBody: Decodable {
        struct BundleItem: Decodable {
            let sku: String
            let quantity: WholeNumber
        }
        let id: String
        let name: String
        /// percent_off, amount_off, fixed_price, buy_x_get_y, bundle, threshold
        let type: String
        let currency: String?
        let basis_points: WholeNumber?
        let amount: String?
        let price: String?
        let buy: WholeNumber?
        let get: WholeNumber?
        let items: [BundleItem]?
        let minimum: String?
        let scope: ScopeBody?
        let from: String
        let until: String
        let priority: WholeNumber?
        let stacking: String?
        let coupon: String?
        let usage_limit: WholeNumber?
    }

    struct PromotionView: ResponseEncodable {
        let id: String
        let name: String
        let type: String
        let scope: ScopeBody
        let from: String
        let until: String
        let priority: Int
        let stacking: String
        let coupon: String?
        let usage_limit: Int?
        let active: Bool
        /// When its window timers fired: activated at its start, ended at its end (absent until then).
        let activated_at: String?
        let ended_at: String?
        /// Per channel it applies to: pending, live (acknowledged), or failed with the reason.
        let channels: [ChannelStateView]

        init(_ standing: PromotionStanding, now: Date) {
            let promotion = standing.promotion
            channels = standing.channels.map(ChannelStateView.init)
            activated_at = standing.activated?.ISO8601Format()
            ended_at = standing.ended?.ISO8601Format()
            id = promotion.id
            name = promotion.name
            type = switch promotion.kind {
            case .percentOff: "percent_off"
            case .amountOff: "amount_off"
            case .fixedPrice: "fixed_price"
            case .buyXGetY: "buy_x_get_y"
            case .bundle: "bundle"
            case .threshold: "threshold"
            }
            scope = ScopeBody(channels: promotion.scope.channels.map { $0.map(\.rawValue).sorted() }, stores: promotion.scope.stores.map { $0.map(\.rawValue).sorted() },
                              countries: promotion.scope.countries.map { $0.sorted() }, skus: promotion.scope.skus.map { $0.map(\.rawValue).sorted() },
                              categories: promotion.scope.categories.map { $0.sorted() })
            from = promotion.from.ISO8601Format()
            until = promotion.until.ISO8601Format()
            priority = promotion.priority
            stacking = promotion.stacking.rawValue
            coupon = promotion.coupon
            usage_limit = promotion.usageLimit
            active = promotion.isActive(at: now)
        }
    }

    struct ObservationBody: Decodable {
        let sku: String
        let channel: String
        let country: String
        let currency: String
        let price: String
        let observed_at: String?
    }

    struct ObservationView: ResponseEncodable {
        let sku: String
        let channel: String
        let observed: String
        let expected: String?
        let expected_version: Int64?
        let drift: Bool
    }

    struct QuoteBody: Decodable {
        struct Line: Decodable {
            let sku: String
            let quantity: WholeNumber
            let tax_rate_bp: WholeNumber?
        }
        let channel: String
        let store: String?
        let country: String
        let currency: String
        let lines: [Line]
        let coupons: [String]?
        /// Price as of this time (ISO 8601); default now.
        let at: String?
        /// For a redemption: the order (or basket) the coupons are redeemed for, once.
        let reference: String?
    }

    /// A priced basket as JSON, written directly: the quote is the hub's hottest read, and Foundation's encoder took
    /// a fifth of its time. The fields are those of the `Quote` schema in the OpenAPI document.
    struct QuoteView: ResponseGenerator {
        let quote: Quote
        let taxesIncluded: Bool

        init(_ quote: Quote, taxesIncluded: Bool) {
            self.quote = quote
            self.taxesIncluded = taxesIncluded
        }

        func response(from request: Request, context: some RequestContext) throws -> Response {
            let json = JSONText()
            let money = { (units: Int64) in Money(minorUnits: units, currency: quote.currency).decimalString }
            func discounts(_ list: [Quote.Discount]) {
                json.array(list) { discount in
                    json.object { field in
                        field("promotion") { json.string(discount.promotion) }
                        field("amount") { json.string(money(discount.amount)) }
                    }
                }
            }
            json.object { field in
                field("currency") { json.string(quote.currency.code) }
                field("lines") {
                    json.array(quote.lines) { line in
                        json.object { field in
                            field("sku") { json.string(line.sku.rawValue) }
                            field("quantity") { json.number(line.quantity) }
                            field("unit_price") { json.string(money(line.unitPrice)) }
                            field("gross") { json.string(money(line.gross)) }
                            field("discounts") { discounts(line.discounts) }
                            field("net") { json.string(money(line.net)) }
                            field("tax_rate_bp") { json.number(line.taxRate) }
                            field("tax") { json.string(money(line.tax)) }
                        }
                    }
                }
                field("promotions") { discounts(quote.applied) }
                field("rejected_coupons") {
                    json.object { field in
                        for (code, reason) in quote.rejectedCoupons.sorted(by: { $0.key < $1.key }) { field(code) { json.string(reason) } }
                    }
                }
                field("subtotal") { json.string(money(quote.subtotal)) }
                field("discount_total") { json.string(money(quote.discountTotal)) }
                field("tax_total") { json.string(money(quote.taxTotal)) }
                field("total") { json.string(money(quote.total)) }
                field("taxes_included") { json.bool(taxesIncluded) }
            }
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: json.text)))
        }
    }

    static func add(to v1: RouterGroup<HubRequestContext>, service: PricingService) {
        let write = v1.group().add(middleware: RequireScope("prices:write"))
        let read = v1.group().add(middleware: RequireScope("prices:read"))
        @Sendable func source(_ context: HubRequestContext) -> SystemID { (try? SystemID(context.client?.client ?? "")) ?? "api-client" }

        write.put("/prices") { request, context -> PriceChangeView in
            let body = try await request.decodeJSON(as: PricesBody.self, context: context)
            let channel = try InventoryRoutes.domain("channel") { try ChannelID(body.channel) }
            let country = try country(body.country, "country")
            let currency = try InventoryRoutes.domain("currency") { try Currency(body.currency) }
            guard (1...1_000).contains(body.prices.count) else { throw Problem.invalid("1-1000 prices at once", field: "prices") }
            let now = Date()
            let prices = try body.prices.enumerated().map { index, item in
                let path = "prices[\(index)]"
                let sku = try InventoryRoutes.domain("\(path).sku") { try SKU(item.sku) }
                let price = try InventoryRoutes.domain("\(path).price") { try Money(parsing: item.price, currency: currency) }
                guard (0...PriceEntry.maximum).contains(price.minorUnits) else { throw Problem.invalid("a price is not negative, at most \(PriceEntry.maximum) minor units", field: "\(path).price") }
                let from = try item.from.map { text in try InventoryRoutes.domain("\(path).from") { try PricingRoutes.instant(text, now: now) } } ?? now
                let until = try item.until.map { text in try InventoryRoutes.domain("\(path).until") { try PricingRoutes.instant(text, now: now) } }
                if let until, until <= from { throw Problem.invalid("the window ends after it starts", field: "\(path).until") }
                return PricingService.NewPrice(sku: sku, price: price, from: from, until: until)
            }
            let (_, change) = try await service.setPrices(prices, channel: channel, country: country, source: source(context))
            return try await changeView(change)
        }

        @Sendable func changeView(_ change: EventID) async throws -> PriceChangeView {
            guard let (prices, states) = try await service.priceChange(change) else { throw Problem.notFound("no price change \(change)") }
            return PriceChangeView(change: change.rawValue, channel: prices.channel.rawValue, country: prices.country,
                                   prices: prices.entries.map(PriceView.init), channels: states.map(ChannelStateView.init))
        }

        read.get("/pricing/changes/{id}") { _, context -> PriceChangeView in
            try await changeView(EventID(trusted: try context.parameters.require("id")))
        }

        read.get("/prices") { request, _ -> PriceView in
            let query = request.uri.queryParameters
            let sku = try InventoryRoutes.domain("sku") { try SKU(String(query["sku"] ?? "")) }
            let channel = try InventoryRoutes.domain("channel") { try ChannelID(String(query["channel"] ?? "")) }
            let country = try country(String(query["country"] ?? ""), "country")
            let at = try query["at"].map { text in try InventoryRoutes.domain("at") { try PricingRoutes.instant(String(text), now: Date()) } } ?? Date()
            guard let entry = try await service.price(of: sku, channel: channel, country: country, at: at) else {
                throw Problem.notFound("no price of \(sku) on \(channel) in \(country) at \(at.ISO8601Format())")
            }
            return PriceView(entry)
        }

        write.post("/promotions") { request, context -> EditedResponse<PromotionView> in
            let body = try await request.decodeJSON(as: PromotionBody.self, context: context)
            let promotion = try canonical(body)
            let (stored, created) = try await service.putPromotion(promotion, source: source(context))
            return EditedResponse(status: created ? .created : .ok, headers: [.location: "/v1/promotions/\(stored.id)"],
                                  response: PromotionView(try await service.standing(of: stored.id)
                                                              ?? PromotionStanding(promotion: stored, channels: [], activated: nil, ended: nil), now: Date()))
        }

        read.get("/promotions/{id}") { _, context -> PromotionView in
            guard let id = context.parameters.get("id"), let standing = try await service.standing(of: id) else {
                throw Problem.notFound("no promotion \(context.parameters.get("id") ?? "")")
            }
            return PromotionView(standing, now: Date())
        }

        // A channel's price read back (by its connector, or reported by the channel): drift from the book is recorded.
        read.post("/pricing/observations") { request, context -> ObservationView in
            let body = try await request.decodeJSON(as: ObservationBody.self, context: context)
            let sku = try InventoryRoutes.domain("sku") { try SKU(body.sku) }
            let channel = try InventoryRoutes.domain("channel") { try ChannelID(body.channel) }
            let country = try country(body.country, "country")
            let currency = try InventoryRoutes.domain("currency") { try Currency(body.currency) }
            let observed = try InventoryRoutes.domain("price") { try Money(parsing: body.price, currency: currency) }
            let at = try body.observed_at.map { text in try InventoryRoutes.domain("observed_at") { try PricingRoutes.instant(text, now: Date()) } } ?? Date()
            let (expected, drifted) = try await service.observe(sku: sku, channel: channel, country: country, price: observed, at: at, source: source(context))
            return ObservationView(sku: sku.rawValue, channel: channel.rawValue, observed: observed.decimalString, expected: expected?.price.decimalString,
                                   expected_version: expected?.version, drift: drifted)
        }

        read.post("/pricing/quote") { request, context -> QuoteView in
            let body = try await request.decodeJSON(as: QuoteBody.self, context: context)
            let (basket, rates, at) = try basket(body)
            let quote = try await service.quote(basket, taxRates: rates, at: at)
            return QuoteView(quote, taxesIncluded: service.policy.taxRules[basket.country]?.kind != .salesTaxExclusive)
        }

        // At checkout: the quote, with its coupons redeemed for the order (`reference`), once. It spends coupon uses, so
        // it takes the scope a channel captures orders with.
        let checkout = v1.group().add(middleware: RequireScope("orders:write"))
        checkout.post("/pricing/redemptions") { request, context -> QuoteView in
            let body = try await request.decodeJSON(as: QuoteBody.self, context: context)
            // Priced now: a redemption backdated into an ended promotion's window would spend a coupon that is over.
            guard body.at == nil else { throw Problem.invalid("a redemption is priced now; at is for quotes only", field: "at") }
            guard let reference = body.reference, (1...200).contains(reference.utf8.count),
                  reference.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                throw Problem.invalid("a redemption names its order: 1-200 visible ASCII characters", field: "reference")
            }
            let (basket, rates, at) = try basket(body)
            let quote = try await service.redeem(basket, taxRates: rates, at: at, reference: reference, source: source(context))
            return QuoteView(quote, taxesIncluded: service.policy.taxRules[basket.country]?.kind != .salesTaxExclusive)
        }
    }

    /// The basket of a quote or redemption body; the first thing wrong is a 400 naming its field.
    static func basket(_ body: QuoteBody) throws -> (Basket, [SKU: Int64], Date) {
        let channel = try InventoryRoutes.domain("channel") { try ChannelID(body.channel) }
        let store = try body.store.map { text in try InventoryRoutes.domain("store") { try LocationID(text) } }
        let country = try country(body.country, "country")
        let currency = try InventoryRoutes.domain("currency") { try Currency(body.currency) }
        guard (1...500).contains(body.lines.count) else { throw Problem.invalid("a basket has 1-500 lines", field: "lines") }
        if let coupons = body.coupons {
            guard coupons.count <= 20, coupons.allSatisfy({ (1...50).contains($0.utf8.count) }) else {
                throw Problem.invalid("up to 20 coupon codes of 1-50 bytes", field: "coupons")
            }
        }
        var rates: [SKU: Int64] = [:]
        let lines = try body.lines.enumerated().map { index, line in
            let sku = try InventoryRoutes.domain("lines[\(index)].sku") { try SKU(line.sku) }
            if let rate = line.tax_rate_bp {
                guard (0...10_000).contains(rate.value) else { throw Problem.invalid("a tax rate is 0-10000 basis points", field: "lines[\(index)].tax_rate_bp") }
                rates[sku] = rate.value
            }
            return try InventoryRoutes.domain("lines[\(index)].quantity") { try Basket.Line(sku: sku, quantity: line.quantity.value) }
        }
        let at = try body.at.map { text in try InventoryRoutes.domain("at") { try PricingRoutes.instant(text, now: Date()) } } ?? Date()
        let basket = try InventoryRoutes.domain("lines") {
            try Basket(channel: channel, store: store, country: country, currency: currency, lines: lines, coupons: Set(body.coupons ?? []))
        }
        return (basket, rates, at)
    }

    /// An ISO 8601 time with a zone, past or future (a price or promotion window may start later), in whole
    /// milliseconds as storage keeps it.
    static func instant(_ text: String, now: Date) throws -> Date {
        guard let date = parseTimestamp(text) else {
            throw InventoryRoutes.InputProblem("an ISO 8601 time with a zone, like 2026-11-28T09:30:00Z, is expected")
        }
        return Date(milliseconds: date.millisecondsSince1970)
    }

    static func country(_ text: String, _ name: String) throws -> String {
        guard text.count == 2, text.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw Problem.invalid("an ISO 3166-1 alpha-2 country like GB", field: name)
        }
        return text
    }

    /// The body as a promotion; the first thing wrong is a 400 naming its field.
    static func canonical(_ body: PromotionBody) throws -> Promotion {
        func field<T>(_ name: String, _ body: () throws -> T) throws -> T { try InventoryRoutes.domain(name, body) }
        guard (1...100).contains(body.id.utf8.count), body.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw Problem.invalid("an id is 1-100 letters, digits, '-', '_' or '.'", field: "id")
        }
        guard (1...200).contains(body.name.unicodeScalars.count) else { throw Problem.invalid("a name is 1-200 characters", field: "name") }
        let currency = try body.currency.map { code in try field("currency") { try Currency(code) } }
        func money(_ text: String?, _ name: String) throws -> Money {
            guard let text else { throw Problem.invalid("the field is required for a \(body.type) promotion", field: name) }
            guard let currency else { throw Problem.invalid("an amount needs the promotion's currency", field: "currency") }
            return try field(name) { try Money(parsing: text, currency: currency) }
        }
        func number(_ value: WholeNumber?, _ name: String) throws -> Int64 {
            guard let value else { throw Problem.invalid("the field is required for a \(body.type) promotion", field: name) }
            return value.value
        }
        let kind: Promotion.Kind
        switch body.type {
        case "percent_off": kind = .percentOff(basisPoints: try number(body.basis_points, "basis_points"))
        case "amount_off": kind = .amountOff(try money(body.amount, "amount"))
        case "fixed_price": kind = .fixedPrice(try money(body.price, "price"))
        case "buy_x_get_y": kind = .buyXGetY(buy: try number(body.buy, "buy"), get: try number(body.get, "get"), basisPoints: body.basis_points?.value ?? 10_000)
        case "bundle":
            guard let items = body.items, !items.isEmpty else { throw Problem.invalid("a bundle lists its items", field: "items") }
            var skus: [SKU: Int64] = [:]
            for (index, item) in items.enumerated() {
                guard (1...1_000).contains(item.quantity.value) else { throw Problem.invalid("a quantity is 1-1000", field: "items[\(index)].quantity") }
                skus[try field("items[\(index)].sku") { try SKU(item.sku) }, default: 0] += item.quantity.value
            }
            kind = .bundle(items: skus, price: try money(body.price, "price"))
        case "threshold":
            kind = .threshold(minimum: try money(body.minimum, "minimum"), off: try body.amount.map { try money($0, "amount") }, basisPoints: body.basis_points?.value)
        default:
            throw Problem.invalid("type is one of percent_off, amount_off, fixed_price, buy_x_get_y, bundle, threshold", field: "type")
        }
        let now = Date()
        let from = try field("from") { try PricingRoutes.instant(body.from, now: now) }
        let until = try field("until") { try PricingRoutes.instant(body.until, now: now) }
        guard let stacking = Promotion.Stacking(rawValue: body.stacking ?? "stackable") else {
            throw Problem.invalid("stacking is exclusive or stackable", field: "stacking")
        }
        let scope = body.scope
        let promotionScope = PromotionScope(
            channels: try scope?.channels.map { Set(try $0.map { text in try field("scope.channels") { try ChannelID(text) } }) },
            stores: try scope?.stores.map { Set(try $0.map { text in try field("scope.stores") { try LocationID(text) } }) },
            countries: try scope?.countries.map { Set(try $0.map { try country($0, "scope.countries") }) },
            skus: try scope?.skus.map { Set(try $0.map { text in try field("scope.skus") { try SKU(text) } }) },
            categories: try scope?.categories.map { list in try field("scope.categories") { try Product.checked(categories: list) } })
        guard let priority = Int(exactly: body.priority?.value ?? 0), (-1_000...1_000).contains(priority) else {
            throw Problem.invalid("a priority is -1000 to 1000", field: "priority")
        }
        if let coupon = body.coupon, !(1...50).contains(coupon.utf8.count) { throw Problem.invalid("a coupon code is 1-50 bytes", field: "coupon") }
        let limit = try body.usage_limit.map { value -> Int in
            guard let limit = Int(exactly: value.value) else { throw Problem.invalid("a usage limit is a whole number", field: "usage_limit") }
            return limit
        }
        return Promotion(id: body.id, name: body.name, kind: kind, scope: promotionScope, from: from, until: until, priority: priority,
                         stacking: stacking, coupon: body.coupon, usageLimit: limit)
    }
}
