import Foundation
import Hummingbird
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// `/ui/overview` (flow health, key figures, service levels, orders), `/ui/store-agents`, and `/ui/lookup` (an
/// order, a return or a store day as a timeline across systems).
extension OperationsPages {
    static func addOverview(to pages: RouterGroup<HubRequestContext>, store: any Store, operations: OperationsMonitor?, storeAgents: StoreAgents?) {
        pages.get("/overview") { _, _ -> Response in
            guard let operations else {
                return page("Overview", signedIn: true, "<h1>Overview</h1><p>This hub runs without its operations monitor.</p>")
            }
            let snapshot = try await operations.read()
            let history = operations.history.all + [snapshot]
            let agents = try await storeAgents?.statuses() ?? []
            return page("Overview", signedIn: true, """
                <h1>Overview</h1>
                <p class="muted">As of \(snapshot.at.ISO8601Format()). Charts: the last \(history.count) readings, one every \(age(operations.interval.timeInterval)).</p>
                <h2>Key figures</h2>
                <div class="cards">
                \(card("jobs waiting", "\(snapshot.backlog)", history.map { Double($0.backlog) }, link: "/ui/jobs"))
                \(card("oldest waiting job", age(snapshot.oldestPending.timeInterval), history.map { $0.oldestPending.timeInterval }))
                \(card("dead letters", "\(snapshot.deadLetters.values.reduce(0, +))", history.map { Double($0.deadLetters.values.reduce(0, +)) },
                       link: "/ui/jobs?state=dead", bad: !snapshot.deadLetters.isEmpty))
                \(card("orders aging (unchanged \(age(snapshot.agingAfter.timeInterval)))", "\(snapshot.ordersAging)",
                       history.map { Double($0.ordersAging) }, bad: snapshot.ordersAging > 0))
                \(card("journal entries not in the ERP", "\(snapshot.journal.queued)", history.map { Double($0.journal.queued) }))
                \(card("oldest unposted entry", snapshot.journal.oldestQueued.map { age(snapshot.at.timeIntervalSince($0)) } ?? "none",
                       history.map { s in s.journal.oldestQueued.map { s.at.timeIntervalSince($0) } ?? 0 }))
                \(card("store days not in the ERP", "\(snapshot.journal.unpostedStoreDays)", history.map { Double($0.journal.unpostedStoreDays) }))
                \(card("store agents offline", "\(agents.filter { $0.state == .offline }.count) of \(agents.count)", [],
                       link: "/ui/store-agents", bad: agents.contains { $0.state == .offline }))
                </div>
                \(flowHealth(snapshot))
                \(serviceLevels(snapshot, history: history))
                \(orderTable(snapshot))
                """)
        }

        pages.get("/store-agents") { _, _ -> Response in
            guard let storeAgents else {
                return page("Store agents", signedIn: true, "<h1>Store agents</h1><p>This hub runs without store agents.</p>")
            }
            let now = Date()
            let rows = try await storeAgents.statuses().map { status in
                let report = status.report
                return """
                    <tr><td>\(escape(status.store.rawValue))</td>\
                    <td class="\(status.state == .online ? "good" : "bad")">\(status.state == .online ? "online" : "offline since \(escape(status.lastContactAt.ISO8601Format()))")\
                    \(status.alerted ? " (alerted)" : "")</td>\
                    <td>\(age(now.timeIntervalSince(status.lastContactAt))) ago</td>\
                    <td class="number">\(report.queueDepth)</td>\
                    <td>\(report.oldestUnsentAt.map { age(now.timeIntervalSince($0)) } ?? "-")</td>\
                    <td class="number">\(report.forwardedThrough)</td><td class="number">\(report.refused)</td></tr>
                    """
            }.joined(separator: "\n")
            return page("Store agents", signedIn: true, """
                <h1>Store agents</h1>
                <p class="muted">Each store's agent reports every 10 s; one not heard from for a while is offline, and its tills keep \
                selling into its queue (docs/store-agent.md).</p>
                <table><thead><tr><th>store</th><th>state</th><th>last report</th><th class="number">transactions queued</th>\
                <th>oldest unsent</th><th class="number">forwarded through</th><th class="number">refused</th></tr></thead><tbody>
                \(rows.isEmpty ? "<tr><td colspan=\"7\">no store agent has reported yet</td></tr>" : rows)
                </tbody></table>
                """)
        }
    }

