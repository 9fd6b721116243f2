/// An ISO 4217 currency and the number of digits of its minor unit.
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String
    /// Digits after the decimal point: 2 for EUR, 0 for JPY, 3 for KWD.
    public let minorUnitDigits: Int

    /// Throws `DomainError.unknownCurrency` for any code that is not in `Currency.known`.
    public init(_ code: String) throws(DomainError) {
        guard let digits = Self.known[code] else { throw .unknownCurrency(String(code.prefix(8))) }
        self.code = code
        self.minorUnitDigits = digits
    }

    public init(from decoder: any Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(code) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    public var description: String { code }

    /// The currencies the hub accepts, with their minor-unit digits (ISO 4217). Extend as retailers need.
    public static let known: [String: Int] = [
        "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "CZK": 2, "DKK": 2,
        "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0,
        "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "RON": 2,
        "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "USD": 2, "VND": 0, "ZAR": 2,
    ]

    public static let usd = try! Currency("USD")
    public static let eur = try! Currency("EUR")
    public static let gbp = try! Currency("GBP")
    public static let jpy = try! Currency("JPY")
}

/// How to round a value that falls between two minor units. Always named at the call site: money never rounds silently.
public enum RoundingRule: String, Sendable, Codable, CaseIterable {
    /// Ties to the even neighbour (banker's rounding): no drift over many roundings.
    case halfEven
    /// Ties away from zero: what most receipts and tax tables use.
    case halfUp
    /// Toward zero: truncation.
    case towardZero
    /// Away from zero: any remainder rounds up in magnitude.
    case awayFromZero

    /// `numerator / denominator` rounded to an integer. `denominator` must be positive.
    public func divide(_ numerator: Int64, by denominator: Int64) -> Int64 {
        precondition(denominator > 0, "denominator must be positive")
        let quotient = numerator / denominator
        let remainder = numerator % denominator
        guard remainder != 0 else { return quotient }
        let sign: Int64 = numerator < 0 ? -1 : 1
        let twice = remainder.magnitude * 2
        let roundAway: Bool
        switch self {
        case .towardZero: roundAway = false
        case .awayFromZero: roundAway = true
        case .halfUp: roundAway = twice >= denominator.magnitude
        case .halfEven:
            roundAway = twice > denominator.magnitude || (twice == denominator.magnitude && quotient % 2 != 0)
        }
        return roundAway ? quotient + sign : quotient
    }
}

