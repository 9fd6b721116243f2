import ArgumentParser
import Foundation
import TillwireAPI
import TillwireApp
import TillwireDomain
import TillwireStorage

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "API keys: create, list, revoke, rotate. Every call under /v1 needs one.",
        discussion: """
            A key belongs to a client (a connected system or app), holds scopes (\(Scope.known.joined(separator: ", "))), \
            and may be restricted to locations (a store's POS acts only for its store). The key is printed once, at \
            creation; only its SHA-256 is stored. Each change is recorded in the audit log (`tillwire audit list`).
            """,
        subcommands: [Create.self, List.self, Revoke.self, Rotate.self])

    struct Actor: ParsableArguments {
        @Option(help: "Who makes the change (kept in the audit log).") var by: String = ProcessInfo.processInfo.environment["USER"] ?? "cli"
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once.")
        @OptionGroup var options: ConfigurationOptions
        @OptionGroup var actor: Actor
        @Option(help: "The connected system or app, e.g. pos-store-12.") var client: String
        @Option(name: .customLong("scope"), help: "A scope; repeat for several, e.g. --scope inventory:write --scope orders:read.") var scopes: [String]
        @Option(name: .customLong("location"), help: "Restrict the key to a location; repeat for several. Default: every location.") var locations: [String] = []
        @Option(help: "This key's own requests per second (default: api.rate_per_second).") var rate: Double?
        @Option(help: "This key's own burst (default: api.burst).") var burst: Int?

        func validate() throws {
            guard !client.trimmingCharacters(in: .whitespaces).isEmpty, client.count <= 100 else { throw ValidationError("--client must be 1-100 characters") }
            guard !scopes.isEmpty else { throw ValidationError("give at least one --scope: \(Scope.known.joined(separator: ", "))") }
            for scope in scopes where !Scope.known.contains(scope) {
                throw ValidationError("unknown scope '\(scope)'; known scopes: \(Scope.known.joined(separator: ", "))")
            }
            if let rate, !(rate > 0) { throw ValidationError("--rate must be above 0") }
            if let burst, burst < 1 { throw ValidationError("--burst must be at least 1") }
        }

        func run() async throws {
            let locationIDs = try locations.map { text -> LocationID in
                guard let id = try? LocationID(text) else { throw ValidationError("--location '\(text)' is not a valid location id") }
                return id
            }
            let (record, key) = ApiKeys.generate(
                client: client, scopes: scopes, locations: locationIDs.isEmpty ? nil : locationIDs, ratePerSecond: rate, burst: burst, now: Date())
            try await Dlq.withStore(options) { store in
                _ = try await store.commit(Commit(access: [.createKey(record)], audit: [
                    AuditEntry(at: Date(), actor: "cli:\(actor.by)", action: "keys.create", target: record.id, outcome: "ok",
                               detail: "client \(client), scopes \(scopes.joined(separator: " "))\(locationIDs.isEmpty ? "" : ", locations \(locations.joined(separator: " "))")"),
                ]))
            }
            print("""
                key id:  \(record.id)
                client:  \(client)
                scopes:  \(scopes.joined(separator: " "))
                key:     \(key)

                Store the key now: it is shown only this once. Send it as `Authorization: Bearer <key>`.
                """)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let keys = try await Dlq.withStore(options) { try await $0.apiKeys() }
            let now = Date()
            for key in keys {
                let state = key.revokedAt.map { "revoked \($0.ISO8601Format())" }
                    ?? key.expiresAt.map { $0 <= now ? "expired \($0.ISO8601Format())" : "active until \($0.ISO8601Format())" } ?? "active"
                print("\(key.id)  \(key.client)  \(key.scopes.joined(separator: " "))  locations \(key.locations.map { $0.map(\.rawValue).joined(separator: ",") } ?? "all")  created \(key.createdAt.ISO8601Format())  \(state)")
            }
            print("\(keys.count) key\(keys.count == 1 ? "" : "s")")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key at once.")
        @OptionGroup var options: ConfigurationOptions
        @OptionGroup var actor: Actor
        @Argument(help: "The key id (kXXXXXXXXXXXXXXXX).") var id: String

        func run() async throws {
            try await Dlq.withStore(options) { store in
                guard try await store.apiKey(id) != nil else { throw StartupError("no key \(id); `tillwire keys list` shows them") }
                _ = try await store.commit(Commit(access: [.revokeKey(id: id, at: Date())], audit: [
                    AuditEntry(at: Date(), actor: "cli:\(actor.by)", action: "keys.revoke", target: id, outcome: "ok"),
                ]))
            }
            print("revoked \(id)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a key: a new key with the same client, scopes and locations; the old one keeps working for the grace period.")
        @OptionGroup var options: ConfigurationOptions
        @OptionGroup var actor: Actor
        @Argument(help: "The key id to replace.") var id: String
        @Option(help: "Hours the old key keeps working, so that the client can switch. Default 24.") var graceHours: Double = 24

        func run() async throws {
            guard graceHours >= 0 else { throw ValidationError("--grace-hours must be 0 or more") }
            let now = Date()
            let key = try await Dlq.withStore(options) { store -> String in
                guard let old = try await store.apiKey(id), old.isActive(at: now) else {
                    throw StartupError("no active key \(id); `tillwire keys list` shows them")
                }
                let (record, key) = ApiKeys.generate(
                    client: old.client, scopes: old.scopes, locations: old.locations, ratePerSecond: old.ratePerSecond, burst: old.burst, now: now)
                let end = now + graceHours * 3_600
                _ = try await store.commit(Commit(
                    access: [.createKey(record), .expireKey(id: old.id, at: end)],
                    audit: [AuditEntry(at: now, actor: "cli:\(actor.by)", action: "keys.rotate", target: old.id, outcome: "ok",
                                       detail: "replaced by \(record.id); the old key works until \(end.ISO8601Format())")]))
                print("key id:  \(record.id) (replaces \(old.id), which works until \(end.ISO8601Format()))")
                return key
            }
            print("key:     \(key)\n\nStore the key now: it is shown only this once.")
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit log: every call that changed something, and every admin action.",
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, oldest first.")
        @OptionGroup var options: ConfigurationOptions
        @Option(help: "Entries after this sequence number.") var after: Int64 = 0
        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
            let entries = try await Dlq.withStore(options) { try await $0.auditLog(after: after, limit: limit) }
            for entry in entries {
                print("\(entry.sequence)  \(entry.at.ISO8601Format())  \(entry.actor)  \(entry.action)  \(entry.target ?? "-")  \(entry.outcome)  request \(entry.requestID ?? "-")\(entry.detail.map { "  \($0)" } ?? "")")
            }
            print("\(entries.count) entr\(entries.count == 1 ? "y" : "ies")")
        }
    }
}
