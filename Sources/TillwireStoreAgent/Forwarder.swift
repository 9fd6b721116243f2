import Foundation
import Logging
import ServiceLifecycle
import TillwireAPI
import TillwireDomain
import TillwireStorage

/// Whether the hub answered lately, shared by the agent's loops and its status page.
public actor LinkState {
    public private(set) var online = false
    public private(set) var lastError: String?
    public private(set) var lastFailureAt: Date?

    public init() {}

    func succeeded() {
        online = true
        lastError = nil
    }

    func failed(_ reason: String, at: Date) {
        online = false
        lastError = reason
        lastFailureAt = at
    }
}

/// One turn at a time between a forward (from sending a batch until its answer is noted) and the part of a refresh
/// that decides which transactions the hub's figures hold (from reading what is settled to the end of the feed).
/// Without it, a batch the hub applied during a refresh would be in the figures read and still be added to them.
public actor Turn {
    var busy = false
    var waiting: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}

/// Forwards the queue to the hub, strictly in the order the tills took it: the oldest waiting transactions go first,
/// as one request while they are of one kind, and nothing later is sent before they are settled (acknowledged, or
/// refused for good). An answer that does not come (a dead link, a hub that died mid-request) leaves the batch
/// waiting, and the same items go again: the hub applies each item once by its source key, so a repeat changes
/// nothing. A crash of the agent between the hub's answer and the agent's note of it is the same repeat.
public struct Forwarder: Service {
    public struct Policy: Sendable {
        /// Items per hub request (the hub takes at most 1,000). Default 1,000.
        public var batchItems: Int
        /// Bytes of items per hub request (the hub's `api.max_body_bytes` is 1 MiB by default). Default 512 KiB.
        public var batchBytes: Int
        /// The first wait after a failed call; doubled each time up to `retryMaximum`. Default 250 ms.
        public var retryInitial: Duration
        /// The longest wait between two tries while the hub is away; bounds how late the queue starts to drain once
        /// the link is back. Default 2 s.
        public var retryMaximum: Duration

        public init(batchItems: Int = 1_000, batchBytes: Int = 512 << 10, retryInitial: Duration = .milliseconds(250), retryMaximum: Duration = .seconds(2)) {
            self.batchItems = batchItems
            self.batchBytes = batchBytes
            self.retryInitial = retryInitial
            self.retryMaximum = retryMaximum
        }
    }

    let database: AgentDatabase
    let link: HubLink
    let state: LinkState
    let signal: EventSignal
    let settled: EventSignal
    let turn: Turn
    let policy: Policy
    let logger: Logger

    public init(database: AgentDatabase, link: HubLink, state: LinkState, signal: EventSignal, settled: EventSignal, turn: Turn, policy: Policy = Policy(),
                logger: Logger) {
        self.database = database
        self.link = link
        self.state = state
        self.signal = signal
        self.settled = settled
        self.turn = turn
        self.policy = policy
        self.logger = logger
    }

    public func run() async throws {
        var wait = policy.retryInitial
        // Rows to send one at a time: after the hub refused a batch without naming an item, until the one it
        // refuses is found.
        var singlesUntil: Int64 = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Read before the queue is: a transaction taken after this wakes the wait below at once.
            let seen = signal.generation
            let progressed: Bool
            do {
                progressed = try await step(singlesUntil: &singlesUntil)
            } catch {
                logger.error("the agent's database failed", metadata: ["error": "\(error)"])
                progressed = false
            }
            if progressed {
                wait = policy.retryInitial
                continue
            }
            let online = await state.online
            if online {
                try? await cancelWhenGracefulShutdown { await signal.wait(newerThan: seen, timeout: .seconds(5)) }
            } else {
                let pause = wait
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
                wait = min(wait * 2, policy.retryMaximum)
            }
        }
    }

    /// Sends the oldest waiting batch once; true when the queue moved (something settled).
    func step(singlesUntil: inout Int64) async throws -> Bool {
        let waiting = try database.waiting(limit: policy.batchItems)
        guard let first = waiting.first else { return false }
        // A run of one kind, in sequence (a count after a sale waits for the sale), of at most `batchItems` items;
        // one at a time while looking for the transaction the hub refuses.
        var batch: [AgentDatabase.Queued] = []
        var count = 0
        var bytes = 0
        for queued in waiting {
            guard queued.kind == first.kind else { break }
            let size = queued.items.reduce(0) { $0 + $1.count + 1 }
            if !batch.isEmpty && (count + queued.items.count > policy.batchItems || bytes + size > policy.batchBytes || queued.sequence <= singlesUntil) { break }
            batch.append(queued)
            count += queued.items.count
            bytes += size
            if queued.sequence <= singlesUntil { break }
        }
        let items = batch.flatMap(\.items)
        let sequences = batch.map(\.sequence)
        let answer = try await turn.run { [link, database] () async throws -> HubLink.Answer in
            let answer = await link.forward(first.kind, items: items)
            if answer == .accepted { try database.forwarded(sequences, at: Date()) }
            return answer
        }
        let now = Date()
        switch answer {
        case .accepted:
            await state.succeeded()
        case .refusedItems(let refusals):
            var offset = 0
            for queued in batch {
                let reasons = (offset..<(offset + queued.items.count)).compactMap { refusals[$0] }
                if !reasons.isEmpty {
                    try database.refused(queued.sequence, reason: reasons.joined(separator: "; "), at: now)
                    logger.warning("the hub refused a transaction", metadata: ["sequence": "\(queued.sequence)", "key": "\(queued.key)", "reason": "\(reasons.joined(separator: "; "))"])
                }
                offset += queued.items.count
            }
            guard refusals.keys.contains(where: { (0..<items.count).contains($0) }) else {
                // Items the batch does not have: look for the bad one alone; alone, it is the one.
                let reason = refusals.values.sorted().joined(separator: "; ")
                if batch.count > 1 {
                    singlesUntil = batch.last!.sequence
                } else {
                    try database.refused(first.sequence, reason: reason, at: now)
                    logger.warning("the hub refused a transaction", metadata: ["sequence": "\(first.sequence)", "key": "\(first.key)", "reason": "\(reason)"])
                }
                await state.succeeded()
                return true
            }
            await state.succeeded()
        case .refused(let reason):
            if batch.count > 1 {
                singlesUntil = batch.last!.sequence
            } else {
                try database.refused(first.sequence, reason: reason, at: now)
                logger.warning("the hub refused a transaction", metadata: ["sequence": "\(first.sequence)", "key": "\(first.key)", "reason": "\(reason)"])
            }
            await state.succeeded()
        case .tooLarge(let reason) where batch.count > 1:
            // Something between here and the hub takes less than the hub does: one transaction a request.
            singlesUntil = batch.last!.sequence
            logger.warning("a request was too large for the link: sending one transaction a request", metadata: ["reason": "\(reason)"])
            return true
        case .tooLarge(let reason), .unavailable(let reason):
            let wasOnline = await state.online
            await state.failed(reason, at: now)
            if wasOnline { logger.warning("the hub is unavailable: transactions queue until it is back", metadata: ["reason": "\(reason)"]) }
            return false
        }
        // The copy is refreshed when the queue has drained, not after every batch: a refresh reads the hub's events,
        // and the hub has better things to do while a backlog drains.
        if waiting.count == batch.count, try database.waiting(limit: 1).isEmpty { settled.signal() }
        return true
    }
}

