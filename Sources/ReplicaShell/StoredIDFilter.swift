import ReplicaCore

/// The payment ids a store may hold, kept by a shell whose store held few payments when
/// it started (`RecoveredState.heldIDs`): those, and every id the shell has handed the
/// store to commit since. An id it has never seen is not in the store, so the engine's
/// read of it is answered without one (a region that starts empty, or nearly, and takes
/// a million payments from its peers would otherwise look up each of them, and find
/// none).
///
/// A Bloom filter: it may say an id is held when it is not (the read is then made), never
/// the reverse, as long as every id committed went through `insert` first. Its hash is
/// FNV-1a over the id's bytes, not Swift's `Hasher`, whose seed changes per process, so
/// a simulation replays exactly. Once it holds more ids than half its bits, where nearly
/// half the reads would be made anyway, it says so (`isFull`) and the shell lets it go.
struct StoredIDFilter {
    private var words: [UInt64]
    private let mask: UInt64
    private(set) var count = 0

    /// A filter of `bits` bits, rounded up to a power of two (at least 64).
    init(bits: Int) {
        var size = 64
        while size < bits { size <<= 1 }
        words = [UInt64](repeating: 0, count: size / 64)
        mask = UInt64(size - 1)
    }

    /// Whether the filter holds so many ids that it is no longer worth keeping.
    var isFull: Bool { count > words.count * 32 }

    /// Adds `id`. An id that sets no new bit (written again, or a false positive) is not
    /// counted, so `count` follows the distinct ids, not the writes.
    mutating func insert(_ id: PaymentID) {
        let (a, b) = Self.hashes(id)
        var added = false
        for i in 0..<Self.probes {
            let bit = (a &+ UInt64(i) &* b) & mask
            let word = Int(bit >> 6)
            let flag: UInt64 = 1 << (bit & 63)
            if words[word] & flag == 0 {
                words[word] |= flag
                added = true
            }
        }
        if added { count += 1 }
    }

    /// False when `id` was never inserted; true when it may have been.
    func mayContain(_ id: PaymentID) -> Bool {
        let (a, b) = Self.hashes(id)
        for i in 0..<Self.probes {
            let bit = (a &+ UInt64(i) &* b) & mask
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Bits set per id: three (about 3% false positives with an id per eight bits, 0.1%
    /// with one per thirty).
    static let probes = 3

    /// Two hashes of the id (double hashing: probe i is `a + i * b`); `b` is odd, so the
    /// probes differ.
    private static func hashes(_ id: PaymentID) -> (UInt64, UInt64) {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in id.rawValue.utf8 {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        // A final mix, so the high bits depend on every byte too.
        var z = h
        z = (z ^ (z >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        z = (z ^ (z >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        z ^= z >> 33
        return (z, (h >> 32 | h << 32) | 1)
    }
}
