/// Finds card numbers (PANs) so they are refused before they are ever stored.
///
/// The rule: a run of characters from `[0-9]`, space and `-` whose digits number
/// 13...19 and pass the Luhn check is a card number. `looksLikeCardNumber` applies it
/// to a whole value; `containsCardNumber` to every maximal run inside free text.
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

    /// Whether the whole string, ignoring spaces and dashes, is 13-19 digits passing Luhn.
    public static func looksLikeCardNumber(_ s: String) -> Bool {
        var digits: [UInt8] = []
        for b in s.utf8 {
            if b >= 0x30 && b <= 0x39 { digits.append(b - 0x30) } else if b != 0x20 && b != 0x2D { return false }
            if digits.count > 19 { return false }
        }
        return (13...19).contains(digits.count) && luhnValid(digits)
    }

    /// Whether any maximal run of digits, spaces and dashes inside `s` holds 13-19 digits
    /// passing Luhn. Linear in the length of `s`.
    public static func containsCardNumber(_ s: String) -> Bool {
        var digits: [UInt8] = []
        var tooLong = false
        func check() -> Bool {
            defer { digits.removeAll(keepingCapacity: true); tooLong = false }
            return !tooLong && (13...19).contains(digits.count) && luhnValid(digits)
        }
        for b in s.utf8 {
            if b >= 0x30 && b <= 0x39 {
                if digits.count < 19 { digits.append(b - 0x30) } else { tooLong = true }
            } else if b == 0x20 || b == 0x2D {
                continue
            } else if check() {
                return true
            }
        }
        return check()
    }
}
