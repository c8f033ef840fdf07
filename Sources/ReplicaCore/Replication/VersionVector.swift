/// For each origin region, the highest contiguous sequence number applied from it.
///
/// A node holding vector V has every entry `(o, s)` with `s <= V[o]`. Vectors merge by
/// taking the maximum per region and compare by the product order.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// The per-origin counters; absent means zero.
    public private(set) var counters: [RegionID: UInt64]

    /// The empty vector (nothing applied).
    public init(_ counters: [RegionID: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    /// The highest contiguous sequence applied from `origin` (0 when none).
    public subscript(origin: RegionID) -> UInt64 {
        get { counters[origin] ?? 0 }
        set { counters[origin] = newValue == 0 ? nil : newValue }
    }

    /// Origins in a stable order (sorted by name); iterate this, never the dictionary.
    public var origins: [RegionID] { counters.keys.sorted() }

    /// Sorted (origin, seq) pairs.
    public var sortedEntries: [(origin: RegionID, seq: UInt64)] {
        origins.map { ($0, counters[$0]!) }
    }

    /// True when this vector has seen everything `other` has.
    public func dominates(_ other: VersionVector) -> Bool {
        other.counters.allSatisfy { self[$0.key] >= $0.value }
    }

    /// True when the entry `(origin, seq)` is covered.
    public func contains(origin: RegionID, seq: UInt64) -> Bool { self[origin] >= seq }

    /// The per-region maximum of both.
    public func merged(with other: VersionVector) -> VersionVector {
        var result = self
        result.merge(other)
        return result
    }

    /// Takes the per-region maximum in place.
    public mutating func merge(_ other: VersionVector) {
        for (origin, seq) in other.counters where seq > self[origin] { self[origin] = seq }
    }

    /// The per-region minimum over several vectors (what all of them have).
    public static func meet(_ vectors: [VersionVector]) -> VersionVector {
        guard var result = vectors.first else { return VersionVector() }
        for v in vectors.dropFirst() {
            var next = VersionVector()
            for origin in result.origins { next[origin] = min(result[origin], v[origin]) }
            result = next
        }
        return result
    }

    /// Total entries covered (sum of counters).
    public var total: UInt64 { counters.values.reduce(0, +) }

    public var description: String {
        "{" + sortedEntries.map { "\($0.origin):\($0.seq)" }.joined(separator: ",") + "}"
    }
}
