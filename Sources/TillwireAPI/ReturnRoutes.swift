import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// Returns over HTTP (`returns:write` to take and receive them, `returns:read` to look them up), the order search a
/// till uses to find the order being returned, and journal entries with their lineage (`finance:read`).
/// See docs/returns.md and docs/finance.md.
enum ReturnRoutes {
    struct ReturnBody: Decodable {
        struct OrderRef: Decodable {
            let channel: String
            let channel_order_id: String
        }
        struct LineBody: Decodable {
            let order_line: String?
            let sku: String
            let quantity: WholeNumber
            let reason: String
            let condition: String
            let disposition: String?
            let unit_price: String?
            let tax_rate_bp: WholeNumber?
        }

        let channel: String
        let channel_return_id: String
        /// The order by the hub's id …
        let order_id: String?
        /// … or by its channel's number.
        let order: OrderRef?
        let location: String?
        let refund: String
        let tender: String?
        /// The currency of a return without an order (its lines' receipt prices).
        let currency: String?
        /// The items are handed over now (a return at a till).
        let received: Bool?
        let lines: [LineBody]
    }

    struct ReceiveBody: Decodable {
        let location: String?
    }

    struct VoidBody: Decodable {
        let reason: String?
    }

    struct InspectionBody: Decodable {
        let line: WholeNumber
        let outcome: String
        let note: String?
    }

    struct ReturnView: ResponseEncodable {
        struct LineView: Codable {
            let order_line: String?
            let sku: String
            let quantity: Int64
            let reason: String
            let condition: String
            let disposition: String
            let refund: String
            let tax: String
            /// For a line held for inspection: `pending`, or the decision (`restock`, `damaged`).
            let inspection: String?
        }
        struct RefundView: Codable {
            let amount: String
            let method: String
            let tender: String
            let reference: String
            let at: String?
        }
        struct ReceivedView: Codable {
            let location: String
            let at: String?
            let restocked: [String: Int64]
            let written_off: [String: Int64]
            let inspecting: [String: Int64]
        }

        let id: String
        let channel: String
        let channel_return_id: String
        let order_id: String?
        let status: String
        let currency: String
        let refund_method: String
        let refund_total: String
        let refund_tax: String
        let shipping_refund: String
        let lines: [LineView]
        let received: ReceivedView?
        let refund: RefundView?
        /// While the refund is pending: why it has not gone through yet (the refund job's last error), if it failed.
        let refund_pending_reason: String?
        let closed_reason: String?
        let authorized_at: String
        let saga: OrderRoutes.SagaView?
        let jobs: [OrderRoutes.JobView]?
        let postings: [PostingView]?

        init(_ record: ReturnRecord, saga: (WorkflowRun, [WorkflowStep])? = nil, jobs: [Job]? = nil, postings: [PostingView]? = nil) {
            let authorization = record.authorization
            let money = { (units: Int64) in Money(minorUnits: units, currency: authorization.currency).decimalString }
            id = record.id.rawValue
            channel = authorization.request.channel.rawValue
            channel_return_id = authorization.request.channelReturnID
            order_id = authorization.request.order?.rawValue
            status = record.status.rawValue
            currency = authorization.currency.code
            refund_method = authorization.request.refund.rawValue
            refund_total = money(authorization.refundTotal)
            refund_tax = money(authorization.refundTax)
            shipping_refund = money(authorization.shippingGross)
            lines = authorization.lines.map {
                LineView(order_line: $0.orderLine, sku: $0.sku.rawValue, quantity: $0.quantity, reason: $0.reason.rawValue,
                         condition: $0.condition.rawValue, disposition: $0.disposition.rawValue, refund: money($0.gross), tax: money($0.tax),
                         inspection: $0.disposition == .inspect ? record.inspected[$0.index]?.outcome.rawValue ?? "pending" : nil)
            }
            received = record.received.map {
                ReceivedView(location: $0.location.rawValue, at: record.receivedAt?.ISO8601Format(), restocked: $0.restocked,
                             written_off: $0.writtenOff, inspecting: $0.inspecting)
            }
            refund = record.refund.map {
                RefundView(amount: $0.amount.decimalString, method: $0.method.rawValue, tender: $0.tender, reference: $0.reference,
                           at: record.refundedAt?.ISO8601Format())
            }
            refund_pending_reason = record.status == .refundPending
                ? jobs?.first { $0.kind.hasSuffix(".refund") }.flatMap { job in job.lastError.map { "\($0) (\(job.state.rawValue), \(job.attempts) attempt(s))" } }
                : nil
            closed_reason = record.closed?.reason
            authorized_at = record.authorizedAt.ISO8601Format()
            self.saga = saga.map { OrderRoutes.SagaView($0.0, $0.1) }
            self.jobs = jobs?.map { OrderRoutes.JobView(id: $0.id.rawValue, kind: $0.kind, state: $0.state.rawValue, attempts: $0.attempts, last_error: $0.lastError) }
            self.postings = postings
        }
    }

