import Foundation
import Synchronization
import TillwireConnectors
import TillwireApp
import TillwireDomain
import TillwireStoreAgent
import TillwireTesting

/// The scenarios, played in order against a running hub through its public API, its webhooks and POSLog, with the
/// simulated shops and ERP behind the connectors. Each scenario ends with a check of the state it should reach; the
/// summary adds the estate-wide checks (stock conserved, journals balanced, nothing lost).
final class DemoRun: @unchecked Sendable {
    struct Check {
        let name: String
        let held: Bool
        let detail: String
    }

    let options: Demo.Options
    let retailer: DemoRetailer
    let client: DemoClient
    let keys: Demo.Keys
    let shopify: FakeShopify
    let woo: FakeWooCommerce
    let erp: DemoERP
    let webhookSecret: String
    let control: ServeControl
    let started: Date
    let output: @Sendable (String) -> Void

    var random: DemoRetailer.Generator
    var checks: [Check] = []
    /// What the demo moved, per "SKU@location": the ledger the hub's on hand must equal at the end.
    var expectedOnHand: [String: Int64] = [:]
    var tally: [String: Int] = [:]
    /// Orders the demo placed, with the hub's id, and how each should end.
    var orders: [(id: String, expected: Set<String>)] = []
    var shopifyOrderNumber = 1_001
    /// The order the summary points the dashboard at: the web order returned in a store.
    var lookupOrder: String?
    var day: String

    init(options: Demo.Options, retailer: DemoRetailer, client: DemoClient, keys: Demo.Keys, shopify: FakeShopify, woo: FakeWooCommerce,
         erp: DemoERP, webhookSecret: String, control: ServeControl, started: Date, output: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.retailer = retailer
        self.client = client
        self.keys = keys
        self.shopify = shopify
        self.woo = woo
        self.erp = erp
        self.webhookSecret = webhookSecret
        self.control = control
        self.started = started
        self.output = output
        random = DemoRetailer.Generator(seed: options.seed &+ 1)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        day = formatter.string(from: Date())
    }

    // MARK: Telling and checking

    func say(_ text: String) {
        output(String(format: "[%6.1f s] ", Date().timeIntervalSince(started)) + text)
    }

    func heading(_ number: Int, _ title: String) {
        output("")
        say("\(number). \(title)")
    }

    func check(_ name: String, _ held: Bool, _ detail: String) {
        checks.append(Check(name: name, held: held, detail: detail))
        say("   \(held ? "✓" : "✗") \(name)\(detail.isEmpty ? "" : ": \(detail)")")
    }

