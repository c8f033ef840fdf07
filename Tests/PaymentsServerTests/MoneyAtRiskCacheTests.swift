import Testing

@testable import PaymentNode
@testable import ReplicaCore

/// When the node reads money at risk from the store and when it gives its last sums
/// again, with time passed in.
struct MoneyAtRiskCacheTests {
    let t0 = ContinuousClock.now
    let eur = MoneyAtRisk(total: [("EUR", 1_250)], perPeer: [])

    func key(changes: UInt64, acked: UInt64 = 0) -> MoneyAtRiskCache.Key {
        .init(storeChanges: changes, seqs: [acked, acked], regions: [RegionID("us-east-1")!])
    }

    func answered(_ d: MoneyAtRiskCache.Decision) -> UInt64? {
        if case .answer(let a) = d { return a.ageMillis }
        return nil
    }

    @Test func aQuickReadIsRepeatedOnEveryChange() {
        var cache = MoneyAtRiskCache()
        #expect(answered(cache.decide(key(changes: 1), now: t0)) == nil, "nothing kept: read")
        cache.keep(eur, for: key(changes: 1), readAt: t0, took: .milliseconds(2))
        #expect(answered(cache.decide(key(changes: 1), now: t0 + .seconds(60))) == 0, "unchanged: exact")
        #expect(answered(cache.decide(key(changes: 2), now: t0 + .milliseconds(3))) == nil, "changed: read again")
        cache.keep(eur, for: key(changes: 2), readAt: t0, took: .milliseconds(2))
        #expect(answered(cache.decide(key(changes: 2, acked: 5), now: t0 + .milliseconds(3))) == nil)
    }

    @Test func aSlowReadIsSpacedOutAndItsAnswerCarriesItsAge() {
        var cache = MoneyAtRiskCache()
        _ = cache.decide(key(changes: 1), now: t0)
        cache.keep(eur, for: key(changes: 1), readAt: t0, took: .milliseconds(400))
        #expect(answered(cache.decide(key(changes: 2), now: t0 + .milliseconds(1_500))) == 1_500)
        #expect(answered(cache.decide(key(changes: 3, acked: 9), now: t0 + .milliseconds(3_999))) == 3_999)
        #expect(answered(cache.decide(key(changes: 3), now: t0 + .milliseconds(4_000))) == nil, "10x its time: read")
        #expect(answered(cache.decide(key(changes: 1), now: t0 + .milliseconds(4_001))) == 0, "the kept state is exact")
    }

    @Test func oneReadRunsAtATime() {
        var cache = MoneyAtRiskCache()
        _ = cache.decide(key(changes: 1), now: t0)
        cache.keep(eur, for: key(changes: 1), readAt: t0, took: .milliseconds(1))
        #expect(answered(cache.decide(key(changes: 2), now: t0 + .milliseconds(10))) == nil)
        #expect(answered(cache.decide(key(changes: 3), now: t0 + .milliseconds(20))) == 20, "a read runs")
        cache.readFailed()
        #expect(answered(cache.decide(key(changes: 3), now: t0 + .milliseconds(30))) == nil, "it failed: read")
        cache.keep(eur, for: key(changes: 3), readAt: t0 + .milliseconds(30), took: .milliseconds(1))
        #expect(answered(cache.decide(key(changes: 4), now: t0 + .milliseconds(40))) == nil)
    }
}
