/// The name of a region, e.g. `us-east-1`: the identity of one node in the cluster.
///
/// Regions are ordered by their name; that order breaks ties between equal clock
/// stamps, so it MUST be the same on every node (it is: plain byte order).
public struct RegionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The region's name: 1...32 characters of `[a-z0-9-]`.
    public let name: String

    /// The longest region name accepted.
    public static let maxLength = 32

    /// Makes a region id, or returns nil when `name` is not 1...32 characters of `[a-z0-9-]`.
    public init?(_ name: String) {
        let utf8 = name.utf8
        guard (1...Self.maxLength).contains(utf8.count),
            utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
        else { return nil }
        self.name = name
    }

    public var description: String { name }

    public static func < (lhs: RegionID, rhs: RegionID) -> Bool {
        lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
}
