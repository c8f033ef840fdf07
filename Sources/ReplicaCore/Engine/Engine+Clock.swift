// MARK: - Clock offsets between regions, and the fence on a region whose clock is wrong

extension ReplicationEngine {
    /// The clock reading for a PING to `peer` sent at `nowMillis`.
    func clockSample(for peer: RegionID, nowMillis: UInt64) -> ClockSample {
        guard let last = peers.withValue(peer, { $0.session?.lastPingFromPeer }) ?? nil,
            nowMillis >= last.receivedAtMillis
        else {
            return ClockSample(sentAtMillis: nowMillis, echoMillis: 0, heldMillis: 0)
        }
        return ClockSample(
            sentAtMillis: nowMillis, echoMillis: last.sentAtMillis, heldMillis: nowMillis - last.receivedAtMillis)
    }

    /// Takes in a PING's clock reading (already checked by `ClockSample.problem`). An
    /// estimate measured over a round trip longer than the skew bound says too little to
    /// act on and is dropped.
    mutating func noteClockSample(
        _ sample: ClockSample, in state: inout PeerState, session: inout PeerSession, nowMillis: UInt64
    ) {
        if sample.sentAtMillis != 0 { session.lastPingFromPeer = (sample.sentAtMillis, nowMillis) }
        guard let estimate = sample.offset(receivedAtMillis: nowMillis),
            estimate.roundTripMillis <= clockRoundTripMaxMillis
        else { return }
        state.clockOffset = estimate
    }

    /// Round trips longer than this give no usable offset (their error may exceed the bound).
    var clockRoundTripMaxMillis: UInt64 { max(2 * config.maxClockSkewMillis, 200) }

    /// An estimate older than this no longer counts (the peer is gone, or a clock stepped).
    var clockOffsetMaxAgeMillis: UInt64 { 10 * config.pingIntervalMillis }

    /// Every peer's fresh clock offset estimate (for an engine that replaces this one).
    public func clockReadings(nowMillis: UInt64) -> [RegionID: ClockOffset] {
        var readings: [RegionID: ClockOffset] = [:]
        for peer in config.peers { readings[peer] = clockOffset(of: peer, nowMillis: nowMillis) }
        return readings
    }

    /// The peer's current clock offset estimate, when there is a fresh one.
    public func clockOffset(of peer: RegionID, nowMillis: UInt64) -> ClockOffset? {
        guard let o = peers.withValue(peer, { $0.clockOffset }) ?? nil, nowMillis >= o.measuredAtMillis,
            nowMillis - o.measuredAtMillis <= clockOffsetMaxAgeMillis
        else { return nil }
        return o
    }

    /// Whether this region may write on its clock now, and why (see `ClockStanding`).
    ///
    /// Out of bound: its clock is certainly off by more than `maxClockSkewMillis` from
    /// more regions than it agrees with (itself included), or from as many when it is
    /// ahead of every one of them. A tie cannot say whose clock is wrong; the faster side
    /// yields, because its stamps are the ones that would read as the future elsewhere
    /// (and wait at every receiver), while a slower clock's stamps only lose ties to
    /// concurrent writes. So in three regions one wrong clock stops only its own region;
    /// in two (or with the third down) the faster of two clocks that disagree stops.
    ///
    /// Otherwise, vouched for when a majority of the cluster (itself included) has a
    /// fresh reading in bound. Short of that, it waits while any peer without a fresh
    /// reading may still give one: `clockFirstReadingMillis` after the engine started or
    /// after that peer's link came up. Once no peer is awaited, a region without a
    /// majority writes on its own clock (unverified): a partitioned region keeps serving.
    /// CockroachDB stops a node whose clock is off from most of the cluster's the same
    /// way, and a node that cannot vouch for its clock takes no writes.
    public func clockStanding(nowMillis: UInt64) -> ClockStanding {
        var agreeing = 1
        var off: [String] = []
        var aheadOfAllOff = true
        var awaited: [RegionID] = []
        var awaitedUntil: UInt64 = 0
        for peer in config.peers.sorted() {
            guard let o = clockOffset(of: peer, nowMillis: nowMillis) else {
                let since = peers.withValue(peer) { $0.clockWaitSinceMillis }!
                let (until, overflow) = since.addingReportingOverflow(config.clockFirstReadingMillis)
                if overflow || nowMillis < until {
                    awaited.append(peer)
                    awaitedUntil = max(awaitedUntil, overflow ? .max : until)
                }
                continue
            }
            if o.isBeyond(config.maxClockSkewMillis) {
                off.append("\(peer) \(o.offsetMillis > 0 ? "+" : "")\(o.offsetMillis) ms ±\(o.roundTripMillis / 2)")
                if o.offsetMillis > 0 { aheadOfAllOff = false }
            } else {
                agreeing += 1
            }
        }
        if !off.isEmpty, off.count > agreeing || (off.count == agreeing && aheadOfAllOff) {
            return .outOfBound(
                "this region's clock is off by more than max_clock_skew_ms (\(config.maxClockSkewMillis)) from most of "
                    + "the cluster (peers' clocks relative to ours: \(off.joined(separator: ", "))); it takes writes "
                    + "again once back in bound")
        }
        let cluster = config.peers.count + 1
        if agreeing * 2 > cluster { return .vouched }
        if !awaited.isEmpty {
            let left = awaitedUntil == .max ? "" : ", at most \(awaitedUntil - nowMillis) ms more"
            return .awaitingReadings(
                "this region has not yet read enough of its peers' clocks to know its own is in bound (waiting for "
                    + "\(awaited.map(\.name).joined(separator: ", "))\(left)); it takes writes once they answer")
        }
        return .unverified(
            "only \(agreeing) of \(cluster) regions (this one included) have vouched for this region's clock, and "
                + "no other peer answered within clock_first_reading_ms (\(config.clockFirstReadingMillis)): it "
                + "takes writes on its own clock")
    }

