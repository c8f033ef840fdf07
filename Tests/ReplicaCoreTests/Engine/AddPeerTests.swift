import Testing

@testable import ReplicaCore

/// A region added while the cluster serves: an engine that learns of it takes it as a
/// peer (status, pushes, the clock fence's cluster), and one that has not refuses its
/// entries; the joining region's empty store catches up and then writes.
@Suite struct AddPeerTests {
    static let saoPaulo = RegionID("sa-east-1")!

    @Test func anAddedRegionCatchesUp_andItsWritesReachEveryRegionThatKnowsIt() {
        var c = WireGateTests.Cluster(
            [Fixtures.tokyo: WireVersion.supported, Fixtures.virginia: WireVersion.supported])
        c.connect(Fixtures.tokyo, Fixtures.virginia)
        for n in 1...5 { c.create(n, at: n % 2 == 0 ? Fixtures.tokyo : Fixtures.virginia) }
        c.tick()

        // Tokyo and Virginia learn of São Paulo (their config reload), then it starts empty.
        for region in [Fixtures.tokyo, Fixtures.virginia] {
            c.run(region, c.engines[region]!.addPeer(Self.saoPaulo, nowMillis: c.now))
            #expect(c.engines[region]!.status(nowMillis: c.now).peers.map(\.region).contains(Self.saoPaulo))
            #expect(c.engines[region]!.addPeer(Self.saoPaulo, nowMillis: c.now).isEmpty)  // once
        }
        c.join(Self.saoPaulo, peers: [Fixtures.tokyo, Fixtures.virginia])
        #expect(c.engines[Self.saoPaulo]!.ownHistoryMissing != nil)  // no write before its peers greet it
        c.connect(Fixtures.tokyo, Self.saoPaulo)
        c.connect(Fixtures.virginia, Self.saoPaulo)
        c.tick()
        #expect(c.engines[Self.saoPaulo]!.ownHistoryMissing == nil)
        #expect(c.engines[Self.saoPaulo]!.wireActive == 4)  // learned from its peers
        #expect(c.digests.count == 1 && c.engines[Self.saoPaulo]!.recordCount == 5)

        let id = c.create(6, at: Self.saoPaulo)
        c.tick()
        #expect(c.digests.count == 1)
        #expect(c.engines[Fixtures.tokyo]!.payment(id) != nil)
        #expect(c.engines[Fixtures.tokyo]!.vector[Self.saoPaulo] == 1)
    }

    @Test func aRegionNotYetToldOfANewOneRefusesItsEntries() {
        var e = ReplicationEngineTests.engine()
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 1)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 1)
        let entry = LogEntry(
            origin: Self.saoPaulo, seq: 1, hlc: HLCTimestamp(wallMillis: 1, counter: 0), paymentID: Fixtures.id(1),
            changes: [FieldChange(field: .status, value: .text("authorized"), base: nil, depth: 2)])
        let ds = e.receive(.delta(batchID: 1, entries: [entry]), from: Fixtures.virginia, nowMillis: 2)
        #expect(ds.contains { if case .disconnect(Fixtures.virginia, _) = $0 { true } else { false } })
        #expect(e.vector[Self.saoPaulo] == 0)
    }
}
