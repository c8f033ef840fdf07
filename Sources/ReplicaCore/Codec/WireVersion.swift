/// The peer wire formats this code speaks, and how two regions agree on one.
///
/// A binary speaks its own format and the one before it, so a cluster can be upgraded
/// one region at a time: a link uses the highest format both ends speak (the transport
/// negotiates it before the first message, with TLS ALPN). A change peers must understand
/// is gated on the cluster's active format (`WireAnnouncement.active`), which turns on
/// only once every region has announced a binary that speaks it, and never turns back.
///
/// - 3: the format of the release before this one.
/// - 4: a log entry ends with its actor (who made the change); HELLO announces the
///   formats and release of the sender's binary and the cluster's active format; PING
///   repeats the active format, so a decision reached at one region reaches every other.
public enum WireVersion {
    /// The newest format this code writes and reads.
    public static let current: UInt8 = 4
    /// Every format this code speaks: its own and the one before.
    public static let supported: ClosedRange<UInt8> = 3...4
    /// The first format whose log entries carry their actor: before the cluster has
    /// turned it on, local writes record none (a region still on format 3 could not
    /// pass it on, and regions would hold different entries).
    public static let actorSince: UInt8 = 4
    /// The release this binary reports to its peers (format 4's HELLO) and in `/v1/cluster`.
    public static let release = "0.4.0"

    /// The format two regions use on a link: the highest both speak (nil when none).
    public static func negotiate(_ a: ClosedRange<UInt8>, _ b: ClosedRange<UInt8>) -> UInt8? {
        let low = max(a.lowerBound, b.lowerBound)
        let high = min(a.upperBound, b.upperBound)
        return low <= high ? high : nil
    }

    /// The TLS ALPN name of a format (`paynode-wire/4`). A binary of the release before
    /// offers none: a link with no protocol negotiated runs format 3.
    public static func protocolName(_ version: UInt8) -> String { "paynode-wire/\(version)" }

    /// The format an ALPN name stands for (nil when it is not one of ours).
    public static func version(ofProtocol name: String?) -> UInt8? {
        guard let name else { return 3 }
        let prefix = "paynode-wire/"
        guard name.hasPrefix(prefix), let v = UInt8(name.dropFirst(prefix.count)) else { return nil }
        return v
    }

    /// The ALPN names to offer for `range`, newest first (none for format 3 alone: what
    /// the release before offers).
    public static func protocolNames(_ range: ClosedRange<UInt8>) -> [String] {
        range.upperBound <= 3 ? [] : range.reversed().map(protocolName)
    }
}

/// What a region's binary says of itself in a format-4 HELLO: the formats it speaks, its
/// release, and the format the cluster has turned on as far as it knows.
public struct WireAnnouncement: Hashable, Sendable {
    public var speaks: ClosedRange<UInt8>
    /// The cluster's active format as the sender has recorded it.
    public var active: UInt8
    /// The sender's release (for `/v1/cluster`; 1-32 printable ASCII characters).
    public var release: String

    public init(speaks: ClosedRange<UInt8>, active: UInt8, release: String) {
        self.speaks = speaks
        self.active = active
        self.release = release
    }

    /// The longest release name, in bytes.
    public static let releaseBytesMax = 32
}

/// A message that the link's format cannot carry (an entry with an actor on a format-3
/// link). The link is closed: the engine never sends one when its gate works.
public struct WireVersionError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
