import Testing

@testable import ReplicaCore

/// The clock fence from the first moment: a region takes no write until enough peers
/// have read its clock (or none answered for `clockFirstReadingMillis`), after a start,
/// after links come back from a long cut, and after its own clock steps. Time moves by
/// ticks here, as a node's timer moves it: a longer silence reads as a clock step.
@Suite struct ClockFirstReadingTests {
    typealias T = ReplicationEngineTests
    typealias C = ClockBoundTests

    /// A tokyo engine started at `start` with the start-up wait on (3 s), greeted by `peers`.
    static func started(at start: UInt64, greetedBy peers: [RegionID] = []) -> ReplicationEngine {
        var config = EngineConfig(region: Fixtures.tokyo, peers: [Fixtures.virginia, Fixtures.ireland])
        config.clockFirstReadingMillis = 3_000
        var e = ReplicationEngine(config: config, recovered: RecoveredState(ownHistoryComplete: true), nowMillis: start)
        for p in peers { greet(&e, p) }
        return e
    }

    static func greet(_ e: inout ReplicationEngine, _ peer: RegionID) {
        _ = e.peerConnected(peer, nowMillis: e.lastWallMillis)
        _ = e.receive(.hello(region: peer, vector: VersionVector()), from: peer, nowMillis: e.lastWallMillis)
    }

    /// Ticks `e` every tick interval up to `to`.
    static func idle(_ e: inout ReplicationEngine, to: UInt64) {
        var t = e.lastWallMillis
        while t < to {
            t = min(t + e.config.tickIntervalMillis, to)
            _ = e.tick(nowMillis: t)
        }
    }

    /// Each peer answers tokyo's last ping now with a clock `offset` ahead of tokyo's: the
    /// estimate comes out exactly `offset` (the answer left halfway through the round trip).
    static func answer(_ e: inout ReplicationEngine, _ offsets: [RegionID: Int64]) {
        let now = e.lastWallMillis
        for (peer, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            let sent = e.peers[peer]!.session!.lastPingSentMillis
            let half = (now - sent) / 2
            let theirs = ClockSample(
                sentAtMillis: UInt64(Int64(sent + half) + offset), echoMillis: sent, heldMillis: 0)
            _ = e.receive(.ping(vector: VersionVector(), clock: theirs), from: peer, nowMillis: now)
        }
    }

    static func create(_ e: inout ReplicationEngine, _ n: Int) -> SubmitResult {
        C.create(&e, n, at: e.lastWallMillis)
    }

    static func refusedUnverified(_ r: SubmitResult) -> Bool {
        if case .rejected(let err) = r { err.code == .clockUnverified } else { false }
    }