    /// A time of day, UTC.
    func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: date) + " UTC"
    }

    func pause(_ seconds: Double = 1.5) async {
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1_000 / options.speed)))
    }

    /// Polls `condition` every 50 ms for up to `timeout` seconds; true once it holds.
    func eventually(_ timeout: Double = 30, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// What the ledger must hold at the end, per "kind currency" (`sale USD`): entries and their total in minor units,
    /// from the orders the demo shipped or handed over and the refunds its returns were told.
    var expectedLedger: [String: (entries: Int, total: Int64)] = [:]

    func expectSale(_ currency: String, _ total: Int64) {
        expectedLedger["sale \(currency)", default: (0, 0)].entries += 1
        expectedLedger["sale \(currency)", default: (0, 0)].total += total
    }

    func expectRefund(_ currency: String, _ amount: String?) {
        expectedLedger["refund \(currency)", default: (0, 0)].entries += 1
        // An amount the hub did not state (or not in the currency) makes the check fail, as it should.
        let minor = (try? Currency(currency)).flatMap { code in amount.flatMap { try? Money(parsing: $0, currency: code).minorUnits } } ?? -1
        expectedLedger["refund \(currency)", default: (0, 0)].total += minor
    }

    func moved(_ sku: String, _ location: String, _ delta: Int64) {
        expectedOnHand["\(sku)@\(location)", default: 0] += delta
    }

    func count(_ what: String, _ n: Int = 1) { tally[what, default: 0] += n }

    func order(_ id: String) async throws -> DemoClient.Answer {
        try await client.expect([200], .GET, "/v1/orders/\(id)")
    }

    /// The order's canonical status; "absent" until the hub has it (a webhook is taken first, applied just after).
    func status(_ id: String) async throws -> String {
        let answer = try await client.expect([200, 404], .GET, "/v1/orders/\(id)")
        return answer.status == 404 ? "absent" : answer["status"] as? String ?? "?"
    }

    /// The figure the hub sells on a channel: its locations' available (none below zero) less the buffer.
    func channelFigure(_ sku: String, locations: [String], buffer: Int64) async throws -> Int64 {
        let answer = try await client.expect([200], .GET, "/v1/availability?sku=\(sku)")
        let positions = answer["positions"] as? [[String: Any]] ?? []
        let sum = positions.filter { locations.contains($0["location"] as? String ?? "") }
            .reduce(Int64(0)) { $0 + max(0, ($1["available"] as? NSNumber)?.int64Value ?? 0) }
        return max(0, sum - buffer)
    }

    func locations(_ country: String) -> [String] { [retailer.warehouse.id] + retailer.stores(in: country).map(\.id) }

    // MARK: The play

    func play() async throws -> Bool {
        try await catalog()
        await pause()
        try await storeSales()
        await pause()
        let shipped = try await onlineOrders()
        await pause()
        try await maintenanceWindow(shipped[1])
        await pause()
        try await clickAndCollect()
        await pause()
        try await returnInStore(shipped[0])
        await pause()
        try await promotion()
        await pause()
        try await storeOffline()
        await pause()
        try await marketplaceHold()
        await pause()
        return try await summary()
    }

    // MARK: 1. The retailer

    func catalog() async throws {
        heading(1, "The retailer: \(retailer.countries.count) countries, \(retailer.stores.count) stores, a distribution centre, \(retailer.products.count) products")
        try await client.expect([200], .PUT, "/v1/locations/\(retailer.warehouse.id)", #"{"kind": "warehouse", "name": "\#(retailer.warehouse.name)"}"#)
        for store in retailer.stores {
            try await client.expect([200], .PUT, "/v1/locations/\(store.id)", #"{"kind": "store", "name": "\#(store.name)"}"#)
        }
        for country in retailer.countries {
            say("   \(country.name) (\(country.currency)): " + retailer.stores(in: country.code).map { "\($0.id) \($0.name)" }.joined(separator: " · "))
        }
        let products = retailer.products.map { #"{"sku": "\#($0.sku)", "name": "\#($0.name)", "categories": ["home"]}"# }
        try await client.expect([200], .POST, "/v1/products", #"{"products": [\#(products.joined(separator: ", "))]}"#, idempotencyKey: "demo-products")
        // The ERP owns prices: one list per channel and country, the stores' tills ("pos") included.
        let from = Date().addingTimeInterval(-86_400).ISO8601Format()
        let lists = [("web-us", "US"), ("web-uk", "GB"), ("web-de", "DE"), ("marketplace-uk", "GB"), ("pos", "US"), ("pos", "GB"), ("pos", "DE")]
        for (channel, code) in lists {
            let currency = retailer.country(code).currency
            let prices = retailer.products.map { #"{"sku": "\#($0.sku)", "price": "\#(decimal($0.prices[currency]!))", "from": "\#(from)"}"# }
            try await client.expect([200], .PUT, "/v1/prices", #"{"channel": "\#(channel)", "country": "\#(code)", "currency": "\#(currency)", "prices": [\#(prices.joined(separator: ", "))]}"#,
                                    key: keys.erp)
        }
        say("   the ERP sets \(lists.count) price lists (each channel and country, the tills included)")
        // Opening stock: the ERP's receipts at the DC and every store.
        var movements: [String] = []
        for (index, stock) in retailer.openingStock.enumerated() {
            movements.append(#"{"sku": "\#(stock.sku)", "location": "\#(stock.location)", "delta": \#(stock.units), "reason": "receipt", "occurred_at": "\#(Date().ISO8601Format())", "source": "erp", "source_key": "asn-\#(options.seed)-\#(index)"}"#)
            moved(stock.sku, stock.location, stock.units)
        }
        try await client.expect([200], .POST, "/v1/inventory/movements", #"{"movements": [\#(movements.joined(separator: ", "))]}"#, idempotencyKey: "demo-opening-stock")
        let units = retailer.openingStock.reduce(Int64(0)) { $0 + $1.units }
        say("   the ERP's receipts: \(units) units at \(retailer.stores.count + 1) locations")
        // The shops show the hub's figure for their channel.
        let probe = retailer.products[0].sku
        var usFigure: Int64 = -1, deFigure: Int64 = -1
        let published = try await eventually {
            usFigure = try await channelFigure(probe, locations: locations("US"), buffer: 1)
            deFigure = try await channelFigure(probe, locations: locations("DE"), buffer: 1)
            return shopify.available(probe) == usFigure && woo.stock(probe) == deFigure
        }
        check("both web shops show the hub's figures", published,
              "\(probe): web-us (Shopify) \(shopify.available(probe).map(String.init) ?? "none") of \(usFigure), web-de (WooCommerce) \(woo.stock(probe).map(String.init) ?? "none") of \(deFigure)")
    }

    // MARK: 2. Store sales

    func storeSales() async throws {
        heading(2, "Store sales: every store's tills send their POSLog batch")
        var transactions = 0
        var soldInUS: String?
        for (index, store) in retailer.stores.enumerated() {
            var sales: [(sku: String, quantity: Int64)] = []
            for _ in 0..<(2 + random.next(below: 3)) {
                sales.append((retailer.products[random.next(below: retailer.products.count)].sku, Int64(1 + random.next(below: 2))))
            }
            let document = poslog(store, sales, firstSequence: 100 + index * 10)
            let answer = try await client.expect([200], .POST, "/v1/poslog", document, key: keys.pos, contentType: "application/xml")
            let applied = answer["applied"] as? Int ?? 0
            transactions += applied
            for sale in sales { moved(sale.sku, store.id, -sale.quantity) }
            if store.country.code == "US" { soldInUS = soldInUS ?? sales.first?.sku }
            if index < 3 || index == retailer.stores.count - 1 {
                say("   \(store.id) (\(store.name)): \(applied) transactions applied")
            } else if index == 3 {
                say("   …")
            }
        }
        count("POSLog transactions", transactions)
        // The same batch again (a back office that resends after a timeout) changes nothing.
        let store = retailer.stores[0]
        let again = try await client.expect([200], .POST, "/v1/poslog", poslog(store, replaying: true, firstSequence: 100), key: keys.pos, contentType: "application/xml")
        check("a resent batch is recognised, not applied twice", (again["applied"] as? Int) == 0 && (again["duplicates"] as? Int ?? 0) > 0,
              "\(store.id)'s batch again: \(again["applied"] ?? "?") applied, \(again["duplicates"] ?? "?") duplicates")
        let probe = soldInUS ?? retailer.products[0].sku
        var figure: Int64 = -1
        let published = try await eventually {
            figure = try await channelFigure(probe, locations: locations("US"), buffer: 1)
            return shopify.available(probe) == figure
        }
        check("the store sales reach the web shop", published, "\(probe), sold in US stores, on web-us now \(figure)")
    }

    /// The batches generated per store, kept so a resend is the same document.
    var batches: [String: String] = [:]

    func poslog(_ store: DemoRetailer.Store, _ sales: [(sku: String, quantity: Int64)] = [], replaying: Bool = false, firstSequence: Int) -> String {
        if replaying, let batch = batches[store.id] { return batch }
        let country = store.country
        var transactions = ""
        for (offset, sale) in sales.enumerated() {
            let product = retailer.products.first { $0.sku == sale.sku }!
            let unit = product.prices[country.currency]!
            let amount = unit * sale.quantity
            let included = country.taxKind == "vat_inclusive"
            let taxAmount = tax(amount, rate: country.taxRate, included: included)
            let total = included ? amount : amount + taxAmount
            transactions += """
                  <Transaction>
                    <BusinessUnit><UnitID TypeCode="RetailStore">\(store.posID)</UnitID></BusinessUnit>
                    <WorkstationID>1</WorkstationID>
                    <SequenceNumber>\(firstSequence + offset)</SequenceNumber>
                    <BusinessDayDate>\(day)</BusinessDayDate>
                    <EndDateTime>\(Date().ISO8601Format())</EndDateTime>
                    <CurrencyCode>\(country.currency)</CurrencyCode>
                    <RetailTransaction TransactionStatus="Finished">
                      <LineItem><SequenceNumber>1</SequenceNumber><Sale ItemType="Stock"><ItemID>\(sale.sku)</ItemID><UnitListPrice>\(decimal(unit))</UnitListPrice><ExtendedAmount>\(decimal(amount))</ExtendedAmount><Quantity UnitOfMeasureCode="EA" Units="\(sale.quantity)">\(sale.quantity)</Quantity><Tax TaxType="\(included ? "VAT" : "SalesTax")"><Amount>\(decimal(taxAmount))</Amount><TaxRate>\(decimal(country.taxRate))</TaxRate></Tax></Sale></LineItem>
                      <LineItem><SequenceNumber>2</SequenceNumber><Tender TenderType="CreditDebit" TypeCode="Sale"><Amount>\(decimal(total))</Amount></Tender></LineItem>
                      <Total TotalType="TransactionGrandAmount">\(decimal(total))</Total>
                    </RetailTransaction>
                  </Transaction>

                """
        }
        let document = """
            <?xml version="1.0" encoding="UTF-8"?>
            <POSLog xmlns="http://www.nrf-arts.org/IXRetail/namespace/v6.0.0/poslog">
            \(transactions)</POSLog>
            """
        batches[store.id] = document
        return document
    }

    // MARK: 3. Online orders

    struct ShopifyOrder {
        let id: String
        let hubID: String
        let lines: [(id: String, sku: String, quantity: Int64)]
        let json: String
        /// The order's total in USD minor units.
        let total: Int64
    }

    /// A web basket from the seed: one or two different products, one or two of each, with the line's number.
    func basket() -> [(index: Int, product: DemoRetailer.Product, quantity: Int64)] {
        var basket: [(index: Int, product: DemoRetailer.Product, quantity: Int64)] = []
        for index in 0..<(1 + random.next(below: 2)) {
            let product = retailer.products[random.next(below: retailer.products.count)]
            let quantity = Int64(1 + random.next(below: 2))
            if !basket.contains(where: { $0.product.sku == product.sku }) { basket.append((index, product, quantity)) }
        }
        return basket
    }

    /// An order in the Shopify shop, sent to the hub as Shopify sends its `orders/create` webhook.
    func shopifyOrder() -> ShopifyOrder {
        let number = shopifyOrderNumber
        shopifyOrderNumber += 1
        let id = "58\(number)00012345678"
        let rate = retailer.country("US").taxRate
        var lines: [(id: String, sku: String, quantity: Int64)] = []
        var items: [String] = []
        var subtotal: Int64 = 0, taxTotal: Int64 = 0
        for (index, product, quantity) in basket() {
            let price = product.prices["USD"]!
            let lineTax = tax(price * quantity, rate: rate, included: false)
            let lineID = "\(number)\(index + 1)"
            lines.append((lineID, product.sku, quantity))
            subtotal += price * quantity
            taxTotal += lineTax
            items.append("""
                {"id": \(lineID), "variant_id": \(3_907_000 + index), "sku": "\(product.sku)", "title": "\(product.name)", "quantity": \(quantity), "price": "\(decimal(price))",
                 "discount_allocations": [], "tax_lines": [{"title": "TX State Tax", "price": "\(decimal(lineTax))", "rate": \(Double(rate) / 10_000)}]}
                """)
        }
        let now = Date().ISO8601Format()
        let json = """
            {"id": \(id), "admin_graphql_api_id": "gid://shopify/Order/\(id)", "name": "#\(number)", "order_number": \(number),
             "email": "customer\(number)@example.com", "created_at": "\(now)", "updated_at": "\(now)", "cancelled_at": null,
             "currency": "USD", "presentment_currency": "USD", "taxes_included": false,
             "total_price": "\(decimal(subtotal + taxTotal))", "subtotal_price": "\(decimal(subtotal))", "total_tax": "\(decimal(taxTotal))",
             "total_discounts": "0.00", "total_outstanding": "0.00", "financial_status": "paid", "fulfillment_status": null,
             "customer": {"id": \(207_000 + number), "email": "customer\(number)@example.com", "first_name": "Sam", "last_name": "Rivera"},
             "shipping_address": {"first_name": "Sam", "last_name": "Rivera", "address1": "600 Congress Ave", "city": "Austin", "province_code": "TX", "zip": "78701", "country_code": "US"},
             "line_items": [\(items.joined(separator: ", "))], "shipping_lines": [], "refunds": []}
            """
        shopify.addOrder(id: id, json: json, updatedAt: Date(), lines: lines.map { ($0.id, $0.quantity) })
        let hubID = OrderID.derived(channel: "web-us", channelOrderID: id).rawValue
        return ShopifyOrder(id: id, hubID: hubID, lines: lines, json: json, total: subtotal + taxTotal)
    }

    struct WooOrder {
        let id: Int
        let hubID: String
        let lines: [(id: String, sku: String, quantity: Int64)]
        /// The order's total in EUR minor units.
        let total: Int64
    }

    /// An order in the WooCommerce shop (Germany, EUR), sent as WooCommerce sends its `order.created` webhook: line
    /// amounts net of VAT, the VAT per line and the rate on the order's tax line, as WooCommerce reports them.
    func wooOrder(_ number: Int) async throws -> WooOrder {
        let id = 5_000 + number
        var lines: [(id: String, sku: String, quantity: Int64)] = []
        var items: [String] = []
        var net: Int64 = 0, vat: Int64 = 0
        let rate = retailer.country("DE").taxRate
        for (index, product, quantity) in basket() {
            // The shop's shelf price includes VAT; WooCommerce reports the line net of it.
            let gross = product.prices["EUR"]! * quantity
            let lineNet = gross - tax(gross, rate: rate, included: true)
            let lineID = "\(id)\(index + 1)"
            lines.append((lineID, product.sku, quantity))
            net += lineNet
            vat += gross - lineNet
            items.append("""
                {"id": \(lineID), "name": "\(product.name)", "product_id": \(300 + index), "variation_id": 0, "quantity": \(quantity), "tax_class": "",
                 "subtotal": "\(decimal(lineNet))", "subtotal_tax": "\(decimal(gross - lineNet))", "total": "\(decimal(lineNet))", "total_tax": "\(decimal(gross - lineNet))",
                 "taxes": [{"id": 1, "total": "\(decimal(gross - lineNet))", "subtotal": "\(decimal(gross - lineNet))"}], "sku": "\(product.sku)"}
                """)
        }
        let now = String(Date().ISO8601Format().dropLast())
        let json = """
            {"id": \(id), "parent_id": 0, "number": "\(id)", "status": "processing", "currency": "EUR", "prices_include_tax": true,
             "date_created": "\(now)", "date_created_gmt": "\(now)", "date_modified": "\(now)", "date_modified_gmt": "\(now)", "date_paid_gmt": "\(now)",
             "discount_total": "0.00", "shipping_total": "0.00", "shipping_tax": "0.00", "cart_tax": "\(decimal(vat))", "total": "\(decimal(net + vat))", "total_tax": "\(decimal(vat))",
             "customer_id": \(40 + number), "billing": {"first_name": "Jonas", "last_name": "Weber", "email": "jonas\(number)@example.de", "country": "DE", "postcode": "20095"},
             "shipping": {"first_name": "Jonas", "last_name": "Weber", "country": "DE", "postcode": "20095"}, "payment_method": "stripe",
             "line_items": [\(items.joined(separator: ", "))], "shipping_lines": [], "fee_lines": [], "coupon_lines": [],
             "tax_lines": [{"id": 90, "rate_code": "DE-MWST-1", "rate_id": 1, "label": "MwSt.", "compound": false, "tax_total": "\(decimal(vat))", "shipping_tax_total": "0.00", "rate_percent": \(rate / 100)}],
             "refunds": []}
            """
        woo.addOrder(json, modified: Date())
        let status = try await FakeWooCommerce.deliver(topic: "order.created", body: Data(json.utf8), secret: webhookSecret, to: "\(client.base)/hooks/woocommerce",
                                                       webhookID: 11, source: "https://shop.example.de/")
        guard status == 200 else { throw DemoClient.Unexpected(description: "the hub answered the WooCommerce webhook with \(status)") }
        count("webhooks")
        let hubID = OrderID.derived(channel: "web-de", channelOrderID: "\(id)").rawValue
        orders.append((hubID, ["completed"]))
        return WooOrder(id: id, hubID: hubID, lines: lines, total: net + vat)
    }

    /// Sends Shopify's `orders/create` webhook as Shopify does; returns the status and the hub's receipt (`stored`,
    /// `duplicate`).
    func deliver(_ json: String, eventID: String) async throws -> (status: Int, receipt: String) {
        let reply = try await FakeShopify.send(topic: "orders/create", body: Data(json.utf8), eventID: eventID, secret: webhookSecret,
                                               to: "\(client.base)/hooks/shopify", shop: "demo-retailer.myshopify.com")
        let receipt = (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["status"] as? String ?? "?"
        return (reply.status, receipt)
    }

    /// Places Shopify orders by webhook and waits until the ERP has each as a sales order.
    func placeShopifyOrders(_ n: Int) async throws -> [ShopifyOrder] {
        var placed: [ShopifyOrder] = []
        for _ in 0..<n {
            let order = shopifyOrder()
            let (status, receipt) = try await deliver(order.json, eventID: "evt-\(order.id)")
            guard status == 200, receipt == "stored" else { throw DemoClient.Unexpected(description: "the hub answered the Shopify webhook with \(status) \(receipt)") }
            count("webhooks")
            placed.append(order)
            orders.append((order.hubID, ["completed", "returned", "partially_returned"]))
        }
        return placed
    }

    func onlineOrders() async throws -> [ShopifyOrder] {
        heading(3, "Online orders: the web shops' webhooks; the ERP takes each as a sales order; the DC ships")
        let placed = try await placeShopifyOrders(4)
        // Tryton's company books one currency, and the hub releases every shipped order to one fulfilling system: with
        // Tryton, the German shop's euro orders would be dead letters ("release it to an ERP of its currency").
        let german = options.tryton == nil ? [try await wooOrder(1), try await wooOrder(2)] : []
        if german.isEmpty {
            say("   4 orders from the Shopify shop (US, sales tax on top); the WooCommerce shop's euro orders are left out: Tryton's company books USD")
        } else {
            say("   4 orders from the Shopify shop (US, sales tax on top), 2 from the WooCommerce shop (Germany, VAT)")
        }
        // Shopify delivers a webhook again when it is not sure it arrived: the same X-Shopify-Event-Id.
        let repeated = try await deliver(placed[0].json, eventID: "evt-\(placed[0].id)")
        count("webhooks")
        let all = placed.map { (id: $0.hubID, lines: $0.lines, currency: "USD", total: $0.total) }
            + german.map { (id: $0.hubID, lines: $0.lines, currency: "EUR", total: $0.total) }
        var statuses: [String] = []
        // A real ERP takes its time (the Tryton peer serves one request at a time).
        let released = try await eventually(60) {
            statuses = try await all.asyncMap { try await status($0.0) }
            return statuses.allSatisfy { $0 == "released" }
        }
        let salesOrders = try await all.asyncMap { try await releaseDocuments($0.0) }
        check("\(all.count) orders validated, reserved at the DC and released to \(erpName)", released,
              "statuses \(Set(statuses).sorted()); sales orders \(salesOrders.flatMap { $0 }.joined(separator: ", "))")
        check("a webhook delivered twice makes one order", repeated.status == 200 && repeated.receipt == "duplicate" && salesOrders.allSatisfy { $0.count == 1 }
                  && Set(salesOrders.flatMap { $0 }).count == all.count,
              "the second delivery answered \(repeated.status) \(repeated.receipt); \(all.count) orders, one sales order each")
        // The DC ships each order (its WMS reports through the API); the shop is told, the sale is booked and posted.
        for order in all { try await ship(order.id, order.lines) }
        let fulfilled = try await eventually {
            let statuses = try await all.asyncMap { try await status($0.0) }
            return statuses.allSatisfy { $0 == "completed" } && Set(shopify.fulfillments.map(\.order)).isSuperset(of: placed.map(\.id))
                && german.allSatisfy { woo.orderStatus($0.id) == "completed" }
        }
        check("shipped and completed; each shop has it as fulfilled, with the tracking", fulfilled,
              "\(shopify.fulfillments.count) fulfillments in Shopify" + (german.isEmpty ? "" : "; WooCommerce orders " + german.map { "\($0.id) \(woo.orderStatus($0.id) ?? "?")" }.joined(separator: ", ")))
        var documents: [[String]] = []
        let posted = try await eventually {
            documents = try await all.asyncMap { try await postedDocuments($0.0) }
            return documents.allSatisfy { $0.count == 1 }
        }
        check("each sale posted to the ledger, once", posted, documents.map { $0.joined(separator: "+") }.joined(separator: ", "))
        for order in all { expectSale(order.currency, order.total) }
        count("online orders", all.count)
        return placed
    }

    /// The DC's WMS reports an order shipped whole, with its tracking: the reservations become the DC's sale.
    func ship(_ order: String, _ lines: [(id: String, sku: String, quantity: Int64)]) async throws {
        let ids = lines.map { "\"\($0.id)\"" }.joined(separator: ", ")
        try await client.expect([200], .POST, "/v1/orders/\(order)/shipments",
                                #"{"shipment_id": "PKG-\#(order.suffix(12))", "lines": [\#(ids)], "tracking": {"carrier": "UPS", "number": "1Z\#(order.suffix(8))"}}"#,
                                key: keys.wms)
        for line in lines { moved(line.sku, retailer.warehouse.id, -line.quantity) }
    }

    /// The documents the fulfilling ERP made of an order's releases (a sales order each).
    func releaseDocuments(_ orderID: String) async throws -> [String] {
        let answer = try await client.expect([200, 404], .GET, "/v1/orders/\(orderID)")
        return (answer["releases"] as? [[String: Any]] ?? []).filter { $0["system"] as? String == "erp" }.compactMap { $0["document"] as? String }
    }

    /// "the ERP", or the real Tryton when the demo runs with it.
    var erpName: String { options.tryton == nil ? "the ERP" : "Tryton" }
    /// The system journal entries go to: the ERP, or the simulated ledger beside Tryton.
    var ledgerSystem: String { options.tryton == nil ? "erp" : "ledger" }

    /// The ERP documents of an order's (or a return's) journal entries, once posted.
    func postedDocuments(_ orderID: String, returnID: String? = nil) async throws -> [String] {
        let answer = try await client.expect([200], .GET, returnID.map { "/v1/returns/\($0)" } ?? "/v1/orders/\(orderID)")
        return (answer["postings"] as? [[String: Any]] ?? []).compactMap { $0["document"] as? String }
    }

    // MARK: 4. Click-and-collect

    func clickAndCollect() async throws {
        let store = retailer.stores(in: "GB")[1]
        heading(5, "Click-and-collect: ordered on web-uk, to collect at \(store.id) (\(store.name))")
        // A product the store has at least three of, after the morning's sales (the seed decides which).
        let product = retailer.products.first { expectedOnHand["\($0.sku)@\(store.id)", default: 0] >= 3 } ?? retailer.products[2]
        let quantity: Int64 = 2
        let price = product.prices["GBP"]!
        let lineTax = tax(price * quantity, rate: 2_000, included: true)
        let body = """
            {"channel": "web-uk", "channel_order_id": "UK-\(options.seed)-7001", "placed_at": "\(Date().ISO8601Format())", "currency": "GBP", "taxes_included": true,
             "customer": {"id": "c-88", "email": "ann@example.org", "name": "Ann Example"},
             "lines": [{"id": "1", "sku": "\(product.sku)", "quantity": \(quantity), "unit_price": "\(decimal(price))",
                        "tax_lines": [{"title": "VAT", "rate_bp": 2000, "amount": "\(decimal(lineTax))"}]}],
             "payments": {"authorized": "\(decimal(price * quantity))", "captured": "\(decimal(price * quantity))"},
             "fulfilment": {"mode": "pick_up_in_store", "pickup_store": "\(store.id)"}, "total": "\(decimal(price * quantity))"}
            """
        let placedAt = Date()
        let created = try await client.expect([201, 200], .POST, "/v1/orders", body, idempotencyKey: "demo-cc-\(options.seed)")
        let id = created["id"] as? String ?? "?"
        var seenAfter: TimeInterval = -1
        let seen = try await eventually {
            let queue = try await client.expect([200], .GET, "/v1/stores/\(store.id)/pickups")
            let found = (queue["pickups"] as? [[String: Any]] ?? []).contains { $0["order"] as? String == id }
            if found { seenAfter = Date().timeIntervalSince(placedAt) }
            return found
        }
        check("the store sees the order in its pickup queue at once", seen,
              seen ? String(format: "%.0f ms after the order was placed, its stock held there", seenAfter * 1_000) : "not in the queue after 30 s")
        try await client.expect([200], .POST, "/v1/orders/\(id)/pickup/picked", "{}", key: keys.pos)
        say("   the store picks it: ready for pickup")
        await pause(1)
        try await client.expect([200], .POST, "/v1/orders/\(id)/pickup/collected", "{}", key: keys.pos)
        moved(product.sku, store.id, -quantity)
        expectSale("GBP", price * quantity)
        let done = try await eventually {
            let now = try await status(id)
            return ["collected", "completed"].contains(now)
        }
        check("collected: the reservation became the store's sale", done, "order \(id) \(try await status(id))")
        orders.append((id, ["collected", "completed", "returned", "partially_returned"]))
        count("click-and-collect orders")
    }

    // MARK: 5. A web order returned in a store

    func returnInStore(_ order: ShopifyOrder) async throws {
        let store = retailer.stores(in: "US")[0]
        let line = order.lines[0]
        lookupOrder = order.hubID
        heading(6, "A web order returned in a store: Shopify order \(order.id) brought back to \(store.id) (\(store.name))")
        let body = """
            {"channel": "pos", "channel_return_id": "RET-\(options.seed)-1", "order": {"channel": "web-us", "channel_order_id": "\(order.id)"},
             "location": "\(store.id)", "refund": "original_tender", "received": true,
             "lines": [{"order_line": "\(line.id)", "sku": "\(line.sku)", "quantity": 1, "reason": "wrong_size", "condition": "unopened"}]}
            """
        let taken = Date()
        let created = try await client.expect([201, 200], .POST, "/v1/returns", body, key: keys.pos, idempotencyKey: "demo-return-\(options.seed)-1")
        let returnID = created["id"] as? String ?? "?"
        moved(line.sku, store.id, 1)
        expectRefund("USD", created["refund_total"] as? String)
        say("   the till takes it back: \(created["refund_total"] as? String ?? "?") to refund to the customer's card")
        var documents: [String] = []
        let credited = try await eventually {
            documents = try await postedDocuments(order.hubID, returnID: returnID)
            return !documents.isEmpty && shopify.refunds.contains { $0.order.hasSuffix(order.id) || $0.order == order.id }
        }
        let seconds = Date().timeIntervalSince(taken)
        check("refunded in Shopify, restocked at \(store.id), credit note in the ERP", credited,
              String(format: "%.1f s after the till, not overnight; ERP document %@", seconds, documents.first ?? "none"))
        count("returns")
    }

    // MARK: 6. A promotion

    func promotion() async throws {
        heading(7, "A promotion, launched once by the ERP, live in every channel")
        let skus = retailer.products.prefix(3).map(\.sku)
        let body = """
            {"id": "winter-\(options.seed)", "name": "Winter: 20% off", "type": "percent_off", "basis_points": 2000, "scope": {"skus": [\(skus.map { "\"\($0)\"" }.joined(separator: ", "))]},
             "from": "\(Date().addingTimeInterval(-60).ISO8601Format())", "until": "\(Date().addingTimeInterval(7 * 86_400).ISO8601Format())", "priority": 5, "stacking": "exclusive"}
            """
        try await client.expect([201, 200], .POST, "/v1/promotions", body, key: keys.erp, idempotencyKey: "demo-promotion-\(options.seed)")
        let sku = skus[0]
        var live: [String] = []
        for (channel, code) in [("web-us", "US"), ("web-uk", "GB"), ("web-de", "DE"), ("marketplace-uk", "GB"), ("pos", "US"), ("pos", "GB"), ("pos", "DE")] {
            let currency = retailer.country(code).currency
            let quote = try await client.expect([200], .POST, "/v1/pricing/quote",
                                                #"{"channel": "\#(channel)", "country": "\#(code)", "currency": "\#(currency)", "lines": [{"sku": "\#(sku)", "quantity": 1}]}"#)
            let applied = (quote["promotions"] as? [[String: Any]] ?? []).contains { ($0["promotion"] as? String) == "winter-\(options.seed)" }
            if applied { live.append("\(channel == "pos" ? "stores \(code)" : channel) \(quote["discount_total"] as? String ?? "?") off \(quote["subtotal"] as? String ?? "?") \(currency)") }
        }
        check("the same promotion prices \(sku) in all 7 channel lists", live.count == 7, live.joined(separator: ", "))
        count("promotions")
    }

    // MARK: 7. ERP maintenance

    /// The window is announced to the running hub as it opens (`SystemGate.addMaintenance`), so that it opens when the
    /// demo is ready for it however long the scenarios before took; in production it is `systems.erp.maintenance` in
    /// the configuration, and the hub holds the work the same way.
    func maintenanceWindow(_ shipped: ShopifyOrder) async throws {
        let opens = Date()
        // It closes on a whole second: the orders' histories, which say when each was released, are in whole seconds.
        let closes = Date(timeIntervalSince1970: (opens.timeIntervalSince1970 + max(10, 30 / options.speed)).rounded(.up))
        let maintenance = DateInterval(start: opens, end: closes)
        for system in Set(["erp", ledgerSystem]) {
            guard control.announceMaintenance(of: system, from: maintenance.start, until: maintenance.end) else {
                throw DemoClient.Unexpected(description: "the hub is not running: no maintenance window can be announced")
            }
        }
        heading(4, "The ERP goes down for maintenance (\(clock(maintenance.start))–\(clock(maintenance.end)), as `systems.erp.maintenance` would say): work for it queues, then drains")
        // During the window: new web orders, and a web order brought back to a store.
        let placed = try await placeShopifyOrders(2)
        let store = retailer.stores(in: "US")[1]
        let line = shipped.lines[0]
        let body = """
            {"channel": "pos", "channel_return_id": "RET-\(options.seed)-2", "order": {"channel": "web-us", "channel_order_id": "\(shipped.id)"},
             "location": "\(store.id)", "refund": "original_tender", "received": true,
             "lines": [{"order_line": "\(line.id)", "sku": "\(line.sku)", "quantity": 1, "reason": "changed_mind", "condition": "unopened"}]}
            """
        let created = try await client.expect([201, 200], .POST, "/v1/returns", body, key: keys.pos, idempotencyKey: "demo-return-\(options.seed)-2")
        let returnID = created["id"] as? String ?? "?"
        moved(line.sku, store.id, 1)
        expectRefund("USD", created["refund_total"] as? String)
        count("returns")
        say("   meanwhile: 2 web orders arrive, and a web order is brought back to \(store.id)")
        var waiting: [String] = []
        _ = try await eventually(15) {
            let jobs = try await client.expect([200], .GET, "/v1/jobs?state=pending&limit=1000")
            waiting = (jobs["jobs"] as? [[String: Any]] ?? []).filter {
                ["erp.order_release", "\(ledgerSystem).journal_post"].contains($0["kind"] as? String ?? "") && (($0["why"] as? String) ?? "").contains("maintenance")
                    && ($0["attempts"] as? Int) == 0
            }.compactMap { $0["kind"] as? String }
            return waiting.filter { $0.hasSuffix("release") }.count >= 2 && waiting.contains { $0.hasSuffix("journal_post") }
        }
        let kinds = Dictionary(grouping: waiting, by: { $0 }).map { "\($0.value.count) × \($0.key)" }.sorted()
        check("the ERP's work waits for the window, spending no attempt",
              waiting.filter { $0.hasSuffix("release") }.count >= 2 && waiting.contains { $0.hasSuffix("journal_post") }, "\(waiting.count) calls queued: \(kinds.joined(separator: ", "))")
        // Waiting out the window, saying now and then that the work is still held and the ERP untouched.
        while case let remaining = maintenance.end.timeIntervalSinceNow, remaining > 0 {
            if remaining >= 1 {
                let released = try await placed.asyncMap { try await releaseDocuments($0.hubID) }.filter { !$0.isEmpty }.count
                let posted = erp.arrivals.filter { maintenance.contains($0) }.count
                say("   the window closes in \(Int(remaining.rounded(.up))) s; meanwhile \(released) orders released to \(erpName), \(posted) entries posted")
            }
            try await Task.sleep(for: .milliseconds(Int((min(remaining, 10) * 1_000).rounded(.up)) + 1))
        }
        let drained = try await eventually {
            let statuses = try await placed.asyncMap { try await status($0.hubID) }
            let credited = try await postedDocuments(shipped.hubID, returnID: returnID)
            return statuses.allSatisfy { $0 == "released" } && !credited.isEmpty
        }
        // When each order was released, from its history; when the ledger took each entry, from the ledger.
        var releasedAt: [Date] = []
        for placedOrder in placed {
            let history = try await order(placedOrder.hubID)["history"] as? [[String: Any]] ?? []
            releasedAt += history.filter { $0["to"] as? String == "released" }.compactMap { ($0["at"] as? String).flatMap { try? Date($0, strategy: .iso8601) } }
        }
        let during = (erp.arrivals + releasedAt).filter { maintenance.contains($0) && $0 < maintenance.end }
        let drainedAfter = Date().timeIntervalSince(maintenance.end)
        check("after the window the queue drains: sales orders released, the credit note posted", drained && during.isEmpty && releasedAt.count == placed.count,
              !during.isEmpty ? "\(during.count) calls reached \(erpName) or the ledger during the window"
                  : String(format: "nothing reached %@ or the ledger during the window; all of it within %.1f s after it closed", erpName, drainedAfter))
        for order in placed { try await ship(order.hubID, order.lines) }
        for order in placed { expectSale("USD", order.total) }
        count("online orders", placed.count)
    }

    // MARK: 8. A store offline

    /// The store runs a real store agent (`tillwire store-agent`, here in the demo's process) between its tills and
    /// the hub; the line between the store and the hub goes through a proxy the demo cuts and restores.
    func storeOffline() async throws {
        let store = retailer.offlineStore
        heading(8, "A store offline: \(store.id) (\(store.name)) loses its line to the hub, keeps selling through its store agent, and syncs once")
        let key = keys.agent
        guard let hubPort = URL(string: client.base)?.port else { throw DemoClient.Unexpected(description: "no hub port") }
        let line = try FaultProxy(target: hubPort)
        defer { line.stop() }
        let agentPort = try freePort()
        let agent = try StoreAgent(configuration: .init(
            store: try LocationID(store.id), hub: "http://127.0.0.1:\(line.port)", hubKey: key, database: options.data + "/agent-\(store.id).sqlite",
            pricing: (try ChannelID("pos"), "DE"), host: "127.0.0.1", port: agentPort, staleAfter: .seconds(120),
            contactInterval: .milliseconds(500), hubTimeout: .seconds(2)))
        // The agent runs in a child task that ends with this scenario, however it ends; one that cannot start says why.
        let failure = Failure()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await agent.run(logger: Demo.quiet("demo.store-agent")) } catch { failure.record(error) }
            }
            defer { group.cancelAll() }
            try await playStoreOffline(store, line: line, agentPort: agentPort, failure: failure)
        }
    }

    func playStoreOffline(_ store: DemoRetailer.Store, line: FaultProxy, agentPort: Int, failure: Failure) async throws {
        let till = DemoClient(base: "http://127.0.0.1:\(agentPort)", key: "none")
        let online = try await eventually(15) {
            if failure.description != nil { return true }
            let status = try? await till.call(.GET, "/v1/agent/status")
            return status?["hub_online"] as? Bool == true
        }
        if let reason = failure.description { throw DemoClient.Unexpected(description: "the store agent stopped: \(reason)") }
        guard online else { throw DemoClient.Unexpected(description: "the store agent did not reach the hub within 15 s") }
        say("   the store agent is up, its tills call it as they would the hub")

        line.set(.refuse)
        say("   the line to the hub is down")
        let before = try await onHand(store.id)
        var sold: [(sku: String, quantity: Int64)] = []
        for index in 0..<4 {
            let sku = retailer.products[(index * 3) % retailer.products.count].sku
            let body = #"{"movements": [{"sku": "\#(sku)", "location": "\#(store.id)", "delta": -1, "reason": "sale", "occurred_at": "\#(Date().ISO8601Format())", "source": "pos-\#(store.id)", "source_key": "till-2/\#(day)/\#(700 + index)/1"}]}"#
            let answer = try await till.call(.POST, "/v1/inventory/movements", body, idempotencyKey: "\(store.id)-till-2-\(day)-\(700 + index)")
            guard (200..<300).contains(answer.status) else {
                throw DemoClient.Unexpected(description: "the store agent refused a till sale: \(answer.status) \(answer.text.prefix(300))")
            }
            sold.append((sku, 1))
            moved(sku, store.id, -1)
            await pause(0.5)
        }
        let queued = try await till.expect([200], .GET, "/v1/agent/status")
        let unchanged = try await onHand(store.id) == before
        check("the tills kept selling: the agent kept each sale, the hub has none yet", (queued["queue_depth"] as? Int) == sold.count && unchanged,
              "\(sold.count) sales taken offline, \(queued["queue_depth"] ?? "?") queued at the store")
        await pause(2)

        // The line comes back badly first: the agent's batch reaches the hub and is applied, the answer is lost on the
        // way back, so the agent cannot know and keeps the sales queued to send again.
        var expected = before
        for sale in sold { expected[sale.sku, default: 0] -= sale.quantity }
        line.set(.loseAnswers)
        say("   the line comes back flaky: the hub's answers are lost on the way back")
        let appliedUnheard = try await eventually(20) { try await onHand(store.id) == expected }
        let stillQueued = try await till.expect([200], .GET, "/v1/agent/status")["queue_depth"] as? Int ?? -1
        check("the hub applied the store's sales while the agent never heard so", appliedUnheard && stillQueued == sold.count,
              "the hub has them; the agent still holds \(stillQueued) to send again")
        line.set(.pass)
        say("   the line is back: the agent sends its queue again")
        let synced = try await eventually(30) {
            let status = try await till.expect([200], .GET, "/v1/agent/status")
            return (status["queue_depth"] as? Int) == 0 && status["hub_online"] as? Bool == true
        }
        let after = try await onHand(store.id)
        check("synced exactly once: the resent sales changed nothing", synced && after == expected,
              sold.map { "\($0.sku) \(before[$0.sku] ?? 0)→\(after[$0.sku] ?? 0)" }.joined(separator: ", "))
        count("store-agent sales", sold.count)
    }

    /// The store's on hand per SKU, at the hub.
    func onHand(_ location: String) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for product in retailer.products {
            let answer = try await client.expect([200], .GET, "/v1/availability?sku=\(product.sku)&location=\(location)")
            result[product.sku] = ((answer["positions"] as? [[String: Any]])?.first?["on_hand"] as? NSNumber)?.int64Value ?? 0
        }
        return result
    }

    // MARK: 9. A marketplace order held at the gate

    func marketplaceHold() async throws {
        heading(9, "A marketplace order held at the validation gate")
        let product = retailer.products[4]
        let price = product.prices["GBP"]!
        let lineTax = tax(price, rate: 2_000, included: true)
        let body = """
            {"channel": "marketplace-uk", "channel_order_id": "206-\(options.seed)-5531", "placed_at": "\(Date().ISO8601Format())", "currency": "GBP", "taxes_included": true,
             "customer": {"id": "mkt-1"}, "ship_to": {"country": "GB", "postal_code": "M1 1AE"},
             "lines": [{"id": "1", "sku": "\(product.sku)", "quantity": 1, "unit_price": "\(decimal(price))",
                        "tax_lines": [{"title": "VAT", "rate_bp": 2000, "amount": "\(decimal(lineTax))"}]}],
             "payments": {"authorized": "\(decimal(price))", "captured": "0.00"},
             "fulfilment": {"mode": "ship_from_dc"}, "total": "\(decimal(price))"}
            """
        let created = try await client.expect([201, 200], .POST, "/v1/orders", body, key: keys.marketplace, idempotencyKey: "demo-marketplace-\(options.seed)")
        let id = created["id"] as? String ?? "?"
        var reasons: [String] = []
        let held = try await eventually {
            let view = try await order(id)
            reasons = (view["hold_reasons"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
            return view["status"] as? String == "on_hold"
        }
        await pause(1)
        let stillHeld = try await status(id) == "on_hold"
        check("held, never released to the ERP or the DC", held && stillHeld && reasons.contains("payment_not_captured") && reasons.contains("customer_incomplete"),
              "on hold: \(reasons.joined(separator: ", "))")
        orders.append((id, ["on_hold"]))
        count("marketplace orders held")
    }

    // MARK: The summary

    func summary() async throws -> Bool {
        output("")
        say("Summary: the estate-wide checks")
        // Every order the demo placed ended where its scenario said.
        var misplaced: [String] = []
        for order in orders {
            let status = try await status(order.id)
            if !order.expected.contains(status) { misplaced.append("\(order.id) \(status)") }
        }
        check("every order reached its expected end state", misplaced.isEmpty, misplaced.isEmpty ? "\(orders.count) orders" : misplaced.joined(separator: "; "))
        // Stock conserved: the hub's on hand equals what the demo moved, and nothing is left reserved.
        var differences: [String] = []
        var reserved: Int64 = 0
        for product in retailer.products {
            let positions = try await client.expect([200], .GET, "/v1/availability?sku=\(product.sku)")["positions"] as? [[String: Any]] ?? []
            var onHand: [String: Int64] = [:]
            for position in positions {
                let location = position["location"] as? String ?? "?"
                onHand[location] = (position["on_hand"] as? NSNumber)?.int64Value ?? 0
                reserved += (position["reserved"] as? NSNumber)?.int64Value ?? 0
            }
            for location in [retailer.warehouse.id] + retailer.stores.map(\.id) {
                let expected = expectedOnHand["\(product.sku)@\(location)", default: 0]
                if onHand[location, default: 0] != expected { differences.append("\(product.sku)@\(location): hub \(onHand[location, default: 0]), moved \(expected)") }
            }
        }
        let units = expectedOnHand.values.reduce(0, +)
        check("stock conserved: on hand equals every movement, nothing left reserved", differences.isEmpty && reserved == 0,
              differences.isEmpty ? "\(expectedOnHand.count) positions, \(units) units; \(reserved) reserved" : differences.prefix(5).joined(separator: "; "))
        // Money balances: every entry the ledger took is balanced, and its entries and totals per kind and currency are
        // the sales the demo shipped or handed over and the refunds its returns were told: nothing missing, nothing twice.
        var ledger: [String: (entries: Int, total: Int64)] = [:]
        var unbalanced: [String] = []
        _ = try await eventually(15) {
            ledger = [:]
            unbalanced = []
            for posting in erp.postings {
                let debits = posting.entry.lines.reduce(Int64(0)) { $0 + $1.debit }, credits = posting.entry.lines.reduce(Int64(0)) { $0 + $1.credit }
                if debits != credits { unbalanced.append(posting.entry.id) }
                ledger["\(posting.entry.kind.rawValue) \(posting.entry.currency.code)", default: (0, 0)].entries += 1
                ledger["\(posting.entry.kind.rawValue) \(posting.entry.currency.code)", default: (0, 0)].total += debits
            }
            return ledger.mapValues { "\($0.entries) \($0.total)" } == expectedLedger.mapValues { "\($0.entries) \($0.total)" }
        }
        let postings = erp.postings
        let reconciled = ledger.mapValues { "\($0.entries) \($0.total)" } == expectedLedger.mapValues { "\($0.entries) \($0.total)" }
        func describe(_ figures: [String: (entries: Int, total: Int64)]) -> String {
            figures.keys.sorted().map { "\($0): \(figures[$0]!.entries) for \(decimal(figures[$0]!.total))" }.joined(separator: ", ")
        }
        check("journals balanced and reconciled: each entry's debits equal its credits; posted totals equal the sources'", unbalanced.isEmpty && reconciled,
              reconciled ? describe(ledger) : "the ledger has \(describe(ledger)); the demo's sales and refunds say \(describe(expectedLedger))")
        // Nothing lost: no dead letters, nothing still owed to the ERP or the shops.
        let dead = try await client.expect([200], .GET, "/v1/dead-letters")["dead_letters"] as? [[String: Any]] ?? []
        var owed: [String] = []
        _ = try await eventually(15) {
            let jobs = try await client.expect([200], .GET, "/v1/jobs?state=pending&limit=1000")["jobs"] as? [[String: Any]] ?? []
            // Timers (a promotion's end, a saga's deadline) and the periodic polls are due later: they are not owed.
            let now = Date().addingTimeInterval(1)
            owed = jobs.filter { job in
                guard let due = (job["last_run"] as? String).flatMap({ try? Date($0, strategy: .iso8601) }) else { return true }
                return due <= now && !(job["kind"] as? String ?? "").hasSuffix("order_poll")
            }.compactMap { $0["kind"] as? String }
            return owed.isEmpty
        }
        check("nothing lost: no dead letters, no call still owed", dead.isEmpty && owed.isEmpty,
              "\(dead.count) dead letters\(owed.isEmpty ? "" : ", still owed: " + Array(Set(owed)).sorted().joined(separator: ", "))")

        output("")
        var releasedTotal = 0
        for order in orders { releasedTotal += try await releaseDocuments(order.id).count }
        let flowed = ["POSLog transactions", "store-agent sales", "webhooks", "online orders", "click-and-collect orders", "marketplace orders held", "returns", "promotions"]
        say("What flowed: " + flowed.compactMap { name in tally[name].map { "\(name) \($0)" } }.joined(separator: ", "))
        say("   in \(erpName): \(releasedTotal) sales orders; in the ledger: \(postings.count) journal entries; in Shopify: \(shopify.fulfillments.count) fulfillments and "
            + "\(shopify.refunds.count) refunds, through \(shopify.requests.count) Admin API calls paced by the cost budget it reports (\(shopify.throttledCount) throttled); "
            + "in WooCommerce: \(woo.batchSizes.count) stock batches")
        let failed = checks.filter { !$0.held }
        if failed.isEmpty {
            say("All \(checks.count) checks held.")
        } else {
            say("\(failed.count) of \(checks.count) checks FAILED: " + failed.map(\.name).joined(separator: "; "))
        }
        let ui = client.base + "/ui"
        output("""

            Where to look (sign in with the admin key printed at the top):
              flow health, key figures, service levels   \(ui)/overview
              the returned web order across systems      \(ui)/lookup?order=\(lookupOrder ?? "…")
              a store's day, as its tills sent it        \(ui)/lookup?store=\(retailer.stores[0].id)&day=\(day)
              the store agent that went offline          \(ui)/store-agents
              the figures, for Prometheus                \(client.base)/metrics
            Next: docs/getting-started.md, to run a hub of your own.
            """)
        return failed.isEmpty
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
