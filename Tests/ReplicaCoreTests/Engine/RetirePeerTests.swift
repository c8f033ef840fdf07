import Testing

@testable import ReplicaCore

/// Retiring a region: drained, it leaves with nothing lost and its store serves no more;
/// lost for good, the survivors stop waiting for it and say what its loss cost. Either
/// way its writes stay valid and its name is never a peer's again.
@Suite struct RetirePeerTests {
    typealias Cluster = WireGateTests.Cluster
    static let release = WireVersion.supported

    static func cluster() -> Cluster {
        var c = Cluster([Fixtures.tokyo: release, Fixtures.virginia: release, Fixtures.ireland: release])
        WireGateTests.connectAll(&c)
        return c
    }

    @Test func aDrainedRegionLeavesWithNothingLost_andItsStoreServesNoMore() {
        var c = Self.cluster()
        for n in 1...6 { c.create(n, at: Fixtures.regions[n % 3]) }
        c.tick()

        c.engines[Fixtures.ireland]!.beginRetirement()
        let (refused, _) = c.engines[Fixtures.ireland]!.submit(
            .create(Fixtures.id(7), Fixtures.create(7), idempotent: true), ticket: WriteTicket(99),
            durability: .local, nowMillis: c.now)
        #expect(refused == .rejected(PaymentError(.regionRetiring, refused.rejectedMessage ?? "")))
        #expect(c.engines[Fixtures.ireland]!.retirement.drained)
        #expect(c.engines[Fixtures.ireland]!.retirement.ownWrites == 2)
        c.run(Fixtures.ireland, c.engines[Fixtures.ireland]!.finishRetirement())
        #expect(c.stores[Fixtures.ireland]!.selfRetired)

        // Its store, started again, still takes no write.
        c.start(Fixtures.ireland, Self.release)
        #expect(c.engines[Fixtures.ireland]!.isRetiring)

        for region in [Fixtures.tokyo, Fixtures.virginia] {
            c.run(region, c.engines[region]!.retirePeer(Fixtures.ireland, nowMillis: c.now))
            let status = c.engines[region]!.status(nowMillis: c.now)
            #expect(status.peers.map(\.region) == [Fixtures.tokyo, Fixtures.virginia].filter { $0 != region })
            #expect(status.retired.map(\.region) == [Fixtures.ireland])
            #expect(status.retired.first?.lostEntries == 0)
            #expect(status.retired.first?.lastHeard == 2)
            #expect(c.stores[region]!.retired[Fixtures.ireland] == 2)
            // Its name is never a peer's again.
            #expect(c.engines[region]!.addPeer(Fixtures.ireland, nowMillis: c.now).isEmpty)
            #expect(c.engines[region]!.status(nowMillis: c.now).peers.count == 1)
        }
        c.engines[Fixtures.ireland] = nil
        c.create(8, at: Fixtures.tokyo)
        c.tick()
        #expect(c.digests.count == 1 && c.engines[Fixtures.virginia]!.recordCount == 7)
        // Its writes stay valid: a vector naming it is no protocol violation.
        #expect(c.engines[Fixtures.tokyo]!.counters.protocolViolations == 0)
        #expect(c.engines[Fixtures.tokyo]!.vector[Fixtures.ireland] == 2)

        // A restart from the store remembers the retirement, even with a config that forgot it.
        c.start(Fixtures.tokyo, Self.release, peers: [Fixtures.virginia, Fixtures.ireland])
        let restarted = c.engines[Fixtures.tokyo]!
        #expect(restarted.config.peers == [Fixtures.virginia] && restarted.config.retired == [Fixtures.ireland])
        #expect(restarted.status(nowMillis: c.now).retired.first?.lastHeard == 2)
    }

    @Test func aRegionLostForGoodIsRetired_andTheSurvivorsCountWhatNoneOfThemHolds() {
        var e = ReplicationEngineTests.engine()  // Tokyo, peers Virginia and Ireland
        _ = e.peerConnected(Fixtures.ireland, nowMillis: 1)
        _ = e.receive(
            .hello(region: Fixtures.ireland, vector: VersionVector([Fixtures.ireland: 5])), from: Fixtures.ireland,
            nowMillis: 1)
        _ = e.peerDisconnected(Fixtures.ireland, nowMillis: 2)

        let ds = e.retirePeer(Fixtures.ireland, nowMillis: 3)
        #expect(ds.contains { if case .persist(let r) = $0 { r.membership != nil } else { false } })
        var retired = e.status(nowMillis: 3).retired
        #expect(retired.map(\.lostEntries) == [5])

        // Virginia relays two of Ireland's writes: two fewer are lost.
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 4)
        _ = e.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector([Fixtures.ireland: 2])), from: Fixtures.virginia,
            nowMillis: 4)
        retired = e.status(nowMillis: 5).retired
        #expect(retired.first?.heldBySurvivors == 2 && retired.first?.lostEntries == 3)
        // Ireland is not dialed, awaited or reported any more; a link from it is refused.
        #expect(e.status(nowMillis: 5).peers.map(\.region) == [Fixtures.virginia])
        let again = e.peerConnected(Fixtures.ireland, nowMillis: 6)
        #expect(again.contains { if case .disconnect(Fixtures.ireland, _) = $0 { true } else { false } })
    }

    @Test func retiringALostRegionReleasesWhatWaitedForIt() {
        // A wiped store waits for every peer's HELLO before it writes; one peer is lost for good.
        var config = EngineConfig(region: Fixtures.tokyo, peers: [Fixtures.virginia, Fixtures.ireland])
        config.clockFirstReadingMillis = 0
        var e = ReplicationEngine(config: config, recovered: RecoveredState(ownHistoryComplete: false), nowMillis: 1)
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 1)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 1)
        #expect(e.ownHistoryMissing?.contains(Fixtures.ireland.name) == true)
        _ = e.retirePeer(Fixtures.ireland, nowMillis: 2)
        #expect(e.ownHistoryMissing == nil)

        // The wire gate waited for Ireland's announcement; Virginia's is enough now.
        var gated = Cluster([Fixtures.tokyo: Self.release, Fixtures.virginia: Self.release, Fixtures.ireland: 3...3])
        gated.connect(Fixtures.tokyo, Fixtures.virginia)
        #expect(gated.engines[Fixtures.tokyo]!.wireActive == 3)
        gated.run(Fixtures.tokyo, gated.engines[Fixtures.tokyo]!.retirePeer(Fixtures.ireland, nowMillis: gated.now))
        #expect(gated.engines[Fixtures.tokyo]!.wireActive == 4)
    }
}

extension SubmitResult {
    fileprivate var rejectedMessage: String? {
        if case .rejected(let e) = self { e.message } else { nil }
    }
}
