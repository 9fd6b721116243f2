import ArgumentParser
import Foundation
import Logging
import TillwireApp
import TillwireDomain
import TillwireStorage

/// Appends events from concurrent writers and prints `ack <event id>` the moment each commit returned, i.e. is
/// durable. The crash test kills this process with SIGKILL mid-stream and checks that every acknowledged event is
/// in the store when it is reopened.
struct ProbeAppend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-append",
        abstract: "Durability probe: append events and print each acknowledgement (used by the crash test).",
        shouldDisplay: false)

    @OptionGroup var options: ConfigurationOptions
    @Option(help: "Events to append in all.") var count = 10_000
    @Option(help: "Concurrent writers.") var writers = 16
    @Option(help: "Streams are named <prefix>-<writer>.") var streamPrefix = "probe"

    func run() async throws {
        var configuration = try options.load()
        configuration.logLevel = .warning
        let logger = bootstrapLogging(configuration)
        let store = try await Hub.openStore(configuration, logger: logger)
        let output = FileHandle.standardOutput
        let perWriter = max(1, count / writers)
        let streamPrefix = streamPrefix
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for n in 0..<perWriter {
                        let event = NewEvent(
                            type: "probe.appended", stream: StreamID(trusted: "\(streamPrefix)-\(writer)"),
                            correlationID: "probe", occurredAt: Date(), source: "probe",
                            payload: Data(#"{"writer":\#(writer),"n":\#(n)}"#.utf8))
                        _ = try await store.commit(Commit(events: [EventAppend(event)]))
                        output.write(Data("ack \(event.id.rawValue)\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await store.close()
    }
}
