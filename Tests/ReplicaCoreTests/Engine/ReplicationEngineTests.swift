import Testing

@testable import ReplicaCore

/// Directive-level tests: feed one input, assert on what the engine asks for. No sockets.
@Suite struct ReplicationEngineTests {
    static func engine(_ region: RegionID = Fixtures.tokyo, configure: (inout EngineConfig) -> Void = { _ in })
        -> ReplicationEngine
    {
        var config = EngineConfig(region: region, peers: Fixtures.regions.filter { $0 != region })
        config.clockFirstReadingMillis = 0  // most tests write before any clock reading; ClockBoundTests turn it on
        configure(&config)
        return ReplicationEngine(config: config, recovered: RecoveredState(ownHistoryComplete: true), nowMillis: 0)
    }

    static func persists(_ ds: [EngineDirective]) -> [PersistRequest] {
        ds.compactMap { if case .persist(let p) = $0 { p } else { nil } }
    }
    static func acks(_ ds: [EngineDirective]) -> [(WriteTicket, WriteAck)] {
        ds.compactMap { if case .acknowledge(let t, let a) = $0 { (t, a) } else { nil } }
    }
    /// What `ds` sends `peer`, as the peer decodes it.
    static func sends(_ ds: [EngineDirective], to peer: RegionID) -> [PeerMessage] {
        ds.compactMap { if case .send(let p, let m) = $0, p == peer { try! m.decodedForm() } else { nil } }
    }

