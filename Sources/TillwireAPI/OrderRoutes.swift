import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Orders over HTTP: a channel that pushes its orders posts them (`orders:write`); anyone with `orders:read` looks an
/// order up, by the hub's id or by the channel's, with its history and every event of its flow. See docs/orders.md.
enum OrderRoutes {
    // MARK: Bodies

    struct OrderBody: Decodable {
        struct CustomerBody: Decodable {
            let id: String?
            let email: String?
            let name: String?
        }
        struct AddressBody: Decodable {
            let country: String
            let region: String?
            let postal_code: String?
        }
        struct DiscountBody: Decodable {
            let amount: String
            let code: String?
        }
        struct TaxLineBody: Decodable {
            let title: String
            let rate_bp: WholeNumber?
            let amount: String
        }
        struct LineBody: Decodable {
            let id: String
            let sku: String
            let quantity: WholeNumber
            let unit_price: String
            let discounts: [DiscountBody]?
            let tax_lines: [TaxLineBody]?
        }
        struct ShippingBody: Decodable {
            let price: String
            let discounts: [DiscountBody]?
            let tax_lines: [TaxLineBody]?
        }
        struct PaymentsBody: Decodable {
            let authorized: String
            let captured: String?
            let refunded: String?
        }
        struct FulfilmentBody: Decodable {
            let mode: String
            let pickup_store: String?
        }

        let channel: String
        let channel_order_id: String
        let placed_at: String
        let currency: String
        let taxes_included: Bool
        let customer: CustomerBody?
        let ship_to: AddressBody?
        let lines: [LineBody]
        let shipping: ShippingBody?
        let order_discounts: [DiscountBody]?
        let payments: PaymentsBody
        let fulfilment: FulfilmentBody
        let total: String
    }

    struct HoldReasonView: Codable {
        let code: String
        let detail: String

        init(_ reason: HoldReason) {
            code = reason.code.rawValue
            detail = reason.detail
        }
    }

    struct ChangeView: Codable {
        let at: String
        let from: String
        let to: String
        let cause: String
        let hold_reasons: [HoldReasonView]
        let event_id: String
    }

    struct EventView: Codable {
        let position: Int64
        let type: String
        let stream: String
        let source: String
        let occurred_at: String
    }

    struct OrderView: ResponseEncodable {
        let id: String
        let channel: String
        let channel_order_id: String
        let status: String
        let held_from: String?
        let hold_reasons: [HoldReasonView]
        let currency: String
        let total: String
        let fulfilment: String
        let pickup_store: String?
        let lines: Int
        /// The payment side's current figures.
        let payments: PaymentsView
        let history: [ChangeView]
        let releases: [ReleaseView]
        let shipments: [ShipmentView]
        let cancelled_lines: [String: String]
        /// The lineage, on a lookup: every event of the order's flow on any stream (reservations, calls to systems).
        let events: [EventView]?
        /// The reservations of the current saga run, per line.
        let reservations: [ReservationView]?
        /// Calls still owed to external systems: jobs pending, running or dead (the ones that succeeded are events).
        let jobs: [JobView]?
        /// The fulfilment saga run: its steps as recorded.
        let saga: SagaView?
        /// On a lookup: the order's returns (not voided).
        let returns: [ReturnSummaryView]?
        /// On a lookup: the journal entries of its sales and returns, and where each went.
        let postings: [ReturnRoutes.PostingView]?

