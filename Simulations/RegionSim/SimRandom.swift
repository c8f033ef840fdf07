import ReplicaCore

/// The simulator's only source of randomness: SplitMix64, seeded from the run's root
/// seed. Sub-generators (network, workload, faults) are forked from it, so adding a
/// draw in one part does not shift the others.
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent generator for a named part of the world.
    public mutating func fork(_ label: UInt64) -> SimRandom {
        SimRandom(seed: next() ^ (label &* 0x2545_F491_4F6C_DD1D))
    }

    /// Uniform in `0..<bound` (bound > 0).
    public mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0, "below(0)")
        return next() % bound
    }

    /// Uniform in a closed range.
    public mutating func between(_ low: UInt64, _ high: UInt64) -> UInt64 {
        high <= low ? low : low + below(high - low + 1)
    }

    /// True with probability `perMillion` / 1,000,000.
    public mutating func chance(perMillion: UInt64) -> Bool { below(1_000_000) < perMillion }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[Int(below(UInt64(items.count)))] }

    /// A delay with the given mean, uniform in `0...2*mean` (inter-arrival times).
    public mutating func around(meanMicros: UInt64) -> UInt64 { between(0, 2 * meanMicros) }
}
