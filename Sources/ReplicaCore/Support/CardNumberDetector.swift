/// Finds card numbers (PANs) so they are refused before they are ever stored.
///
/// The rule: inside a value, a run of decimal digits (any script's: ASCII, full-width,
/// Arabic-Indic, ...) joined by separators (whitespace and line breaks, dashes, dots,
/// underscores, slashes, full-width forms of those) is a card number when it holds 13-19
/// digits, starts with a card network's issuer prefix (Visa, Mastercard, American Express,
/// Discover, JCB, Diners, UnionPay, Maestro) and passes the Luhn check. The prefix keeps
/// ordinary long numbers (order numbers, timestamps) from being refused one time in ten.
public enum CardNumberDetector {
    /// The Luhn check over digit values 0...9.
    public static func luhnValid(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            var v = Int(d)
            if i % 2 == 1 {
                v *= 2
                if v > 9 { v -= 9 }
            }
            sum += v
        }
        return !digits.isEmpty && sum % 10 == 0
    }

    /// Whether `digits` begin with an issuer prefix of a card network.
    public static func hasIssuerPrefix(_ digits: [UInt8]) -> Bool {
        guard digits.count >= 6 else { return false }
        return hasIssuerPrefix(six: digits.prefix(6).reduce(0) { $0 * 10 + Int($1) })
    }

    /// Whether a number's first six digits, as one number (000000-999999), are an issuer
    /// prefix of a card network.
    static func hasIssuerPrefix(six: Int) -> Bool {
        let (p1, p2, p3, p4, p6) = (six / 100_000, six / 10_000, six / 1_000, six / 100, six)
        return p1 == 4  // Visa
            || (51...55).contains(p2) || (2221...2720).contains(p4)  // Mastercard
            || p2 == 34 || p2 == 37  // American Express
            || p4 == 6011 || p2 == 65 || (644...649).contains(p3) || (622126...622925).contains(p6)  // Discover
            || (3528...3589).contains(p4)  // JCB
            || (300...305).contains(p3) || p2 == 36 || p2 == 38 || p2 == 39  // Diners
            || p2 == 62  // UnionPay
            || p2 == 50 || (56...69).contains(p2)  // Maestro
    }

    /// Whether any maximal run of digits and separators inside `s` is a card number.
    /// Linear in the length of `s`, and allocates nothing: every value a client or a
    /// peer sends passes here. ASCII text is read as bytes; text with other characters
    /// is read again as Unicode scalars (a run before the first such character is the
    /// same run either way).
    public static func containsCardNumber(_ s: String) -> Bool {
        var run = Run()
        for byte in s.utf8 {
            guard byte < 0x80 else { return containsCardNumber(scalars: s.unicodeScalars) }
            if byte >= 0x30 && byte <= 0x39 {
                run.add(byte - 0x30)
            } else if isSeparator(Unicode.Scalar(byte)) {
                continue
            } else {
                if run.isCardNumber { return true }
                run = Run()
            }
        }
        return run.isCardNumber
    }

    static func containsCardNumber(scalars: String.UnicodeScalarView) -> Bool {
        var run = Run()
        for scalar in scalars {
            if let d = digitValue(scalar) {
                run.add(d)
            } else if isSeparator(scalar) {
                continue
            } else {
                if run.isCardNumber { return true }
                run = Run()
            }
        }
        return run.isCardNumber
    }

    /// A decimal digit of any script (full-width `４`, Arabic-Indic `٤`, ...) as 0...9.
    static func digitValue(_ scalar: Unicode.Scalar) -> UInt8? {
        if scalar.value >= 0x30 && scalar.value <= 0x39 { return UInt8(scalar.value - 0x30) }
        guard scalar.value > 0x7F, scalar.properties.numericType == .decimal, let v = scalar.properties.numericValue,
            v >= 0, v <= 9
        else { return nil }
        return UInt8(v)
    }

    /// What people and programs put between a card number's digit groups.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case " ", "-", ".", "_", "/", "\\", "\n", "\r", "\t": return true
        default:
            guard scalar.value > 0x7F else { return false }
            switch scalar.properties.generalCategory {
            case .spaceSeparator, .dashPunctuation, .connectorPunctuation, .lineSeparator, .paragraphSeparator:
                return true
            // Full-width . and /, and the ideographic full stop 。.
            default: return scalar == "\u{FF0E}" || scalar == "\u{FF0F}" || scalar == "\u{3002}"
            }
        }
    }

    /// One run of digits, kept as what the checks need rather than the digits: how many,
    /// the first six as a number, and the Luhn sum both ways (which digits are doubled
    /// depends on where the run ends).
    struct Run {
        var count = 0
        var firstSix = 0
        /// The Luhn sum with the digits at even places from the left doubled (right when
        /// the run has an even count: its last digit is then at an odd place).
        var sumDoublingEven = 0
        /// The Luhn sum with the digits at odd places from the left doubled.
        var sumDoublingOdd = 0

        mutating func add(_ d: UInt8) {
            let v = Int(d)
            let doubled = v < 5 ? 2 * v : 2 * v - 9
            if count % 2 == 0 {
                sumDoublingEven += doubled
                sumDoublingOdd += v
            } else {
                sumDoublingEven += v
                sumDoublingOdd += doubled
            }
            if count < 6 { firstSix = firstSix * 10 + v }
            count += 1
        }

        var isCardNumber: Bool {
            guard (13...19).contains(count) else { return false }
            let luhn = count % 2 == 0 ? sumDoublingEven : sumDoublingOdd
            return luhn % 10 == 0 && CardNumberDetector.hasIssuerPrefix(six: firstSix)
        }
    }
}
