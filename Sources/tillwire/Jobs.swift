import ArgumentParser
import Foundation
import TillwireApp
import TillwireEngine
import TillwireStorage

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Jobs in the queue, and why each one waits.",
        discussion: """
            A pending job waits for its time (a retry's backoff, a timer), behind an older job of its partition key \
            (an order, a store day: jobs of one key run in order), or for its system. Of its system, this command \
            sees the maintenance windows (from the configuration) and the reason saved on a job that was put back \
            (an open circuit or a 429's Retry-After, as it was then); open circuits and Retry-After pauses live in \
            the memory of each running hub, so ask GET /v1/jobs or /ui/jobs on the running hub for them. Finished \
            jobs are deleted; dead ones are handled with `tillwire dlq`.
            """,
        subcommands: [List.self, Show.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs in a state, oldest due first, with why each waits.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "pending, running or dead.") var state: String = "pending"
        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            guard let state = JobState(rawValue: state) else {
                throw ValidationError("--state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", ")), got '\(state)'")
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
            let configuration = try options.load()
            try await Dlq.withStore(options) { store in
                let jobs = try await store.jobs(in: state, limit: limit)
                let gate = SystemGate(policies: configuration.systems)
                for job in jobs {
                    let why = try await Jobs.explain(job, store: store, gate: gate)
                    print("\(job.id)  \(job.kind)  key \(job.partitionKey ?? "-")  \(why)")
                }
                print("\(jobs.count) \(state.rawValue) job\(jobs.count == 1 ? "" : "s")")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job: its payload, why it waits, its replay history.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The job id.") var id: String

        func run() async throws {
            let configuration = try options.load()
            try await Dlq.withStore(options) { store in
                guard let job = try await store.job(JobID(trusted: id)) else {
                    throw StartupError("no job \(id) (completed jobs are deleted)")
                }
                try await Dlq.show(job, store: store, why: try await Jobs.explain(job, store: store, gate: SystemGate(policies: configuration.systems)))
            }
        }
    }

    static func explain(_ job: Job, store: any Store, gate: SystemGate) async throws -> String {
        let ahead = job.state == .pending && job.partitionKey != nil ? try await store.jobAhead(of: job.id) : nil
        let now = Date()
        return JobWaitReason.explain(job, ahead: ahead, block: gate.block(SystemGate.system(ofKind: job.kind), at: now), now: now)
    }
}
