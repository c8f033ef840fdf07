import Testing

@testable import ReplicaCore

/// The clock fence from the first moment: a region takes no write until enough peers
/// have read its clock (or none answered for `clockFirstReadingMillis`), after a start
/// and after links come back from a long cut.
@Suite struct ClockFirstReadingTests {
    typealias T = ReplicationEngineTests
    typealias C = ClockBoundTests

    /// A tokyo engine started at `start` with the start-up wait on (3 s), greeted by `peers`.
    static func started(at start: UInt64, greetedBy peers: [RegionID] = []) -> ReplicationEngine {
        var config = EngineConfig(region: Fixtures.tokyo, peers: [Fixtures.virginia, Fixtures.ireland])
        config.clockFirstReadingMillis = 3_000
        var e = ReplicationEngine(config: config, recovered: RecoveredState(ownHistoryComplete: true), nowMillis: start)
        for p in peers {
            _ = e.peerConnected(p, nowMillis: start)
            _ = e.receive(.hello(region: p, vector: VersionVector()), from: p, nowMillis: start)
        }
        return e
    }

    static func refusedUnverified(_ r: SubmitResult) -> Bool {
        if case .rejected(let err) = r { err.code == .clockUnverified } else { false }
    }

    @Test func test_justStarted_refusesWrites_untilAPeerVouches_thenWrites() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia, Fixtures.ireland])
        #expect(Self.refusedUnverified(C.create(&e, 1, at: 10_010)))
        #expect(e.counters.writesRefusedForClockReadings == 1 && e.vector.total == 0)
        #expect(e.clockProblem(nowMillis: 10_010)?.contains("us-east-1, eu-west-1") == true)
        #expect(e.clockStanding(nowMillis: 10_010).name == "awaiting_readings")
        // One of two peers reads it in bound: with itself, a majority of three.
        C.exchangePings(&e, [Fixtures.virginia: 40], at: 11_000)
        #expect(e.clockStanding(nowMillis: 11_030) == .vouched)
        #expect(C.create(&e, 2, at: 11_030) == .pending(seq: 1))
    }

    @Test func test_justStarted_aheadOfItsPeers_isOutOfBoundAtItsFirstReading_neverWrites() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia, Fixtures.ireland])
        // Both peers read this clock 3 s ahead of theirs.
        C.exchangePings(&e, [Fixtures.virginia: -3_000, Fixtures.ireland: -3_000], at: 11_000)
        #expect(C.refusedForClock(C.create(&e, 1, at: 11_030)))
        // Long after the start-up wait: still out of bound while the readings stay fresh.
        C.exchangePings(&e, [Fixtures.virginia: -3_000, Fixtures.ireland: -3_000], at: 20_000)
        #expect(C.refusedForClock(C.create(&e, 2, at: 20_030)))
        #expect(e.vector.total == 0)
    }

    @Test func test_noPeerReachable_writesOnItsOwnClockOnceTheWaitIsOver_andSaysSo() {
        var e = Self.started(at: 10_000)
        #expect(Self.refusedUnverified(C.create(&e, 1, at: 12_999)))
        let standing = e.clockStanding(nowMillis: 13_000)
        guard case .unverified(let why) = standing else {
            Issue.record("expected unverified, got \(standing)")
            return
        }
        #expect(why.contains("1 of 3") && e.clockProblem(nowMillis: 13_000) == nil)
        #expect(C.create(&e, 2, at: 13_000) == .pending(seq: 1))
    }

    @Test func test_linkBackAfterALongCut_waitsForAFreshReading_beforeWritingAgain() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia])
        C.exchangePings(&e, [Fixtures.virginia: 0], at: 10_500)
        #expect(C.create(&e, 1, at: 10_600) == .pending(seq: 1))
        // Cut for a minute: the reading goes stale, no peer is awaited, it writes unverified.
        _ = e.peerDisconnected(Fixtures.virginia, nowMillis: 11_000)
        #expect(e.clockStanding(nowMillis: 70_000).name == "unverified")
        #expect(C.create(&e, 2, at: 70_000) == .pending(seq: 2))
        // The link comes back: no write until the peer has read the clock again.
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 71_000)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 71_000)
        #expect(Self.refusedUnverified(C.create(&e, 3, at: 71_010)))
        // Its reading: this clock is 20 s ahead. Refused for the clock, not the wait.
        C.exchangePings(&e, [Fixtures.virginia: -20_000], at: 72_000)
        #expect(C.refusedForClock(C.create(&e, 3, at: 72_030)))
    }

    @Test func test_aShortCut_keepsTheFreshReading_andWrites() {
        var e = Self.started(at: 10_000, greetedBy: [Fixtures.virginia])
        C.exchangePings(&e, [Fixtures.virginia: 0], at: 10_500)
        _ = e.peerDisconnected(Fixtures.virginia, nowMillis: 11_000)
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 12_000)
        #expect(C.create(&e, 1, at: 12_010) == .pending(seq: 1))
    }

    @Test func test_replaysAreAnsweredWhileWaiting() {
        var e = Self.started(at: 10_000)
        // Written while no peer could be reached (past the wait), then restarted.
        let create = PaymentCommand.create(Fixtures.id(1), Fixtures.create(1), idempotent: true)
        let (first, ds) = e.submit(create, ticket: WriteTicket(1), durability: .local, nowMillis: 13_000)
        #expect(first == .pending(seq: 1))
        _ = e.didPersist(requestID: T.persists(ds)[0].id, nowMillis: 13_001)
        var config = e.config
        config.clockFirstReadingMillis = 3_000
        var restarted = ReplicationEngine(
            config: config,
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

    /// Two engines meeting: HELLO brings a ping, a first ping is answered at once, and
    /// both hold a reading of the other without waiting a ping interval.
    @Test func test_twoRegionsMeeting_readEachOthersClocksWithinARoundTrip_noTickNeeded() {
        func make(_ r: RegionID, _ p: RegionID) -> ReplicationEngine {
            var config = EngineConfig(region: r, peers: [p])
            config.clockFirstReadingMillis = 3_000
            return ReplicationEngine(config: config, recovered: RecoveredState(ownHistoryComplete: true), nowMillis: 0)
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
            for m in toA { nextB += T.sends(a.receive(m, from: Fixtures.virginia, nowMillis: now), to: Fixtures.virginia) }
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
