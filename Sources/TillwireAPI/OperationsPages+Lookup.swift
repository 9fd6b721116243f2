import ConnectorPOSLog
import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// `/ui/lookup`: an order (by id or by the channel's number), a return, or a store's business day, as one timeline
/// across the systems that touched it (the events of its business flow, each with the system it came from), with
/// what the hub still owes other systems for it and where its money went.
extension OperationsPages {
    static func addLookup(to pages: RouterGroup<HubRequestContext>, store: any Store, orders: OrderService) {
        pages.get("/lookup") { request, _ -> Response in
            let query = request.uri.queryParameters
            let value = { (name: String) -> String? in
                guard let text = query[Substring(name)]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
                return text
            }
            var body = lookupForm(order: value("order"), return: value("return"), store: value("store"), day: value("day"))
            if let order = value("order") {
                body += try await orderTimeline(order, store: store, orders: orders)
            } else if let id = value("return") {
                body += try await returnTimeline(id, store: store, orders: orders)
            } else if let location = value("store") {
                guard let day = value("day") else { throw Problem.invalid("a store day needs its day (YYYY-MM-DD)", field: "day") }
                body += try await storeDayTimeline(location, day: day, store: store)
            }
            return page("Lookup", signedIn: true, body)
        }
    }

    static func lookupForm(order: String?, return returnID: String?, store: String?, day: String?) -> String {
        func field(_ name: String, _ label: String, _ value: String?, placeholder: String) -> String {
            "<label>\(label) <input name=\"\(name)\" value=\"\(escape(value ?? ""))\" placeholder=\"\(placeholder)\"></label>"
        }
        return """
            <h1>Lookup</h1>
            <form method="get" action="/ui/lookup">\(field("order", "Order", order, placeholder: "o-… or the channel's number"))\
             <button type="submit">Show the order</button></form>
            <form method="get" action="/ui/lookup">\(field("return", "Return", returnID, placeholder: "r-…"))\
             <button type="submit">Show the return</button></form>
            <form method="get" action="/ui/lookup">\(field("store", "Store", store, placeholder: "store-1")) \
            \(field("day", "business day", day, placeholder: "2026-11-29")) <button type="submit">Show the store day</button></form>
            """
    }

    static func orderTimeline(_ text: String, store: any Store, orders: OrderService) async throws -> String {
        var id = try? OrderID(text)
        var known: OrderRecord?
        if let id { known = try await orders.record(id) }
        if known == nil {
            let found = try await store.orderSummaries(matching: .channelOrderID(text), limit: 2)
            guard let first = found.first else { throw Problem.notFound("no order \(text) (by id or by a channel's order number)") }
            if found.count > 1 { throw Problem.invalid("order number \(text) is in more than one channel; look it up by its id", field: "order") }
            id = first.id
        }
        guard let id, let record = try await orders.record(id) else { throw Problem.notFound("no order \(text)") }
        let events = try await store.readCorrelation(CorrelationID(trusted: id.rawValue), limit: 1_000)
        let jobs = try await store.jobs(partitionKeyPrefix: OrderJobs.partitionPrefix(id), limit: 100)
        let postings = try await FinanceLineage.postings(ofOrder: record, store: store)
        let returns = record.returns.keys.sorted().map { "<a href=\"/ui/lookup?return=\(query($0.rawValue))\">\(escape($0.rawValue))</a>" }
        let order = record.order
        return """
            <h2>Order \(escape(order.channelOrderID)) from \(escape(order.channel.rawValue))</h2>
            <dl><dt>id</dt><dd>\(escape(id.rawValue))</dd><dt>status</dt><dd>\(record.lifecycle.status.rawValue)</dd>\
            <dt>fulfilment</dt><dd>\(order.fulfilment.mode.rawValue)\(order.fulfilment.pickupStore.map { " at \(escape($0.rawValue))" } ?? "")</dd>\
            <dt>total</dt><dd>\(escape("\(order.total)"))</dd>\
            <dt>returns</dt><dd>\(returns.isEmpty ? "none" : returns.joined(separator: ", "))</dd></dl>
            \(timeline(events))
            \(owed(jobs))
            \(money(postings))
            """
    }

    static func returnTimeline(_ text: String, store: any Store, orders: OrderService) async throws -> String {
        guard let id = try? ReturnID(text) else { throw Problem.invalid("'\(text)' is not a return id (r-…)", field: "return") }
        guard let record = try await ReturnService(store: store, orders: orders).record(id) else { throw Problem.notFound("no return \(text)") }
        let request = record.authorization.request
        let events = try await store.readCorrelation(CorrelationID(trusted: id.rawValue), limit: 1_000)
        var jobs: [Job] = []
        if let order = request.order { jobs = try await store.jobs(partitionKeyPrefix: OrderJobs.partitionPrefix(order), limit: 100) }
        let postings = try await FinanceLineage.postings(of: CorrelationID(trusted: id.rawValue), store: store)
        return """
            <h2>Return \(escape(request.channelReturnID)) from \(escape(request.channel.rawValue))</h2>
            <dl><dt>id</dt><dd>\(escape(id.rawValue))</dd><dt>status</dt><dd>\(record.status.rawValue)</dd>\
            <dt>order</dt><dd>\(request.order.map { "<a href=\"/ui/lookup?order=\(query($0.rawValue))\">\(escape($0.rawValue))</a>" } ?? "none (a return without an order)")</dd>\
            <dt>refund</dt><dd>\(record.refundedAt.map { "recorded \(escape($0.ISO8601Format()))" } ?? "not yet")</dd></dl>
            \(timeline(events))
            \(owed(jobs.filter { $0.kind.hasSuffix(".refund") }))
            \(money(postings))
            """
    }