    static func flowHealth(_ snapshot: OperationsSnapshot) -> String {
        // Every system with a gate, and every system that has jobs queued (workflows, finance, the channels).
        var names = snapshot.systems.map(\.name)
        for job in snapshot.jobs where !names.contains(SystemGate.system(ofKind: job.kind)) { names.append(SystemGate.system(ofKind: job.kind)) }
        let rows = names.sorted().map { name in
            let reading = snapshot.systems.first { $0.name == name }
            let jobs = snapshot.jobs.filter { SystemGate.system(ofKind: $0.kind) == name }
            let pending = jobs.filter { $0.state == .pending }
            let oldest = pending.compactMap(\.oldestDueAt).min()
            let dead = snapshot.deadLetters[name] ?? 0
            let circuit: String = switch reading?.breaker {
            case .open(let until): "<span class=\"bad\">open until \(escape(until.ISO8601Format()))</span>"
            case .halfOpen: "half-open (probing)"
            case .closed: "<span class=\"good\">closed</span>"
            case nil: "<span class=\"muted\">no gate</span>"
            }
            let work = reading?.block.map { "<span class=\"bad\">held: \(escape($0.cause.rawValue)) until \(escape($0.until.ISO8601Format()))</span>" } ?? "flowing"
            return """
                <tr><td>\(escape(name))</td><td>\(circuit)</td><td>\(work)</td>\
                <td class="number">\(pending.reduce(0) { $0 + $1.count })</td>\
                <td>\(oldest.map { age(snapshot.at.timeIntervalSince($0)) } ?? "-")</td>\
                <td class="number">\(dead == 0 ? "0" : "<a class=\"bad\" href=\"/ui/jobs?state=dead\">\(dead)</a>")</td></tr>
                """
        }.joined(separator: "\n")
        let lags = snapshot.subscriptionLag.sorted { $0.key < $1.key }.map { name, lag in
            "<tr><td>\(escape(name))</td><td class=\"number\">\(lag)</td></tr>"
        }.joined(separator: "\n")
        return """
            <h2>Flow health</h2>
            <table><thead><tr><th>system</th><th>circuit</th><th>work toward it</th><th class="number">jobs waiting</th>\
            <th>oldest waiting</th><th class="number">dead letters</th></tr></thead><tbody>
            \(rows.isEmpty ? "<tr><td colspan=\"6\">no systems configured and no jobs queued</td></tr>" : rows)
            </tbody></table>
            <table><thead><tr><th>subscription</th><th class="number">events behind the log</th></tr></thead><tbody>
            \(lags)
            </tbody></table>
            """
    }

    static func serviceLevels(_ snapshot: OperationsSnapshot, history: [OperationsSnapshot]) -> String {
        let rows = snapshot.serviceLevels.map { reading in
            let objective = reading.objective
            let watched = objective.metric + (objective.match.isEmpty ? "" : " {" + objective.match.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "}")
            let series = history.compactMap { $0.serviceLevels.first { $0.objective.name == objective.name }?.compliance }
            let total = reading.good + reading.bad
            return """
                <tr><td>\(escape(objective.name))</td><td><code>\(escape(watched))</code> ≤ \(age(objective.threshold.timeInterval))</td>\
                <td class="number">\(percent(objective.objective))</td>\
                <td class="number \(reading.met ? "good" : "bad")">\(total == 0 ? "no data" : percent(reading.compliance))</td>\
                <td class="number">\(total == 0 ? "-" : String(format: "%.2f", reading.burnRate))</td>\
                <td class="number">\(total)</td><td>\(sparkline(series))</td></tr>
                """
        }.joined(separator: "\n")
        return """
            <h2>Service levels</h2>
            <p class="muted">Over the last \(snapshot.serviceLevels.first.map { age($0.window.timeInterval) } ?? "hour") on this instance; burn rate 1 spends the error budget exactly over the window, \
            above 1 it runs out early. Prometheus judges longer windows across instances from <code>tillwire_slo_events_total</code>.</p>
            <table><thead><tr><th>objective</th><th>what must hold</th><th class="number">objective</th><th class="number">compliance</th>\
            <th class="number">burn rate</th><th class="number">recordings</th><th>compliance, recent readings</th></tr></thead><tbody>
            \(rows.isEmpty ? "<tr><td colspan=\"7\">no objectives configured</td></tr>" : rows)
            </tbody></table>
            """
    }

