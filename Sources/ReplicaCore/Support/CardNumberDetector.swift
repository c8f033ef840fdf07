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
        func prefix(_ n: Int) -> Int { digits.prefix(n).reduce(0) { $0 * 10 + Int($1) } }
        guard digits.count >= 6 else { return false }
        let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6))
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
    /// Linear in the length of `s`.
    public static func containsCardNumber(_ s: String) -> Bool {
        var run = Run()
        for scalar in s.unicodeScalars {
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

    /// Digits of one run, up to one more than a card number can have.
    struct Run {
        var digits: [UInt8] = []
        var count = 0
        mutating func add(_ d: UInt8) {
            count += 1
            if digits.count < 20 { digits.append(d) }
        }
        var isCardNumber: Bool {
            (13...19).contains(count) && CardNumberDetector.hasIssuerPrefix(digits)
                && CardNumberDetector.luhnValid(digits)
        }
    }
}
