import ArgumentParser
import Foundation
import TillwireApp
import TillwireDomain
import TillwireEngine
import TillwireStorage

struct Lineage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Where financial postings come from and where they went.",
        discussion: """
            For a journal entry: its lines, the documents and events it was built from, and the ERP document it became. \
            For an order or a return: its journal entries and their postings. The same through the API: \
            GET /v1/journal/{id}, GET /v1/orders/{id} and GET /v1/returns/{id} (postings).
            """,
        subcommands: [Journal.self, Order.self, Return.self])

    struct Journal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One journal entry: lines, sources, source events, ERP document.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The entry's id (je-…).") var id: String

        func run() async throws {
            try await Dlq.withStore(options) { store in
                guard let (entry, recordedAt, posted) = try await Ledger.entry(id, store: store) else {
                    throw ValidationError("no journal entry \(id)")
                }
                let row = try await store.journalRows(location: entry.location, businessDay: entry.businessDay).first { $0.id == id }
                print("\(entry.id)  \(entry.kind.rawValue)  \(entry.currency.code)  business day \(entry.businessDay)  \(entry.location?.rawValue ?? "-")")
                print(entry.memo)
                print("booked \(recordedAt.ISO8601Format()); " + (posted.map { "posted to \($0.system) as \($0.document)\($0.found ? " (found by its reference after a timeout)" : "")" }
                    ?? row?.summary.map { "carried by daily summary \($0)" } ?? "not posted yet"))
                print("\nlines:")
                for line in entry.lines {
                    let amount = Money(minorUnits: line.debit > 0 ? line.debit : line.credit, currency: entry.currency)
                    let extra = [line.taxRate.map { "tax rate \($0) bp" }, line.tender.map { "tender \($0)" }, line.memo].compactMap { $0 }.joined(separator: ", ")
                    print("  \(line.account.padding(toLength: 8, withPad: " ", startingAt: 0)) \(line.debit > 0 ? "Dr" : "Cr") \(amount)\(extra.isEmpty ? "" : "  (\(extra))")")
                }
                print("\nsources: " + entry.sources.map { "\($0.kind.rawValue) \($0.id)" }.joined(separator: ", "))
                for event in try await FinanceLineage.sourceEvents(of: entry, store: store) {
                    print("  #\(event.position)  \(event.event.occurredAt.ISO8601Format())  \(event.type)  \(event.stream)  from \(event.event.source)")
                }
            }
        }
    }

    struct Order: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An order's journal entries (its sales, its returns' credit notes) and their postings.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The order's id (o-…).") var id: String

        func run() async throws {
            let orderID = try OrderID(id)
            try await Dlq.withStore(options) { store in
                guard let record = try await OrderService(store: store).record(orderID) else { throw ValidationError("no order \(id)") }
                print("order \(record.order.channelOrderID) (\(record.order.channel)), \(record.lifecycle.status.rawValue)")
                let postings = try await FinanceLineage.postings(ofOrder: record, store: store)
                for posting in postings { print("  " + FinanceLineage.line(posting)) }
                if postings.isEmpty { print("  no journal entries yet") }
            }
        }
    }

    struct Return: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A return's credit note and its posting.")
        @OptionGroup var options: ConfigurationOptions
        @Argument(help: "The return's id (r-…).") var id: String

        func run() async throws {
            let returnID = try ReturnID(id)
            try await Dlq.withStore(options) { store in
                let orders = OrderService(store: store)
                guard let record = try await ReturnService(store: store, orders: orders).record(returnID) else { throw ValidationError("no return \(id)") }
                print("return \(record.authorization.request.channelReturnID) (\(record.authorization.request.channel)), \(record.status.rawValue)")
                let postings = try await FinanceLineage.postings(of: CorrelationID(trusted: returnID.rawValue), store: store)
                for posting in postings { print("  " + FinanceLineage.line(posting)) }
                if postings.isEmpty { print("  no journal entries yet") }
            }
        }
    }
}
