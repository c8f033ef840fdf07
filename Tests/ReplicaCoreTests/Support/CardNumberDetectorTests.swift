import Testing

@testable import ReplicaCore

/// The card number detector against the plain statement of its rule (collect each run's
/// digits, then check count, prefix and Luhn over them), on generated text full of near
/// misses: the detector keeps only sums as it reads, and must decide exactly alike.
struct CardNumberDetectorTests {
    /// The rule, spelled out over the digits themselves.
    static func reference(_ s: String) -> Bool {
        var runs: [[UInt8]] = [[]]
        for scalar in s.unicodeScalars {
            if let d = CardNumberDetector.digitValue(scalar) {
                runs[runs.count - 1].append(d)
            } else if !CardNumberDetector.isSeparator(scalar) {
                runs.append([])
            }
        }
        return runs.contains { digits in
            (13...19).contains(digits.count) && CardNumberDetector.hasIssuerPrefix(digits)
                && CardNumberDetector.luhnValid(digits)
        }
    }

    /// A number that passes Luhn, `length` digits after `prefix`.
    static func luhnNumber(prefix: [UInt8], length: Int, using rng: inout SplitMix64) -> [UInt8] {
        var digits = prefix
        while digits.count < length - 1 { digits.append(UInt8.random(in: 0...9, using: &rng)) }
        for check in UInt8(0)...9 where CardNumberDetector.luhnValid(digits + [check]) { return digits + [check] }
        preconditionFailure("some check digit passes")
    }

    @Test func theDetectorDecidesAsTheRuleOnGeneratedText() {
        var rng = SplitMix64(seed: 28)
        let prefixes: [[UInt8]] = [
            [4], [5, 1], [3, 4], [6, 0, 1, 1], [3, 5, 2, 8], [6, 2], [1, 2], [9, 9], [2, 2, 2, 1],
        ]
        let separators = [" ", "-", ".", "_", "/", "\n", "\u{3000}", "\u{FF0E}", "\u{2010}"]
        let other = ["a", "Z", "#", ":", "é", "中", "😀", "\u{7F}", "x"]
        let digitForms: [(UInt8) -> String] = [
            { String($0) },
            { String(Unicode.Scalar(0xFF10 + UInt32($0))!) },  // full-width
            { String(Unicode.Scalar(0x0660 + UInt32($0))!) },  // Arabic-Indic
        ]
        var found = 0
        for round in 0..<4_000 {
            var text = ""
            let asciiOnly = round % 2 == 0
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let length = Int.random(in: 10...21, using: &rng)
                let digits =
                    Bool.random(using: &rng)
                    ? Self.luhnNumber(prefix: prefixes.randomElement(using: &rng)!, length: length, using: &rng)
                    : (0..<length).map { _ in UInt8.random(in: 0...9, using: &rng) }
                for (i, d) in digits.enumerated() {
                    text += asciiOnly ? String(d) : digitForms.randomElement(using: &rng)!(d)
                    if i % 4 == 3 && Bool.random(using: &rng) {
                        text +=
                            asciiOnly
                            ? ["-", " ", "."].randomElement(using: &rng)! : separators.randomElement(using: &rng)!
                    }
                }
                if Int.random(in: 0..<3, using: &rng) > 0 {
                    text += asciiOnly ? ["a", "#", "x"].randomElement(using: &rng)! : other.randomElement(using: &rng)!
                }
            }
            let expected = Self.reference(text)
            if expected { found += 1 }
            #expect(CardNumberDetector.containsCardNumber(text) == expected, "\(text.debugDescription)")
        }
        #expect(found > 400, "the generated text holds card numbers too, not only near misses")
    }
}