    static func orderTable(_ snapshot: OperationsSnapshot) -> String {
        let rows = OrderStatus.allCases.compactMap { status -> String? in
            guard let statistic = snapshot.orders[status] else { return nil }
            let aging = status.waitsOnTheEstate ? "\(statistic.unchanged)" : "-"
            return """
                <tr><td>\(status.rawValue)</td><td class="number">\(statistic.count)</td>\
                <td>\(age(snapshot.at.timeIntervalSince(statistic.oldestChange)))</td>\
                <td class="number\(statistic.unchanged > 0 && aging != "-" ? " bad" : "")">\(aging)</td></tr>
                """
        }.joined(separator: "\n")
        return """
            <h2>Orders by status</h2>
            <table><thead><tr><th>status</th><th class="number">orders</th><th>oldest unchanged for</th>\
            <th class="number">aging</th></tr></thead><tbody>
            \(rows.isEmpty ? "<tr><td colspan=\"4\">no orders yet</td></tr>" : rows)
            </tbody></table>
            <p><a href="/ui/lookup">Look up an order, a return or a store day</a></p>
            """
    }

    static func card(_ label: String, _ value: String, _ series: [Double], link: String? = nil, bad: Bool = false) -> String {
        let shown = link.map { "<a href=\"\($0)\">\(escape(value))</a>" } ?? escape(value)
        return """
            <div class="card"><div class="label">\(escape(label))</div><div class="value\(bad ? " bad" : "")">\(shown)</div>\(sparkline(series))</div>
            """
    }

    /// A small line chart as inline SVG (no script): the series scaled to its own range.
    static func sparkline(_ values: [Double], width: Int = 160, height: Int = 28) -> String {
        guard values.count >= 2 else { return "<span class=\"muted\">(chart after two readings)</span>" }
        let low = values.min()!, high = values.max()!
        let span = high - low
        let points = values.enumerated().map { index, value in
            let x = Double(index) * Double(width) / Double(values.count - 1)
            let y = span == 0 ? Double(height) / 2 : Double(height) - 2 - (value - low) / span * Double(height - 4)
            return String(format: "%.1f,%.1f", x, y)
        }.joined(separator: " ")
        return """
            <svg class="spark" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" role="img" \
            aria-label="from \(format(values.first!)) to \(format(values.last!)), range \(format(low))-\(format(high))"><polyline points="\(points)"/></svg>
            """
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.3g", value)
    }

    static func percent(_ share: Double) -> String {
        String(format: share >= 0.999 && share < 1 ? "%.2f%%" : "%.1f%%", share * 100)
    }

    /// A duration as a person reads it: 45 s, 12 min, 3 h, 2 d.
    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<1: return seconds <= 0 ? "0 s" : "\(Int((seconds * 1_000).rounded())) ms"
        case ..<120: return "\(Int(seconds)) s"
        case ..<(2 * 3600): return "\(Int(seconds / 60)) min"
        case ..<(2 * 86_400): return "\(Int(seconds / 3600)) h"
        default: return "\(Int(seconds / 86_400)) d"
        }
    }
}
