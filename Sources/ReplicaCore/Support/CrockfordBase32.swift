/// Crockford's base 32 (digits and upper-case letters without I, L, O, U): the
/// alphabet of payment ids.
public enum CrockfordBase32 {
    /// The 32 symbols, in value order.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// `characters` symbols from the leading bits of `bits`, most significant first,
    /// padding with zero bits when the bytes run out.
    public static func encode(bits: [UInt8], characters: Int) -> String {
        String(unsafeUninitializedCapacity: characters) { out in
            // Bytes enter a bit accumulator 8 at a time; symbols leave it 5 at a time.
            var accumulator: UInt32 = 0
            var held = 0
            var next = 0
            for i in 0..<characters {
                if held < 5 {
                    accumulator = accumulator << 8 | UInt32(next < bits.count ? bits[next] : 0)
                    next += 1
                    held += 8
                }
                held -= 5
                out[i] = alphabet[Int(accumulator >> UInt32(held) & 31)]
                accumulator &= (1 << UInt32(held)) - 1
            }
            return characters
        }
    }

    /// Packs base-32 symbols (5 bits each) into bytes, most significant first, the last
    /// byte padded with zero bits: 26 symbols take 17 bytes. nil for a non-symbol.
    public static func pack<S: StringProtocol>(_ s: S) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity((s.utf8.count * 5 + 7) / 8)
        // Symbols enter a bit accumulator 5 at a time; bytes leave it 8 at a time.
        var accumulator: UInt32 = 0
        var held = 0
        for c in s.utf8 {
            guard c < 128 else { return nil }
            let value = symbolValue[Int(c)]
            guard value >= 0 else { return nil }
            accumulator = accumulator << 5 | UInt32(value)
            held += 5
            if held >= 8 {
                held -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(held)))
                accumulator &= (1 << UInt32(held)) - 1
            }
        }
        if held > 0 { out.append(UInt8(truncatingIfNeeded: accumulator << UInt32(8 - held))) }
        return out
    }

    /// The inverse of `pack`: `characters` symbols from `bytes`; nil when the padding bits
    /// are not zero (so every id has exactly one packed form).
    public static func unpack(_ bytes: some Collection<UInt8>, characters: Int) -> String? {
        let array = Array(bytes)
        guard array.count == (characters * 5 + 7) / 8 else { return nil }
        for bit in (characters * 5)..<(array.count * 8) where (array[bit / 8] >> (7 - UInt8(bit % 8))) & 1 == 1 {
            return nil
        }
        return encode(bits: array, characters: characters)
    }

    /// Each ASCII byte's symbol value, or -1.
    private static let symbolValue: [Int8] = (0..<128).map { c in alphabet.firstIndex(of: UInt8(c)).map(Int8.init) ?? -1
    }

    /// Whether every character of `s` is one of the 32 upper-case symbols.
    public static func isValid<S: StringProtocol>(_ s: S) -> Bool {
        s.utf8.allSatisfy { $0 < 128 && isSymbol[Int($0)] }
    }

    private static let isSymbol: [Bool] = (0..<128).map { alphabet.contains(UInt8($0)) }
}
