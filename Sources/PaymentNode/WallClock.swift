import Foundation

/// The real time, in milliseconds since 1970, as the engine takes it. Only the node's
/// shell reads it; the engine gets the value.
enum WallClock {
    static func nowMillis() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
