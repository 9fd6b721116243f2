import Foundation
import TillwireDomain
import TillwireEngine

/// The hub's journal entries posted to Tryton: a refund as a posted credit note (`postCreditNote`), any other entry as
/// a posted `account.move` in the journal `tryton.journal` (`MISC`) and the open period of the entry's business day,
/// its lines on the accounts whose codes the entry names (`finance.accounts.*` are Tryton's account codes), with the
/// party `tryton.party` on accounts that need one. The hub's reference (`tillwire:<entry id>`) is the move's
/// `description` or the credit note's `reference`: a post that Tryton accepted before its answer was lost is found
/// there, and a document left in draft by a post cut short is posted then, not made again. The document id is
/// `move-<number>` or `credit-note-<number>`.
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
        if entry.kind == .refund { return try await postCreditNote(entry, reference: reference, currency: currency) }
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
        if let invoice = try await creditNoteID(reference: reference) { return try await postedCreditNote(invoice) }
        let moves = try await rows("model.account.move.search_read", [[["description", "=", Self.description(reference)]], 0, 2, [["id", "ASC"]], ["state"]])
        guard let first = moves.first, let id = TrytonRPC.integer(first["id"]) else { return nil }
        return try await posted(id)
    }

    /// The reference as the move keeps it (the hub's references start with `tillwire:`).
    static func description(_ reference: String) -> String { reference }

    // MARK: Credit notes

    /// A refund as Tryton's credit note: a customer invoice of negative lines, posted. Its lines are the entry's debit
    /// lines on revenue accounts (sales returns, shipping refunded); its manual taxes the other debit lines (tax), each
    /// with the base of the revenue lines booked before it; its account the party's receivable. A refund paid out from
    /// another account than the receivable (a tender's own account) also gets a move from the receivable to that
    /// account (`<reference>:payout`), so that the two together book exactly the hub's entry. Everything Tryton is asked
    /// for is looked up first, so a refund Tryton cannot take leaves nothing behind; the payout is then made before the
    /// invoice, which carries the hub's `reference`: a post cut short between the two finds the payout and makes only
    /// the invoice.
    func postCreditNote(_ entry: JournalEntry, reference: String, currency: Currency) async throws -> String {
        let (party, address) = try await partyAndAddress()
        let receivable = try await receivableAccount(party: party)
        let date = try Self.date(entry.businessDay)
        let invoiceJournal = try await invoiceJournalID()
        func decimal(_ units: Int64) -> [String: Any] { ["__class__": "Decimal", "decimal": Money(minorUnits: units, currency: currency).decimalString] }

        var lines: [[String: Any]] = []
        var taxes: [[String: Any]] = []
        var payouts: [(account: (id: Int64, partyRequired: Bool, revenue: Bool), amount: Int64)] = []
        var base: Int64 = 0
        for line in entry.lines {
            let account = try await account(line.account)
            let text = String((line.memo ?? entry.memo).prefix(200))
            if line.credit > 0 {
                if account.id != receivable { payouts.append((account, line.credit)) }
            } else if account.revenue && line.taxRate == nil {
                lines.append(["account": account.id, "description": text, "quantity": -1, "unit_price": decimal(line.debit)])
                base += line.debit
            } else {
                // Tax (any account a manual tax may use), on the revenue booked since the last tax line.
                let rate = line.taxRate.map { " \(Decimal($0) / 100)%" } ?? ""
                taxes.append(["manual": true, "account": account.id, "description": "Tax\(rate) (\(text))", "base": decimal(-base), "amount": decimal(-line.debit)])
                base = 0
            }
        }
        guard !lines.isEmpty else {
            throw JobError.terminal("refund \(entry.id) has no debit on a revenue account: nothing for a credit note (is finance.accounts.sales_returns a revenue account in Tryton?)")
        }
        if !payouts.isEmpty {
            let payout = reference + ":payout"
            if let move = ids(try await rpc.call("model.account.move.search", [[["description", "=", payout]], 0, 1, [["id", "ASC"]]])).first {
                _ = try await posted(move)
            } else {
                let journal = try await journalID()
                let period = try await period(on: entry.businessDay, date: date)
                let lines: [[String: Any]] = [["account": receivable, "party": party, "debit": decimal(payouts.reduce(0) { $0 + $1.amount }), "credit": decimal(0),
                                               "description": "refund paid out"]]
                    + payouts.map { payout in
                        var line: [String: Any] = ["account": payout.account.id, "debit": decimal(0), "credit": decimal(payout.amount), "description": "refund paid out"]
                        if payout.account.partyRequired { line["party"] = party }
                        return line
                    }
                let created = try await rpc.call("model.account.move.create", [[[
                    "journal": journal, "period": period, "date": date, "description": payout, "lines": [["create", lines]],
                ] as [String: Any]]])
                guard let move = ids(created).first else { throw JobError.terminal("tryton account.move.create answered no id") }
                _ = try await posted(move)
            }
        }
        let created = try await rpc.call("model.account.invoice.create", [[[
            "type": "out", "party": party, "invoice_address": address, "account": receivable, "journal": invoiceJournal,
            "reference": reference, "description": String(entry.memo.prefix(200)),
            // Not invoice_date: Tryton refuses an invoice dated before one already numbered; the accounting date puts
            // the move on the business day and in its period, and the invoice date becomes the day of posting.
            "accounting_date": date,
            "lines": [["create", lines]], "taxes": [["create", taxes]],
        ] as [String: Any]]])
        guard let invoice = ids(created).first else { throw JobError.terminal("tryton account.invoice.create answered no id") }
        return try await postedCreditNote(invoice)
    }

    func creditNoteID(reference: String) async throws -> Int64? {
        ids(try await rpc.call("model.account.invoice.search", [[["reference", "=", reference], ["type", "=", "out"]], 0, 1, [["id", "ASC"]]])).first
    }

    /// Posts the credit note if it is still a draft; its document id.
    func postedCreditNote(_ invoice: Int64) async throws -> String {
        var row = try await rows("model.account.invoice.read", [[invoice], ["state", "number"]]).first
        if row?["state"] as? String == "draft" {
            _ = try await rpc.call("model.account.invoice.post", [[invoice]])
            row = try await rows("model.account.invoice.read", [[invoice], ["state", "number"]]).first
        }
        guard let state = row?["state"] as? String, ["posted", "paid"].contains(state), let number = row?["number"] as? String else {
            throw JobError.terminal("tryton credit note \(invoice) is \(row?["state"] as? String ?? "unreadable") after posting")
        }
        return "credit-note-\(number)"
    }

    /// The account the party's receivables go to: its own, else the accounting configuration's default receivable
    /// (what Tryton itself uses; its `account_receivable_used` is not a field a client can read).
    func receivableAccount(party: Int64) async throws -> Int64 {
        if let own = TrytonRPC.integer(try await rows("model.party.party.read", [[party], ["account_receivable"]]).first?["account_receivable"]) { return own }
        guard let id = TrytonRPC.integer(try await rows("model.account.configuration.read", [[1], ["default_account_receivable"]]).first?["default_account_receivable"]) else {
            throw JobError.terminal("tryton party \(configuration.party) has no receivable account, nor a default one: set it in Tryton's accounting configuration")
        }
        return id
    }

    func invoiceJournalID() async throws -> Int64 {
        if let journal = known.withLock({ $0.invoiceJournal }) { return journal }
        guard let id = ids(try await rpc.call("model.account.journal.search", [[["code", "=", configuration.invoiceJournal]], 0, 1, NSNull()])).first else {
            throw JobError.terminal("tryton has no journal with code \(configuration.invoiceJournal) (tryton.invoice_journal)")
        }
        known.withLock { $0.invoiceJournal = id }
        return id
    }

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
    func account(_ code: String) async throws -> (id: Int64, partyRequired: Bool, revenue: Bool) {
        if let known = known.withLock({ $0.accounts[code] }) { return known }
        guard let row = try await rows("model.account.account.search_read", [[["code", "=", code], ["type", "!=", NSNull()], ["closed", "!=", true]], 0, 1,
                                                                              NSNull(), ["party_required", "type"]]).first,
              let id = TrytonRPC.integer(row["id"]), let type = TrytonRPC.integer(row["type"]) else {
            throw JobError.terminal("tryton has no open account with code \(code) that takes entries: set finance.accounts.* to Tryton's account codes")
        }
        // Booleans arrive as 0 or 1 from Tryton on SQLite.
        func flag(_ value: Any?) -> Bool { (value as? Bool) ?? ((TrytonRPC.integer(value) ?? 0) != 0) }
        let revenue = flag(try await rows("model.account.account.type.read", [[type], ["revenue"]]).first?["revenue"])
        let account = (id: id, partyRequired: flag(row["party_required"]), revenue: revenue)
        known.withLock { $0.accounts[code] = account }
        return account
    }
}

