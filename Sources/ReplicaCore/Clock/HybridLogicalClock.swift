/// A hybrid logical clock (Kulkarni et al.) whose physical time is always passed in.
///
/// - Local stamps are strictly increasing, even when the wall clock steps back
///   (after a restart too, when the clock is seeded with the persisted high-water mark).
/// - A remote stamp moves the clock forward, but never further than
///   `maxForwardSkewMillis` ahead of local wall time: a region whose clock runs far
///   ahead cannot drag the others along. Such stamps are counted in `clampedRemoteStamps`.
public struct HybridLogicalClock: Sendable {
    /// The last stamp this clock issued or observed: the value to persist as the high-water mark.
    public private(set) var last: HLCTimestamp
    /// How far ahead of local wall time a remote stamp may move this clock.
    public let maxForwardSkewMillis: UInt64
    /// Remote stamps that were further ahead than allowed (the clock moved only up to the bound).
    public private(set) var clampedRemoteStamps: UInt64 = 0

    /// A clock that resumes after `highWaterMark` (zero for a brand-new node).
    public init(highWaterMark: HLCTimestamp = .zero, maxForwardSkewMillis: UInt64 = 500) {
        self.last = highWaterMark
        self.maxForwardSkewMillis = maxForwardSkewMillis
    }

    /// A stamp for a local event at wall time `nowMillis`, greater than every stamp before.
    public mutating func tick(nowMillis: UInt64) -> HLCTimestamp {
        let physical = HLCTimestamp(wallMillis: nowMillis, counter: 0)
        last = physical > last ? physical : last.successor
        return last
    }

    /// Takes in a stamp received from another region at local wall time `nowMillis`.
    ///
    /// - Returns: true when the stamp was within the skew bound; false when it was
    ///   further ahead and the clock moved only up to `now + maxForwardSkewMillis`.
    @discardableResult
    public mutating func observe(_ remote: HLCTimestamp, nowMillis: UInt64) -> Bool {
        let bound = HLCTimestamp(wallMillis: nowMillis &+ maxForwardSkewMillis, counter: UInt16.max)
        if remote > bound {
            clampedRemoteStamps += 1
            if bound > last { last = bound }
            return false
        }
        if remote > last { last = remote }
        return true
    }

    /// A stamp for a local write that must beat `floor` (the newest stamp already on the
    /// record being written), so a write always wins over every value it has seen,
    /// whatever the clocks say. The clock itself moves only within the skew bound.
    public mutating func stamp(after floor: HLCTimestamp, nowMillis: UInt64) -> HLCTimestamp {
        let candidate = tick(nowMillis: nowMillis)
        if candidate > floor { return candidate }
        let forced = floor.successor
        let bound = HLCTimestamp(wallMillis: nowMillis &+ maxForwardSkewMillis, counter: UInt16.max)
        last = forced <= bound ? forced : max(last, bound)
        return forced
    }
}
