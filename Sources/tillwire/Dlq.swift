import ArgumentParser
import Foundation
import Logging
import TillwireApp
import TillwireStorage

struct Dlq: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Dead letters: jobs that failed for good. List them, show one, replay them.",
        discussion: """
            A job is dead after a terminal error (a 4xx other than 408 and 429) or when its attempts ran out. Jobs of \
            the same partition key (an order, a store day) wait behind a dead one until it is replayed. Kinds are \
            named <system>.<action>, so --system erp matches erp.post_sale.
            """,
        subcommands: [List.self, Show.self, Replay.self])

    struct Filter: ParsableArguments {
        @Option(help: "Only this job kind, e.g. erp.post_sale.") var kind: String?
        @Option(help: "Only kinds of this system, e.g. erp.") var system: String?
        @Option(help: ArgumentHelp("Died at or after this time (ISO 8601, e.g. 2026-11-27T08:00:00Z).", valueName: "time")) var since: String?
        @Option(help: ArgumentHelp("Died before this time (ISO 8601).", valueName: "time")) var until: String?
        @Option(help: "At most this many, oldest first.") var limit = 100

        func filter() throws -> DeadJobFilter {
            func time(_ text: String?, _ name: String) throws -> Date? {
                guard let text else { return nil }
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    throw ValidationError("--\(name) must be an ISO 8601 time like 2026-11-27T08:00:00Z, got '\(text)'")
                }
                return date
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
            return DeadJobFilter(kind: kind, system: system, since: try time(since, "since"), until: try time(until, "until"), limit: limit)
        }
    }

    static func withStore<T>(_ options: ConfigurationOptions, _ body: (any Store) async throws -> T) async throws -> T {
        var configuration = try options.load()
        configuration.logLevel = .warning
        let store = try await Hub.openStore(configuration, logger: bootstrapLogging(configuration))
        do {
            let value = try await body(store)
            try await store.close()
            return value
        } catch {
            try? await store.close()
            throw error
        }
    }

    static func line(_ job: Job) -> String {
        let died = ISO8601DateFormatter().string(from: job.runAt)
        return "\(job.id)  \(job.kind)  attempts \(job.attempts)/\(job.maxAttempts)  key \(job.partitionKey ?? "-")  last run \(died)  \(job.lastError ?? "")"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead jobs, oldest first.")
        @OptionGroup var options: ConfigurationOptions
        @OptionGroup var filter: Filter

        func run() async throws {
            let jobs = try await Dlq.withStore(options) { try await $0.deadJobs(matching: try filter.filter()) }
            for job in jobs { print(Dlq.line(job)) }
            print("\(jobs.count) dead job\(jobs.count == 1 ? "" : "s")")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job with its payload and replay history.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The job id.") var id: String

        func run() async throws {
            try await Dlq.withStore(options) { store in
                guard let job = try await store.job(JobID(trusted: id)) else {
                    throw StartupError("no job \(id) (completed jobs are deleted)")
                }
                try await Dlq.show(job, store: store, why: nil)
            }
        }
    }

    static func show(_ job: Job, store: any Store, why: String?) async throws {
        print("""
            id:          \(job.id)
            kind:        \(job.kind)
            state:       \(job.state.rawValue)
            attempts:    \(job.attempts) of \(job.maxAttempts)
            partition:   \(job.partitionKey ?? "-")
            unique key:  \(job.uniqueKey ?? "-")
            created:     \(ISO8601DateFormatter().string(from: job.createdAt))
            due:         \(ISO8601DateFormatter().string(from: job.runAt))
            last error:  \(job.lastError ?? "-")
            """)
        if let why { print("why:         \(why)") }
        print("payload:     \(String(decoding: job.payload, as: UTF8.self))")
        for replay in try await store.replays(of: job.id) {
            print("replayed:    \(ISO8601DateFormatter().string(from: replay.replayedAt)) by \(replay.replayedBy): \(replay.reason) (had failed with: \(replay.previousError ?? "-"))")
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run dead jobs again: by id, or every dead job matching the filter. Each replay is audited.")
        @OptionGroup var options: ConfigurationOptions
        @OptionGroup var filter: Filter
        @Argument(help: "Job ids; leave out to replay every dead job matching the filter.") var ids: [String] = []
        @Option(help: "Who replays (kept in the audit).") var by: String
        @Option(help: "Why (kept in the audit).") var reason: String
        @Flag(help: "Only list what would be replayed.") var dryRun = false

        func run() async throws {
            try await Dlq.withStore(options) { store in
                let targets: [Job]
                if ids.isEmpty {
                    targets = try await store.deadJobs(matching: try filter.filter())
                } else {
                    var found: [Job] = []
                    for id in ids {
                        guard let job = try await store.job(JobID(trusted: id)), job.state == .dead else {
                            throw StartupError("job \(id) is not a dead job")
                        }
                        found.append(job)
                    }
                    targets = found
                }
                for job in targets { print((dryRun ? "would replay " : "replaying ") + Dlq.line(job)) }
                guard !dryRun else {
                    print("dry run: \(targets.count) job\(targets.count == 1 ? "" : "s") would be replayed")
                    return
                }
                let replayed = try await store.replayDeadJobs(targets.map(\.id), by: by, reason: reason, now: Date())
                _ = try await store.commit(Commit(audit: [AuditEntry(
                    at: Date(), actor: "cli:\(by)", action: "dlq.replay", target: replayed.map(\.rawValue).joined(separator: " "),
                    outcome: "ok", detail: "replayed \(replayed.count) of \(targets.count): \(reason)")]))
                print("replayed \(replayed.count) of \(targets.count)")
            }
        }
    }
}