        init(_ record: OrderRecord, journey: Journey? = nil) {
            let order = record.order
            id = order.id.rawValue
            channel = order.channel.rawValue
            channel_order_id = order.channelOrderID
            status = record.lifecycle.status.rawValue
            held_from = record.lifecycle.heldFrom?.rawValue
            hold_reasons = record.holdReasons.map(HoldReasonView.init)
            currency = order.currency.code
            total = order.total.decimalString
            fulfilment = order.fulfilment.mode.rawValue
            pickup_store = order.fulfilment.pickupStore?.rawValue
            lines = order.lines.count
            payments = PaymentsView(authorized: record.payments.authorized.decimalString, captured: record.payments.captured.decimalString,
                                    refunded: record.payments.refunded.decimalString)
            history = record.history.map {
                ChangeView(at: $0.at.ISO8601Format(), from: $0.change.from.rawValue, to: $0.change.to.rawValue, cause: $0.change.cause,
                           hold_reasons: $0.change.holdReasons.map(HoldReasonView.init), event_id: $0.eventID.rawValue)
            }
            releases = record.releases.map { ReleaseView(system: $0.system.rawValue, document: $0.document) }
            shipments = record.shipments.map { ShipmentView(shipment: $0.shipment, lines: $0.lines, tracking: $0.tracking.map(TrackingBody.init)) }
            cancelled_lines = record.cancelledLines
            events = journey?.events.map {
                EventView(position: $0.position, type: $0.type, stream: $0.stream.rawValue, source: $0.event.source.rawValue,
                          occurred_at: $0.event.occurredAt.ISO8601Format())
            }
            reservations = journey?.reservations.map {
                ReservationView(id: $0.id.rawValue, sku: $0.sku.rawValue, location: $0.location.rawValue, quantity: $0.quantity, state: $0.state.rawValue)
            }
            jobs = journey?.jobs.map {
                JobView(id: $0.id.rawValue, kind: $0.kind, state: $0.state.rawValue, attempts: $0.attempts, last_error: $0.lastError)
            }
            saga = journey?.saga.map { SagaView($0.0, $0.1) }
            returns = journey?.returns.map {
                ReturnSummaryView(id: $0.id.rawValue, channel: $0.authorization.request.channel.rawValue,
                                  channel_return_id: $0.authorization.request.channelReturnID, status: $0.status.rawValue)
            }
            postings = journey?.postings.map(ReturnRoutes.PostingView.init)
        }
    }

    /// What a lookup adds to the order: its journey across systems.
    struct Journey {
        var events: [EventEnvelope]
        var reservations: [Reservation]
        var jobs: [Job]
        var saga: (WorkflowRun, [WorkflowStep])?
        var returns: [ReturnRecord] = []
        var postings: [FinanceLineage.Posting] = []
    }

    struct ReturnSummaryView: Codable {
        let id: String
        let channel: String
        let channel_return_id: String
        let status: String
    }

    struct ReleaseView: Codable {
        let system: String
        let document: String
    }

    struct TrackingBody: Codable {
        let carrier: String
        let number: String
        let url: String?

        init(_ tracking: Tracking) {
            carrier = tracking.carrier
            number = tracking.number
            url = tracking.url
        }
    }

    struct ShipmentView: Codable {
        let shipment: String
        let lines: [String]
        let tracking: TrackingBody?
    }

    struct ReservationView: Codable {
        let id: String
        let sku: String
        let location: String
        let quantity: Int64
        let state: String
    }

    struct JobView: Codable {
        let id: String
        let kind: String
        let state: String
        let attempts: Int
        let last_error: String?
    }

    struct SagaView: Codable {
        struct StepView: Codable {
            let name: String
            let status: String
            let detail: String?
        }
        let run: String
        let type: String
        let state: String
        let waiting_for: String?
        let waiting_until: String?
        let steps: [StepView]

        init(_ run: WorkflowRun, _ steps: [WorkflowStep]) {
            self.run = run.id.rawValue
            type = run.type
            state = run.state.rawValue
            waiting_for = run.wait?.eventType
            waiting_until = run.wait?.until.ISO8601Format()
            self.steps = steps.map { StepView(name: $0.name, status: $0.status.rawValue,
                                              detail: $0.status == .failed ? String(decoding: $0.output, as: UTF8.self) : nil) }
        }
    }

    struct ShipmentBody: Decodable {
        let shipment_id: String
        let lines: [String]
        let tracking: TrackingBody?
    }

    struct LinesCancelBody: Decodable {
        let lines: [String]
        let reason: String?
    }

    struct PickupView: ResponseEncodable {
        struct Entry: Codable {
            struct Line: Codable {
                let id: String
                let sku: String
                let quantity: Int64
            }
            let order: String
            let channel: String
            let channel_order_id: String
            let status: String
            let customer_name: String?
            let customer_email: String?
            let lines: [Line]
            /// The end of the pickup window, once picked.
            let pickup_by: String?
            /// Why the order is on hold (units reserved for it were sold at the till); nil unless on hold.
            let hold_reasons: [String]?
        }
        let store: String
        let pickups: [Entry]
    }

    struct ValidateBody: Decodable {
        let reason: String?
    }

    struct PaymentsUpdateBody: Decodable {
        let authorized: String
        let captured: String?
        let refunded: String?
        let reason: String?
    }

    struct PaymentsView: Codable {
        let authorized: String
        let captured: String
        let refunded: String
    }

    // MARK: Routes