    @Test func test_localCreate_persistsThenAcksOnlyAfterCommit() {
        var e = Self.engine()
        let (result, ds) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(), idempotent: true),
            ticket: WriteTicket(1), durability: .local, nowMillis: 1_000)
        #expect(result == .pending(seq: 1))
        let p = Self.persists(ds)
        #expect(p.count == 1 && p[0].entries.count == 1 && p[0].records.count == 1)
        #expect(Self.acks(ds).isEmpty)
        #expect(e.durableVector[Fixtures.tokyo] == 0)
        let after = e.didPersist(requestID: p[0].id, nowMillis: 1_002)
        let acked = Self.acks(after)
        #expect(acked.count == 1 && acked[0].0 == WriteTicket(1) && acked[0].1.achieved == .local)
        #expect(acked[0].1.sessionToken[Fixtures.tokyo] == 1)
        #expect(e.payment(Fixtures.id(1))?.status == .pending)
        #expect(e.payment(Fixtures.id(1))?.createdAtMillis == 1_000)
    }

    @Test func test_invalidWrites_areRejectedWithoutChangingState() {
        var e = Self.engine()
        var bad = Fixtures.create()
        bad.amount = 0
        let (r1, d1) = e.submit(
            .create(Fixtures.id(1), bad, idempotent: true), ticket: WriteTicket(1), durability: .local, nowMillis: 1)
        #expect(
            r1 == .rejected(.invalid("amount", ""))
                || { if case .rejected(let err) = r1 { err.field == "amount" } else { false } }())
        #expect(d1.isEmpty && e.vector.total == 0 && e.recordCount == 0)
        let (r2, _) = e.submit(
            .update(Fixtures.id(2), PaymentPatch(status: .authorized)), ticket: WriteTicket(2),
            durability: .local, nowMillis: 2)
        guard case .rejected(let err) = r2 else {
            Issue.record("expected a rejection")
            return
        }
        #expect(err.code == .notFound)
    }

    @Test func test_idempotentReplay_answersWithoutWriting_andOtherParametersConflict() {
        var e = Self.engine()
        let (_, ds) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(), idempotent: true), ticket: WriteTicket(1), durability: .local,
            nowMillis: 1)
        _ = e.didPersist(requestID: Self.persists(ds)[0].id, nowMillis: 2)
        let (replay, rd) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(), idempotent: true), ticket: WriteTicket(2), durability: .local,
            nowMillis: 3)
        guard case .answered(let ack) = replay else {
            Issue.record("expected a replay")
            return
        }
        #expect(ack.replayed && rd.isEmpty)
        var other = Fixtures.create()
        other.amount += 1
        let (reuse, _) = e.submit(
            .create(Fixtures.id(1), other, idempotent: true), ticket: WriteTicket(3), durability: .local, nowMillis: 4)
        #expect({ if case .rejected(let err) = reuse { err.code == .idempotencyKeyReused } else { false } }())
        #expect(e.vector[Fixtures.tokyo] == 1)
    }

    @Test func test_illegalStatusTransition_isRefused_legalOnesApply() {
        var e = Self.engine()
        _ = e.submit(
            .create(Fixtures.id(1), Fixtures.create(), idempotent: true), ticket: WriteTicket(1), durability: .local,
            nowMillis: 1)
        for (i, status) in [PaymentStatus.authorized, .completed, .refunded].enumerated() {
            let (r, _) = e.submit(
                .update(Fixtures.id(1), PaymentPatch(status: status)), ticket: WriteTicket(UInt64(2 + i)),
                durability: .local, nowMillis: UInt64(10 + i))
            #expect(r == .pending(seq: UInt64(2 + i)))
        }
        let (r, _) = e.submit(
            .update(Fixtures.id(1), PaymentPatch(status: .pending)), ticket: WriteTicket(9), durability: .local,
            nowMillis: 20)
        #expect(
            {
                if case .rejected(let err) = r {
                    err.code == .invalidStatusTransition && err.field == "status"
                } else {
                    false
                }
            }())
        #expect(e.payment(Fixtures.id(1))?.status == .refunded)
    }

    @Test func test_remoteDurability_waitsForPeerAck_elseTimesOutAsLocal() {
        var e = Self.engine { $0.remoteAckTimeoutMillis = 100 }
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 0)
        let (_, d1) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(1), idempotent: true), ticket: WriteTicket(1), durability: .remote,
            nowMillis: 10)
        let after = e.didPersist(requestID: Self.persists(d1)[0].id, nowMillis: 11)
        #expect(Self.acks(after).isEmpty)
        let delta = Self.sends(after, to: Fixtures.virginia)
        #expect(delta.count == 1)
        let acked = e.receive(.ack(vector: VersionVector([Fixtures.tokyo: 1])), from: Fixtures.virginia, nowMillis: 20)
        #expect(Self.acks(acked).map(\.1.achieved) == [.remote])

        let (_, d2) = e.submit(
            .create(Fixtures.id(2), Fixtures.create(2), idempotent: true), ticket: WriteTicket(2), durability: .remote,
            nowMillis: 30)
        _ = e.didPersist(requestID: Self.persists(d2)[0].id, nowMillis: 31)
        #expect(Self.acks(e.tick(nowMillis: 100)).isEmpty)
        #expect(Self.acks(e.tick(nowMillis: 131)).map(\.1.achieved) == [.local])
    }

    @Test func test_delta_isAppliedPersistedAndAckedAfterCommit_duplicatesAndGapsSkipped() {
        var a = Self.engine(Fixtures.tokyo)
        var b = Self.engine(Fixtures.virginia)
        let (_, d) = a.submit(
            .create(Fixtures.id(1), Fixtures.create(), idempotent: true), ticket: WriteTicket(1), durability: .local,
            nowMillis: 5)
        let entry = Self.persists(d)[0].entries[0].entry
        _ = b.peerConnected(Fixtures.tokyo, nowMillis: 0)
        _ = b.receive(.hello(region: Fixtures.tokyo, vector: VersionVector()), from: Fixtures.tokyo, nowMillis: 0)
        let gap = LogEntry(
            origin: Fixtures.tokyo, seq: 3, hlc: entry.hlc, paymentID: entry.paymentID, changes: entry.changes)
        let ds = b.receive(.delta(batchID: 1, entries: [entry, entry, gap]), from: Fixtures.tokyo, nowMillis: 6)
        let p = Self.persists(ds)
        #expect(p.count == 1 && p[0].entries.map(\.entry) == [entry])
        #expect(b.counters.duplicatesSkipped == 1 && b.counters.gapsSkipped == 1)
        #expect(Self.sends(ds, to: Fixtures.tokyo).isEmpty)
        let committed = b.didPersist(requestID: p[0].id, nowMillis: 7)
        #expect(Self.sends(committed, to: Fixtures.tokyo).contains(.ack(vector: VersionVector([Fixtures.tokyo: 1]))))
        #expect(b.payment(Fixtures.id(1)) == a.payment(Fixtures.id(1)))
    }

    @Test func test_messagesFromStrangersOrBeforeHello_disconnect() {
        var e = Self.engine()
        let stranger = RegionID("sa-east-1")!
        #expect(
            e.peerConnected(stranger, nowMillis: 0) == [
                .disconnect(stranger, reason: "region sa-east-1 is not a peer of ap-northeast-1")
            ])
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        let ds = e.receive(.ack(vector: VersionVector()), from: Fixtures.virginia, nowMillis: 1)
        #expect({ if case .disconnect(Fixtures.virginia, _)? = ds.first { true } else { false } }())
        // Nothing more is read from a link being closed; the next connection is judged afresh.
        #expect(
            e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 1)
                .isEmpty)
        _ = e.peerDisconnected(Fixtures.virginia, nowMillis: 1)
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 1)
        let lie = e.receive(
            .hello(region: Fixtures.ireland, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 1)
        #expect({ if case .disconnect(Fixtures.virginia, _)? = lie.first { true } else { false } }())
        #expect(e.counters.protocolViolations == 2)
    }

    static func ownEntry(_ seq: UInt64, id: Int) -> LogEntry {
        LogEntry(
            origin: Fixtures.tokyo, seq: seq, hlc: HLCTimestamp(wallMillis: seq, counter: 0),
            paymentID: Fixtures.id(id),
            changes: Fixtures.create(id).fieldValues.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
    }

    static func isRecovering(_ r: SubmitResult) -> Bool {
        if case .rejected(let err) = r { err.code == .regionRecovering } else { false }
    }

    @Test func test_newOrWipedStore_refusesWritesUntilEveryPeerSaidHelloAndItsOwnWritesArrived() {
        var config = EngineConfig(region: Fixtures.tokyo, peers: Fixtures.regions.filter { $0 != Fixtures.tokyo })
        config.relayDelayMillis = 0
        config.clockFirstReadingMillis = 0
        var e = ReplicationEngine(config: config, nowMillis: 0)  // a store without its own history
        let create = PaymentCommand.create(Fixtures.id(5), Fixtures.create(5), idempotent: true)
        #expect(Self.isRecovering(e.submit(create, ticket: WriteTicket(1), durability: .local, nowMillis: 1).result))
        for peer in [Fixtures.virginia, Fixtures.ireland] { _ = e.peerConnected(peer, nowMillis: 0) }
        _ = e.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector([Fixtures.tokyo: 1])), from: Fixtures.virginia,
            nowMillis: 1)
        // One peer heard from: another may hold more of this region's writes.
        #expect(Self.isRecovering(e.submit(create, ticket: WriteTicket(2), durability: .local, nowMillis: 2).result))
        #expect(e.ownHistoryMissing?.contains("eu-west-1") == true)
        _ = e.receive(
            .hello(region: Fixtures.ireland, vector: VersionVector([Fixtures.tokyo: 2])), from: Fixtures.ireland,
            nowMillis: 2)
        #expect(Self.isRecovering(e.submit(create, ticket: WriteTicket(3), durability: .local, nowMillis: 3).result))
        let back = e.receive(
            .delta(batchID: 1, entries: [Self.ownEntry(1, id: 1), Self.ownEntry(2, id: 2)]), from: Fixtures.ireland,
            nowMillis: 4)
        #expect(Self.persists(back).count == 1)
        let (ok, ds) = e.submit(create, ticket: WriteTicket(4), durability: .local, nowMillis: 5)
        #expect(ok == .pending(seq: 3))
        #expect(Self.persists(ds)[0].ownHistoryComplete)
    }

    /// A peer may commit some of a wiped region's old writes after its HELLO (a group it
    /// had not fsynced yet). Until the region writes anything new it takes them back;
    /// once it has, such a claim is a lie.
    @Test func test_oldHistoryShownAfterRecovery_isTakenBackUntilTheFirstNewWrite() {
        var config = EngineConfig(region: Fixtures.tokyo, peers: [Fixtures.virginia])
        config.clockFirstReadingMillis = 0
        var e = ReplicationEngine(config: config, nowMillis: 0)
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 1)
        #expect(e.ownHistoryComplete)
        let late = e.receive(.ping(vector: VersionVector([Fixtures.tokyo: 2])), from: Fixtures.virginia, nowMillis: 2)
        #expect(late.allSatisfy { if case .disconnect = $0 { false } else { true } })
        #expect(
            Self.isRecovering(
                e.submit(
                    .create(Fixtures.id(7), Fixtures.create(7), idempotent: true), ticket: WriteTicket(1),
                    durability: .local, nowMillis: 3
                ).result))
        let back = e.receive(
            .delta(batchID: 1, entries: [Self.ownEntry(1, id: 1), Self.ownEntry(2, id: 2)]), from: Fixtures.virginia,
            nowMillis: 4)
        _ = e.didPersist(requestID: Self.persists(back)[0].id, nowMillis: 5)
        let (ok, ds) = e.submit(
            .create(Fixtures.id(7), Fixtures.create(7), idempotent: true), ticket: WriteTicket(2), durability: .local,
            nowMillis: 6)
        #expect(ok == .pending(seq: 3))
        _ = e.didPersist(requestID: Self.persists(ds)[0].id, nowMillis: 7)
        // Now it has written: more of its writes than it made is a lie.
        let lie = e.receive(.ping(vector: VersionVector([Fixtures.tokyo: 9])), from: Fixtures.virginia, nowMillis: 8)
        #expect({ if case .disconnect? = lie.first { true } else { false } }())
    }

    @Test func test_storeWithItsOwnHistory_refusesPeersClaimsAboutIt_andKeepsWriting() {
        var e = Self.engine()
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        let claim = VersionVector([Fixtures.tokyo: 1 << 62])
        let hello = e.receive(.hello(region: Fixtures.virginia, vector: claim), from: Fixtures.virginia, nowMillis: 0)
        #expect({ if case .disconnect? = hello.first { true } else { false } }())
        #expect(e.counters.protocolViolations == 1)
        let (r, _) = e.submit(
            .create(Fixtures.id(5), Fixtures.create(), idempotent: true), ticket: WriteTicket(1), durability: .local,
            nowMillis: 2)
        #expect(r == .pending(seq: 1))
    }

    @Test func test_replayWhileFirstAttemptUncommitted_isAnsweredOnlyOnceCommitted() {
        var e = Self.engine()
        let create = PaymentCommand.create(Fixtures.id(1), Fixtures.create(), idempotent: true)
        let (_, first) = e.submit(create, ticket: WriteTicket(1), durability: .local, nowMillis: 1)
        let (replay, none) = e.submit(create, ticket: WriteTicket(2), durability: .local, nowMillis: 2)
        #expect(replay == .pending(seq: nil) && none.isEmpty)
        let acks = Self.acks(e.didPersist(requestID: Self.persists(first)[0].id, nowMillis: 3))
        #expect(acks.map(\.0) == [WriteTicket(1), WriteTicket(2)])
        #expect(acks[1].1.replayed && acks[1].1.seq == nil)
        // Once committed, a replay is answered at once.
        let (later, _) = e.submit(create, ticket: WriteTicket(3), durability: .local, nowMillis: 4)
        #expect({ if case .answered(let ack) = later { ack.replayed } else { false } }())
    }

    @Test func test_noOpPatchEqualToUncommittedValue_waitsForTheCommit() {
        var e = Self.engine()
        let (_, c) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(), idempotent: true), ticket: WriteTicket(1), durability: .local,
            nowMillis: 1)
        _ = e.didPersist(requestID: Self.persists(c)[0].id, nowMillis: 2)
        let patch = PaymentCommand.update(Fixtures.id(1), PaymentPatch(status: .authorized))
        let (_, p) = e.submit(patch, ticket: WriteTicket(2), durability: .local, nowMillis: 3)
        let (same, _) = e.submit(patch, ticket: WriteTicket(3), durability: .local, nowMillis: 4)
        #expect(same == .pending(seq: nil))
        let acks = Self.acks(e.didPersist(requestID: Self.persists(p)[0].id, nowMillis: 5))
        #expect(acks.map(\.0) == [WriteTicket(2), WriteTicket(3)])
        #expect(acks[1].1.payment.status == .authorized)
    }

    @Test func test_localUpdate_isStampedAboveRecordEvenWhenPeerClockIsAhead() {
        var e = Self.engine()
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 0)
        let future = HLCTimestamp(wallMillis: 1_500, counter: .max)
        let create = LogEntry(
            origin: Fixtures.virginia, seq: 1, hlc: future, paymentID: Fixtures.id(1),
            changes: Fixtures.create().fieldValues.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
        _ = e.receive(.delta(batchID: 1, entries: [create]), from: Fixtures.virginia, nowMillis: 1_000)
        #expect(e.payment(Fixtures.id(1)) != nil)
        let (_, ds) = e.submit(
            .update(Fixtures.id(1), PaymentPatch(status: .authorized)), ticket: WriteTicket(1), durability: .local,
            nowMillis: 1_001)
        #expect(Self.persists(ds)[0].entries[0].entry.hlc > future)
        #expect(e.payment(Fixtures.id(1))?.status == .authorized)
        #expect(e.clockHighWater.wallMillis <= 1_501)
    }

    @Test func test_remoteWrite_isSentAtOnce_localWritesWaitForTheBatchDelay() {
        var e = Self.engine { $0.batchDelayMillis = 20 }
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 0)
        let (_, local) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(1), idempotent: true), ticket: WriteTicket(1),
            durability: .local, nowMillis: 100)
        #expect(
            Self.sends(e.didPersist(requestID: Self.persists(local)[0].id, nowMillis: 101), to: Fixtures.virginia)
                .isEmpty)
        let (_, remote) = e.submit(
            .create(Fixtures.id(2), Fixtures.create(2), idempotent: true), ticket: WriteTicket(2),
            durability: .remote, nowMillis: 102)
        let sent = Self.sends(
            e.didPersist(requestID: Self.persists(remote)[0].id, nowMillis: 103), to: Fixtures.virginia)
        guard case .delta(_, let entries)? = sent.first else {
            Issue.record("the remote write was not sent at once: \(sent)")
            return
        }
        #expect(entries.map(\.seq) == [1, 2])
    }

    @Test func test_status_reportsLagAndRPOExposure() {
        var e = Self.engine()
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 0)
        for i in 1...3 {
            let (_, ds) = e.submit(
                .create(Fixtures.id(i), Fixtures.create(i), idempotent: true), ticket: WriteTicket(UInt64(i)),
                durability: .local, nowMillis: UInt64(100 * i))
            _ = e.didPersist(requestID: Self.persists(ds)[0].id, nowMillis: UInt64(100 * i))
        }
        var s = e.status(nowMillis: 1_000)
        #expect(s.unreplicatedLocalEntries == 3 && s.rpoExposureMillis == 900)
        #expect(s.peers.first { $0.region == Fixtures.virginia }?.lagMillis == 900)
        _ = e.receive(.ack(vector: VersionVector([Fixtures.tokyo: 2])), from: Fixtures.virginia, nowMillis: 1_000)
        s = e.status(nowMillis: 1_000)
        #expect(s.unreplicatedLocalEntries == 1 && s.rpoExposureMillis == 700)
    }
}
