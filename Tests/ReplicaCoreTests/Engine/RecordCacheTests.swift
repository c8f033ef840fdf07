import Testing

@testable import ReplicaCore

/// The engine's bounded record cache: residency, pins, eviction, and snapshots read
/// from the store.
@Suite struct RecordCacheTests {
    static func encoded(_ n: Int) -> [UInt8] {
        var record = PaymentRecord(id: Fixtures.id(n))
        let stamp = Stamp(time: HLCTimestamp(wallMillis: 1_000, counter: 0), region: Fixtures.tokyo)
        for (field, value) in Fixtures.create(n).fieldValues {
            record.merge(FieldRegister(value: value, stamp: stamp, base: nil), into: field)
        }
        return RecordTable.encode(record)
    }

    @Test func test_admitted_areResident_pinnedSurviveEviction_oldestGoFirst() {
        var table = RecordTable(capacityBytes: 2_000)
        let ids = (1...10).map(Fixtures.id)
        #expect(!table.isResident(ids[0]))
        table.admit((1...5).map(Self.encoded), asked: ids)
        #expect(ids.allSatisfy(table.isResident))
        #expect(table[ids[0]]?.id == ids[0] && table[ids[9]] == nil)
        table.pin([ids[0]])
        table.evictToCapacity()
        #expect(table.bytes <= 2_000)
        #expect(table.isResident(ids[0]), "a pinned record was evicted")
        #expect(!table.isResident(ids[1]), "not the oldest unpinned went first")
        table.unpin([ids[0]])
        var empty = RecordTable(capacityBytes: 4_096)
        empty.admit([], asked: ids)
        #expect(empty.bytes == 10 * RecordTable.overheadBytes)
    }

    /// A region catching up drops each snapshot chunk's records once committed: the ids
    /// must leave the eviction order too, or it grows with every record ever received
    /// (a 10 M catch-up held 1 GB of dropped ids).
    @Test func test_droppedRecords_leaveNoTraceInTheEvictionOrder() {
        var table = RecordTable(capacityBytes: 1 << 20)
        for n in 1...20_000 {
            let bytes = Self.encoded(n)
            let id = RecordTable.id(of: bytes)
            table.admit([], asked: [id])  // the snapshot's ids, looked up first: none there
            table[id] = RecordTable.decode(bytes)  // merged
            table.pin([id])
            table.unpin([id])  // committed
            table.drop([id])
        }
        #expect(table.count == 0 && table.bytes == 0)
        #expect(table.trackedIDs < 5_000, "\(table.trackedIDs) ids tracked for eviction with none resident")
    }