    static func add(to v1: RouterGroup<HubRequestContext>, service: OrderService, store: any Store) {
        let write = v1.group().add(middleware: RequireScope("orders:write"))
        let read = v1.group().add(middleware: RequireScope("orders:read"))

        write.post("/orders") { request, context -> EditedResponse<OrderView> in
            let body = try await request.decodeJSON(as: OrderBody.self, context: context)
            let order = try canonical(body)
            let source = try InventoryRoutes.domain("channel") { try InventoryRoutes.clientSource(body.channel) }
            let (record, created) = try await service.capture(order, source: source, causation: "request \(context.id)")
            return EditedResponse(status: created ? .created : .ok, headers: [.location: "/v1/orders/\(record.order.id)"], response: OrderView(record))
        }

        read.get("/orders") { request, _ -> OrderView in
            let query = request.uri.queryParameters
            guard let channelText = query["channel"] else { throw Problem.invalid("the query parameter is required", field: "channel") }
            guard let channelOrderID = query["channel_order_id"].map(String.init), !channelOrderID.isEmpty else {
                throw Problem.invalid("the query parameter is required", field: "channel_order_id")
            }
            let channel = try InventoryRoutes.domain("channel") { try ChannelID(String(channelText)) }
            return try await lookup(.derived(channel: channel, channelOrderID: channelOrderID), expecting: (channel, channelOrderID),
                                    service: service, store: store)
        }

        read.get("/orders/{id}") { _, context -> OrderView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            return try await lookup(id, service: service, store: store)
        }

        addPayments(to: write, service: service)

        write.post("/orders/{id}/cancel") { request, context -> OrderView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            let body = try await request.decodeJSON(as: ValidateBody.self, context: context)
            let who = context.client?.client ?? "?"
            guard let reason = body.reason?.trimmingCharacters(in: .whitespaces), !reason.isEmpty else {
                throw Problem.invalid("say why the order is cancelled; it is kept in its history", field: "reason")
            }
            do {
                return OrderView(try await service.cancel(id, reason: "\(reason) (\(who))", source: (try? SystemID(who)) ?? "api-client"))
            } catch StorageError.notFound {
                throw Problem.notFound("no order \(id)")
            }
        }

        addFulfilment(to: write, read: read, service: service)

        write.post("/orders/{id}/validate") { request, context -> OrderView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            let body = try await request.decodeJSON(as: ValidateBody.self, context: context)
            let who = context.client?.client ?? "?"
            do {
                return OrderView(try await service.revalidate(id, cause: body.reason.map { "\($0) (\(who))" } ?? "asked by \(who)"))
            } catch StorageError.notFound {
                throw Problem.notFound("no order \(id)")
            }
        }
    }

    /// Shipments from the fulfilling system, line cancellations, and the store's pickup queue and its marks.
    static func addFulfilment(to write: RouterGroup<HubRequestContext>, read: RouterGroup<HubRequestContext>, service: OrderService) {
        @Sendable func source(_ context: HubRequestContext) -> SystemID { (try? SystemID(context.client?.client ?? "")) ?? "api-client" }

        write.post("/orders/{id}/shipments") { request, context -> OrderView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            let body = try await request.decodeJSON(as: ShipmentBody.self, context: context)
            guard (1...100).contains(body.shipment_id.utf8.count) else { throw Problem.invalid("a shipment id is 1-100 bytes", field: "shipment_id") }
            let tracking = body.tracking.map { Tracking(carrier: $0.carrier, number: $0.number, url: $0.url) }
            return OrderView(try await service.ship(id, shipment: body.shipment_id, lines: body.lines, tracking: tracking, source: source(context)))
        }

        write.post("/orders/{id}/lines/cancel") { request, context -> OrderView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            let body = try await request.decodeJSON(as: LinesCancelBody.self, context: context)
            guard let reason = body.reason?.trimmingCharacters(in: .whitespaces), !reason.isEmpty else {
                throw Problem.invalid("say why the lines are cancelled; it is kept in the order's history", field: "reason")
            }
            return OrderView(try await service.cancelLines(id, lines: body.lines, reason: reason, source: source(context)))
        }

        read.get("/stores/{id}/pickups") { _, context -> PickupView in
            let store = try InventoryRoutes.pathIdentifier(context, "id") { try LocationID($0) }
            try InventoryRoutes.requireMayAct(context, for: [store])
            let entries = try await service.pickups(at: store).map { summary, record in
                PickupView.Entry(
                    order: record.order.id.rawValue, channel: record.order.channel.rawValue, channel_order_id: record.order.channelOrderID,
                    status: record.lifecycle.status.rawValue, customer_name: record.order.customer.name, customer_email: record.order.customer.email,
                    lines: record.openLines.map { .init(id: $0.id, sku: $0.sku.rawValue, quantity: $0.quantity) },
                    pickup_by: summary.pickupBy?.ISO8601Format(),
                    hold_reasons: record.lifecycle.status == .onHold ? record.holdReasons.map(\.description) : nil)
            }
            return PickupView(store: store.rawValue, pickups: entries)
        }

        // The store's marks: picked, collected, not collected. The key must be allowed to act for the pickup store.
        @Sendable func pickupOrder(_ context: HubRequestContext) async throws -> OrderID {
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            guard let record = try await service.record(id) else { throw Problem.notFound("no order \(id)") }
            if let store = record.order.fulfilment.pickupStore { try InventoryRoutes.requireMayAct(context, for: [store]) }
            return id
        }
        write.post("/orders/{id}/pickup/picked") { _, context -> OrderView in
            OrderView(try await service.markPicked(try await pickupOrder(context), source: source(context)))
        }
        write.post("/orders/{id}/pickup/collected") { _, context -> OrderView in
            OrderView(try await service.markCollected(try await pickupOrder(context), source: source(context)))
        }
        write.post("/orders/{id}/pickup/not-collected") { request, context -> OrderView in
            let id = try await pickupOrder(context)
            let body = try await request.decodeJSON(as: ValidateBody.self, context: context)
            let why = body.reason.map { "not collected: \($0)" } ?? "not collected"
            guard let record = try await service.record(id), record.lifecycle.status == .readyForPickup else {
                throw Problem(kind: "conflict", title: "Conflict", status: .conflict, detail: "order \(id) is not ready for pickup")
            }
            return OrderView(try await service.cancel(id, reason: why, source: source(context)))
        }
    }

