import Foundation
import Logging
import ServiceLifecycle
import TillwireDomain
import TillwireStorage

/// Handles events for one subscription.
public protocol EventHandler: Sendable {
    /// The effects of one event: state changes, events and jobs, committed together with the subscription's
    /// checkpoint. Called at least once per event, in log order; an event may be seen again after a crash or a
    /// failed commit, so effects that leave the hub must go through jobs (enqueued here) with unique keys.
    /// Throwing stops the subscription at this event, which is retried with backoff: no later event is handled
    /// before it (order is kept).
    func handle(_ event: EventEnvelope) async throws -> Commit

    /// True when `handle` reads nothing that an earlier event's effects could change (its effects follow from the
    /// event alone): the effects of a whole batch of events may then commit together, with one checkpoint advance,
    /// instead of one commit per event. Default false.
    var commitsInBatches: Bool { get }
}

extension EventHandler {
    public var commitsInBatches: Bool { false }
}

/// A named reader of the event log with a durable checkpoint: a `Service` that handles every event after its
/// checkpoint, in position order, and commits each event's effects with the checkpoint's advance.
///
/// Guarantees: no event is skipped (positions become visible in order on every backend); each event's effects
/// commit exactly once with the checkpoint (a second instance of the same subscriber that races it is refused
/// with `checkpointMoved` and re-reads); a new event wakes the subscription through the store's `EventSignal`,
/// with a poll every `pollInterval` as the fallback.
public struct Subscription: Service {
    public struct Configuration: Sendable {
        /// Events read per query. Default 100.
        public var batchSize: Int
        /// The longest sleep without a signal. Default 1 s.
        public var pollInterval: Duration
        /// Backoff while a handler keeps failing on one event.
        public var retry: RetryPolicy
        /// How long this instance holds the subscriber once leased (renewed every third); when it dies, another
        /// instance takes over after this. Default 15 s.
        public var lease: Duration
        /// Names this hub instance in the lease. A restarted instance with the same id takes its lease back at once
        /// instead of waiting for it to lapse; so ids must differ between instances that run at the same time.
        /// Default: a random id (a restart then waits for the lease).
        public var instance: String

        public init(
            batchSize: Int = 100, pollInterval: Duration = .seconds(1),
            retry: RetryPolicy = RetryPolicy(base: .milliseconds(100), maximum: .seconds(60)), lease: Duration = .seconds(15),
            instance: String = "instance-" + EventID.random().rawValue.prefix(8)
        ) {
            self.batchSize = batchSize
            self.pollInterval = pollInterval
            self.retry = retry
            self.lease = lease
            self.instance = instance
        }
    }

    public let name: String
    let store: any Store
    let handler: any EventHandler
    let configuration: Configuration
    let logger: Logger

    public init(name: String, store: any Store, handler: any EventHandler, configuration: Configuration = Configuration(), logger: Logger) {
        self.name = name
        self.store = store
        self.handler = handler
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "subscription"] = "\(name)"
        self.logger = logger
    }

    public func run() async throws {
        var failures = 0
        var renewAt = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let seen = store.eventSignal.generation
            do {
                if ContinuousClock.now >= renewAt {
                    // One instance at a time does the work; the others stand by and take over when its lease lapses.
                    guard try await store.leaseSubscription(name, owner: configuration.instance, lease: configuration.lease, now: Date()) else {
                        try await cancelWhenGracefulShutdown { try await Task.sleep(for: configuration.lease / 3) }
                        continue
                    }
                    renewAt = ContinuousClock.now + configuration.lease / 3
                }
                let handled = try await runOnce()
                failures = 0
                if handled == 0 {
                    await store.eventSignal.wait(newerThan: seen, timeout: configuration.pollInterval)
                }
            } catch is CancellationError {
                return
            } catch StorageError.checkpointMoved {
                // An instance that held the subscriber before this one committed late: read on from where it got.
                continue
            } catch {
                failures += 1
                var random = SystemRandomNumberGenerator()
                let next = configuration.retry.nextAttempt(after: failures, now: Date(), using: &random)
                logger.warning("subscription stopped at an event; retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                try? await Task.sleep(for: .milliseconds(Int64(max(0, next.timeIntervalSinceNow) * 1000)))
            }
        }
    }

    /// Handles the events after the checkpoint, one batch; returns how many were handled. Throws the first
    /// handler or storage error, leaving the checkpoint at the last event that committed.
    ///
    /// For a handler that `commitsInBatches`, the effects of consecutive events merge into one commit with one
    /// checkpoint advance; an effect with an inbox key or inventory changes still commits on its own, in order.
    @discardableResult
    public func runOnce() async throws -> Int {
        var checkpoint = try await store.checkpoint(name)
        let events = try await store.readAll(after: checkpoint, limit: configuration.batchSize)
        var merged = Commit()
        var mergedUpTo: Int64?
        func flush() async throws {
            guard let last = mergedUpTo else { return }
            merged.checkpoint = CheckpointAdvance(subscriber: name, from: checkpoint, to: last)
            _ = try await store.commit(merged)
            checkpoint = last
            merged = Commit()
            mergedUpTo = nil
        }
        for event in events {
            var effects = try await handler.handle(event)
            if handler.commitsInBatches, effects.inbox == nil, effects.inventory.isEmpty, effects.inventoryEvents == nil, effects.checkpoint == nil {
                merged.events += effects.events
                merged.jobs += effects.jobs
                merged.catalog += effects.catalog
                merged.workflows += effects.workflows
                merged.orders += effects.orders
                merged.journal += effects.journal
                merged.pricing += effects.pricing
                merged.access += effects.access
                merged.audit += effects.audit
                mergedUpTo = event.position
                continue
            }
            try await flush()
            let advance = CheckpointAdvance(subscriber: name, from: checkpoint, to: event.position)
            effects.checkpoint = advance
            if case .duplicate = try await store.commit(effects) {
                // The effects were applied before (their inbox key was seen): move the checkpoint alone.
                _ = try await store.commit(Commit(checkpoint: advance))
            }
            checkpoint = event.position
        }
        try await flush()
        return events.count
    }
}
