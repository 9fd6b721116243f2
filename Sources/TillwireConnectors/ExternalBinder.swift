import Foundation
import Synchronization
import TillwireDomain
import TillwireStorage

/// That an external system's id names a canonical one (a Shopify inventory item and a SKU). Recorded on two streams,
/// `binding/<system>/<kind>/<external>` and `binding/<system>/<kind>-of/<canonical>`, so either side is one read.
public struct ExternalBinding: VersionedPayload, Hashable {
    public static let eventType = "connector.binding_recorded"
    public static let schemaVersion = 1
    public let system: SystemID
    /// What is bound, e.g. `inventory_item`.
    public let kind: String
    /// The system's id, as the exact string it sends (an 18-digit id is never a number here).
    public let external: String
    /// The hub's id (a SKU, an order id).
    public let canonical: String
}

/// Keeps external ids and canonical ids paired, in the event log (so both backends keep them, and the lineage of a
/// SKU shows what it was bound to), with the pairs already read held in memory. A later binding of the same id
/// replaces the earlier one: the last event of a stream is the binding in force.
public final class ExternalBinder: Sendable {
    let store: any Store
    public let system: SystemID
    let known = Mutex<[String: String]>([:])

    public init(store: any Store, system: SystemID) {
        self.store = store
        self.system = system
    }

    /// The canonical id the system's `external` id names, if it was bound.
    public func canonical(_ kind: String, external: String) async throws -> String? {
        try await read("\(kind)/\(external)")
    }

    /// The system's id for a canonical one, if it was bound.
    public func external(_ kind: String, canonical: String) async throws -> String? {
        try await read("\(kind)-of/\(canonical)")
    }

    /// The events that record a binding, for the caller's commit; nothing when it is already the binding in force.
    public func bind(_ kind: String, external: String, canonical: String, at: Date) throws -> [EventAppend] {
        guard known.withLock({ $0["\(kind)/\(external)"] }) != canonical || known.withLock({ $0["\(kind)-of/\(canonical)"] }) != external else { return [] }
        let binding = ExternalBinding(system: system, kind: kind, external: external, canonical: canonical)
        return try ["\(kind)/\(external)", "\(kind)-of/\(canonical)"].map { key in
            EventAppend(try NewEvent(stream: try StreamID("binding/\(system.rawValue)/\(key)"), correlationID: try CorrelationID("binding/\(system.rawValue)/\(kind)"),
                                     occurredAt: at, source: system, payload: binding))
        }
    }

    /// Records bindings at once (outside any other change).
    public func record(_ kind: String, _ pairs: [(external: String, canonical: String)], at: Date = Date()) async throws {
        let events = try pairs.flatMap { try bind(kind, external: $0.external, canonical: $0.canonical, at: at) }
        guard !events.isEmpty else { return }
        _ = try await store.commit(Commit(events: events))
        remember(kind, pairs)
    }

    /// Forgets the binding of a canonical id (the system deleted or renumbered what it named): the next lookup
    /// asks the system again.
    public func forget(_ kind: String, canonical: String, at: Date = Date()) async throws {
        guard let external = try await external(kind, canonical: canonical) else { return }
        let cleared = [("\(kind)/\(external)", ExternalBinding(system: system, kind: kind, external: external, canonical: "")),
                       ("\(kind)-of/\(canonical)", ExternalBinding(system: system, kind: kind, external: "", canonical: canonical))]
        let events = try cleared.map { key, binding in
            EventAppend(try NewEvent(stream: try StreamID("binding/\(system.rawValue)/\(key)"), correlationID: try CorrelationID("binding/\(system.rawValue)/\(kind)"),
                                     occurredAt: at, source: system, payload: binding))
        }
        _ = try await store.commit(Commit(events: events))
        known.withLock { $0["\(kind)/\(external)"] = ""; $0["\(kind)-of/\(canonical)"] = "" }
    }

    /// Holds pairs committed by the caller.
    public func remember(_ kind: String, _ pairs: [(external: String, canonical: String)]) {
        known.withLock { known in
            for pair in pairs {
                known["\(kind)/\(pair.external)"] = pair.canonical
                known["\(kind)-of/\(pair.canonical)"] = pair.external
            }
        }
    }

    /// The bound id, or nil when none is (a forgotten binding is an empty id).
    func read(_ key: String) async throws -> String? {
        let value = try await lookUp(key)
        return value?.isEmpty == false ? value : nil
    }

    func lookUp(_ key: String) async throws -> String? {
        if let value = known.withLock({ $0[key] }) { return value }
        guard let stream = try? StreamID("binding/\(system.rawValue)/\(key)") else { return nil }
        let version = try await store.streamVersion(stream)
        guard version > 0, let last = try await store.readStream(stream, fromVersion: version, limit: 1).last else { return nil }
        let binding = try last.decode(ExternalBinding.self)
        let value = key.contains("-of/") ? binding.external : binding.canonical
        known.withLock { $0[key] = value }
        return value
    }
}
