import Testing
import TillwireDomain
import TillwireTesting

@Suite struct MoneyTests {
    @Test func parsesDecimalStringsIntoMinorUnits() throws {
        #expect(try Money(parsing: "19.99", currency: .usd).minorUnits == 1999)
        #expect(try Money(parsing: "-0.05", currency: .eur).minorUnits == -5)
        #expect(try Money(parsing: "7", currency: .gbp).minorUnits == 700)
        #expect(try Money(parsing: "7.5", currency: .gbp).minorUnits == 750)
        #expect(try Money(parsing: "1200", currency: .jpy).minorUnits == 1200)
        #expect(try Money(parsing: "1.250", currency: Currency("KWD")).minorUnits == 1250)
        #expect(try Money(parsing: "19.990", currency: .usd).minorUnits == 1999)
    }

    @Test(arguments: ["", "-", ".", "1.", "abc", "1,50", "1.2.3", "١٢", "1e5", " 1"])
    func refusesWhatIsNotADecimal(_ text: String) {
        #expect(throws: DomainError.self) { try Money(parsing: text, currency: .usd) }
    }

    @Test func extraDigitsNeedAnExplicitRoundingRule() throws {
        #expect(throws: DomainError.invalidAmount("1.005", reason: "more than 2 fraction digits for USD")) {
            try Money(parsing: "1.005", currency: .usd)
        }
        #expect(try Money(parsing: "1.005", currency: .usd, rounding: .halfEven).minorUnits == 100)
        #expect(try Money(parsing: "1.015", currency: .usd, rounding: .halfEven).minorUnits == 102)
        #expect(try Money(parsing: "1.005", currency: .usd, rounding: .halfUp).minorUnits == 101)
        #expect(try Money(parsing: "-1.005", currency: .usd, rounding: .halfUp).minorUnits == -101)
        #expect(try Money(parsing: "1.009", currency: .usd, rounding: .towardZero).minorUnits == 100)
        #expect(try Money(parsing: "1.001", currency: .usd, rounding: .awayFromZero).minorUnits == 101)
        #expect(try Money(parsing: "0.5", currency: .jpy, rounding: .halfEven).minorUnits == 0)
        #expect(try Money(parsing: "1.0051", currency: .usd, rounding: .halfEven).minorUnits == 101, "past the half")
        #expect(try Money(parsing: "1.0049999", currency: .usd, rounding: .halfUp).minorUnits == 100)
        #expect(try Money(parsing: "19.990000000000002", currency: .usd, rounding: .halfEven).minorUnits == 1999,
                "a price rendered from a float rounds instead of overflowing")
    }

    @Test func hugeAmountsOverflowLoudly() {
        #expect(throws: DomainError.amountOverflow) { try Money(parsing: "999999999999999999", currency: .usd) }
        #expect(throws: DomainError.amountOverflow) { try Money(parsing: "92233720368547758.08", currency: .usd) }
        #expect(throws: DomainError.amountOverflow) { try Money(parsing: "92233720368547758.079", currency: .usd, rounding: .awayFromZero) }
        #expect(throws: DomainError.amountOverflow) {
            try Money(minorUnits: 10, currency: .usd).allocated(proportionally: [.max, .max])
        }
        #expect(throws: DomainError.self) { try Money(parsing: "1" + String(repeating: "0", count: 30), currency: .usd) }
        let big = Money(minorUnits: .max, currency: .usd)
        #expect(throws: DomainError.amountOverflow) { try big.adding(Money(minorUnits: 1, currency: .usd)) }
        #expect(throws: DomainError.amountOverflow) { try big.multiplied(by: 2) }
    }

    @Test func unknownAndMixedCurrenciesAreRefused() {
        #expect(throws: DomainError.unknownCurrency("XYZ")) { try Currency("XYZ") }
        #expect(throws: DomainError.unknownCurrency("usd")) { try Currency("usd") }
        #expect(throws: DomainError.currencyMismatch(.usd, .eur)) {
            try Money(minorUnits: 1, currency: .usd).adding(Money(minorUnits: 1, currency: .eur))
        }
    }

    @Test(arguments: [
        (RoundingRule.halfEven, [2, 2, -2, -2, 4]), (.halfUp, [3, 2, -3, -2, 4]),
        (.towardZero, [2, 2, -2, -2, 3]), (.awayFromZero, [3, 3, -3, -3, 4]),
    ])
    func roundingRules(_ rule: RoundingRule, _ expected: [Int64]) {
        // 2.5, 2.25, -2.5, -2.25, 3.5 (halves and quarters)
        let results = [rule.divide(5, by: 2), rule.divide(9, by: 4), rule.divide(-5, by: 2), rule.divide(-9, by: 4), rule.divide(7, by: 2)]
        #expect(results == expected)
    }

    @Test func basisPointRates() throws {
        let net = try Money(parsing: "19.99", currency: .eur)
        #expect(try net.applying(basisPoints: 1900, rounding: .halfUp).minorUnits == 380) // 3.7981
        #expect(try net.applying(basisPoints: 2000, rounding: .halfEven).minorUnits == 400) // 3.998
    }

    @Test func decimalStringRoundTripsForRandomAmounts() throws {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let currency = [Currency.usd, .jpy, try Currency("KWD")].randomElement(using: &random)!
            let units = Int64.random(in: -10_000_000_000...10_000_000_000, using: &random)
            let money = Money(minorUnits: units, currency: currency)
            #expect(try Money(parsing: money.decimalString, currency: currency) == money)
        }
    }

    @Test func allocationAddsUpExactlyForRandomWeights() throws {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<1_000 {
            let amount = Money(minorUnits: Int64.random(in: -100_000...100_000, using: &random), currency: .usd)
            let weights = (0..<Int.random(in: 1...8, using: &random)).map { _ in Int64.random(in: 0...5_000, using: &random) }
            guard weights.reduce(0, +) > 0 else { continue }
            let parts = try amount.allocated(proportionally: weights)
            #expect(parts.map(\.minorUnits).reduce(0, +) == amount.minorUnits)
            for (part, weight) in zip(parts, weights) {
                let exact = Double(amount.minorUnits) * Double(weight) / Double(weights.reduce(0, +))
                #expect(abs(Double(part.minorUnits) - exact) < 1.0 + 1e-9, "each part is within one minor unit of its share")
            }
        }
        #expect(try Money(minorUnits: 100, currency: .usd).allocated(proportionally: [1, 1, 1]).map(\.minorUnits) == [34, 33, 33])
        #expect(throws: DomainError.self) { try Money(minorUnits: 100, currency: .usd).allocated(proportionally: [0, 0]) }
    }
}