    @Test func test_justStarted_refusesWrites_untilAPeerVouches_thenWrites() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia, Fixtures.ireland])
        Self.idle(&e, to: 10_010)
        #expect(Self.refusedUnverified(Self.create(&e, 1)))
        #expect(e.counters.writesRefusedForClockReadings == 1 && e.vector.total == 0)
        #expect(e.clockProblem(nowMillis: 10_010)?.contains("eu-west-1, us-east-1") == true)
        #expect(e.clockStanding(nowMillis: 10_010).name == "awaiting_readings")
        // One of two peers reads it in bound: with itself, a majority of three.
        Self.idle(&e, to: 10_040)
        Self.answer(&e, [Fixtures.virginia: 40])
        #expect(e.clockStanding(nowMillis: 10_040) == .vouched)
        #expect(Self.create(&e, 2) == .pending(seq: 1))
    }

    @Test func test_justStarted_aheadOfItsPeers_isOutOfBoundAtItsFirstReading_neverWrites() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia, Fixtures.ireland])
        Self.idle(&e, to: 10_040)
        // Both peers read this clock 3 s ahead of theirs.
        Self.answer(&e, [Fixtures.virginia: -3_000, Fixtures.ireland: -3_000])
        #expect(C.refusedForClock(Self.create(&e, 1)))
        // Long after the start-up wait: still out of bound while the readings stay fresh.
        Self.idle(&e, to: 20_000)
        Self.answer(&e, [Fixtures.virginia: -3_000, Fixtures.ireland: -3_000])
        #expect(C.refusedForClock(Self.create(&e, 2)))
        #expect(e.vector.total == 0)
    }

    @Test func test_noPeerReachable_writesOnItsOwnClockOnceTheWaitIsOver_andSaysSo() {
        var e = Self.started(at: 10_000)
        Self.idle(&e, to: 12_999)
        #expect(Self.refusedUnverified(Self.create(&e, 1)))
        Self.idle(&e, to: 13_000)
        let standing = e.clockStanding(nowMillis: 13_000)
        guard case .unverified(let why) = standing else {
            Issue.record("expected unverified, got \(standing)")
            return
        }
        #expect(why.contains("1 of 3") && e.clockProblem(nowMillis: 13_000) == nil)
        #expect(Self.create(&e, 2) == .pending(seq: 1))
    }

    @Test func test_linkBackAfterALongCut_waitsForAFreshReading_beforeWritingAgain() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia])
        Self.idle(&e, to: 10_040)
        Self.answer(&e, [Fixtures.virginia: 0])
        #expect(Self.create(&e, 1) == .pending(seq: 1))
        // Cut for a minute: the reading goes stale, no peer is awaited, it writes unverified.
        _ = e.peerDisconnected(Fixtures.virginia, nowMillis: 10_100)
        Self.idle(&e, to: 70_000)
        #expect(e.clockStanding(nowMillis: 70_000).name == "unverified")
        #expect(Self.create(&e, 2) == .pending(seq: 2))
        // The link comes back: no write until the peer has read the clock again.
        Self.greet(&e, Fixtures.virginia)
        Self.idle(&e, to: 70_010)
        #expect(Self.refusedUnverified(Self.create(&e, 3)))
        // Its reading: this clock is 20 s ahead. Refused for the clock, not the wait.
        Self.idle(&e, to: 70_040)
        Self.answer(&e, [Fixtures.virginia: -20_000])
        #expect(C.refusedForClock(Self.create(&e, 3)))
    }

    @Test func test_aShortCut_keepsTheFreshReading_andWrites() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia])
        Self.idle(&e, to: 10_040)
        Self.answer(&e, [Fixtures.virginia: 0])
        _ = e.peerDisconnected(Fixtures.virginia, nowMillis: 10_100)
        Self.idle(&e, to: 12_000)
        Self.greet(&e, Fixtures.virginia)
        #expect(Self.create(&e, 1) == .pending(seq: 1))
    }

    @Test func test_replaysAreAnsweredWhileWaiting() {
        var e = Self.started(at: 10_000)
        Self.idle(&e, to: 13_000)
        // Written while no peer could be reached (past the wait), then restarted.
        let create = PaymentCommand.create(Fixtures.id(1), Fixtures.create(1), idempotent: true)
        let (first, ds) = e.submit(create, ticket: WriteTicket(1), durability: .local, nowMillis: 13_000)
        #expect(first == .pending(seq: 1))
        _ = e.didPersist(requestID: T.persists(ds)[0].id, nowMillis: 13_001)
        var restarted = ReplicationEngine(
            config: e.config,
            recovered: RecoveredState(records: [e.record(Fixtures.id(1))!], vector: e.vector, ownHistoryComplete: true),
            nowMillis: 20_000)
        let replay = restarted.submit(create, ticket: WriteTicket(2), durability: .local, nowMillis: 20_001).result
        guard case .answered(let ack) = replay else {
            Issue.record("a replay should be answered while the clock waits, got \(replay)")
            return
        }
        #expect(ack.replayed && ack.payment.id == Fixtures.id(1))
        #expect(Self.refusedUnverified(C.create(&restarted, 2, at: 20_001)))
    }

    @Test func test_aClockStep_movesEveryReading_fencesAtOnce_andPingsToMeasureAgain() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia, Fixtures.ireland])
        Self.idle(&e, to: 10_040)
        Self.answer(&e, [Fixtures.virginia: 0, Fixtures.ireland: 0])
        #expect(Self.create(&e, 1) == .pending(seq: 1))
        // The wall clock steps 3 s ahead between two ticks: the readings, moved by the
        // step, show it ahead of both peers at once. No write is stamped 3 s ahead.
        let stepped = e.tick(nowMillis: 13_060)
        #expect(e.counters.clockSteps == 1)
        #expect(T.sends(stepped, to: Fixtures.virginia).count == 1 && T.sends(stepped, to: Fixtures.ireland).count == 1)
        #expect(C.refusedForClock(Self.create(&e, 2)))
        let moved = e.clockOffset(of: Fixtures.virginia, nowMillis: 13_060)
        #expect(moved.map { (-3_000 - 10)...(-3_000 + 10) ~= $0.offsetMillis } == true)
        // NTP steps it back: in bound again at once, without waiting for new readings.
        Self.idle(&e, to: 13_100)
        _ = e.tick(nowMillis: 10_140)
        #expect(e.counters.clockSteps == 2)
        #expect(Self.create(&e, 2) == .pending(seq: 2))
    }

    @Test func test_aStallReadAsAStep_refusesWritesOnlyUntilTheAnswersCome() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia, Fixtures.ireland])
        Self.idle(&e, to: 10_040)
        Self.answer(&e, [Fixtures.virginia: 0, Fixtures.ireland: 0])
        // Two seconds without an input (the process stalled; the clock did not step).
        _ = e.tick(nowMillis: 12_040)
        #expect(C.refusedForClock(Self.create(&e, 1)))
        Self.idle(&e, to: 12_080)
        Self.answer(&e, [Fixtures.virginia: 0, Fixtures.ireland: 0])
        #expect(Self.create(&e, 1) == .pending(seq: 1))
    }

    @Test func test_theWaitOff_neverRefusesForWantOfReadings_norVoidsThemOnAStep() {
        var e = ReplicationEngineTests.engine()
        #expect(e.config.clockFirstReadingMillis == 0)
        #expect(C.create(&e, 1, at: 1) == .pending(seq: 1))
        _ = e.tick(nowMillis: 60_000)
        #expect(e.counters.clockSteps == 0)
    }

    /// Two engines meeting: HELLO brings a ping, a first ping is answered at once, and
    /// both hold a reading of the other without waiting a ping interval.
    @Test func test_twoRegionsMeeting_readEachOthersClocksWithinARoundTrip_noTickNeeded() {
        func make(_ r: RegionID, _ p: RegionID) -> ReplicationEngine {
            var config = EngineConfig(region: r, peers: [p])
            config.clockFirstReadingMillis = 3_000
            return ReplicationEngine(
                config: config, recovered: RecoveredState(ownHistoryComplete: true), nowMillis: 1_000)
        }
        var a = make(Fixtures.tokyo, Fixtures.virginia)
        var b = make(Fixtures.virginia, Fixtures.tokyo)
        var toB = T.sends(a.peerConnected(Fixtures.virginia, nowMillis: 1_000), to: Fixtures.virginia)
        var toA = T.sends(b.peerConnected(Fixtures.tokyo, nowMillis: 1_000), to: Fixtures.tokyo)
        // Deliver back and forth, 5 ms each way, until both sides are quiet (or 10 rounds).
        var now: UInt64 = 1_000
        for _ in 0..<10 where !(toA.isEmpty && toB.isEmpty) {
            now += 5
            var nextA: [PeerMessage] = []
            var nextB: [PeerMessage] = []
            for m in toB { nextA += T.sends(b.receive(m, from: Fixtures.tokyo, nowMillis: now), to: Fixtures.tokyo) }
            for m in toA {
                nextB += T.sends(a.receive(m, from: Fixtures.virginia, nowMillis: now), to: Fixtures.virginia)
            }
            toA = nextA
            toB = nextB
        }
        #expect(toA.isEmpty && toB.isEmpty)
        #expect(now <= 1_020)
        #expect(a.clockOffset(of: Fixtures.virginia, nowMillis: now)?.offsetMillis == 0)
        #expect(b.clockOffset(of: Fixtures.tokyo, nowMillis: now)?.offsetMillis == 0)
        #expect(a.clockStanding(nowMillis: now) == .vouched && b.clockStanding(nowMillis: now) == .vouched)
    }
}