    struct PostingView: Codable {
        let entry: String
        let kind: String
        let business_day: String
        let currency: String
        let total: String
        let system: String?
        /// The ERP's document, once posted.
        let document: String?
        /// The daily summary that carries it, for a location posted per day.
        let summary: String?
        let state: String

        init(_ posting: FinanceLineage.Posting) {
            let entry = posting.entry
            self.entry = entry.id
            kind = entry.kind.rawValue
            business_day = entry.businessDay
            currency = entry.currency.code
            total = Money(minorUnits: entry.total, currency: entry.currency).decimalString
            system = posting.posted?.system.rawValue
            document = posting.posted?.document
            summary = posting.summary
            state = posting.posted != nil ? "posted" : posting.summary != nil ? "in_daily_summary" : "pending"
        }
    }

    struct EntryView: ResponseEncodable {
        struct LineView: Codable {
            let account: String
            let debit: String
            let credit: String
            let tax_rate_bp: Int64?
            let tender: String?
            let memo: String?
        }
        struct SourceView: Codable {
            let kind: String
            let id: String
        }
        let id: String
        let kind: String
        let currency: String
        let business_day: String
        let location: String?
        let channel: String?
        let memo: String
        let lines: [LineView]
        /// Where it comes from: the order, the return, the event of the shipment, the entries a summary sums.
        let sources: [SourceView]
        let recorded_at: String
        let system: String
        let state: String
        let document: String?
        /// Found by its reference after a timed-out attempt the ERP had accepted, rather than created again.
        let found_by_reference: Bool?
        let summary: String?
        /// The events it was built from: the order's capture and shipment, the return's authorization, receipt and refund.
        let source_events: [OrderRoutes.EventView]
    }

    struct ReconciliationView: ResponseEncodable {
        struct TotalView: Codable {
            let currency: String
            let tender: String?
            let tax_rate_bp: Int64?
            let source: String
            let booked: String
            let posted: String
        }
        struct DifferenceView: Codable {
            let entry: String
            let kind: String
            let detail: String
        }
        let location: String?
        let business_day: String
        let documents: Int
        let totals: [TotalView]
        let differences: [DifferenceView]

        init(_ report: FinanceReconciliation) {
            location = report.location?.rawValue
            business_day = report.businessDay
            documents = report.documents
            totals = report.totals.map { total in
                let money = { (units: Int64) in (try? Currency(total.currency)).map { Money(minorUnits: units, currency: $0).decimalString } ?? "\(units)" }
                var tender: String?
                var rate: Int64?
                switch total.basis {
                case .tender(let name): tender = name
                case .taxRate(let value): rate = value
                }
                return TotalView(currency: total.currency, tender: tender, tax_rate_bp: rate, source: money(total.source), booked: money(total.booked),
                                 posted: money(total.posted))
            }
            differences = report.differences.map { DifferenceView(entry: $0.entry, kind: $0.kind.rawValue, detail: $0.detail) }
        }
    }