    static func storeDayTimeline(_ text: String, day: String, store: any Store) async throws -> String {
        guard let location = try? LocationID(text) else { throw Problem.invalid("'\(text)' is not a location id", field: "store") }
        guard day.count == 10, day.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil else { throw Problem.invalid("the day is YYYY-MM-DD", field: "day") }
        let events = try await store.readStream(try POSLogIntake.dayStream(location, day: day), fromVersion: 1, limit: 5_000)
        let rows = try await store.journalRows(location: location, businessDay: day)
        let journal = rows.map { row in
            let state = row.document.map { "<span class=\"good\">in the ERP as \(escape($0))</span>" }
                ?? row.summary.map { "in daily summary \(escape($0))" } ?? "<span class=\"bad\">not in the ERP yet</span>"
            return "<tr><td>\(escape(row.id))</td><td>\(row.kind.rawValue)</td><td>\(escape(row.recordedAt.ISO8601Format()))</td>"
                + "<td class=\"number\">\(escape("\(Money(minorUnits: row.total, currency: (try? Currency(row.currency)) ?? .eur))"))</td><td>\(state)</td></tr>"
        }.joined(separator: "\n")
        return """
            <h2>Store \(escape(location.rawValue)), business day \(escape(day))</h2>
            <p>\(events.count) POS transaction\(events.count == 1 ? "" : "s") taken; \(rows.count) journal entr\(rows.count == 1 ? "y" : "ies").</p>
            \(timeline(events))
            <h3>Journal</h3>
            <table><thead><tr><th>entry</th><th>kind</th><th>booked</th><th class="number">total</th><th>ERP</th></tr></thead><tbody>
            \(journal.isEmpty ? "<tr><td colspan=\"5\">no journal entries for this day</td></tr>" : journal)
            </tbody></table>
            """
    }

    /// The events in the order they happened, each with the system it came from.
    static func timeline(_ events: [EventEnvelope]) -> String {
        guard !events.isEmpty else { return "<h3>Timeline</h3><p>no events</p>" }
        let items = events.sorted { ($0.event.occurredAt, $0.position) < ($1.event.occurredAt, $1.position) }.map { event in
            """
            <li><span class="muted">\(escape(event.event.occurredAt.ISO8601Format(.iso8601.time(includingFractionalSeconds: true))))</span> \
            <span class="system">\(escape(event.event.source.rawValue))</span> \(escape(event.type)) \
            <span class="muted">on \(escape(event.stream.rawValue)) · #\(event.position)</span></li>
            """
        }.joined(separator: "\n")
        return "<h3>Timeline across systems</h3><p class=\"muted\">\(escape(events.first!.event.occurredAt.ISO8601Format())) onward</p><ol class=\"timeline\">\n\(items)\n</ol>"
    }

    /// Jobs still in the queue for it: what the hub owes other systems.
    static func owed(_ jobs: [Job]) -> String {
        guard !jobs.isEmpty else { return "<h3>Still owed to other systems</h3><p>nothing: every call for it is done</p>" }
        let rows = jobs.map { job in
            "<tr><td><a href=\"/ui/jobs/\(query(job.id.rawValue))\">\(escape(job.kind))</a></td><td class=\"\(job.state == .dead ? "bad" : "")\">\(job.state.rawValue)</td>"
                + "<td class=\"number\">\(job.attempts)</td><td>\(escape(job.lastError ?? "-"))</td></tr>"
        }.joined(separator: "\n")
        return """
            <h3>Still owed to other systems</h3>
            <table><thead><tr><th>job</th><th>state</th><th class="number">attempts</th><th>last error</th></tr></thead><tbody>
            \(rows)
            </tbody></table>
            """
    }

    /// Its journal entries and where they went.
    static func money(_ postings: [FinanceLineage.Posting]) -> String {
        guard !postings.isEmpty else { return "<h3>Journal</h3><p>no journal entries yet</p>" }
        let rows = postings.map { posting in
            let entry = posting.entry
            let state = posting.posted.map { "<span class=\"good\">posted to \(escape($0.system.rawValue)) as \(escape($0.document))</span>" }
                ?? posting.summary.map { "in daily summary \(escape($0))" } ?? "<span class=\"bad\">queued for the ERP</span>"
            return "<tr><td>\(escape(entry.id))</td><td>\(entry.kind.rawValue)</td><td>\(escape(entry.businessDay))</td>"
                + "<td class=\"number\">\(escape("\(Money(minorUnits: entry.total, currency: entry.currency))"))</td><td>\(state)</td></tr>"
        }.joined(separator: "\n")
        return """
            <h3>Journal</h3>
            <table><thead><tr><th>entry</th><th>kind</th><th>business day</th><th class="number">total</th><th>ERP</th></tr></thead><tbody>
            \(rows)
            </tbody></table>
            """
    }
}
