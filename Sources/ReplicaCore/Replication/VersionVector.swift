/// For each origin region, the highest contiguous sequence number applied from it.
///
/// A node holding vector V has every entry `(o, s)` with `s <= V[o]`. Vectors merge by
/// taking the maximum per region and compare by the product order. Stored as a small
/// array sorted by region (clusters have a handful of regions), so iteration order is
/// fixed and no hashing happens on the hot path.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// (origin, seq) pairs sorted by origin, every seq > 0.
    public private(set) var sortedPairs: [(origin: RegionID, seq: UInt64)]

    /// A vector from per-origin counters (zeros dropped).
    public init(_ counters: [RegionID: UInt64] = [:]) {
        sortedPairs = counters.filter { $0.value > 0 }.map { ($0.key, $0.value) }.sorted { $0.origin < $1.origin }
    }

    /// The highest contiguous sequence applied from `origin` (0 when none).
    public subscript(origin: RegionID) -> UInt64 {
        get {
            for p in sortedPairs where p.origin == origin { return p.seq }
            return 0
        }
        set {
            var i = 0
            while i < sortedPairs.count && sortedPairs[i].origin < origin { i += 1 }
            if i < sortedPairs.count && sortedPairs[i].origin == origin {
                if newValue == 0 { sortedPairs.remove(at: i) } else { sortedPairs[i].seq = newValue }
            } else if newValue > 0 {
                sortedPairs.insert((origin, newValue), at: i)
            }
        }
    }

    /// Origins in a stable order (sorted by name).
    public var origins: [RegionID] { sortedPairs.map(\.origin) }

    /// Sorted (origin, seq) pairs.
    public var sortedEntries: [(origin: RegionID, seq: UInt64)] { sortedPairs }

    /// True when this vector has seen everything `other` has.
    public func dominates(_ other: VersionVector) -> Bool {
        other.sortedPairs.allSatisfy { self[$0.origin] >= $0.seq }
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
        for p in other.sortedPairs where p.seq > self[p.origin] { self[p.origin] = p.seq }
    }

    /// The per-region minimum over several vectors (what all of them have).
    public static func meet(_ vectors: [VersionVector]) -> VersionVector {
        guard var result = vectors.first else { return VersionVector() }
        for v in vectors.dropFirst() {
            for origin in result.origins { result[origin] = min(result[origin], v[origin]) }
        }
        return result
    }

    /// Total entries covered (sum of counters).
    public var total: UInt64 { sortedPairs.reduce(0) { $0 + $1.seq } }

    public static func == (l: VersionVector, r: VersionVector) -> Bool {
        l.sortedPairs.count == r.sortedPairs.count
            && zip(l.sortedPairs, r.sortedPairs).allSatisfy { $0.origin == $1.origin && $0.seq == $1.seq }
    }

    public func hash(into hasher: inout Hasher) {
        for p in sortedPairs {
            hasher.combine(p.origin)
            hasher.combine(p.seq)
        }
    }

    public var description: String {
        "{" + sortedPairs.map { "\($0.origin):\($0.seq)" }.joined(separator: ",") + "}"
    }
}

extension VersionVector {
    /// The vector's text: `region:seq` pairs sorted by region, joined by commas (`""`
    /// when empty). Session tokens and change feed cursors are written this way.
    public var text: String { sortedPairs.map { "\($0.origin.name):\($0.seq)" }.joined(separator: ",") }

    /// Reads `text`; nil when it is not a vector's text (over 4 KB, a bad region name or
    /// number, more than `WireLimits.regionsMax` regions). A region named twice counts
    /// with its highest seq.
    public init?(text: String) {
        guard text.utf8.count <= 4_096 else { return nil }
        var counters: [RegionID: UInt64] = [:]
        if !text.isEmpty {
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
                guard pieces.count == 2, let region = RegionID(String(pieces[0])), !pieces[1].isEmpty,
                    pieces[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seq = UInt64(pieces[1])
                else { return nil }
                counters[region] = max(counters[region] ?? 0, seq)
            }
        }
        guard counters.count <= WireLimits.regionsMax else { return nil }
        self.init(counters)
    }
}
