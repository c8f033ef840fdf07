import Testing

@testable import ReplicaCore

@Suite struct HybridLogicalClockTests {
    @Test func test_tick_whenWallClockStepsBack_staysStrictlyIncreasing() {
        var clock = HybridLogicalClock()
        var last = HLCTimestamp.zero
        for now: UInt64 in [1_000, 1_000, 999, 500, 1_001, 1_001, 2_000, 10] {
            let t = clock.tick(nowMillis: now)
            #expect(t > last)
            last = t
        }
    }

    @Test func test_restart_withPersistedHighWaterMark_neverGoesBack() {
        var before = HybridLogicalClock()
        var stamps: [HLCTimestamp] = []
        for now in stride(from: UInt64(5_000), to: 5_100, by: 7) { stamps.append(before.tick(nowMillis: now)) }
        // The node restarts with a wall clock an hour behind; only the high-water mark survives.
        var after = HybridLogicalClock(highWaterMark: before.last)
        let first = after.tick(nowMillis: 5_000 - 3_600_000 / 1_000)
        #expect(first > stamps.max()!)
    }

    @Test func test_observe_remoteFarAhead_movesOnlyToBoundAndCounts() {
        var clock = HybridLogicalClock(maxForwardSkewMillis: 500)
        let accepted = clock.observe(HLCTimestamp(wallMillis: 10_000, counter: 0), nowMillis: 1_000)
        #expect(!accepted)
        #expect(clock.clampedRemoteStamps == 1)
        #expect(clock.last.wallMillis == 1_500)
        let withinBound = clock.observe(HLCTimestamp(wallMillis: 1_200, counter: 3), nowMillis: 1_000)
        #expect(withinBound)
        #expect(clock.clampedRemoteStamps == 1)
    }

    @Test func test_stampAfterFloorAheadOfClock_beatsFloorWithoutDraggingClock() {
        var clock = HybridLogicalClock(maxForwardSkewMillis: 500)
        let floor = HLCTimestamp(wallMillis: 60_000, counter: 9)
        let s = clock.stamp(after: floor, nowMillis: 1_000)
        #expect(s > floor)
        #expect(clock.last.wallMillis <= 1_500)
        #expect(clock.clampedRemoteStamps == 0)
    }

    @Test func test_counterOverflow_spillsIntoMilliseconds() {
        var clock = HybridLogicalClock(highWaterMark: HLCTimestamp(wallMillis: 7, counter: .max))
        let t = clock.tick(nowMillis: 7)
        #expect(t.wallMillis == 8 && t.counter == 0)
    }

    @Test func test_stampOrder_tiesBrokenByRegion() {
        let t = HLCTimestamp(wallMillis: 1, counter: 1)
        #expect(Stamp(time: t, region: Fixtures.ireland) < Stamp(time: t, region: Fixtures.virginia))
        #expect(Stamp(time: t, region: Fixtures.virginia) < Stamp(time: t.successor, region: Fixtures.ireland))
    }
}