    /// The order in which decoded values are let go keeps the few it tracks, not every
    /// id ever stored (a region catching up held one id per record it took: 1 M records,
    /// some 80 MB).
    @Test func test_decodedValuesOrder_staysBounded() {
        var table = RecordTable(capacityBytes: 1 << 20)
        for n in 1...20_000 {
            let bytes = Self.encoded(n)
            let id = RecordTable.id(of: bytes)
            table.admit([], asked: [id])
            table[id] = RecordTable.decode(bytes)
            table.evictToCapacity()
        }
        #expect(
            table.decodedTrackedIDs <= 8 * RecordTable.decodedMax,
            "\(table.decodedTrackedIDs) ids tracked for \(RecordTable.decodedMax) decoded values")
    }

    @Test func test_residentRecordKeepsTheCachesCopy_whenTheStoresIsOlder() {
        var table = RecordTable(capacityBytes: 1 << 20)
        var newer = RecordTable.decode(Self.encoded(1))
        let later = Stamp(time: HLCTimestamp(wallMillis: 2_000, counter: 0), region: Fixtures.tokyo)
        newer.merge(FieldRegister(value: .text("authorized"), stamp: later, base: nil), into: .status)
        table[newer.id] = newer
        table.admit([Self.encoded(1)], asked: [newer.id])
        #expect(table[newer.id] == newer)
    }

    /// An engine that committed creates 1...`count` and then compacted its log past them,
    /// so a peer that lacks them gets a snapshot (a bounded engine is told first that the
    /// store holds none of the ids).
    static func sourceWithCompactedLog(
        _ count: Int, nowMillis: UInt64, _ configure: (inout EngineConfig) -> Void = { _ in }
    ) -> ReplicationEngine {
        var e = ReplicationEngineTests.engine(configure: configure)
        for n in 1...count {
            if e.config.recordCacheBytes != nil { e.admitRecords([], asked: [Fixtures.id(n)]) }
            let (_, ds) = e.submit(
                .create(Fixtures.id(n), Fixtures.create(n), idempotent: true), ticket: WriteTicket(UInt64(n)),
                durability: .local, nowMillis: nowMillis)
            _ = e.didPersist(requestID: ReplicationEngineTests.persists(ds)[0].id, nowMillis: nowMillis)
        }
        e.log.trim(through: e.durableVector)
        e.storeHorizon = e.durableVector
        return e
    }

    @Test func test_boundedEngine_readsSnapshotsFromTheStore_andIgnoresAnAbandonedStream() {
        var e = Self.sourceWithCompactedLog(3, nowMillis: 10) {
            $0.recordCacheBytes = 1 << 20
            $0.logEntriesMax = 512
            $0.snapshotChunkRecords = 2
        }
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 20)
        let hello = e.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 20)
        guard case .readSnapshotChunk(Fixtures.virginia, let stream, 0, let limit)? = hello.last, limit.countMax == 2
        else {
            Issue.record("no store read for the snapshot: \(hello)")
            return
        }
        let store = (1...3).map(Self.encoded).sorted {
            RecordTable.decode($0).id.rawValue < RecordTable.decode($1).id.rawValue
        }
        let first = e.snapshotChunkRead(
            Array(store[0..<2]), position: 7, more: true, for: Fixtures.virginia, read: stream, nowMillis: 21)
        #expect(
            ReplicationEngineTests.sends(first, to: Fixtures.virginia).contains {
                if case .snapshot(let r, nil, 0) = $0 { r.count == 2 } else { false }
            })
        guard case .readSnapshotChunk(_, let next, let after, let limit)? = first.last, next != stream,
            limit.countMax == 2
        else {
            Issue.record("no next read: \(first)")
            return
        }
        #expect(after == 7, "the next read goes on from the store's position of the last record sent")
        // A stale answer (to the read already answered) changes nothing.
        #expect(
            e.snapshotChunkRead(
                [store[2]], position: 9, more: false, for: Fixtures.virginia, read: stream, nowMillis: 22
            )
            .isEmpty)
        let last = e.snapshotChunkRead(
            [store[2]], position: 9, more: false, for: Fixtures.virginia, read: next, nowMillis: 22)
        #expect(
            ReplicationEngineTests.sends(last, to: Fixtures.virginia).contains(
                .snapshot(
                    records: [RecordTable.decode(store[2])],
                    vector: e.durableVector, part: 1)))
        #expect(e.counters.snapshotsCompleted == 1)
    }

    /// Snapshot chunks have a window of their own: with one batch in flight allowed and
    /// three chunks, the stream sends three unacknowledged chunks and then waits.
    @Test func test_snapshotStream_keepsItsOwnWindowOfChunksInFlight() {
        var e = Self.sourceWithCompactedLog(5, nowMillis: 10) {
            $0.recordCacheBytes = 1 << 20
            $0.logEntriesMax = 512
            $0.snapshotChunkRecords = 1
            $0.inFlightBatchesMax = 1
            $0.snapshotChunksInFlightMax = 3
        }
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 20)
        var next = e.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 20)
        var chunksSent = 0
        for n in 1...5 {
            guard case .readSnapshotChunk(Fixtures.virginia, let stream, _, _)? = next.last else { break }
            next = e.snapshotChunkRead(
                [Self.encoded(n)], position: UInt64(n), more: n < 5, for: Fixtures.virginia, read: stream,
                nowMillis: 21)
            chunksSent += ReplicationEngineTests.sends(next, to: Fixtures.virginia).count
        }
        #expect(chunksSent == 3, "three chunks in flight, not inFlightBatchesMax's one, nor all five")
    }

    @Test func test_peerBehindTheMemoryTail_getsOlderEntriesReadFromTheStore_thenTheTail() {
        var e = ReplicationEngineTests.engine { $0.logCacheEntries = 2 }
        var stored: [[UInt8]] = []
        for n in 1...5 {
            let (_, ds) = e.submit(
                .create(Fixtures.id(n), Fixtures.create(n), idempotent: true), ticket: WriteTicket(UInt64(n)),
                durability: .local, nowMillis: 10)
            let p = ReplicationEngineTests.persists(ds)[0]
            stored.append(p.entries[0].bytes)
            _ = e.didPersist(requestID: p.id, nowMillis: 10)
        }
        _ = e.tick(nowMillis: 11)  // trims memory to the newest 2; the store keeps all 5
        #expect(e.log.count == 2 && e.storeHorizon[Fixtures.tokyo] == 0)
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 20)
        let hello = e.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 20)
        guard case .readLog(Fixtures.virginia, let stream, Fixtures.tokyo, 0, _)? = hello.last else {
            Issue.record("no store read of the older entries: \(hello)")
            return
        }
        #expect(e.logEntriesRead(Array(stored[0..<3]), for: Fixtures.virginia, read: stream + 1, nowMillis: 21).isEmpty)
        let sent = ReplicationEngineTests.sends(
            e.logEntriesRead(
                Array(stored[0..<3]), for: Fixtures.virginia, read: stream,
                nowMillis: 21), to: Fixtures.virginia)
        let seqs = sent.map { m -> [UInt64] in if case .delta(_, let entries) = m { entries.map(\.seq) } else { [] } }
        #expect(seqs == [[1, 2, 3], [4, 5]])
    }

    /// While a peer streams this region a snapshot, the status says so and counts the
    /// records merged; once its last chunk came (or it went quiet) the stream is no longer
    /// in progress, and its count stays until the next stream's first chunk.
    @Test func test_receivingASnapshot_statusShowsCatchUpProgress() {
        var e = ReplicationEngineTests.engine()
        _ = e.peerConnected(Fixtures.virginia, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 0)
        let t: UInt64 = 100_000
        func virginia(_ at: UInt64) -> PeerStatus {
            e.status(nowMillis: at).peers.first { $0.region == Fixtures.virginia }!
        }
        #expect(!virginia(t).sendingSnapshot && virginia(t).snapshotRecordsReceived == 0)
        let two = [1, 2].map { RecordTable.decode(Self.encoded($0)) }
        _ = e.receive(.snapshot(records: two, vector: nil), from: Fixtures.virginia, nowMillis: t)
        #expect(virginia(t).sendingSnapshot && virginia(t).snapshotRecordsReceived == 2)
        #expect(e.status(nowMillis: t).peers.filter(\.sendingSnapshot).map(\.region) == [Fixtures.virginia])
        #expect(
            !virginia(t + 2 * e.config.retransmitAfterMillis).sendingSnapshot,
            "a quiet source is not catching this region up")
        _ = e.receive(
            .snapshot(records: [RecordTable.decode(Self.encoded(3))], vector: VersionVector(), part: 1),
            from: Fixtures.virginia, nowMillis: t + 1)
        #expect(!virginia(t + 1).sendingSnapshot && virginia(t + 1).snapshotRecordsReceived == 3)
        #expect(e.counters.snapshotsReceived == 1 && e.counters.snapshotRecordsReceived == 3)
        // The next stream counts from its first chunk.
        _ = e.receive(.snapshot(records: [two[0]], vector: nil), from: Fixtures.virginia, nowMillis: t + 2)
        #expect(virginia(t + 2).sendingSnapshot && virginia(t + 2).snapshotRecordsReceived == 1)
        #expect(e.counters.snapshotRecordsReceived == 4)
    }

    @Test func test_oneSnapshotSourceAtATime_othersAreDeclinedAndHoldBack() {
        var e = ReplicationEngineTests.engine()
        for p in [Fixtures.virginia, Fixtures.ireland] {
            _ = e.peerConnected(p, nowMillis: 0)
            _ = e.receive(.hello(region: p, vector: VersionVector()), from: p, nowMillis: 0)
        }
        let record = RecordTable.decode(Self.encoded(1))
        let t: UInt64 = 100_000
        let first = e.receive(.snapshot(records: [record], vector: nil), from: Fixtures.virginia, nowMillis: t)
        #expect(ReplicationEngineTests.persists(first).count == 1)
        let other = e.receive(
            .snapshot(records: [RecordTable.decode(Self.encoded(2))], vector: nil), from: Fixtures.ireland,
            nowMillis: t + 1)
        #expect(other.isEmpty && e.counters.snapshotChunksDeclined == 1 && e.record(Fixtures.id(2)) == nil)
        // The declined stream's later chunks stay declined even once the source is done.
        _ = e.receive(
            .snapshot(records: [], vector: VersionVector(), part: 1), from: Fixtures.virginia, nowMillis: t + 2)
        let rest = e.receive(
            .snapshot(records: [], vector: VersionVector([Fixtures.ireland: 5]), part: 1), from: Fixtures.ireland,
            nowMillis: t + 3)
        #expect(rest.isEmpty && e.vector[Fixtures.ireland] == 0)
        // While a source streams, this region's PING says who it is.
        _ = e.receive(.snapshot(records: [record], vector: nil), from: Fixtures.virginia, nowMillis: t + 4)
        let pings = ReplicationEngineTests.sends(e.tick(nowMillis: t + 5), to: Fixtures.ireland)
        #expect(pings.contains { if case .ping(_, _, Fixtures.virginia, _) = $0 { true } else { false } })
        // A source that goes quiet for two retransmit periods is let go.
        let quiet = t + 4 + 2 * e.config.retransmitAfterMillis
        let later = e.receive(
            .snapshot(records: [RecordTable.decode(Self.encoded(2))], vector: nil), from: Fixtures.ireland,
            nowMillis: quiet)
        #expect(ReplicationEngineTests.persists(later).count == 1)

        // On the sending side: once the peer says another region serves it, a stream
        // this region gave up (no ack in time) is not started again.
        var sender = ReplicationEngineTests.engine()
        let (_, ds) = sender.submit(
            .create(Fixtures.id(1), Fixtures.create(1), idempotent: true), ticket: WriteTicket(1),
            durability: .local, nowMillis: 5)
        _ = sender.didPersist(requestID: ReplicationEngineTests.persists(ds)[0].id, nowMillis: 5)
        sender.log.trim(through: sender.durableVector)
        sender.storeHorizon = sender.durableVector
        _ = sender.peerConnected(Fixtures.virginia, nowMillis: 6)
        _ = sender.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 6)
        #expect(sender.counters.snapshotsStarted == 1)
        _ = sender.receive(
            .ping(vector: VersionVector(), clock: .none, snapshotFrom: Fixtures.ireland), from: Fixtures.virginia,
            nowMillis: 7)
        let after = sender.tick(nowMillis: 7 + sender.config.retransmitAfterMillis)
        #expect(sender.counters.snapshotsStarted == 1)
        #expect(
            !ReplicationEngineTests.sends(after, to: Fixtures.virginia).contains {
                if case .snapshot = $0 { true } else { false }
            })
    }

    /// A peer that keeps acknowledging, however slowly, is not sent its window again: the
    /// retransmit timer counts from the last ack that released something. Once acks stop
    /// for the whole period, it fires.
    @Test func test_retransmit_waitsWhileThePeerKeepsAcknowledging() {
        var sender = Self.sourceWithCompactedLog(5, nowMillis: 5) {
            $0.snapshotChunkRecords = 1
            $0.inFlightBatchesMax = 2
        }
        _ = sender.peerConnected(Fixtures.virginia, nowMillis: 10)
        _ = sender.receive(
            .hello(region: Fixtures.virginia, vector: VersionVector()), from: Fixtures.virginia, nowMillis: 10)
        let period = sender.config.retransmitAfterMillis
        // The first chunk's ack comes late, but it comes: the second chunk waits on.
        _ = sender.receive(.ack(vector: VersionVector()), from: Fixtures.virginia, nowMillis: 10 + period - 100)
        _ = sender.tick(nowMillis: 10 + period + 100)
        #expect(sender.counters.retransmits == 0, "the peer acknowledged within the period")
        _ = sender.tick(nowMillis: 10 + 2 * period - 100)
        #expect(sender.counters.retransmits == 1, "nothing acknowledged for a whole period")
    }
}
