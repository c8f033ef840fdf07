import Testing

@testable import ReplicaCore

/// The bounded record cache while a region takes a long backlog of a peer's entries.
@Suite struct RecordCacheDeltaTests {
    /// A region catching up through DELTAs (its source still holds the whole log) keeps
    /// no more records than its cache holds: each batch's records are evicted once
    /// committed, oldest first.
    @Test func test_recordsOfCommittedDeltas_areEvicted() {
        var e = ReplicationEngineTests.engine(Fixtures.virginia) {
            $0.recordCacheBytes = 64 * 1_024
            $0.clockFirstReadingMillis = 0
        }
        _ = e.peerConnected(Fixtures.tokyo, nowMillis: 0)
        _ = e.receive(.hello(region: Fixtures.tokyo, vector: VersionVector()), from: Fixtures.tokyo, nowMillis: 0)
        var seq: UInt64 = 0
        for batch in 0..<50 {
            let entries = (0..<100).map { _ in
                seq += 1
                return ReplicationEngineTests.ownEntry(seq, id: Int(seq))
            }
            e.admitRecords([], asked: entries.map(\.paymentID))  // the shell's load: none stored yet
            let ds = e.receive(
                .delta(batchID: UInt64(batch), entries: entries), from: Fixtures.tokyo,
                nowMillis: 10_000 + UInt64(batch))
            for p in ReplicationEngineTests.persists(ds) {
                _ = e.didPersist(requestID: p.id, nowMillis: 10_000 + UInt64(batch))
            }
        }
        #expect(e.vector[Fixtures.tokyo] == 5_000)
        #expect(e.recordCacheBytesHeld <= 64 * 1_024, "\(e.recordCacheBytesHeld) bytes held")
        #expect(e.recordCount < 1_000, "\(e.recordCount) records held of 5,000 received")
    }
}
