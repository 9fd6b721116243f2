import Foundation
import TillwireDomain
import TillwireEngine

/// The hub's journal entries posted to Tryton as account moves: one posted `account.move` per entry, in the journal
/// `tryton.journal` (`MISC`) and the open period of the entry's business day, its lines on the accounts whose codes the
/// entry names (`finance.accounts.*` are Tryton's account codes), with the party `tryton.party` on accounts that need
/// one. The move's `description` carries the hub's reference (`tillwire:<entry id>`): a post that Tryton accepted before
/// its answer was lost is found there, and a move left in draft by a post cut short is posted then, not made again.
/// The document id is the move's number (`move-<number>`).
extension TrytonERP: LedgerClient {
    public func post(_ entry: JournalEntry, reference: String) async throws -> String {
        if let existing = try await find(reference: reference) { return existing }
        let currency = try await companyCurrency()
        guard entry.currency == currency else {
            throw JobError.terminal("journal entry \(entry.id) is in \(entry.currency.code), the Tryton company books \(currency.code)")
        }
        // Tryton on SQLite posts an unbalanced move without a word (its balance check compares a number with bytes);
        // the hub's entries are balanced by construction, and this says so before anything is sent.
        guard entry.lines.reduce(0, { $0 + $1.debit }) == entry.lines.reduce(0, { $0 + $1.credit }) else {
            throw JobError.terminal("journal entry \(entry.id) does not balance")
        }
        let date = try Self.date(entry.businessDay)
        let period = try await period(on: entry.businessDay, date: date)
        let journal = try await journalID()
        let party = try await partyAndAddress().0
        var lines: [[String: Any]] = []
        for line in entry.lines {
            let account = try await account(line.account)
            var row: [String: Any] = [
                "account": account.id,
                "debit": ["__class__": "Decimal", "decimal": Money(minorUnits: line.debit, currency: currency).decimalString],
                "credit": ["__class__": "Decimal", "decimal": Money(minorUnits: line.credit, currency: currency).decimalString],
                "description": String((line.memo ?? entry.memo).prefix(200)),
            ]
            if account.partyRequired { row["party"] = party }
            lines.append(row)
        }
        let created = try await rpc.call("model.account.move.create", [[[
            "journal": journal, "period": period, "date": date, "description": Self.description(reference),
            "lines": [["create", lines]],
        ] as [String: Any]]])
        guard let move = ids(created).first else { throw JobError.terminal("tryton account.move.create answered no id") }
        return try await posted(move)
    }

    public func find(reference: String) async throws -> String? {
        let moves = try await rows("model.account.move.search_read", [[["description", "=", Self.description(reference)]], 0, 2, [["id", "ASC"]], ["state"]])
        guard let first = moves.first, let id = TrytonRPC.integer(first["id"]) else { return nil }
        return try await posted(id)
    }

    /// The reference as the move keeps it (the hub's references start with `tillwire:`).
    static func description(_ reference: String) -> String { reference }

    /// Posts the move if it is still a draft; its document id.
    func posted(_ move: Int64) async throws -> String {
        var row = try await rows("model.account.move.read", [[move], ["state", "number"]]).first
        if row?["state"] as? String == "draft" {
            _ = try await rpc.call("model.account.move.post", [[move]])
            row = try await rows("model.account.move.read", [[move], ["state", "number"]]).first
        }
        guard row?["state"] as? String == "posted", let number = row?["number"] as? String else {
            throw JobError.terminal("tryton move \(move) is \(row?["state"] as? String ?? "unreadable") after posting")
        }
        return "move-\(number)"
    }

    /// Tryton's date value of a business day `YYYY-MM-DD`.
    static func date(_ businessDay: String) throws -> [String: Any] {
        let parts = businessDay.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { throw JobError.terminal("journal entry business day \(businessDay) is not YYYY-MM-DD") }
        return ["__class__": "date", "year": parts[0], "month": parts[1], "day": parts[2]]
    }

    /// The open standard period of the day: passed explicitly, as Tryton's default is today's period.
    func period(on businessDay: String, date: [String: Any]) async throws -> Int64 {
        let company = try await rpc.companyID()
        let found = ids(try await rpc.call("model.account.period.search", [[
            ["company", "=", company], ["start_date", "<=", date], ["end_date", ">=", date], ["type", "=", "standard"], ["state", "=", "open"],
        ], 0, 1, NSNull()]))
        guard let period = found.first else {
            throw JobError.terminal("tryton has no open period for \(businessDay): open it (or the fiscal year) in Tryton, then replay the posting")
        }
        return period
    }

    func journalID() async throws -> Int64 {
        if let journal = known.withLock({ $0.journal }) { return journal }
        guard let id = ids(try await rpc.call("model.account.journal.search", [[["code", "=", configuration.journal]], 0, 1, NSNull()])).first else {
            throw JobError.terminal("tryton has no journal with code \(configuration.journal) (tryton.journal)")
        }
        known.withLock { $0.journal = id }
        return id
    }

    /// An account that takes move lines (a leaf with a type, not closed), by code.
    func account(_ code: String) async throws -> (id: Int64, partyRequired: Bool) {
        if let known = known.withLock({ $0.accounts[code] }) { return known }
        guard let row = try await rows("model.account.account.search_read", [[["code", "=", code], ["type", "!=", NSNull()], ["closed", "!=", true]], 0, 1,
                                                                              NSNull(), ["party_required"]]).first,
              let id = TrytonRPC.integer(row["id"]) else {
            throw JobError.terminal("tryton has no open account with code \(code) that takes entries: set finance.accounts.* to Tryton's account codes")
        }
        // Booleans arrive as 0 or 1 from Tryton on SQLite.
        let partyRequired = (row["party_required"] as? Bool) ?? ((TrytonRPC.integer(row["party_required"]) ?? 0) != 0)
        known.withLock { $0.accounts[code] = (id, partyRequired) }
        return (id, partyRequired)
    }
}

extension TrytonERP: LedgerReader {
    /// The posted move of `reference` and its debits; nil when Tryton has none, or only a draft.
    public func document(reference: String) async throws -> LedgerDocument? {
        let currency = try await companyCurrency()
        let moves = try await rows("model.account.move.search_read", [[["description", "=", Self.description(reference)], ["state", "=", "posted"]], 0, 1,
                                                                      [["id", "ASC"]], ["number"]])
        guard let move = moves.first, let id = TrytonRPC.integer(move["id"]), let number = move["number"] as? String else { return nil }
        let lines = try await rows("model.account.move.line.search_read", [[["move", "=", id]], 0, NSNull(), NSNull(), ["debit"]])
        var total: Int64 = 0
        for line in lines {
            guard let text = TrytonRPC.decimalText(line["debit"]), let debit = try? Money(parsing: Self.trimmed(text, currency), currency: currency) else {
                throw JobError.terminal("tryton move \(number) has a debit that is not an amount in \(currency.code)")
            }
            total += debit.minorUnits
        }
        return LedgerDocument(document: "move-\(number)", total: total)
    }
}
