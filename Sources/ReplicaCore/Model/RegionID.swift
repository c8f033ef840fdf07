/// The name of a region, e.g. `us-east-1`: the identity of one node in the cluster.
///
/// Regions are ordered by their name; that order breaks ties between equal clock
/// stamps, so it MUST be the same on every node (it is: plain byte order).
public struct RegionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The region's name: 1...32 characters of `[a-z0-9-]`.
    public let name: String
    /// The name's first 16 bytes, big-endian, zero-padded (no name byte is zero): ids
    /// compare and hash as these two words, and the text is read only when both are
    /// equal and the name is 16 bytes or more (`isLong`). Ids are compared on every
    /// vector access and hashed on every lookup of a peer.
    private let head0: UInt64
    private let head1: UInt64

    /// The longest region name accepted.
    public static let maxLength = 32

    /// Makes a region id, or returns nil when `name` is not 1...32 characters of `[a-z0-9-]`.
    public init?(_ name: String) {
        var head0: UInt64 = 0
        var head1: UInt64 = 0
        var count = 0
        for byte in name.utf8 {
            guard count < Self.maxLength,
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
            else { return nil }
            if count < 8 {
                head0 |= UInt64(byte) << UInt64(56 - 8 * count)
            } else if count < 16 {
                head1 |= UInt64(byte) << UInt64(56 - 8 * (count - 8))
            }
            count += 1
        }
        guard count >= 1 else { return nil }
        self.name = name
        self.head0 = head0
        self.head1 = head1
    }

    public var description: String { name }

    /// The name has 16 bytes or more: the two words do not hold all of it.
    private var isLong: Bool { head1 & 0xFF != 0 }

    public static func == (lhs: RegionID, rhs: RegionID) -> Bool {
        lhs.head0 == rhs.head0 && lhs.head1 == rhs.head1 && (!lhs.isLong || lhs.name == rhs.name)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(head0)
        hasher.combine(head1)
        if isLong { hasher.combine(name) }
    }

    public static func < (lhs: RegionID, rhs: RegionID) -> Bool {
        if lhs.head0 != rhs.head0 { return lhs.head0 < rhs.head0 }
        if lhs.head1 != rhs.head1 { return lhs.head1 < rhs.head1 }
        return lhs.isLong && lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
    }
}
