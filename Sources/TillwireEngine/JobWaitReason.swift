import Foundation
import TillwireStorage

/// Why a job is where it is, in words an operator acts on. The CLI (`tillwire jobs show`) and the dashboard use it.
public enum JobWaitReason {
    /// `ahead` is the job it waits behind (`JobQueue.jobAhead(of:)`); `block` the system's maintenance window or
    /// pause, if any, as this process knows it.
    public static func explain(_ job: Job, ahead: Job?, block: SystemBlock?, now: Date) -> String {
        let time = { (date: Date) in date.ISO8601Format() }
        switch job.state {
        case .running:
            return "running on \(job.leaseOwner ?? "?"), attempt \(job.attempts) of \(job.maxAttempts), lease until \(job.leaseExpiresAt.map(time) ?? "?")"
        case .dead:
            var text = "dead after \(job.attempts) attempt\(job.attempts == 1 ? "" : "s"): \(job.lastError ?? "no error recorded")"
            if let key = job.partitionKey { text += "; later jobs of partition \(key) wait behind it" }
            return text + "; run it again with `tillwire dlq replay \(job.id) --by WHO --reason WHY`"
        case .pending:
            if let ahead {
                var text = "waits behind job \(ahead.id) (\(ahead.kind), \(ahead.state.rawValue)"
                if let error = ahead.lastError, ahead.state != .running { text += ": \(error)" }
                return text + ") of partition \(job.partitionKey ?? "?"): jobs of one key run in order"
            }
            if let block { return "waits: \(block)" }
            if job.runAt > now {
                if let reason = job.waitReason { return "put back without spending an attempt (\(reason)); due \(time(job.runAt))" }
                if let error = job.lastError {
                    return "attempt \(job.attempts + 1) of \(job.maxAttempts) due \(time(job.runAt)), after: \(error)"
                }
                return "scheduled for \(time(job.runAt))"
            }
            return "due since \(time(job.runAt)); waits for a free worker"
        }
    }
}