    static func addPayments(to write: RouterGroup<HubRequestContext>, service: OrderService) {
        write.post("/orders/{id}/payments") { request, context -> OrderView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try OrderID($0) }
            let body = try await request.decodeJSON(as: PaymentsUpdateBody.self, context: context)
            guard let record = try await service.record(id) else { throw Problem.notFound("no order \(id)") }
            let currency = record.order.currency
            let money = { (text: String, name: String) throws -> Money in try field(name) { try Money(parsing: text, currency: currency) } }
            let authorized = try money(body.authorized, "authorized")
            let captured = try money(body.captured ?? "0", "captured")
            let refunded = try money(body.refunded ?? "0", "refunded")
            let payments = try field("refunded") { try Payments(authorized: authorized, captured: captured, refunded: refunded) }
            let who = context.client?.client ?? "?"
            let source = (try? SystemID(who)) ?? "api-client"
            return OrderView(try await service.updatePayments(id, payments, cause: body.reason.map { "payments updated: \($0) (\(who))" } ?? "payments updated by \(who)", source: source))
        }
    }

    /// `expecting`: the channel order a lookup by channel asked for; an order found under its derived id that is
    /// another channel order (a hash collision) is not it.
    static func lookup(_ id: OrderID, expecting: (ChannelID, String)? = nil, service: OrderService, store: any Store) async throws -> OrderView {
        guard let record = try await service.record(id) else { throw Problem.notFound("no order \(id)") }
        if let (channel, channelOrderID) = expecting, record.order.channel != channel || record.order.channelOrderID != channelOrderID {
            throw Problem.notFound("no order \(channelOrderID) of channel \(channel)")
        }
        var reservations: [Reservation] = []
        for line in record.order.lines {
            if let reservation = try await store.reservation(record.reservationID(of: line)) { reservations.append(reservation) }
        }
        let returns = ReturnService(store: store, orders: service)
        var returned: [ReturnRecord] = []
        for returnID in record.returns.keys.sorted() {
            if let found = try await returns.record(returnID) { returned.append(found) }
        }
        let journey = Journey(
            events: try await store.readCorrelation(CorrelationID(trusted: id.rawValue), limit: 1_000),
            reservations: reservations,
            jobs: try await store.jobs(partitionKeyPrefix: OrderJobs.partitionPrefix(id), limit: 100),
            saga: record.run == nil ? nil : try await store.workflowRun(record.run!),
            returns: returned, postings: try await FinanceLineage.postings(ofOrder: record, store: store))
        return OrderView(record, journey: journey)
    }

    /// The body as a canonical order; the first thing wrong is a 400 naming its field.
    static func canonical(_ body: OrderBody) throws -> Order {
        let channel = try field("channel") { try ChannelID(body.channel) }
        let currency = try field("currency") { try Currency(body.currency) }
        let money = { (text: String, name: String) throws -> Money in try field(name) { try Money(parsing: text, currency: currency) } }
        // Whole milliseconds, as the event log keeps times: a repeat then compares equal to what was stored.
        let placedAt = try field("placed_at") { () throws -> Date in
            let time = try InventoryRoutes.time(body.placed_at, now: Date())
            return Date(timeIntervalSince1970: (time.timeIntervalSince1970 * 1_000).rounded() / 1_000)
        }
        func discounts(_ items: [OrderBody.DiscountBody]?, _ path: String) throws -> [Discount] {
            try (items ?? []).enumerated().map { index, item in
                let amount = try money(item.amount, "\(path)[\(index)].amount")
                return try field("\(path)[\(index)].amount") { try Discount(amount: amount, code: item.code) }
            }
        }
        func taxLines(_ items: [OrderBody.TaxLineBody]?, _ path: String) throws -> [TaxLine] {
            try (items ?? []).enumerated().map { index, item in
                let amount = try money(item.amount, "\(path)[\(index)].amount")
                return try field("\(path)[\(index)].rate_bp") { try TaxLine(title: item.title, rateBasisPoints: item.rate_bp?.value, amount: amount) }
            }
        }
        guard (1...Order.maximumLines).contains(body.lines.count) else {
            throw Problem.invalid("an order has 1-\(Order.maximumLines) lines", field: "lines")
        }
        let lines = try body.lines.enumerated().map { index, line in
            let path = "lines[\(index)]"
            let sku = try field("\(path).sku") { try SKU(line.sku) }
            let price = try money(line.unit_price, "\(path).unit_price")
            let lineDiscounts = try discounts(line.discounts, "\(path).discounts")
            let lineTaxes = try taxLines(line.tax_lines, "\(path).tax_lines")
            return try field(path) {
                try OrderLine(id: line.id, sku: sku, quantity: line.quantity.value, unitPrice: price, discounts: lineDiscounts, taxLines: lineTaxes)
            }
        }
        let shipping = try body.shipping.map { shipping in
            let price = try money(shipping.price, "shipping.price")
            let shippingDiscounts = try discounts(shipping.discounts, "shipping.discounts")
            let shippingTaxes = try taxLines(shipping.tax_lines, "shipping.tax_lines")
            return try field("shipping.price") { try Shipping(price: price, discounts: shippingDiscounts, taxLines: shippingTaxes) }
        }
        let authorized = try money(body.payments.authorized, "payments.authorized")
        let captured = try money(body.payments.captured ?? "0", "payments.captured")
        let refunded = try money(body.payments.refunded ?? "0", "payments.refunded")
        let payments = try field("payments") { try Payments(authorized: authorized, captured: captured, refunded: refunded) }
        guard let mode = Fulfilment.Mode(rawValue: body.fulfilment.mode) else {
            throw Problem.invalid("mode is one of \(Fulfilment.Mode.allCases.map(\.rawValue).joined(separator: ", "))", field: "fulfilment.mode")
        }
        let pickupStore = try body.fulfilment.pickup_store.map { store in try field("fulfilment.pickup_store") { try LocationID(store) } }
        let fulfilment = try field("fulfilment") { try Fulfilment(mode, pickupStore: pickupStore) }
        let shipTo = try body.ship_to.map { address in
            try field("ship_to.country") { try Address(country: address.country, region: address.region, postalCode: address.postal_code) }
        }
        guard (1...100).contains(body.channel_order_id.utf8.count), !body.channel_order_id.contains(where: \.isNewline) else {
            throw Problem.invalid("a channel order id is 1-100 bytes on one line", field: "channel_order_id")
        }
        if mode != .pickUpInStore, shipTo == nil { throw Problem.invalid("an order that ships needs a ship-to address", field: "ship_to") }
        guard Set(body.lines.map(\.id)).count == body.lines.count else { throw Problem.invalid("line ids repeat within the order", field: "lines") }
        let customer = Customer(id: body.customer?.id, email: body.customer?.email, name: body.customer?.name)
        let orderDiscounts = try discounts(body.order_discounts, "order_discounts")
        let total = try money(body.total, "total")
        return try field("order") {
            try Order(
                id: .derived(channel: channel, channelOrderID: body.channel_order_id), channel: channel, channelOrderID: body.channel_order_id,
                placedAt: placedAt, currency: currency, taxesIncluded: body.taxes_included, customer: customer, shipTo: shipTo, lines: lines,
                shipping: shipping, orderDiscounts: orderDiscounts, payments: payments, fulfilment: fulfilment, total: total)
        }
    }

    static func field<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try InventoryRoutes.domain(name, body)
    }
}