/// An amount of money: integer minor units (cents, pence, yen) and a currency. Never a `Double`.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    /// Parses a decimal string as platforms send it ("19.99", "-5", "1200.5").
    /// More fraction digits than the currency has are an error unless a rounding rule is given.
    public init(parsing text: String, currency: Currency, rounding: RoundingRule? = nil) throws(DomainError) {
        var body = Substring(text)
        var negative = false
        if body.first == "-" { negative = true; body = body.dropFirst() } else if body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty,
              whole.allSatisfy(\.isASCII) && whole.allSatisfy(\.isNumber),
              fraction.allSatisfy(\.isASCII) && fraction.allSatisfy(\.isNumber),
              parts.count == 1 || !fraction.isEmpty
        else { throw .invalidAmount(String(text.prefix(40)), reason: "not a decimal number") }
        guard whole.count <= 18, fraction.count <= 18 else {
            throw .invalidAmount(String(text.prefix(40)), reason: "too many digits")
        }
        let digits = currency.minorUnitDigits
        var units = Int64(whole.isEmpty ? "0" : whole)!
        for _ in 0..<digits {
            let (product, overflow) = units.multipliedReportingOverflow(by: 10)
            guard !overflow else { throw .amountOverflow }
            units = product
        }
        let kept = fraction.prefix(digits)
        let keptValue = Int64(kept.isEmpty ? "0" : String(kept))! * Self.power(digits - kept.count)
        let (withFraction, fractionOverflow) = units.addingReportingOverflow(keptValue)
        guard !fractionOverflow else { throw .amountOverflow }
        units = withFraction
        let rest = fraction.dropFirst(digits)
        if let first = rest.first, rest.contains(where: { $0 != "0" }) {
            guard let rounding else {
                throw .invalidAmount(String(text.prefix(40)), reason: "more than \(digits) fraction digits for \(currency.code)")
            }
            // The first dropped digit and whether anything non-zero follows it decide every rule, so a price
            // rendered from a float ("19.990000000000002") rounds without overflowing.
            let sticky: Int64 = rest.dropFirst().contains(where: { $0 != "0" }) ? 1 : 0
            let (scaled, scaleOverflow) = units.multipliedReportingOverflow(by: 100)
            guard !scaleOverflow else { throw .amountOverflow }
            // Every rule is symmetric around zero, so the magnitude rounds as the signed value would.
            units = rounding.divide(scaled + Int64(first.wholeNumberValue!) * 10 + sticky, by: 100)
        }
        self.init(minorUnits: negative ? -units : units, currency: currency)
    }

    /// The amount as a plain decimal string with the currency's digits ("19.99", "-0.05", "1200").
    public var decimalString: String {
        let digits = currency.minorUnitDigits
        let magnitude = minorUnits.magnitude
        guard digits > 0 else { return "\(minorUnits)" }
        let scale = UInt64(Self.power(digits))
        let fraction = String(magnitude % scale)
        let padded = String(repeating: "0", count: digits - fraction.count) + fraction
        return (minorUnits < 0 ? "-" : "") + "\(magnitude / scale).\(padded)"
    }

    public var description: String { "\(decimalString) \(currency.code)" }

    public func adding(_ other: Money) throws(DomainError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .amountOverflow }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(DomainError) -> Money {
        guard currency == other.currency else { throw .currencyMismatch(currency, other.currency) }
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .amountOverflow }
        return Money(minorUnits: difference, currency: currency)
    }

    /// The amount times a whole quantity (a unit price times a line quantity).
    public func multiplied(by quantity: Int64) throws(DomainError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: quantity)
        guard !overflow else { throw .amountOverflow }
        return Money(minorUnits: product, currency: currency)
    }

    /// A rate given in basis points (1/100 of a percent; 2000 = 20 %), rounded by `rounding`.
    public func applying(basisPoints: Int64, rounding: RoundingRule) throws(DomainError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: basisPoints)
        guard !overflow else { throw .amountOverflow }
        return Money(minorUnits: rounding.divide(product, by: 10_000), currency: currency)
    }

    /// Splits the amount in proportion to `weights`, so that the parts add up to exactly the amount
    /// (largest-remainder method; ties go to the earlier part). Used to spread an order discount or tax over lines.
    public func allocated(proportionally weights: [Int64]) throws(DomainError) -> [Money] {
        guard !weights.isEmpty, weights.allSatisfy({ $0 >= 0 }) else {
            throw .invalidAmount(decimalString, reason: "allocation needs at least one non-negative weight")
        }
        var total: Int64 = 0
        for weight in weights {
            let (sum, overflow) = total.addingReportingOverflow(weight)
            guard !overflow else { throw .amountOverflow }
            total = sum
        }
        guard total > 0 else {
            throw .invalidAmount(decimalString, reason: "allocation weights add up to zero")
        }
        var parts: [Int64] = []
        var remainders: [(index: Int, remainder: Int64)] = []
        for (index, weight) in weights.enumerated() {
            let (product, overflow) = minorUnits.multipliedReportingOverflow(by: weight)
            guard !overflow else { throw .amountOverflow }
            parts.append(product / total)
            remainders.append((index, (product % total).magnitude > 0 ? Int64((product % total).magnitude) : 0))
        }
        var left = minorUnits - parts.reduce(0, +)
        let step: Int64 = left < 0 ? -1 : 1
        let order = remainders.sorted { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
        var cursor = 0
        while left != 0 {
            parts[order[cursor % order.count].index] += step
            left -= step
            cursor += 1
        }
        return parts.map { Money(minorUnits: $0, currency: currency) }
    }

    static func power(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<max(0, exponent) { value *= 10 }
        return value
    }
}
