/// Crockford's base 32 (digits and upper-case letters without I, L, O, U): the
/// alphabet of payment ids.
public enum CrockfordBase32 {
    /// The 32 symbols, in value order.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// `characters` symbols from the leading bits of `bits`, most significant first,
    /// padding with zero bits when the bytes run out.
    public static func encode(bits: [UInt8], characters: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(characters)
        for i in 0..<characters {
            var value = 0
            for b in 0..<5 {
                let bit = i * 5 + b
                let byte = bit / 8
                let set = byte < bits.count && (bits[byte] >> (7 - UInt8(bit % 8))) & 1 == 1
                value = value << 1 | (set ? 1 : 0)
            }
            out.append(alphabet[value])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether every character of `s` is one of the 32 upper-case symbols.
    public static func isValid<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.allSatisfy { $0 < 128 && isSymbol[Int($0)] }
    }

    private static let isSymbol: [Bool] = (0..<128).map { alphabet.contains(UInt8($0)) }
}
