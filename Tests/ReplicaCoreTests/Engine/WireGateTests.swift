import Testing

@testable import ReplicaCore

/// The gate on format 4's features, with engines of two releases talking through the
/// codec at each link's format: a mixed cluster runs format 3 where it must and records no
/// actor; the last region's upgrade turns format 4 on everywhere, for good (recorded in
/// each store, learned by a region that never heard the last one itself); afterwards a
/// binary of the release before is refused.
@Suite struct WireGateTests {
    static let previous: ClosedRange<UInt8> = 3...3
    static let this: ClosedRange<UInt8> = 3...4

    /// Engines of given releases, stores committing at once, messages carried in order
    /// as bytes in each link's negotiated format.
    struct Cluster {
        var engines: [RegionID: ReplicationEngine] = [:]
        var stores: [RegionID: InMemoryStorage] = [:]
        var wire: [[RegionID]: UInt8] = [:]
        var queue: [(from: RegionID, to: RegionID, bytes: [UInt8])] = []
        var refusals: [RegionID: [String]] = [:]
        var now: UInt64 = 1_000
        var ticket: UInt64 = 1

        init(_ releases: [RegionID: ClosedRange<UInt8>]) {
            for (region, _) in releases {
                var store = InMemoryStorage()  // one engine per region of `releases`
                store.wireActive = 3  // a cluster that ran the release before
                store.ownHistoryComplete = true
                stores[region] = store
            }
            for region in releases.keys.sorted() {
                start(region, releases[region]!, peers: releases.keys.sorted().filter { $0 != region })
            }
        }

        /// A region joining a cluster that serves: an empty store that does not hold its
        /// own history and runs format 3 until its peers say otherwise.
        mutating func join(_ region: RegionID, peers: [RegionID]) {
            var store = InMemoryStorage()
            store.wireActive = 3
            stores[region] = store
            start(region, WireVersion.supported, peers: peers)
        }

        mutating func start(_ region: RegionID, _ release: ClosedRange<UInt8>, peers: [RegionID]? = nil) {
            var config = EngineConfig(region: region, peers: peers ?? Fixtures.regions.filter { $0 != region })
            config.clockFirstReadingMillis = 0
            config.wireVersions = release
            engines[region] = ReplicationEngine(config: config, recovered: stores[region]!.recover(), nowMillis: now)
        }

        mutating func connect(_ a: RegionID, _ b: RegionID) {
            let format = WireVersion.negotiate(engines[a]!.config.wireVersions, engines[b]!.config.wireVersions)!
            wire[[a, b].sorted()] = format
            run(a, engines[a]!.peerConnected(b, wire: format, nowMillis: now))
            run(b, engines[b]!.peerConnected(a, wire: format, nowMillis: now))
            deliver()
        }

        mutating func disconnect(_ a: RegionID, _ b: RegionID) {
            wire[[a, b].sorted()] = nil
            queue.removeAll { [$0.from, $0.to].sorted() == [a, b].sorted() }
            run(a, engines[a]!.peerDisconnected(b, nowMillis: now))
            run(b, engines[b]!.peerDisconnected(a, nowMillis: now))
        }

        mutating func run(_ region: RegionID, _ directives: [EngineDirective]) {
            for directive in directives {
                switch directive {
                case .persist(let request):
                    stores[region]!.commit([request])
                    run(region, engines[region]!.didPersist(requestID: request.id, nowMillis: now))
                case .send(let peer, let message):
                    guard let format = wire[[region, peer].sorted()] else { continue }
                    queue.append((region, peer, try! message.encoded(wire: format)))
                case .disconnect(let peer, let reason):
                    refusals[region, default: []].append(reason)
                    if wire[[region, peer].sorted()] != nil { disconnect(region, peer) }
                default:
                    break
                }
            }
        }

