import ArgumentParser
import Foundation
import TillwireApp

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply POSLog (*.xml) and CSV (*.csv) files now, as the drop folder would, without moving them.",
        discussion: """
            For a backfill or a file sent by hand. Each file is applied once: the same transactions, rows or file \
            content again change nothing (docs/connectors/poslog.md, csv.md). A file refused as a whole applies nothing \
            and its reason is printed; rows refused one by one are listed in <file>.errors.txt beside it. Progress of \
            a long file is logged every 5 s. Exits 1 when a file was refused whole.
            """)

    @OptionGroup var options: ConfigurationOptions
    @Argument(help: "The files, in the order to apply them.") var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one file") }
        for file in files where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("\(file) is not a readable file")
        }
    }

    func run() async throws {
        let configuration = try options.load()
        let logger = bootstrapLogging(configuration)
        let refused = try await Hub.importFiles(files, configuration: configuration, logger: logger) { print($0) }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        // ru_maxrss is in kilobytes on Linux.
        print("\(files.count) files, \(refused) refused; peak memory \(usage.ru_maxrss / 1024) MB")
        if refused > 0 { throw ExitCode(1) }
    }
}
