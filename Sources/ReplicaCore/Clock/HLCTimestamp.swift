/// A hybrid logical clock reading: 48 bits of wall-clock milliseconds and a 16-bit
/// logical counter, packed into one `UInt64` so stamps compare as plain integers.
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// `wallMillis << 16 | counter`.
    public let rawValue: UInt64

    /// The largest wall-clock value a stamp can hold (year 10889).
    public static let maxWallMillis: UInt64 = (1 << 48) - 1
    /// The zero stamp, below every real one.
    public static let zero = HLCTimestamp(rawValue: 0)

    /// Wraps a packed value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Packs wall milliseconds (clamped to 48 bits) and a counter.
    public init(wallMillis: UInt64, counter: UInt16) {
        self.rawValue = (min(wallMillis, Self.maxWallMillis) << 16) | UInt64(counter)
    }

    /// Milliseconds since the Unix epoch.
    public var wallMillis: UInt64 { rawValue >> 16 }
    /// The logical counter within one millisecond.
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    /// The next stamp after this one (the counter, spilling into the milliseconds).
    public var successor: HLCTimestamp { HLCTimestamp(rawValue: rawValue &+ 1) }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "\(wallMillis).\(counter)" }
}

/// The version of one field value: the clock reading of the write and the region that
/// wrote it. The region breaks ties, so two different writes never compare equal.
public struct Stamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// When the write happened, on the hybrid logical clock.
    public let time: HLCTimestamp
    /// Where the write happened.
    public let region: RegionID

    /// Makes a stamp.
    public init(time: HLCTimestamp, region: RegionID) {
        self.time = time
        self.region = region
    }

    public static func < (lhs: Stamp, rhs: Stamp) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.region < rhs.region
    }

    public var description: String { "\(time)@\(region)" }
}
