import Foundation
import HTTPTypes
import Hummingbird
import TillwireAPI
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// A synthetic workload for fault drills, enabled by `tillwire serve --drill`: it exercises every engine path that
/// a real flow uses, so that kill -9 drills can check the hub's promises without a real shop or ERP. Not for
/// business data: its route is unauthenticated.
///
/// `POST /drill/messages` with an `Idempotency-Key` header and `{"group": 0-999, "fail": false}` commits, in one
/// transaction: a `drill.received` event, a `drill.flow` workflow run (reserve → confirm; `fail: true` makes
/// confirm fail for good, so the run compensates), and a `drill.deliver` job in partition `drill-group-<group>`.
/// Answers 202 once committed, 200 for a repeat. The `drill.tally` subscription records a `drill.tallied` event
/// for every `drill.received`.
public enum Drill {
    static let source: SystemID = "drill"
    public static let tallySubscriber = "drill.tally"

    struct Message: Codable {
        var group: Int
        var fail: Bool
    }

    public static var workflow: WorkflowDefinition {
        // The drill kills the hub on purpose, up to 20 times in a test: a job in flight at a kill spends an attempt (a
        // crash counts, so that a job that crashes the hub every time is parked), and a drill job must not run out of
        // attempts by being in flight at five of the drill's own kills (seen in CI under load).
        WorkflowDefinition(type: "drill.flow", maxAttempts: 25, steps: [
            .action("reserve", run: { context in
                WorkflowStepResult(effects: Commit(events: [event("drill.reserved", context)]))
            }, compensate: { context in
                Commit(events: [event("drill.released", context)])
            }),
            .action("confirm", run: { context in
                let message = try JSONDecoder().decode(Message.self, from: context.run.input)
                if message.fail { throw JobError.terminal("drill: confirm refused on purpose") }
                return WorkflowStepResult(effects: Commit(events: [event("drill.confirmed", context)]))
            }),
        ])
    }

    static func event(_ type: String, _ context: WorkflowContext) -> EventAppend {
        EventAppend(NewEvent(
            type: type, stream: StreamID(trusted: context.run.correlationID.rawValue), correlationID: context.run.correlationID,
            occurredAt: context.now, source: source, payload: Data()))
    }

    /// Delivers a message to its group's stream, in partition order.
    public struct Deliver: JobHandler {
        public let kind = "drill.deliver"
        public init() {}
        public func handle(_ job: Job) async throws -> Commit {
            try await Task.sleep(for: .microseconds(Int.random(in: 0...3_000)))
            return Commit(events: [EventAppend(NewEvent(
                type: "drill.delivered", stream: StreamID(trusted: "drill-delivered-" + (job.partitionKey ?? "none")),
                correlationID: "drill-deliveries", occurredAt: Date(), source: source, payload: job.payload))])
        }
    }

    /// Records one `drill.tallied` event per `drill.received`.
    public struct Tally: EventHandler {
        public init() {}
        public var commitsInBatches: Bool { true }
        public func handle(_ event: EventEnvelope) async throws -> Commit {
            guard event.type == "drill.received" else { return Commit() }
            return Commit(events: [EventAppend(NewEvent(
                type: "drill.tallied", stream: "drill-tally", correlationID: event.event.correlationID, occurredAt: Date(),
                source: source, payload: Data(event.stream.rawValue.utf8)))])
        }
    }

    static func addRoutes(to router: Router<HubRequestContext>, store: any Store) {
        router.post("/drill/messages") { request, context -> Response in
            guard let key = request.headers[HTTPField.Name("Idempotency-Key")!], !key.isEmpty, key.utf8.count <= 100,
                  key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw HTTPError(.badRequest, message: "an Idempotency-Key of 1-100 letters, digits, - or _ is required")
            }
            let message = try await request.decode(as: Message.self, context: context)
            guard (0..<1_000).contains(message.group) else { throw HTTPError(.badRequest, message: "group is 0-999") }
            let flow = CorrelationID(trusted: "drill-\(key)")
            let now = Date()
            var commit = Commit(
                inbox: InboxKey(source: source, messageKey: key),
                events: [EventAppend(NewEvent(
                    type: "drill.received", stream: StreamID(trusted: flow.rawValue), correlationID: flow, occurredAt: now,
                    source: source, payload: Data()))],
                jobs: [NewJob(
                    kind: "drill.deliver", payload: Data(key.utf8), partitionKey: "drill-group-\(message.group)",
                    uniqueKey: "drill-deliver-\(key)", runAt: now, maxAttempts: 25)])
            commit.startWorkflow(
                workflow, id: WorkflowRunID(trusted: flow.rawValue), input: try JSONEncoder().encode(message),
                correlationID: flow, now: now)
            switch try await store.commit(commit) {
            case .committed: return Response(status: .accepted)
            case .duplicate: return Response(status: .ok)
            }
        }
    }
}
