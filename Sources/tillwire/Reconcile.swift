import ArgumentParser
import Foundation
import TillwireApp
import TillwireDomain
import TillwireEngine
import TillwireStorage

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare what other systems report with the hub's ledger.",
        subcommands: [Inventory.self, Finance.self])

    struct Finance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One store's business day in finance: source totals per tender and tax rate against what was booked and posted.",
            discussion: """
                The source column is rebuilt from the documents themselves (each order's shipment, each return), the \
                booked column sums the journal entries, the posted column what the ERP has (on its own or in a posted \
                daily summary). Every document that is unposted, waiting for its day to close, or booked differently from \
                its source is listed. Business days are in finance.time_zone. The same report: GET /v1/finance/reconciliation.
                """)
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "The store or location (its id); omit for the channels' entries without a location.") var store: String?
        @Option(help: "The business day, YYYY-MM-DD.") var day: String

        func run() async throws {
            guard day.count == 10, day.split(separator: "-").count == 3 else {
                throw ValidationError("--day must be a business day like 2026-11-29, got '\(day)'")
            }
            let location = try store.map { text in
                do { return try LocationID(text) } catch { throw ValidationError("--store: \(error)") }
            }
            let configuration = try options.load()
            try await Dlq.withStore(options) { store in
                let orders = OrderService(store: store, policy: configuration.orders)
                let report = try await FinanceReconciliation.build(
                    location: location, businessDay: day, store: store, orders: orders,
                    returns: ReturnService(store: store, orders: orders, policy: configuration.returns), chart: configuration.finance.chart, now: Date())
                print(report.text(), terminator: "")
            }
        }
    }

    struct Inventory: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where counts from each system (POS, ERP, cycle counts) disagreed with the ledger, worst first.",
            discussion: """
                One line per location and reporting system: how many counts disagreed, the units off in all (and net: \
                negative when the system saw less than the hub, e.g. shrinkage or sales it never sent), how many were \
                alerts (inventory.divergence_alert_units), the largest difference and when the last one was. Read from \
                the inventory.divergence_detected events; each count already corrected the ledger when it arrived.
                """)
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Only counts as of this time or later (ISO 8601, e.g. 2026-11-01T00:00:00Z).") var since: String?

        func run() async throws {
            var from: Date?
            if let since {
                guard let date = ISO8601DateFormatter().date(from: since) else {
                    throw ValidationError("--since must be an ISO 8601 time like 2026-11-01T00:00:00Z, got '\(since)'")
                }
                from = date
            }
            try await Dlq.withStore(options) { store in
                var reported = 0
                let report = try await InventoryReconciliation.build(from: store, since: from) { read in
                    if read - reported >= 100_000 {
                        FileHandle.standardError.write(Data("read \(read) events…\n".utf8))
                        reported = read
                    }
                }
                print(report.text(), terminator: "")
            }
        }
    }
}