extension TrytonERP: LedgerReader {
    /// The posted move of `reference` and its debits; nil when Tryton has none, or only a draft.
    public func document(reference: String) async throws -> LedgerDocument? {
        let currency = try await companyCurrency()
        let id: Int64, document: String
        if let invoice = try await rows("model.account.invoice.search_read", [[["reference", "=", reference], ["type", "=", "out"], ["state", "in", ["posted", "paid"]]],
                                                                              0, 1, [["id", "ASC"]], ["number", "move"]]).first,
           let move = TrytonRPC.integer(invoice["move"]), let number = invoice["number"] as? String {
            (id, document) = (move, "credit-note-\(number)")
        } else {
            let moves = try await rows("model.account.move.search_read", [[["description", "=", Self.description(reference)], ["state", "=", "posted"]], 0, 1,
                                                                          [["id", "ASC"]], ["number"]])
            guard let move = moves.first, let moveID = TrytonRPC.integer(move["id"]), let number = move["number"] as? String else { return nil }
            (id, document) = (moveID, "move-\(number)")
        }
        let lines = try await rows("model.account.move.line.search_read", [[["move", "=", id]], 0, NSNull(), NSNull(), ["debit"]])
        var total: Int64 = 0
        for line in lines {
            guard let text = TrytonRPC.decimalText(line["debit"]), let debit = try? Money(parsing: Self.trimmed(text, currency), currency: currency) else {
                throw JobError.terminal("tryton \(document) has a debit that is not an amount in \(currency.code)")
            }
            total += debit.minorUnits
        }
        return LedgerDocument(document: document, total: total)
    }
}
