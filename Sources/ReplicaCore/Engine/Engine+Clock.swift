// MARK: - Clock offsets between regions, and the fence on a region whose clock is wrong

extension ReplicationEngine {
    /// The clock reading for a PING to `peer` sent at `nowMillis`.
    func clockSample(for peer: RegionID, nowMillis: UInt64) -> ClockSample {
        guard let last = peers[peer]?.lastPingFromPeer, nowMillis >= last.receivedAtMillis else {
            return ClockSample(sentAtMillis: nowMillis, echoMillis: 0, heldMillis: 0)
        }
        return ClockSample(
            sentAtMillis: nowMillis, echoMillis: last.sentAtMillis, heldMillis: nowMillis - last.receivedAtMillis)
    }

    /// Takes in a PING's clock reading (already checked by `ClockSample.problem`). An
    /// estimate measured over a round trip longer than the skew bound says too little to
    /// act on and is dropped.
    mutating func noteClockSample(_ sample: ClockSample, in state: inout PeerState, nowMillis: UInt64) {
        if sample.sentAtMillis != 0 { state.lastPingFromPeer = (sample.sentAtMillis, nowMillis) }
        guard let estimate = sample.offset(receivedAtMillis: nowMillis),
            estimate.roundTripMillis <= clockRoundTripMaxMillis
        else { return }
        state.clockOffset = estimate
    }

    /// Round trips longer than this give no usable offset (their error may exceed the bound).
    var clockRoundTripMaxMillis: UInt64 { max(2 * config.maxClockSkewMillis, 200) }

    /// An estimate older than this no longer counts (the peer is gone, or a clock stepped).
    var clockOffsetMaxAgeMillis: UInt64 { 10 * config.pingIntervalMillis }

    /// The peer's current clock offset estimate, when there is a fresh one.
    public func clockOffset(of peer: RegionID, nowMillis: UInt64) -> ClockOffset? {
        guard let o = peers[peer]?.clockOffset, nowMillis >= o.measuredAtMillis,
            nowMillis - o.measuredAtMillis <= clockOffsetMaxAgeMillis
        else { return nil }
        return o
    }

    /// Why this region takes no writes for its clock (nil when it may): its clock is
    /// certainly off by more than `maxClockSkewMillis` from more regions than it agrees
    /// with (itself included), or from as many when it is ahead of every one of them. A
    /// tie cannot say whose clock is wrong; the faster side yields, because its stamps
    /// are the ones that would read as the future elsewhere (and wait at every receiver),
    /// while a slower clock's stamps only lose ties to concurrent writes. So in three
    /// regions one wrong clock stops only its own region; in two (or with the third down)
    /// the faster of two clocks that disagree stops. Peers with no fresh estimate
    /// (unreachable) do not count, so a partitioned region keeps taking writes.
    /// CockroachDB stops a node whose clock is off from most of the cluster's the same way.
    public func clockProblem(nowMillis: UInt64) -> String? {
        var agreeing = 1
        var off: [String] = []
        var aheadOfAllOff = true
        for peer in config.peers.sorted() {
            guard let o = clockOffset(of: peer, nowMillis: nowMillis) else { continue }
            if o.isBeyond(config.maxClockSkewMillis) {
                off.append("\(peer) \(o.offsetMillis > 0 ? "+" : "")\(o.offsetMillis) ms ±\(o.roundTripMillis / 2)")
                if o.offsetMillis > 0 { aheadOfAllOff = false }
            } else {
                agreeing += 1
            }
        }
        guard !off.isEmpty, off.count > agreeing || (off.count == agreeing && aheadOfAllOff) else { return nil }
        return
            "this region's clock is off by more than max_clock_skew_ms (\(config.maxClockSkewMillis)) from most of the cluster "
            + "(peers' clocks relative to ours: \(off.joined(separator: ", "))); it takes writes again once back in bound"
    }

    /// Whether a peer's stamp is further ahead of this region's clock than the skew
    /// bound: such a value is held (not applied) until this clock catches up.
    func isAheadOfBound(_ time: HLCTimestamp, nowMillis: UInt64) -> Bool {
        let (limit, overflow) = nowMillis.addingReportingOverflow(config.maxClockSkewMillis)
        return !overflow && time.wallMillis > limit
    }
}
