import Foundation
import Logging
import Synchronization
import TillwireConnectors
import TillwireDomain
import TillwireEngine
import TillwireStorage

/// One Tryton 8.2 database as the hub's ERP (docs/connectors/tryton.md).
public struct TrytonConfiguration: Sendable, Equatable {
    /// The system name of its jobs (`<system>.order_release`) and its resilience settings. Default `erp`.
    public var system: SystemID = "erp"
    /// The server, e.g. `https://erp.example.com` (the database's JSON-RPC is at `/<database>/rpc/`).
    public var url: String
    public var database: String
    public var username: String
    public var password: String
    /// The stock location (its code) snapshots are read at. Default `STO`, the stock module's storage location.
    public var stockLocation = "STO"
    /// The party (customer) sales released by the hub are made for: its name; created with an address if missing.
    /// Journal lines on accounts that need a party (receivables) carry it too.
    public var party = "Tillwire channels"
    /// The journal (its code) the hub's journal entries are posted in. Default `MISC`, the account module's general one.
    public var journal = "MISC"
    /// The journal (its code) refunds are posted in as credit notes. Default `REV`, the account module's revenue one.
    public var invoiceJournal = "REV"

    public init(system: SystemID = "erp", url: String, database: String, username: String, password: String) {
        self.system = system
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.database = database
        self.username = username
        self.password = password
    }

    var rpcURL: String { "\(url)/\(database)/rpc/" }
}

/// A Tryton error answer: `["UserError", [message, description, …]]` for a business refusal, `[text, …]` otherwise.
public struct TrytonError: Error, CustomStringConvertible {
    public let kind: String
    public let message: String
    public var description: String { "\(kind): \(message)" }
}

/// Tryton's JSON-RPC: `POST /<db>/rpc/` with `{"id","method","params"}`, the answer's `result` or `error` with
/// HTTP 200 either way. A session from `common.db.login` goes in `Authorization: Session base64(login:uid:key)`;
/// the last parameter of every model call is the context, which carries the company. Decimals travel as
/// `{"__class__":"Decimal","decimal":"19.99"}`, dates as `{"__class__":"date",…}`.
///
/// Logins are rationed: Tryton makes each failed login sleep longer and locks the user out after five, so a
/// refused password is never tried twice. Callers without a session share one login in flight; a refusal is a
/// terminal error (a dead letter says to fix the password) for that call and for every later one until the hub
/// restarts; a lock-out (HTTP 429) makes calls wait five minutes. An expired session (HTTP 401) logs in again once. Tryton 8.2 gzips answers over about 1.4 kB whatever
/// the request asked, so the transport decompresses.
public final class TrytonRPC: Sendable {
    struct Session {
        var token: String?
        var company: Int64?
        /// The login in flight: every caller without a session waits for this one instead of logging in itself.
        var login: Task<String, any Error>?
        /// Why the password was refused: no login is tried again until the hub restarts (with a fixed password).
        var refused: String?
        /// When Tryton last answered a login with 429 (the user is locked out for now).
        var lockedAt: ContinuousClock.Instant?
    }

    let configuration: TrytonConfiguration
    let transport: HTTPTransport
    let session = Mutex(Session())
    let ids = Mutex(0)
    /// How long no call logs in after Tryton answered a login with 429. Five minutes.
    static let loginPause: Duration = .seconds(300)

    public init(configuration: TrytonConfiguration, transport: HTTPTransport = HTTPTransport(client: HTTPTransport.decompressing)) {
        self.configuration = configuration
        self.transport = transport
    }

    /// Calls `model.<model>.<method>` with `params` and the context (the company, and `context`'s entries).
    public func call(_ method: String, _ params: [Any], context: [String: Any] = [:]) async throws -> Any {
        let company = try await companyID()
        var full = context
        full["company"] = company
        return try await authenticated(method, params + [full])
    }

    /// The company of the user's preferences, read once per session.
    func companyID() async throws -> Int64 {
        if let company = session.withLock({ $0.company }) { return company }
        guard let preferences = try await authenticated("model.res.user.get_preferences", [true, [String: Any]()]) as? [String: Any],
              let company = Self.integer(preferences["company"]) else {
            throw JobError.terminal("tryton: the user \(configuration.username) has no current company")
        }
        session.withLock { $0.company = company }
        return company
    }

    func authenticated(_ method: String, _ params: [Any]) async throws -> Any {
        var token = try await currentToken()
        for attempt in 1...2 {
            let (status, answer) = try await post(method, params, token: token)
            if status == 401, attempt == 1 {
                // The session expired: log in once more (unless another caller already has), then give up for now.
                let rejected = token
                session.withLock { if $0.token == rejected { $0.token = nil } }
                token = try await currentToken()
                continue
            }
            return try result(status: status, answer: answer, what: method)
        }
        throw JobError.retryable("tryton \(method): the session was refused twice (HTTP 401)", retryAfter: .seconds(30))
    }

