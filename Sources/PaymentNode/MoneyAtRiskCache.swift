import ReplicaCore

/// When `ReplicaNode.moneyAtRisk` may give its last sums again instead of reading the
/// store: the sums read the whole unreplicated log, which while a peer catches up is
/// every payment this region holds (seconds at a million), and `/v1/cluster` and
/// `/metrics` ask for them on every call.
///
/// - Nothing changed since the last read (the store's change count, the peers'
///   acknowledgements, the peers): the sums are exact, given again with age 0.
/// - A read is running: the last sums are given with their age, rather than starting
///   another read of the same log beside it.
/// - The last read took `slowRead` or more: it is not repeated within `spacing` times
///   its duration, so the sums take at most about a tenth of a reading thread however
///   often they are asked for; meanwhile they are given with their age.
/// - Otherwise the store is read: a store small enough to read quickly is read on
///   every change, so each write shows at once.
///
/// Time is passed in (`ContinuousClock` instants), so the rule is tested without waiting.
struct MoneyAtRiskCache: Sendable {
    /// What the sums depend on besides the log's contents.
    struct Key: Equatable, Sendable {
        var storeChanges: UInt64
        var seqs: [UInt64]
        var regions: [RegionID]
    }

    /// What to do with one ask.
    enum Decision: Sendable {
        /// Give these sums (their `ageMillis` says how old they are).
        case answer(MoneyAtRisk)
        /// Read the store, then `keep` what was read (or `readFailed`).
        case read
    }

    /// A read at least this long is spaced out.
    static let slowRead: Duration = .milliseconds(50)
    /// A slow read is repeated at most once per this many times its duration.
    static let spacing = 10

    private var kept: (key: Key, answer: MoneyAtRisk, readAt: ContinuousClock.Instant, took: Duration)?
    private var reading = false

    mutating func decide(_ key: Key, now: ContinuousClock.Instant) -> Decision {
        guard let kept else {
            reading = true
            return .read
        }
        if kept.key == key { return .answer(kept.answer.aged(0)) }
        let age = now - kept.readAt
        if reading || (kept.took >= Self.slowRead && age < kept.took * Self.spacing) {
            return .answer(kept.answer.aged(Self.millis(age)))
        }
        reading = true
        return .read
    }

    /// What a read started at `readAt` found, `took` long.
    mutating func keep(_ answer: MoneyAtRisk, for key: Key, readAt: ContinuousClock.Instant, took: Duration) {
        kept = (key, answer, readAt, took)
        reading = false
    }

    mutating func readFailed() { reading = false }

    static func millis(_ d: Duration) -> UInt64 {
        let (seconds, attoseconds) = d.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000 &+ UInt64(attoseconds / 1_000_000_000_000_000)
    }
}
