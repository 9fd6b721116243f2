import Foundation
import Testing
import TillwireDomain
import TillwireTesting

/// The return rules: what may come back, for how much; and the journal entries built from sales and refunds.
@Suite struct ReturnTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let gbp = Currency.gbp, usd = Currency.usd

    func money(_ text: String, _ currency: Currency = .gbp) -> Money { try! Money(parsing: text, currency: currency) }

    /// 3 shirts at £20.00 (VAT 20 % included, £10.00 in all), a £6.00 basket coupon, £4.80 shipping (£0.80 VAT).
    func order() throws -> Order {
        let shirts = try OrderLine(id: "1", sku: "SHIRT", quantity: 3, unitPrice: money("20.00"),
                                   taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("10.00"))])
        let mug = try OrderLine(id: "2", sku: "MUG", quantity: 1, unitPrice: money("6.00"),
                                taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("1.00"))])
        return try Order(
            id: .derived(channel: "web", channelOrderID: "1001"), channel: "web", channelOrderID: "1001", placedAt: t0, currency: gbp,
            taxesIncluded: true, customer: Customer(email: "ann@example.org"), shipTo: try Address(country: "GB"), lines: [shirts, mug],
            shipping: try Shipping(price: money("4.80"), taxLines: [try TaxLine(title: "VAT", rateBasisPoints: 2000, amount: money("0.80"))]),
            orderDiscounts: [try Discount(amount: money("6.00"), code: "SAVE6")],
            payments: try Payments(authorized: money("64.80"), captured: money("64.80"), refunded: money("0")),
            fulfilment: try Fulfilment(.shipFromDC), total: money("64.80"))
    }

    func facts(_ order: Order, left: Date? = nil, returned: [String: Int64] = [:], status: OrderStatus = .completed) -> ReturnedOrderFacts {
        let at = left ?? t0
        return ReturnedOrderFacts(order: order, status: status, leftAt: Dictionary(uniqueKeysWithValues: order.lines.map { ($0.id, at) }),
                                  returned: returned, shippingRefunded: false)
    }

    func request(_ lines: [ReturnRequestLine], number: String = "R-1", refund: RefundMethod = .originalTender, order: OrderID? = nil) throws -> ReturnRequest {
        try ReturnRequest(channel: "pos", channelReturnID: number, order: order, location: "store-1", lines: lines, refund: refund,
                          tender: refund == .storeTender ? "cash" : nil)
    }

    func line(_ orderLine: String?, _ sku: SKU, _ quantity: Int64, reason: ReturnReason = .changedMind, condition: ItemCondition = .unopened,
              price: Money? = nil, rate: Int64? = nil) throws -> ReturnRequestLine {
        try ReturnRequestLine(orderLine: orderLine, sku: sku, quantity: quantity, reason: reason, condition: condition, unitPrice: price, taxRate: rate)
    }

    @Test func pricingSpreadsTheCouponAndAddsUpToTheTotal() throws {
        let pricing = try OrderPricing(try order())
        // £60.00 and £6.00 of goods share the £6.00 coupon 10:1 → £5.45 and £0.55.
        #expect(pricing.line("1")?.gross == 5_455)
        #expect(pricing.line("2")?.gross == 545)
        #expect(pricing.lines.reduce(pricing.shippingGross) { $0 + $1.gross } == 6_480)
        #expect(pricing.shippingTax == 80)
    }

    @Test func returningALineInVisitsRefundsWhatReturningItAtOnceWould() throws {
        let pricing = try OrderPricing(try order())
        let shirts = try #require(pricing.line("1"))
        let visits = [shirts.share(after: 0, count: 1), shirts.share(after: 1, count: 1), shirts.share(after: 2, count: 1)]
        #expect(visits.map(\.gross) == [1_818, 1_819, 1_818])
        #expect(visits.reduce(0) { $0 + $1.gross } == shirts.gross)
        #expect(visits.reduce(0) { $0 + $1.tax } == shirts.tax)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let quantity = Int64.random(in: 1...50, using: &generator)
            let line = OrderPricing.Line(id: "x", sku: "X", quantity: quantity, gross: Int64.random(in: 0...1_000_000, using: &generator),
                                         tax: Int64.random(in: 0...100_000, using: &generator), taxRate: 2000)
            var done: Int64 = 0
            var sum: (gross: Int64, tax: Int64) = (0, 0)
            while done < quantity {
                let count = Int64.random(in: 1...(quantity - done), using: &generator)
                let share = line.share(after: done, count: count)
                #expect(share.gross >= 0 && share.tax >= 0)
                sum = (sum.gross + share.gross, sum.tax + share.tax)
                done += count
            }
            #expect(sum.gross == line.gross && sum.tax == line.tax, "quantity \(quantity)")
        }
    }

    @Test func aReturnTakesAtMostWhatIsLeftOfALine() throws {
        let order = try order()
        let first = try ReturnRules.authorize(try request([try line("1", "SHIRT", 2)]), id: "r-1", order: facts(order), policy: ReturnPolicy(), now: t0 + 86_400)
        #expect(first.lines.map(\.gross) == [3_637])
        #expect(first.refundTotal == 3_637 && first.shippingGross == 0)
        let refused = #expect(throws: ReturnRefused.self) {
            try ReturnRules.authorize(try request([try line("1", "SHIRT", 2)]), id: "r-2", order: facts(order, returned: ["1": 2]),
                                      policy: ReturnPolicy(), now: t0 + 86_400)
        }
        #expect(refused?.refusals.map(\.code) == [.exceedsReturnable])
        #expect(refused?.refusals.first?.detail.contains("1 returnable") == true)
    }

    @Test func refusalsNameEveryLineAndWhy() throws {
        let order = try order()
        let refused = #expect(throws: ReturnRefused.self) {
            try ReturnRules.authorize(try request([
                try line("9", "SHIRT", 1),
                try line("2", "SHIRT", 1),
                try line("1", "SHIRT", 1, condition: .damaged),
            ]), id: "r-1", order: facts(order), policy: ReturnPolicy(), now: t0 + 40 * 86_400)
        }
        #expect(refused?.refusals.map(\.code) == [.unknownLine, .skuMismatch, .windowClosed, .conditionNotAccepted])
        #expect(refused?.refusals.map(\.line) == [0, 1, 2, 2])
        // A fault has its own, longer window and takes a damaged item back.
        let fault = try ReturnRules.authorize(try request([try line("1", "SHIRT", 1, reason: .defective, condition: .damaged)]), id: "r-2",
                                              order: facts(order), policy: ReturnPolicy(), now: t0 + 40 * 86_400)
        #expect(fault.lines.first?.disposition == .damaged)
        // Nothing of a cancelled order or an unshipped line comes back.
        #expect(throws: ReturnRefused.self) {
            try ReturnRules.authorize(try request([try line("1", "SHIRT", 1)]), id: "r-3", order: facts(order, status: .cancelled),
                                      policy: ReturnPolicy(), now: t0)
        }
        let unshipped = ReturnedOrderFacts(order: order, status: .partiallyFulfilled, leftAt: ["2": t0], returned: [:], shippingRefunded: false)
        let notShipped = #expect(throws: ReturnRefused.self) {
            try ReturnRules.authorize(try request([try line("1", "SHIRT", 1)]), id: "r-4", order: unshipped, policy: ReturnPolicy(), now: t0)
        }
        #expect(notShipped?.refusals.map(\.code) == [.notShipped])
    }

    @Test func shippingIsRefundedByTheConfiguredRule() throws {
        let order = try order()
        var policy = ReturnPolicy()
        policy.shipping = .fullReturn
        let partial = try ReturnRules.authorize(try request([try line("1", "SHIRT", 3)]), id: "r-1", order: facts(order), policy: policy, now: t0)
        #expect(partial.shippingGross == 0)
        let last = try ReturnRules.authorize(try request([try line("2", "MUG", 1)], number: "R-2"), id: "r-2", order: facts(order, returned: ["1": 3]),
                                             policy: policy, now: t0)
        #expect(last.shippingGross == 480 && last.shippingTax == 80)
        #expect(last.refundTotal == 545 + 480)
        policy.shipping = .fault
        let fault = try ReturnRules.authorize(try request([try line("2", "MUG", 1, reason: .arrivedDamaged)]), id: "r-3", order: facts(order),
                                              policy: policy, now: t0)
        #expect(fault.shippingGross == 480)
    }

    @Test func aReturnWithoutAnOrderFollowsTheDocumentedRule() throws {
        let receipt = try request([try line(nil, "MUG", 2, price: money("6.00"), rate: 2000)], refund: .storeTender)
        let refused = #expect(throws: ReturnRefused.self) {
            try ReturnRules.authorize(receipt, id: "r-1", order: nil, policy: ReturnPolicy(), now: t0)
        }
        #expect(refused?.refusals.map(\.code) == [.unreferencedRefused])
        var policy = ReturnPolicy()
        policy.acceptUnreferenced = true
        let accepted = try ReturnRules.authorize(receipt, id: "r-1", order: nil, policy: policy, now: t0)
        #expect(accepted.refundTotal == 1_200 && accepted.refundTax == 200 && accepted.orderChannel == nil)
        let tooMuch = try request([try line(nil, "MUG", 20, price: money("6.00"), rate: 2000)], refund: .storeTender)
        let over = #expect(throws: ReturnRefused.self) { try ReturnRules.authorize(tooMuch, id: "r-2", order: nil, policy: policy, now: t0) }
        #expect(over?.refusals.map(\.code) == [.overLimit])
        let noPrice = try request([try line(nil, "MUG", 1)], refund: .storeTender)
        let missing = #expect(throws: ReturnRefused.self) { try ReturnRules.authorize(noPrice, id: "r-3", order: nil, policy: policy, now: t0) }
        #expect(missing?.refusals.map(\.code) == [.priceRequired])
        #expect(throws: DomainError.self) {
            try ReturnRequest(channel: "pos", channelReturnID: "R-9", order: nil, location: nil, lines: [try line(nil, "MUG", 1)], refund: .storeTender, tender: "cash")
        }
    }

    @Test func neverMoreBackThanWasPaidAndNoOverflow() throws {
        let order = try order()
        let paidFor = ReturnedOrderFacts(order: order, status: .completed, leftAt: ["1": t0, "2": t0], returned: [:], shippingRefunded: false,
                                         refundedByReturns: 6_480 - 1_000)
        let refused = #expect(throws: ReturnRefused.self) {
            try ReturnRules.authorize(try request([try line("1", "SHIRT", 1)]), id: "r-1", order: paidFor, policy: ReturnPolicy(), now: t0)
        }
        #expect(refused?.refusals.map(\.code) == [.exceedsPaid])
        var policy = ReturnPolicy()
        policy.acceptUnreferenced = true
        let huge = try request([try line(nil, "MUG", 100, price: Money(minorUnits: 90_000_000_000_000_000, currency: .jpy), rate: 0),
                                try line(nil, "MUG", 100, price: Money(minorUnits: 90_000_000_000_000_000, currency: .jpy), rate: 0)], refund: .storeTender)
        let overflow = #expect(throws: ReturnRefused.self) { try ReturnRules.authorize(huge, id: "r-2", order: nil, policy: policy, now: t0) }
        #expect(overflow?.refusals.map(\.code) == [.overLimit])
    }

    @Test func aCancelledLineDoesNotKeepTheShippingFromBeingRefunded() throws {
        let order = try order()
        var policy = ReturnPolicy()
        policy.shipping = .fullReturn
        let facts = ReturnedOrderFacts(order: order, status: .completed, leftAt: ["1": t0], returned: [:], shippingRefunded: false, cancelled: ["2"])
        let all = try ReturnRules.authorize(try request([try line("1", "SHIRT", 3)]), id: "r-1", order: facts, policy: policy, now: t0)
        #expect(all.shippingGross == 480)
    }

    // MARK: Journal

    @Test func saleAndRefundEntriesBalanceAndBookEachPart() throws {
        let order = try order()
        let pricing = try OrderPricing(order)
        var chart = ChartOfAccounts()
        chart.tenders["web"] = "1210"
        let sale = try #require(try JournalBuilder.sale(
            id: "je-1", order: order, pricing: pricing, lines: ["1", "2"], includeShipping: true, tender: "web",
            costs: ["SHIRT": money("7.00")], businessDay: "2027-01-15", location: "dc-1", sources: [JournalSource(.order, order.id.rawValue)], chart: chart))
        func net(_ entry: JournalEntry, _ account: String) -> Int64 { entry.lines.filter { $0.account == account }.reduce(0) { $0 + $1.net } }
        #expect(net(sale, "1210") == 6_480)
        #expect(net(sale, "2200") == -(1_000 + 100 + 80))
        #expect(net(sale, "4000") == -(5_455 - 1_000 + 545 - 100))
        #expect(net(sale, "4010") == -400)
        #expect(net(sale, "5000") == 2_100 && net(sale, "1300") == -2_100)
        #expect(sale.total == 6_480 + 2_100)

        let authorization = try ReturnRules.authorize(try request([try line("1", "SHIRT", 1), try line("2", "MUG", 1, reason: .defective, condition: .damaged)]),
                                                      id: "r-1", order: facts(order), policy: ReturnPolicy(), now: t0)
        let refund = try #require(try JournalBuilder.refund(
            id: "je-2", authorization: authorization, tender: "web", costs: ["SHIRT": money("7.00")], restocked: ["SHIRT": 1],
            businessDay: "2027-01-20", location: "store-1", sources: [], chart: chart))
        #expect(net(refund, "1210") == -(1_818 + 545))
        #expect(net(refund, "4090") == 1_818 - 333 + 545 - 100)
        #expect(net(refund, "2200") == 333 + 100)
        #expect(net(refund, "1300") == 700 && net(refund, "5000") == -700)
    }

    @Test func everyBuiltEntryBalancesAndTheSummaryKeepsEveryAccountsNet() throws {
        var generator = SeededGenerator(seed: 2027)
        let chart = ChartOfAccounts()
        for round in 0..<300 {
            let currency = [gbp, usd, Currency.jpy][round % 3]
            let included = currency != usd
            var lines: [OrderLine] = []
            for index in 0..<Int.random(in: 1...5, using: &generator) {
                let quantity = Int64.random(in: 1...6, using: &generator)
                let unit = Int64.random(in: 0...50_000, using: &generator)
                let discount = Int64.random(in: 0...(unit * quantity / 3), using: &generator)
                let rate: Int64 = [0, 500, 2000, 725][Int.random(in: 0...3, using: &generator)]
                let net = unit * quantity - discount
                let tax = included ? RoundingRule.halfUp.divide(net * rate, by: 10_000 + rate) : RoundingRule.halfUp.divide(net * rate, by: 10_000)
                lines.append(try OrderLine(id: "\(index)", sku: SKU(trusted: "SKU-\(index)"), quantity: quantity, unitPrice: Money(minorUnits: unit, currency: currency),
                                           discounts: discount > 0 ? [try Discount(amount: Money(minorUnits: discount, currency: currency))] : [],
                                           taxLines: [try TaxLine(title: "tax", rateBasisPoints: rate, amount: Money(minorUnits: tax, currency: currency))]))
            }
            let shipping = Bool.random(using: &generator) ? try Shipping(price: Money(minorUnits: Int64.random(in: 0...2_000, using: &generator), currency: currency)) : nil
            let goods = try lines.reduce(Int64(0)) { $0 + (try $1.net().minorUnits) }
            let coupon = Int64.random(in: 0...(goods / 4), using: &generator)
            let draft = try Order(
                id: "o-p", channel: "web", channelOrderID: "\(round)", placedAt: t0, currency: currency, taxesIncluded: included,
                customer: Customer(), shipTo: try Address(country: "GB"), lines: lines, shipping: shipping,
                orderDiscounts: coupon > 0 ? [try Discount(amount: Money(minorUnits: coupon, currency: currency))] : [],
                payments: try Payments(authorized: Money.zero(currency), captured: Money.zero(currency), refunded: Money.zero(currency)),
                fulfilment: try Fulfilment(.shipFromDC), total: Money.zero(currency))
            let total = try draft.computedTotal()
            let order = try Order(
                id: "o-p", channel: "web", channelOrderID: "\(round)", placedAt: t0, currency: currency, taxesIncluded: included,
                customer: Customer(), shipTo: try Address(country: "GB"), lines: lines, shipping: shipping, orderDiscounts: draft.orderDiscounts,
                payments: try Payments(authorized: total, captured: total, refunded: Money.zero(currency)), fulfilment: draft.fulfilment, total: total)
            let pricing = try OrderPricing(order)
            #expect(pricing.lines.reduce(pricing.shippingGross) { $0 + $1.gross } == order.total.minorUnits, "round \(round)")
            var entries: [JournalEntry] = []
            let split = Int.random(in: 0...lines.count, using: &generator)
            for (index, part) in [Array(lines.prefix(split)), Array(lines.dropFirst(split))].enumerated() where !part.isEmpty {
                if let entry = try JournalBuilder.sale(id: "je-\(round)-\(index)", order: order, pricing: pricing, lines: part.map(\.id),
                                                       includeShipping: index == 0, tender: "web", costs: [:], businessDay: "2027-01-01",
                                                       location: "s", sources: [], chart: chart) {
                    entries.append(entry)
                }
            }
            var returned: [String: Int64] = [:]
            for (index, line) in lines.enumerated() where Bool.random(using: &generator) {
                let units = Int64.random(in: 1...line.quantity, using: &generator)
                let authorization = try ReturnRules.authorize(
                    try request([try self.line(line.id, line.sku, units)], number: "R-\(index)"), id: ReturnID(trusted: "r-\(index)"),
                    order: facts(order, returned: returned, status: .completed), policy: ReturnPolicy(), now: t0)
                returned[line.id, default: 0] += units
                if let entry = try JournalBuilder.refund(id: "je-r-\(round)-\(index)", authorization: authorization, tender: "web", costs: [:],
                                                         restocked: [:], businessDay: "2027-01-01", location: "s", sources: [], chart: chart) {
                    entries.append(entry)
                }
            }
            for entry in entries {
                #expect(entry.lines.reduce(0) { $0 + $1.debit } == entry.lines.reduce(0) { $0 + $1.credit })
            }
            if let summary = try JournalBuilder.summary(id: "sum", of: entries, businessDay: "2027-01-01", location: "s", currency: currency) {
                var accounts: Set<String> = []
                for entry in entries { for line in entry.lines { accounts.insert(line.account) } }
                for account in accounts {
                    let expected = entries.flatMap(\.lines).filter { $0.account == account }.reduce(0) { $0 + $1.net }
                    #expect(summary.lines.filter { $0.account == account }.reduce(0) { $0 + $1.net } == expected)
                }
            }
        }
    }

    @Test func anUnbalancedEntryIsRefused() {
        #expect(throws: DomainError.self) {
            try JournalEntry(id: "x", kind: .sale, currency: gbp, businessDay: "2027-01-01", location: nil, channel: nil,
                             lines: [JournalLine(account: "1200", debit: 100), JournalLine(account: "4000", credit: 99)], sources: [], memo: "")
        }
        #expect(throws: DomainError.self) {
            try JournalEntry(id: "x", kind: .sale, currency: gbp, businessDay: "2027-01-01", location: nil, channel: nil,
                             lines: [JournalLine(account: "1200", debit: 100, credit: 100), JournalLine(account: "4000")], sources: [], memo: "")
        }
    }
}