    func currentToken() async throws -> String {
        enum Next { case token(String), wait(Task<String, any Error>), refused(String), locked(Duration) }
        let next: Next = session.withLock { session in
            if let token = session.token { return .token(token) }
            if let reason = session.refused { return .refused(reason) }
            if let lockedAt = session.lockedAt, ContinuousClock.now - lockedAt < Self.loginPause { return .locked(Self.loginPause - (ContinuousClock.now - lockedAt)) }
            if let login = session.login { return .wait(login) }
            let login = Task { try await self.login() }
            session.login = login
            return .wait(login)
        }
        switch next {
        case .token(let token): return token
        case .refused(let reason): throw JobError.terminal(reason)
        case .locked(let left): throw JobError.retryable("tryton: the user \(configuration.username) is locked out after failed logins (HTTP 429)", retryAfter: left)
        case .wait(let login):
            defer { session.withLock { $0.login = nil } }
            return try await login.value
        }
    }

    /// One `common.db.login`. A refused password is remembered, so no second login is ever tried with it: Tryton
    /// makes each failure sleep longer and locks the user out after five.
    func login() async throws -> String {
        let (status, answer) = try await post("common.db.login", [configuration.username, ["password": configuration.password], "en"], token: nil)
        if status == 429 {
            session.withLock { $0.lockedAt = .now }
            throw JobError.retryable("tryton: too many failed logins for \(configuration.username) (HTTP 429)", retryAfter: Self.loginPause)
        }
        let login: Any
        do {
            // Tryton 8.2 refuses a wrong password with HTTP 401 (older versions with an error answer).
            guard status != 401 else { throw TrytonError(kind: "HTTP 401", message: "wrong user or password") }
            login = try result(status: status, answer: answer, what: "common.db.login")
        } catch let error as TrytonError {
            let reason = "tryton: the login of \(configuration.username) was refused (\(error.kind)); fix tryton.password and restart the hub, then replay these jobs. No login is tried again before"
            session.withLock { $0.refused = reason }
            throw JobError.terminal(reason)
        }
        guard let parts = login as? [Any], parts.count >= 2, let user = Self.integer(parts[0]), let key = parts[1] as? String else {
            throw JobError.terminal("tryton: common.db.login answered no session")
        }
        let token = Data("\(configuration.username):\(user):\(key)".utf8).base64EncodedString()
        session.withLock { $0.token = token; $0.lockedAt = nil }
        return token
    }

    func post(_ method: String, _ params: [Any], token: String?) async throws -> (Int, Any?) {
        let id = ids.withLock { $0 += 1; return $0 }
        let body = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        var headers = [("Content-Type", "application/json"), ("Accept-Encoding", "gzip")]
        if let token { headers.append(("Authorization", "Session \(token)")) }
        let reply = try await transport.send(.POST, configuration.rpcURL, headers: headers, body: body)
        guard reply.status == 200 else {
            if reply.status == 401 || reply.status == 429 { return (reply.status, nil) }
            throw HTTPTransport.failure(reply, "tryton \(method)")
        }
        return (200, try? JSONSerialization.jsonObject(with: reply.body, options: [.fragmentsAllowed]))
    }

    /// The `result`, or the `error` as a `TrytonError` (a `UserError` is the ERP refusing: terminal; a lock or a
    /// concurrent update is retryable; anything else is terminal, with Tryton's text).
    func result(status: Int, answer: Any?, what: String) throws -> Any {
        guard status == 200, let object = answer as? [String: Any] else { throw JobError.retryable("tryton \(what): HTTP \(status), no JSON answer", retryAfter: nil) }
        if let error = object["error"], !(error is NSNull) {
            let parts = error as? [Any] ?? []
            let kind = parts.first as? String ?? "error"
            let detail = (parts.dropFirst().first as? [Any])?.compactMap { $0 as? String }.filter { !$0.isEmpty }.joined(separator: " ")
                ?? (parts.dropFirst().first as? String) ?? ""
            let failure = TrytonError(kind: kind, message: detail.isEmpty ? kind : detail)
            if what == "common.db.login" { throw failure }
            if kind.contains("ConcurrencyException") || kind.contains("locked") || detail.contains("database is locked") {
                throw JobError.retryable("tryton \(what): \(failure)", retryAfter: .seconds(2))
            }
            throw JobError.terminal("tryton \(what): \(failure)")
        }
        return object["result"] ?? NSNull()
    }

    // MARK: Tryton's values

    /// A Decimal as Tryton takes it.
    public static func decimal(_ money: Money) -> [String: Any] { ["__class__": "Decimal", "decimal": money.decimalString] }

    /// A Tryton Decimal (or a plain number) as text: `{"__class__":"Decimal","decimal":"19.99"}` → `19.99`.
    static func decimalText(_ value: Any?) -> String? {
        if let object = value as? [String: Any], object["__class__"] as? String == "Decimal" { return object["decimal"] as? String }
        if let number = value as? NSNumber { return number.stringValue }
        return value as? String
    }

    static func integer(_ value: Any?) -> Int64? {
        if let value = value as? Int { return Int64(value) }
        if let value = value as? Int64 { return value }
        if let value = value as? Double, value.rounded() == value, abs(value) < 9e15 { return Int64(value) }
        return (value as? NSNumber)?.int64Value
    }

    static func number(_ value: Any?) -> Double? {
        if let value = value as? Double { return value }
        if let value = value as? Int { return Double(value) }
        if let text = decimalText(value) { return Double(text) }
        return (value as? NSNumber)?.doubleValue
    }
}
