import ArgumentParser
import Foundation
import TillwireApp
import TillwireEngine
import TillwireStorage

struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare what other systems report with the hub's ledger.",
        subcommands: [Inventory.self])

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