    struct OrderSearchView: ResponseEncodable {
        struct Entry: Codable {
            let id: String
            let channel: String
            let channel_order_id: String
            let status: String
            let updated_at: String
        }
        let orders: [Entry]
    }

    // MARK: Routes

    static func add(to v1: RouterGroup<HubRequestContext>, returns: ReturnService, orders: OrderService, store: any Store) {
        let write = v1.group().add(middleware: RequireScope("returns:write"))
        let read = v1.group().add(middleware: RequireScope("returns:read"))
        @Sendable func source(_ context: HubRequestContext) -> SystemID { (try? SystemID(context.client?.client ?? "")) ?? "api-client" }

        write.post("/returns") { request, context -> EditedResponse<ReturnView> in
            let body = try await request.decodeJSON(as: ReturnBody.self, context: context)
            let returnRequest = try canonical(body)
            if let location = returnRequest.location {
                try InventoryRoutes.requireMayAct(context, for: [location])
            } else if context.client?.locations != nil {
                throw Problem(kind: "forbidden", title: "Forbidden", status: .forbidden,
                              detail: "a key restricted to locations takes returns at one of them: name it", field: "location")
            }
            if let order = returnRequest.order, try await orders.record(order) == nil {
                throw Problem(kind: "not-found", title: "Not found", status: .notFound, detail: "no order \(order): find it with GET /v1/orders/search",
                              field: body.order_id != nil ? "order_id" : "order")
            }
            let (record, created) = try await returns.authorize(returnRequest, received: body.received ?? false, source: source(context))
            return EditedResponse(status: created ? .created : .ok, headers: [.location: "/v1/returns/\(record.id)"], response: ReturnView(record))
        }

        read.get("/returns/{id}") { _, context -> ReturnView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try ReturnID($0) }
            guard let record = try await returns.record(id) else { throw Problem.notFound("no return \(id)") }
            let jobs = try await store.jobs(partitionKeyPrefix: record.authorization.request.order.map(OrderJobs.partitionPrefix) ?? "\(id.rawValue)/", limit: 100)
            let postings = try await FinanceLineage.postings(of: CorrelationID(trusted: id.rawValue), store: store).map(PostingView.init)
            return ReturnView(record, saga: try await store.workflowRun(record.run), jobs: jobs.filter { $0.kind.hasSuffix(".refund") },
                              postings: postings)
        }