/// Keeps in touch with the hub every `interval`, and at once when the forwarder has emptied the queue: the agent's
/// report, then the store's figures that changed since the last refresh, then the pickup queue.
public struct Contact: Service {
    let database: AgentDatabase
    let link: HubLink
    let state: LinkState
    let settled: EventSignal
    let turn: Turn
    let interval: Duration
    /// The channel and country the store prices in; nil: no pricing copy.
    let pricing: (channel: ChannelID, country: String)?
    let logger: Logger

    public init(database: AgentDatabase, link: HubLink, state: LinkState, settled: EventSignal, turn: Turn, interval: Duration = .seconds(10),
                pricing: (channel: ChannelID, country: String)? = nil, logger: Logger) {
        self.database = database
        self.link = link
        self.state = state
        self.settled = settled
        self.turn = turn
        self.interval = interval
        self.pricing = pricing
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let seen = settled.generation
            do {
                try await once()
            } catch {
                let wasOnline = await state.online
                await state.failed("\(error)", at: Date())
                if wasOnline { logger.warning("the hub is unavailable: answering from the local copy", metadata: ["reason": "\(error)"]) }
            }
            try? await cancelWhenGracefulShutdown { await settled.wait(newerThan: seen, timeout: interval) }
        }
    }

    /// One round: report, refresh the figures, refresh the pickup queue.
    public func once() async throws {
        let queue = try database.queueState()
        if case .failure(let error) = await link.report(queue) { throw error }
        // Everything settled before the read starts is in what the hub sends; no forward runs meanwhile (`Turn`).
        try await turn.run { [link, database] in
            let covering = try database.settledThrough()
            var version = try database.feedVersion()
            var figures: [String: AgentDatabase.HubFigure] = [:]
            while true {
                let page = try await link.feed(after: version)
                for figure in page.figures { figures[figure.sku] = figure }
                version = page.version
                if !page.more { break }
            }
            try database.refreshed(Array(figures.values), version: version, covering: covering, at: Date())
        }
        let pickups = try await link.pickups()
        try database.storePickups(pickups, at: Date())
        if let pricing {
            // The store's SKUs in pages; the promotions and tax rule are the same on every page.
            let skus = try database.skus()
            var copy: StorePricingCopy?
            var entries: [PriceEntry] = []
            var categories: [SKU: Set<String>] = [:]
            var start = 0
            repeat {
                let page = try await link.pricing(channel: pricing.channel, country: pricing.country,
                                                  skus: Array(skus[start..<min(start + 5_000, skus.count)]))
                entries += page.entries
                categories.merge(page.categories) { first, _ in first }
                copy = page
                start += 5_000
            } while start < skus.count
            if let copy {
                let whole = StorePricingCopy(channel: copy.channel, country: copy.country, taxRule: copy.taxRule, entries: entries,
                                             promotions: copy.promotions, categories: categories, asOf: copy.asOf)
                try database.storePricing(try JSONEncoder().encode(whole), at: Date())
            }
        }
        let wasOnline = await state.online
        await state.succeeded()
        if !wasOnline { logger.info("the hub is reachable", metadata: ["queue_depth": "\(queue.depth)"]) }
    }
}
