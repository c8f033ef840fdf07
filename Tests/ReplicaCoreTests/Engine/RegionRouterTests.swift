import Testing

@testable import ReplicaCore

@Suite struct RegionRouterTests {
    @Test func test_ranking_prefersLowestSmoothedLatency() {
        var router = RegionRouter(regions: Fixtures.regions)
        router.recordSuccess(Fixtures.tokyo, latencyMicros: 180_000)
        router.recordSuccess(Fixtures.virginia, latencyMicros: 5_000)
        router.recordSuccess(Fixtures.ireland, latencyMicros: 80_000)
        #expect(router.ranked(nowMillis: 0) == [Fixtures.virginia, Fixtures.ireland, Fixtures.tokyo])
        // One slow sample does not flip the order; a sustained change does.
        router.recordSuccess(Fixtures.virginia, latencyMicros: 100_000)
        #expect(router.preferred(nowMillis: 0) == Fixtures.virginia)
        for _ in 0..<10 { router.recordSuccess(Fixtures.virginia, latencyMicros: 300_000) }
        #expect(router.preferred(nowMillis: 0) == Fixtures.ireland)
    }

    @Test func test_failure_benchesRegionWithDoublingCooldown_thenRetries() {
        var router = RegionRouter(regions: Fixtures.regions)
        router.recordSuccess(Fixtures.virginia, latencyMicros: 1_000)
        router.recordSuccess(Fixtures.ireland, latencyMicros: 50_000)
        router.recordFailure(Fixtures.virginia, nowMillis: 10_000)
        #expect(router.preferred(nowMillis: 10_000) == Fixtures.ireland)
        #expect(router.ranked(nowMillis: 10_000).last == Fixtures.virginia)
        #expect(router.preferred(nowMillis: 11_000) == Fixtures.virginia)  // cooldown of 1 s over: half-open
        router.recordFailure(Fixtures.virginia, nowMillis: 11_000)
        #expect(!router.isHealthy(Fixtures.virginia, nowMillis: 12_999))
        #expect(router.isHealthy(Fixtures.virginia, nowMillis: 13_000))  // doubled to 2 s
        router.recordSuccess(Fixtures.virginia, latencyMicros: 1_000)
        #expect(router.health[Fixtures.virginia]?.consecutiveFailures == 0)
    }

    @Test func test_refusals_benchForTheBaseCooldownOnly_andClearEarlierFailures() {
        var router = RegionRouter(regions: Fixtures.regions)
        router.recordFailure(Fixtures.virginia, nowMillis: 0)
        router.recordFailure(Fixtures.virginia, nowMillis: 1_000)
        for t: UInt64 in [3_000, 4_000, 5_000, 6_000] {
            router.recordRefusal(Fixtures.virginia, nowMillis: t)
            #expect(!router.isHealthy(Fixtures.virginia, nowMillis: t + 999))
            #expect(router.isHealthy(Fixtures.virginia, nowMillis: t + 1_000))
        }
        #expect(router.health[Fixtures.virginia]?.consecutiveFailures == 0)
    }

    @Test func test_cooldown_isCapped() {
        var router = RegionRouter(regions: [Fixtures.tokyo])
        for _ in 0..<40 { router.recordFailure(Fixtures.tokyo, nowMillis: 0) }
        #expect(router.health[Fixtures.tokyo]?.benchedUntilMillis == 30_000)
    }

    @Test func regionsAddedAndRemovedWhileRouting() {
        let a = RegionID("a")!
        let b = RegionID("b")!
        let c = RegionID("c")!
        var router = RegionRouter(regions: [a, b])
        router.recordSuccess(a, latencyMicros: 900)
        router.recordSuccess(b, latencyMicros: 500)
        router.addRegion(c)  // joined: unmeasured, after the measured ones
        #expect(router.ranked(nowMillis: 0) == [b, a, c])
        router.recordSuccess(c, latencyMicros: 100)
        router.addRegion(c)  // known: keeps its record
        #expect(router.ranked(nowMillis: 0) == [c, b, a])
        router.removeRegion(b)  // retired: never ranked again
        router.recordSuccess(b, latencyMicros: 1)
        #expect(router.ranked(nowMillis: 0) == [c, a])
    }
}
