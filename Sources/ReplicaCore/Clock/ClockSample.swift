/// The clock reading a PING carries, so two regions can estimate the offset between
/// their clocks the way NTP does, from four timestamps: when the receiver's last ping
/// left it (`echoMillis`, on the receiver's clock), how long the sender held that ping
/// before answering (`heldMillis`, on the sender's clock), and when this ping left the
/// sender (`sentAtMillis`, on the sender's clock); the fourth is the receiver's clock
/// when this ping arrives. Every field is peer input and is checked before use.
public struct ClockSample: Hashable, Sendable {
    /// The sender's wall clock when it sent this ping (0: it sends no clock reading).
    public var sentAtMillis: UInt64
    /// `sentAtMillis` of the last ping the sender got from the receiver (0: none yet).
    public var echoMillis: UInt64
    /// How long the sender held that ping, on its own clock.
    public var heldMillis: UInt64

    /// No reading (a ping that only carries a vector).
    public static let none = ClockSample(sentAtMillis: 0, echoMillis: 0, heldMillis: 0)

    /// Makes a reading.
    public init(sentAtMillis: UInt64, echoMillis: UInt64, heldMillis: UInt64) {
        self.sentAtMillis = sentAtMillis
        self.echoMillis = echoMillis
        self.heldMillis = heldMillis
    }

    /// Why the reading cannot be true (nil when it can): every value a wall clock reading.
    public var problem: String? {
        let max = HLCTimestamp.maxWallMillis
        guard sentAtMillis <= max, echoMillis <= max, heldMillis <= max else {
            return "PING clock reading beyond \(max) ms"
        }
        return nil
    }

    /// The offset of the sender's clock from the receiver's, measured from this reading
    /// arriving at the receiver's wall time `nowMillis`; nil when the reading echoes
    /// nothing, or cannot be right on this clock (it stepped back since the echoed ping
    /// left, or the sender says it held the ping longer than the round trip took).
    public func offset(receivedAtMillis nowMillis: UInt64) -> ClockOffset? {
        guard problem == nil, sentAtMillis != 0, echoMillis != 0, echoMillis <= nowMillis,
            heldMillis <= nowMillis - echoMillis, heldMillis <= sentAtMillis
        else { return nil }
        // All four fit 48 bits, so the signed arithmetic below cannot overflow.
        let t0 = Int64(echoMillis)
        let t3 = Int64(nowMillis)
        let t2 = Int64(sentAtMillis)
        let t1 = t2 - Int64(heldMillis)
        return ClockOffset(
            offsetMillis: ((t1 - t0) + (t2 - t3)) / 2,
            roundTripMillis: nowMillis - echoMillis - heldMillis, measuredAtMillis: nowMillis)
    }
}

/// An estimate of how far a peer's clock is from this region's (positive: the peer's is
/// ahead), good to within half the round trip it was measured over.
public struct ClockOffset: Hashable, Sendable {
    /// The peer's clock minus this region's, in milliseconds.
    public let offsetMillis: Int64
    /// The round trip the estimate was measured over: the true offset is within half of it.
    public let roundTripMillis: UInt64
    /// This region's clock when the estimate was made.
    public let measuredAtMillis: UInt64

    /// Makes an estimate.
    public init(offsetMillis: Int64, roundTripMillis: UInt64, measuredAtMillis: UInt64) {
        self.offsetMillis = offsetMillis
        self.roundTripMillis = roundTripMillis
        self.measuredAtMillis = measuredAtMillis
    }

    /// Whether the offset is certainly beyond `boundMillis`, whatever the round trip's
    /// share of the error: an uncertain estimate never stops a region.
    public func isBeyond(_ boundMillis: UInt64) -> Bool {
        offsetMillis.magnitude > boundMillis + roundTripMillis / 2
    }
}