        write.post("/returns/{id}/receive") { request, context -> ReturnView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try ReturnID($0) }
            let body = try await request.decodeJSON(as: ReceiveBody.self, context: context)
            let location = try body.location.map { text in try InventoryRoutes.domain("location") { try LocationID(text) } }
            guard let record = try await returns.record(id) else { throw Problem.notFound("no return \(id)") }
            if let at = location ?? record.authorization.request.location { try InventoryRoutes.requireMayAct(context, for: [at]) }
            return ReturnView(try await returns.receive(id, at: location, source: source(context)))
        }

        write.post("/returns/{id}/inspection") { request, context -> ReturnView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try ReturnID($0) }
            let body = try await request.decodeJSON(as: InspectionBody.self, context: context)
            guard let outcome = Disposition(rawValue: body.outcome), outcome != .inspect else {
                throw Problem.invalid("outcome is restock or damaged", field: "outcome")
            }
            guard let record = try await returns.record(id) else { throw Problem.notFound("no return \(id)") }
            if let at = record.received?.location ?? record.authorization.request.location { try InventoryRoutes.requireMayAct(context, for: [at]) }
            guard (0...Int64(Order.maximumLines)).contains(body.line.value) else { throw Problem.invalid("a line index of the return", field: "line") }
            return ReturnView(try await returns.inspect(id, line: Int(body.line.value), outcome: outcome, note: body.note, source: source(context)))
        }

        write.post("/returns/{id}/void") { request, context -> ReturnView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { try ReturnID($0) }
            let body = try await request.decodeJSON(as: VoidBody.self, context: context)
            guard let reason = body.reason?.trimmingCharacters(in: .whitespaces), !reason.isEmpty else {
                throw Problem.invalid("say why the return is called off; it is kept with it", field: "reason")
            }
            guard let record = try await returns.record(id) else { throw Problem.notFound("no return \(id)") }
            if let at = record.authorization.request.location {
                try InventoryRoutes.requireMayAct(context, for: [at])
            } else if context.client?.locations != nil {
                throw Problem(kind: "forbidden", title: "Forbidden", status: .forbidden, detail: "only a key for every location calls off a return taken without one")
            }
            return ReturnView(try await returns.void(id, reason: reason, source: source(context)))
        }

        let finance = v1.group().add(middleware: RequireScope("finance:read"))
        finance.get("/journal/{id}") { _, context -> EntryView in
            let id = try InventoryRoutes.pathIdentifier(context, "id") { text -> String in
                guard text.hasPrefix("je-"), (4...200).contains(text.utf8.count) else { throw DomainError.invalidIdentifier(kind: "journal entry", value: text) }
                return text
            }
            guard let (entry, recordedAt, posted) = try await Ledger.entry(id, store: store) else { throw Problem.notFound("no journal entry \(id)") }
            let money = { (units: Int64) in Money(minorUnits: units, currency: entry.currency).decimalString }
            let system = try await store.readStream(Ledger.stream(id), fromVersion: 1, limit: 1).first.map { try $0.decode(JournalRecorded.self).system }
            let summary = try await store.journalRows(location: entry.location, businessDay: entry.businessDay).first { $0.id == id }?.summary
            let events = try await FinanceLineage.sourceEvents(of: entry, store: store).map {
                OrderRoutes.EventView(position: $0.position, type: $0.type, stream: $0.stream.rawValue, source: $0.event.source.rawValue,
                                      occurred_at: $0.event.occurredAt.ISO8601Format())
            }
            return EntryView(
                id: entry.id, kind: entry.kind.rawValue, currency: entry.currency.code, business_day: entry.businessDay, location: entry.location?.rawValue,
                channel: entry.channel?.rawValue, memo: entry.memo,
                lines: entry.lines.map { .init(account: $0.account, debit: money($0.debit), credit: money($0.credit), tax_rate_bp: $0.taxRate, tender: $0.tender, memo: $0.memo) },
                sources: entry.sources.map { .init(kind: $0.kind.rawValue, id: $0.id) }, recorded_at: recordedAt.ISO8601Format(),
                system: system?.rawValue ?? "-", state: posted == nil ? "pending" : "posted", document: posted?.document, found_by_reference: posted?.found,
                summary: summary, source_events: events)
        }

        finance.get("/finance/reconciliation") { request, _ -> ReconciliationView in
            let query = request.uri.queryParameters
            guard let day = query["day"].map(String.init), day.count == 10, day.split(separator: "-").compactMap({ Int($0) }).count == 3 else {
                throw Problem.invalid("the business day, YYYY-MM-DD", field: "day")
            }
            let location = try query["location"].map { text in try InventoryRoutes.domain("location") { try LocationID(String(text)) } }
            let report = try await FinanceReconciliation.build(location: location, businessDay: day, store: store, orders: orders, returns: returns,
                                                               chart: returns.policy.ledger?.policy.chart ?? ChartOfAccounts(), now: Date())
            return ReconciliationView(report)
        }

        let ordersRead = v1.group().add(middleware: RequireScope("orders:read"))
        ordersRead.get("/orders/search") { request, _ -> OrderSearchView in
            let query = request.uri.queryParameters
            let search: OrderSearch
            if let number = query["channel_order_id"].map(String.init), !number.isEmpty {
                search = .channelOrderID(number)
            } else if let email = query["customer_email"].map(String.init), !email.isEmpty {
                search = .customerEmail(email)
            } else {
                throw Problem.invalid("give channel_order_id (the number on the customer's receipt or email) or customer_email", field: "channel_order_id")
            }
            let found = try await store.orderSummaries(matching: search, limit: 50)
            return OrderSearchView(orders: found.map {
                .init(id: $0.id.rawValue, channel: $0.channel.rawValue, channel_order_id: $0.channelOrderID, status: $0.status.rawValue,
                      updated_at: $0.updatedAt.ISO8601Format())
            })
        }
    }

    /// The body as a return request; the first thing wrong is a 400 naming its field.
    static func canonical(_ body: ReturnBody) throws -> ReturnRequest {
        func field<T>(_ name: String, _ body: () throws -> T) throws -> T { try InventoryRoutes.domain(name, body) }
        let channel = try field("channel") { try ChannelID(body.channel) }
        let order: OrderID?
        switch (body.order_id, body.order) {
        case let (id?, nil): order = try field("order_id") { try OrderID(id) }
        case let (nil, ref?):
            let orderChannel = try field("order.channel") { try ChannelID(ref.channel) }
            guard (1...100).contains(ref.channel_order_id.utf8.count) else { throw Problem.invalid("a channel order id is 1-100 bytes", field: "order.channel_order_id") }
            order = .derived(channel: orderChannel, channelOrderID: ref.channel_order_id)
        case (nil, nil): order = nil
        case (_?, _?): throw Problem.invalid("name the order by order_id or by order, not both", field: "order")
        }
        let location = try body.location.map { text in try field("location") { try LocationID(text) } }
        guard let refund = RefundMethod(rawValue: body.refund) else {
            throw Problem.invalid("refund is one of \(RefundMethod.allCases.map(\.rawValue).joined(separator: ", "))", field: "refund")
        }
        let currency = try body.currency.map { code in try field("currency") { try Currency(code) } }
        guard (1...Order.maximumLines).contains(body.lines.count) else { throw Problem.invalid("a return has 1-\(Order.maximumLines) lines", field: "lines") }
        let lines = try body.lines.enumerated().map { index, line in
            let path = "lines[\(index)]"
            let sku = try field("\(path).sku") { try SKU(line.sku) }
            guard let reason = ReturnReason(rawValue: line.reason) else {
                throw Problem.invalid("reason is one of \(ReturnReason.allCases.map(\.rawValue).joined(separator: ", "))", field: "\(path).reason")
            }
            guard let condition = ItemCondition(rawValue: line.condition) else {
                throw Problem.invalid("condition is one of \(ItemCondition.allCases.map(\.rawValue).joined(separator: ", "))", field: "\(path).condition")
            }
            let disposition = try line.disposition.map { text in
                guard let value = Disposition(rawValue: text) else {
                    throw Problem.invalid("disposition is one of \(Disposition.allCases.map(\.rawValue).joined(separator: ", "))", field: "\(path).disposition")
                }
                return value
            }
            let price = try line.unit_price.map { text -> Money in
                guard let currency else { throw Problem.invalid("a receipt price needs the return's currency", field: "currency") }
                return try field("\(path).unit_price") { try Money(parsing: text, currency: currency) }
            }
            return try field(path) {
                try ReturnRequestLine(orderLine: line.order_line, sku: sku, quantity: line.quantity.value, reason: reason, condition: condition,
                                      disposition: disposition, unitPrice: price, taxRate: line.tax_rate_bp?.value)
            }
        }
        guard (1...100).contains(body.channel_return_id.utf8.count), !body.channel_return_id.contains(where: \.isNewline) else {
            throw Problem.invalid("a channel return id is 1-100 bytes on one line", field: "channel_return_id")
        }
        return try field("refund") {
            try ReturnRequest(channel: channel, channelReturnID: body.channel_return_id, order: order, location: location, lines: lines,
                              refund: refund, tender: body.tender)
        }
    }
}
