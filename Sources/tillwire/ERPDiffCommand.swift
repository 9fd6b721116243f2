import ArgumentParser
import Foundation
import TillwireApp
import TillwireEngine

struct ERPDiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erp-diff",
        abstract: "During an ERP migration: where the shadow ERP disagrees with the primary (missing documents, different totals).",
        discussion: """
            Every journal entry the hub posted to the primary ERP on the business days --from … --to (at most 31) is \
            looked up in both ERPs by its reference; an entry the shadow lacks, one the primary lacks, and totals that \
            differ are listed, one line each. Entries the primary has not taken yet are counted, not compared. Asks the \
            ERPs, changes nothing. The same report: GET /v1/finance/erp-diff. Needs tryton.* and tryton_shadow.* \
            (docs/erp-migration.md). Exits 3 when there is a difference, 1 when the comparison could not be made.
            """)

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "The first business day, YYYY-MM-DD.") var from: String
    @Option(help: "The last business day, YYYY-MM-DD (default: --from).") var to: String?

    func validate() throws {
        do {
            _ = try ERPDiff.days(from: from, to: to ?? from)
        } catch let refused as ERPDiffRefused {
            throw ValidationError(refused.description)
        }
    }

    func run() async throws {
        var configuration = try options.load()
        configuration.logLevel = .warning
        let logger = bootstrapLogging(configuration)
        let report = try await Hub.erpDiffReport(configuration, from: from, to: to ?? from, logger: logger)
        print(report.text(), terminator: "")
        if !report.differences.isEmpty { throw ExitCode(3) }
    }
}