        mutating func deliver() {
            while !queue.isEmpty {
                let (from, to, bytes) = queue.removeFirst()
                guard let format = wire[[from, to].sorted()] else { continue }
                let message = try! PeerMessage.decode(bytes, wire: format)
                run(to, engines[to]!.receive(message, from: from, nowMillis: now))
            }
        }

        mutating func tick(by millis: UInt64 = 1_000) {
            now += millis
            for region in engines.keys.sorted() { run(region, engines[region]!.tick(nowMillis: now)) }
            deliver()
        }

        @discardableResult
        mutating func create(_ n: Int, at region: RegionID, actor: String = "shop-a") -> PaymentID {
            let id = Fixtures.id(n)
            ticket += 1
            let (_, ds) = engines[region]!.submit(
                .create(id, Fixtures.create(n), idempotent: true), actor: actor, ticket: WriteTicket(ticket),
                durability: .local, nowMillis: now)
            run(region, ds)
            deliver()
            return id
        }

        func actors(of id: PaymentID, at region: RegionID) -> [String?] {
            stores[region]!.log.allEntries().filter { $0.paymentID == id }.map(\.actor)
        }

        var digests: Set<String> { Set(engines.values.map { $0.stateDigest() }) }
    }

    static func connectAll(_ c: inout Cluster) {
        c.connect(Fixtures.tokyo, Fixtures.virginia)
        c.connect(Fixtures.tokyo, Fixtures.ireland)
        c.connect(Fixtures.virginia, Fixtures.ireland)
    }

