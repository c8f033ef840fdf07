/// FNV-1a (64-bit) over the event trace: every processed event folds its time, kind
/// and subjects in. Two runs with the same seed and options MUST print the same hash.
public struct TraceHash: Sendable, Hashable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func mix(_ x: UInt64) {
        var v = x
        for _ in 0..<8 {
            value ^= v & 0xFF
            value = value &* 0x0000_0100_0000_01B3
            v >>= 8
        }
    }

    public mutating func mix(_ s: String) {
        for b in s.utf8 {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    public var hex: String {
        let digits = Array("0123456789abcdef")
        return String((0..<16).map { digits[Int((value >> UInt64(60 - 4 * $0)) & 0xF)] })
    }
}