    /// Why this region takes no writes for its clock (nil when it may): its clock is out
    /// of bound, or it is still waiting for its peers' readings.
    public func clockProblem(nowMillis: UInt64) -> String? {
        switch clockStanding(nowMillis: nowMillis) {
        case .outOfBound(let why), .awaitingReadings(let why): why
        case .vouched, .unverified: nil
        }
    }

    /// Takes in the wall time of an input (a tick, a client write, a peer's message or
    /// link). Inputs come at least every tick, so when the wall time moved from the last
    /// one by more than a tick and a margin (a quarter of the skew bound), this clock
    /// stepped (an NTP step, a VM resumed) or the process stalled. Every peer's reading was
    /// taken on the old clock: each is moved by the step, with a tick more of uncertainty,
    /// so a clock that jumped ahead is fenced at once and one that came back is not kept
    /// waiting; and each is measured again at once (a ping to every greeted peer). A stall
    /// read as a step errs towards refusing writes until those answers come. CockroachDB
    /// checks for forward clock jumps the same way. Off with the start-up wait
    /// (`clockFirstReadingMillis` 0).
    mutating func noteWallTime(_ nowMillis: UInt64) -> [EngineDirective] {
        let last = lastWallMillis
        lastWallMillis = nowMillis
        let margin = config.maxClockSkewMillis / 4 + config.tickIntervalMillis
        guard config.clockFirstReadingMillis > 0, !config.peers.isEmpty,
            nowMillis > last + margin || last > nowMillis + margin
        else { return [] }
        counters.clockSteps += 1
        // The step, taking the input to have come half a tick after the last one: its
        // error is within half a tick either way. Both clocks fit 48 bits: no overflow.
        let step = Int64(nowMillis) - Int64(last) - Int64(config.tickIntervalMillis / 2)
        var pings: [EngineDirective] = []
        for peer in config.peers.sorted() {
            if let o = peers[peer]!.clockOffset {
                let measuredAt = Int64(o.measuredAtMillis) + step
                peers[peer]!.clockOffset =
                    measuredAt < 0
                    ? nil
                    : ClockOffset(
                        offsetMillis: o.offsetMillis - step,
                        roundTripMillis: o.roundTripMillis + config.tickIntervalMillis,
                        measuredAtMillis: UInt64(measuredAt))
            }
            // The echo of a ping held across the step would tell the peer a wrong hold time.
            if case .up(var session) = peers[peer]!.link {
                session.lastPingFromPeer = nil
                peers[peer]!.link = .up(session)
                pings.append(ping(peer, nowMillis: nowMillis))
            }
        }
        return pings
    }

    /// Whether a peer's stamp is further ahead of this region's clock than the skew
    /// bound: such a value is held (not applied) until this clock catches up.
    func isAheadOfBound(_ time: HLCTimestamp, nowMillis: UInt64) -> Bool {
        let (limit, overflow) = nowMillis.addingReportingOverflow(config.maxClockSkewMillis)
        return !overflow && time.wallMillis > limit
    }
}

/// Whether a region may stamp writes with its clock, as its peers' readings say.
public enum ClockStanding: Hashable, Sendable {
    /// A majority of the cluster (this region included) reads its clock in bound: it writes.
    case vouched
    /// Some peers' readings are still to come: no writes until they do, or until the wait
    /// for them (`clockFirstReadingMillis`) is over.
    case awaitingReadings(String)
    /// No majority vouched and no peer is awaited any more (it is cut off): it writes on
    /// its own clock, as a partitioned region must, and says so.
    case unverified(String)
    /// Its clock is off from most of the cluster's: no writes until it is back in bound.
    case outOfBound(String)

    /// The standing's name (the shell reports a change of it; paysim marks it on its timeline).
    public var name: String {
        switch self {
        case .vouched: "vouched"
        case .awaitingReadings: "awaiting_readings"
        case .unverified: "unverified"
        case .outOfBound: "out_of_bound"
        }
    }
}