    @Test func aMixedClusterRecordsNoActor_untilItsLastRegionRunsTheNewRelease() {
        var c = Cluster([Fixtures.tokyo: Self.this, Fixtures.virginia: Self.this, Fixtures.ireland: Self.previous])
        Self.connectAll(&c)
        #expect(c.wire[[Fixtures.tokyo, Fixtures.virginia].sorted()] == 4)
        #expect(c.wire[[Fixtures.tokyo, Fixtures.ireland].sorted()] == 3)
        let status = c.engines[Fixtures.tokyo]!.wireStatus
        #expect(status.active == 3 && status.awaiting == [Fixtures.ireland])
        let early = c.create(1, at: Fixtures.tokyo)
        c.create(2, at: Fixtures.ireland)
        c.tick()
        for region in Fixtures.regions { #expect(c.actors(of: early, at: region) == [nil]) }
        #expect(c.digests.count == 1 && c.engines[Fixtures.ireland]!.recordCount == 2)

        // Ireland stops, and comes back on the new release from the same store.
        c.disconnect(Fixtures.tokyo, Fixtures.ireland)
        c.disconnect(Fixtures.virginia, Fixtures.ireland)
        c.start(Fixtures.ireland, Self.this)
        c.connect(Fixtures.tokyo, Fixtures.ireland)
        c.connect(Fixtures.virginia, Fixtures.ireland)
        c.tick()
        for region in Fixtures.regions {
            #expect(c.engines[region]!.wireActive == 4, "\(region)")
            #expect(c.stores[region]!.wireActive == 4, "\(region) recorded it")
        }
        let late = c.create(3, at: Fixtures.tokyo)
        c.tick()
        for region in Fixtures.regions {
            #expect(c.actors(of: late, at: region) == ["shop-a"], "\(region)")
            #expect(c.actors(of: early, at: region) == [nil])
        }
        #expect(c.digests.count == 1)

        // A binary of the release before is refused from now on, by either side.
        c.disconnect(Fixtures.virginia, Fixtures.ireland)
        let refused = c.engines[Fixtures.virginia]!.peerConnected(Fixtures.ireland, wire: 3, nowMillis: c.now)
        guard case .disconnect(Fixtures.ireland, let reason)? = refused.last else {
            Issue.record("a format-3 link was taken: \(refused)")
            return
        }
        #expect(reason.contains("turned on format 4"))
        #expect(c.engines[Fixtures.virginia]!.counters.linksRefusedForWire == 1)
    }

    @Test func theRaiseSurvivesARestart_andARegionLearnsItFromAPeersPing() {
        var c = Cluster([Fixtures.tokyo: Self.this, Fixtures.virginia: Self.this, Fixtures.ireland: Self.this])
        // Tokyo never hears Ireland itself: Virginia, which hears both, turns format 4 on.
        c.connect(Fixtures.tokyo, Fixtures.virginia)
        #expect(c.engines[Fixtures.tokyo]!.wireActive == 3)
        c.connect(Fixtures.virginia, Fixtures.ireland)
        #expect(c.engines[Fixtures.virginia]!.wireActive == 4)
        c.tick()
        #expect(c.engines[Fixtures.tokyo]!.wireActive == 4)
        #expect(c.engines[Fixtures.tokyo]!.wireStatus.awaiting == [])
        // Recorded: a restart resumes with it, and with what Virginia's peers announced.
        c.start(Fixtures.virginia, Self.this)
        #expect(c.engines[Fixtures.virginia]!.wireActive == 4)
        let recovered = c.stores[Fixtures.virginia]!.recover()
        #expect(recovered.wireSpeaks == [Fixtures.tokyo: 4, Fixtures.ireland: 4])
        let id = c.create(1, at: Fixtures.tokyo, actor: "ops")
        #expect(c.actors(of: id, at: Fixtures.tokyo) == ["ops"])
    }

    @Test func aPeersRaiseIsNotTaken_whileAPeerIsKnownOnTheReleaseBefore() {
        var c = Cluster([Fixtures.tokyo: Self.this, Fixtures.virginia: Self.this, Fixtures.ireland: Self.previous])
        Self.connectAll(&c)
        // What a region made by plain `paynode init` in a cluster still being upgraded says.
        #expect(c.engines[Fixtures.tokyo]!.adoptActive(4).isEmpty)
        #expect(c.engines[Fixtures.tokyo]!.wireActive == 3)
    }

    @Test func anEntryWithAnActorRaisesTheReceiverBeforeItIsStored() {
        var config = EngineConfig(region: Fixtures.tokyo, peers: [Fixtures.virginia, Fixtures.ireland])
        config.clockFirstReadingMillis = 0
        var e = ReplicationEngine(
            config: config, recovered: RecoveredState(ownHistoryComplete: true, wireActive: 3), nowMillis: 0)
        _ = e.peerConnected(Fixtures.virginia, wire: 4, nowMillis: 1)
        _ = e.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector(), wire: WireFormatCodecTests.announcement),
            from: Fixtures.virginia, nowMillis: 1)
        #expect(e.wireActive == 3)  // Ireland not heard yet
        // Virginia's DELTA overtook the PING saying it raised.
        var virginia = ReplicationEngineTests.engine(Fixtures.virginia)
        let (_, made) = virginia.submit(
            .create(Fixtures.id(1), Fixtures.create(1), idempotent: true), actor: "ops", ticket: WriteTicket(1),
            durability: .local, nowMillis: 2)
        let entry = ReplicationEngineTests.persists(made)[0].entries[0].entry
        let persists = ReplicationEngineTests.persists(
            e.receive(.delta(batchID: 1, entries: [entry]), from: Fixtures.virginia, nowMillis: 2))
        #expect(persists.count == 2)
        #expect(persists.first?.wire?.active == 4 && persists.first?.entries.isEmpty == true)
        #expect(persists.last?.entries.first?.entry.actor == "ops")
    }

    @Test func aRegionAloneRaisesOnItsNextTick() {
        var config = EngineConfig(region: Fixtures.tokyo, peers: [])
        config.clockFirstReadingMillis = 0
        var e = ReplicationEngine(config: config, recovered: RecoveredState(wireActive: 3), nowMillis: 0)
        _ = e.tick(nowMillis: 20)
        #expect(e.wireActive == 4)
    }
}
