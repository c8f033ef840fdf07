import Testing

@testable import ReplicaCore

/// Clock offsets from PING readings, the write fence on a region whose clock is wrong,
/// and peer values stamped beyond this region's clock plus the bound (held, not applied).
@Suite struct ClockBoundTests {
    typealias T = ReplicationEngineTests

    @Test func test_clockSample_givesNTPsOffset_andNonsenseGivesNone() {
        // Ours sends at 1000; the peer (700 ahead, 50 ms away) gets it at its 1750,
        // answers 200 ms later at its 1950; it arrives at our 1300.
        let sample = ClockSample(sentAtMillis: 1_950, echoMillis: 1_000, heldMillis: 200)
        let o = sample.offset(receivedAtMillis: 1_300)
        #expect(o == ClockOffset(offsetMillis: 700, roundTripMillis: 100, measuredAtMillis: 1_300))
        #expect(o?.isBeyond(500) == true)
        #expect(ClockOffset(offsetMillis: -540, roundTripMillis: 100, measuredAtMillis: 0).isBeyond(500) == false)
        #expect(ClockOffset(offsetMillis: -551, roundTripMillis: 100, measuredAtMillis: 0).isBeyond(500) == true)
        #expect(ClockSample(sentAtMillis: 1_950, echoMillis: 0, heldMillis: 0).offset(receivedAtMillis: 1_300) == nil)
        #expect(
            ClockSample(sentAtMillis: 1_950, echoMillis: 1_400, heldMillis: 0).offset(receivedAtMillis: 1_300) == nil)
        #expect(
            ClockSample(sentAtMillis: 1_950, echoMillis: 1_000, heldMillis: 301).offset(receivedAtMillis: 1_300) == nil)
        #expect(ClockSample(sentAtMillis: 10, echoMillis: 1_000, heldMillis: 20).offset(receivedAtMillis: 1_300) == nil)
        #expect(
            ClockSample(sentAtMillis: .max, echoMillis: .max, heldMillis: .max).offset(receivedAtMillis: .max) == nil)
        #expect(ClockSample(sentAtMillis: 1 << 48, echoMillis: 0, heldMillis: 0).problem != nil)
    }

    /// A tokyo engine greeted by its peers (all of them, or only `peers`).
    static func greeted(peers: [RegionID] = [Fixtures.virginia, Fixtures.ireland]) -> ReplicationEngine {
        var e = T.engine { $0.peers = peers }
        for p in peers {
            _ = e.peerConnected(p, nowMillis: 0)
            _ = e.receive(.hello(region: p, vector: VersionVector()), from: p, nowMillis: 0)
        }
        return e
    }

    /// Has each peer answer tokyo's ping at `now` as a clock its offset ahead would, 10 ms away.
    static func exchangePings(_ e: inout ReplicationEngine, _ offsets: [RegionID: Int64], at now: UInt64) {
        let ticked = e.tick(nowMillis: now)
        for (peer, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            let ours = T.sends(ticked, to: peer).compactMap { m -> ClockSample? in
                if case .ping(_, let c, _, _) = m { c } else { nil }
            }
            guard let sent = ours.first else {
                Issue.record("no ping to \(peer) at \(now)")
                return
            }
            let theirs = ClockSample(
                sentAtMillis: UInt64(Int64(sent.sentAtMillis) + 10 + offset), echoMillis: sent.sentAtMillis,
                heldMillis: 0)
            let ds = e.receive(.ping(vector: VersionVector(), clock: theirs), from: peer, nowMillis: now + 20)
            #expect(!ds.contains { if case .disconnect = $0 { true } else { false } })
        }
    }

    static func create(_ e: inout ReplicationEngine, _ n: Int, at now: UInt64) -> SubmitResult {
        e.submit(
            .create(Fixtures.id(n), Fixtures.create(n), idempotent: true), ticket: WriteTicket(UInt64(n)),
            durability: .local, nowMillis: now
        ).result
    }

    static func refusedForClock(_ r: SubmitResult) -> Bool {
        if case .rejected(let err) = r { err.code == .clockOutOfBound } else { false }
    }

    @Test func test_regionOffFromBothPeers_refusesWrites_untilBackInBound() {
        var e = Self.greeted()
        Self.exchangePings(&e, [Fixtures.virginia: 2_000, Fixtures.ireland: 1_800], at: 10_000)
        #expect(e.clockOffset(of: Fixtures.virginia, nowMillis: 10_020)?.offsetMillis == 2_000)
        #expect(Self.refusedForClock(Self.create(&e, 1, at: 10_030)))
        #expect(e.counters.writesRefusedForClock == 1 && e.vector.total == 0)
        let why = e.clockProblem(nowMillis: 10_030) ?? ""
        #expect(why.contains("us-east-1 +2000 ms") && why.contains("eu-west-1 +1800 ms"))
        #expect(e.status(nowMillis: 10_030).clockProblem == why)
        // The clocks agree again: writes resume.
        Self.exchangePings(&e, [Fixtures.virginia: 30, Fixtures.ireland: -40], at: 11_000)
        #expect(e.clockProblem(nowMillis: 11_030) == nil)
        #expect(Self.create(&e, 2, at: 11_030) == .pending(seq: 1))
    }

    @Test func test_oneWrongClockInThree_stopsOnlyItsOwnRegion() {
        var e = Self.greeted()
        Self.exchangePings(&e, [Fixtures.virginia: 5, Fixtures.ireland: 3_000], at: 10_000)
        #expect(e.clockProblem(nowMillis: 10_030) == nil)
        #expect(Self.create(&e, 1, at: 10_030) == .pending(seq: 1))
    }

    @Test func test_twoRegionsApart_theFasterStops_andStaleOrUncertainEstimatesDoNotCount() {
        var e = Self.greeted(peers: [Fixtures.virginia])
        Self.exchangePings(&e, [Fixtures.virginia: -900], at: 10_000)
        #expect(Self.refusedForClock(Self.create(&e, 1, at: 10_030)))
        var slower = Self.greeted(peers: [Fixtures.virginia])
        Self.exchangePings(&slower, [Fixtures.virginia: 900], at: 10_000)
        #expect(Self.create(&slower, 1, at: 10_030) == .pending(seq: 1))
        // Ten ping intervals without a fresh estimate (the peer went quiet): it no longer counts.
        #expect(e.clockProblem(nowMillis: 10_020 + 10 * e.config.pingIntervalMillis + 1) == nil)
        // An estimate over a round trip longer than the bound allows is dropped.
        var f = Self.greeted(peers: [Fixtures.virginia])
        let sent = T.sends(f.tick(nowMillis: 10_000), to: Fixtures.virginia).compactMap { m -> ClockSample? in
            if case .ping(_, let c, _, _) = m { c } else { nil }
        }[0]
        let slow = ClockSample(sentAtMillis: sent.sentAtMillis + 5_000, echoMillis: sent.sentAtMillis, heldMillis: 0)
        _ = f.receive(.ping(vector: VersionVector(), clock: slow), from: Fixtures.virginia, nowMillis: 12_000)
        #expect(f.clockOffset(of: Fixtures.virginia, nowMillis: 12_000) == nil)
        #expect(Self.create(&f, 1, at: 12_000) == .pending(seq: 1))
    }

    @Test func test_pingEchoesThePeersLastReading_andAPeersFirstPingIsAnsweredAtOnce() {
        var e = Self.greeted(peers: [Fixtures.virginia])
        let theirs = ClockSample(sentAtMillis: 7_000, echoMillis: 0, heldMillis: 0)
        let answer = e.receive(.ping(vector: VersionVector(), clock: theirs), from: Fixtures.virginia, nowMillis: 5_000)
        #expect(
            T.sends(answer, to: Fixtures.virginia) == [
                .ping(
                    vector: VersionVector(), clock: ClockSample(sentAtMillis: 5_000, echoMillis: 7_000, heldMillis: 0),
                    wireActive: WireVersion.current)
            ])
        let later = ClockSample(sentAtMillis: 7_900, echoMillis: 5_000, heldMillis: 0)
        // A ping that echoes ours is not answered: the next tick's ping echoes it.
        #expect(
            T.sends(
                e.receive(.ping(vector: VersionVector(), clock: later), from: Fixtures.virginia, nowMillis: 5_900),
                to: Fixtures.virginia
            ).isEmpty)
        let ours = T.sends(e.tick(nowMillis: 6_000), to: Fixtures.virginia)
        #expect(
            ours == [
                .ping(
                    vector: VersionVector(),
                    clock: ClockSample(sentAtMillis: 6_000, echoMillis: 7_900, heldMillis: 100),
                    wireActive: WireVersion.current)
            ])
    }

    @Test func test_pingWithImpossibleClockReading_isAViolation() {
        var e = Self.greeted(peers: [Fixtures.virginia])
        let bad = ClockSample(sentAtMillis: 1 << 60, echoMillis: 0, heldMillis: 0)
        let ds = e.receive(.ping(vector: VersionVector(), clock: bad), from: Fixtures.virginia, nowMillis: 1)
        #expect(ds.contains { if case .disconnect = $0 { true } else { false } })
        #expect(e.counters.protocolViolations == 1)
    }

    static func create(origin: RegionID, seq: UInt64, id: Int, wall: UInt64) -> LogEntry {
        LogEntry(
            origin: origin, seq: seq, hlc: HLCTimestamp(wallMillis: wall, counter: 0), paymentID: Fixtures.id(id),
            changes: Fixtures.create(id).fieldValues.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
    }

    @Test func test_entryStampedBeyondBound_isHeldWithItsOriginsLaterEntries_thenAppliedOnceTheClockCatchesUp() {
        var e = Self.greeted()
        let now: UInt64 = 100_000
        let ahead = Self.create(origin: Fixtures.virginia, seq: 1, id: 1, wall: now + 600_000)
        let after = Self.create(origin: Fixtures.virginia, seq: 2, id: 2, wall: now)
        let other = Self.create(origin: Fixtures.ireland, seq: 1, id: 3, wall: now)
        let ds = e.receive(.delta(batchID: 1, entries: [ahead, after, other]), from: Fixtures.virginia, nowMillis: now)
        #expect(!ds.contains { if case .disconnect = $0 { true } else { false } })
        let p = T.persists(ds)
        #expect(p.count == 1 && p[0].entries.map(\.entry) == [other])
        #expect(e.vector[Fixtures.virginia] == 0 && e.payment(Fixtures.id(1)) == nil)
        #expect(
            e.counters.entriesHeldForClock == 1 && e.counters.protocolViolations == 0 && e.counters.gapsSkipped == 0)
        #expect(e.clockHighWater.wallMillis <= now + e.config.maxClockSkewMillis)
        _ = e.didPersist(requestID: p[0].id, nowMillis: now)
        // Resent once this clock is within the bound of the stamp: applied.
        let later = now + 600_000 - e.config.maxClockSkewMillis
        let again = T.persists(
            e.receive(.delta(batchID: 2, entries: [ahead, after]), from: Fixtures.virginia, nowMillis: later))
        #expect(again.count == 1 && again[0].entries.map(\.entry) == [ahead, after])
        #expect(e.payment(Fixtures.id(1))?.updatedAtMillis == now + 600_000)
    }

    @Test func test_entryStampedMoreThanAnHourAhead_isStillAViolation() {
        var e = Self.greeted()
        let far = Self.create(
            origin: Fixtures.virginia, seq: 1, id: 1, wall: 100_000 + PeerBounds.stampAheadMillisMax + 1)
        let ds = e.receive(.delta(batchID: 1, entries: [far]), from: Fixtures.virginia, nowMillis: 100_000)
        #expect(ds.contains { if case .disconnect = $0 { true } else { false } })
        #expect(e.counters.protocolViolations == 1 && e.counters.entriesHeldForClock == 0)
    }

    @Test func test_snapshotChunkStampedBeyondBound_declinesTheStreamWithoutAViolation_mergingNothing() {
        var e = Self.greeted()
        var record = PaymentRecord(id: Fixtures.id(1))
        let entry = Self.create(origin: Fixtures.virginia, seq: 1, id: 1, wall: 100_000 + 10_000)
        for change in entry.changes { record.merge(entry.register(for: change), into: change.field) }
        let ds = e.receive(.snapshot(records: [record], vector: nil), from: Fixtures.virginia, nowMillis: 100_000)
        #expect(ds.isEmpty)
        #expect(e.counters.protocolViolations == 0 && e.counters.entriesHeldForClock == 1)
        #expect(e.recordCount == 0 && e.vector.total == 0)
        // The stream's last chunk, already on its way, must not land: its vector would
        // claim the declined chunk's records.
        let last = e.receive(
            .snapshot(records: [], vector: VersionVector([Fixtures.virginia: 1]), part: 1),
            from: Fixtures.virginia, nowMillis: 100_001)
        #expect(last.isEmpty && e.vector.total == 0)
        // The stream started over once the clock has caught up: taken.
        let again = e.receive(
            .snapshot(records: [record], vector: VersionVector([Fixtures.virginia: 1])),
            from: Fixtures.virginia, nowMillis: 110_000)
        #expect(T.persists(again).count == 1 && e.vector[Fixtures.virginia] == 1)
    }
}
