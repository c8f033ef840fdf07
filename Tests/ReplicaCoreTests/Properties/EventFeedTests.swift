import Testing

@testable import ReplicaCore

/// The change feed's promise, under the convergence schedules: a consumer that reads
/// pages from random regions (moving on when one refuses its cursor) is shown each
/// origin's changes as exactly 1, 2, 3, ... in order (nothing twice, nothing skipped),
/// every region names a change the same, and once the cluster heals the consumer has
/// seen every change there is.
@Suite struct EventFeedTests {
    struct Consumer {
        var cursor = EventCursor()
        /// Per origin, the seqs shown, in the order shown.
        var shown: [RegionID: [UInt64]] = [:]
        var changes: [String: LogEntry] = [:]
        var refusals = 0
        var mismatches = 0

        /// Reads a page at `region`; false when it refused the cursor.
        mutating func read(_ cluster: TestCluster, at region: RegionID, limit: Int, filter: String? = nil) -> Bool {
            let query = EventQuery(cursor: cursor, merchantID: filter, limit: limit, scanLimit: 3 + limit)
            switch cluster.stores[region]!.events.page(
                query, region: region,
                ownVisibleThrough: cluster.engines[region]!.ownChangesVisibleThrough)
            {
            case .failure(.cursorTooOld):
                refusals += 1
                return false
            case .success(let page):
                for e in page.events {
                    shown[e.entry.origin, default: []].append(e.entry.seq)
                    let key = "\(e.entry.origin):\(e.entry.seq)"
                    if let before = changes[key], before != e.entry { mismatches += 1 }
                    changes[key] = e.entry
                    #expect(e.cursor.seen[e.entry.origin] == e.entry.seq)
                }
                #expect(page.cursor.seen.dominates(cursor.seen))
                cursor = page.cursor
                return true
            }
        }
    }

    /// Odd seeds keep logs short (regions that fall behind catch up from snapshots, and
    /// their feeds start above them); even seeds keep every log entry.
    static func run(seed: UInt64) -> (consumer: Consumer, final: VersionVector, converged: Bool, stalled: Bool) {
        var rng = SplitMix64(seed: seed)
        let count = 3 + Int(rng.next() % 3)
        let regions = (0..<count).map { RegionID("region-\($0)")! }
        var cluster = TestCluster(regions: regions) { c in
            c.batchEntriesMax = 1 + Int(seed % 4)
            c.logEntriesMax = seed % 2 == 1 ? 8 : 100_000
            c.snapshotChunkRecords = 2
            c.inFlightBatchesMax = 2
            c.retransmitAfterMillis = 200
        }
        var consumer = Consumer()
        var at = regions[0]
        var created: [PaymentID] = []
        for _ in 0..<(60 + Int(rng.next() % 120)) {
            ConvergenceTests.randomStep(&cluster, &rng, created: &created)
            if rng.next() % 3 == 0 {
                if rng.next() % 4 == 0 { at = regions[Int(rng.next() % UInt64(count))] }  // fail over
                if !consumer.read(cluster, at: at, limit: 1 + Int(rng.next() % 4)) {
                    at = regions[Int(rng.next() % UInt64(count))]
                }
            }
        }
        let converged = cluster.heal()
        // Drain at the first region that serves the cursor. One that serves it must take
        // the consumer all the way (else the feed stalled).
        let final = cluster.engines[regions[0]]!.durableVector
        var stalled = false
        for region in regions {
            var pages = 0
            while consumer.cursor.seen != final, consumer.read(cluster, at: region, limit: 7) {
                pages += 1
                if pages > 10_000 {
                    stalled = true
                    break
                }
            }
            if consumer.cursor.seen == final { break }
        }
        return (consumer, final, converged, stalled)
    }

    @Test func test_consumerMovingBetweenRegions_seesEachChangeOnce_over500Seeds() {
        var complete = 0
        var refusals = 0
        for seed in UInt64(1)...500 {
            let (consumer, final, converged, stalled) = Self.run(seed: seed)
            #expect(converged, "seed \(seed) did not quiesce")
            #expect(!stalled, "seed \(seed): a region served the cursor but never brought it to the end")
            #expect(consumer.mismatches == 0, "seed \(seed): regions disagree on what a change is")
            for (origin, seqs) in consumer.shown {
                #expect(seqs == Array(1...UInt64(seqs.count)), "seed \(seed): \(origin) shown as \(seqs)")
                if seqs != Array(1...UInt64(seqs.count)) { return }
            }
            // It got everything, unless every region had moved past its cursor (snapshots),
            // which each of them told it.
            if consumer.cursor.seen == final { complete += 1 }
            #expect(
                seed % 2 == 1 || consumer.cursor.seen == final,
                "seed \(seed): with every log kept, the consumer missed changes")
            refusals += consumer.refusals
        }
        #expect(complete >= 250, "only \(complete) of 500 consumers saw every change")
        #expect(refusals > 0, "no region ever refused a cursor: the floor was never exercised")
        print("event feed: \(complete)/500 consumers complete; \(refusals) refusals")
    }
}
