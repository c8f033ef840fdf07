import Testing

@testable import ReplicaCore

/// N engines given writes in random places, with messages interleaved at random, links
/// cut (losing what was in flight) and restored, commits delayed, logs compacted into
/// snapshots: after healing, every replica holds identical state, and every write a
/// client was told about is in it.
@Suite struct ConvergenceTests {
    /// One random thing happens: a create or patch somewhere, a commit, a message
    /// delivered, a tick, a link cut or restored.
    static func randomStep(_ cluster: inout TestCluster, _ rng: inout SplitMix64, created: inout [PaymentID]) {
        let regions = cluster.regions
        let count = regions.count
        cluster.now += rng.next() % 30
        let region = regions[Int(rng.next() % UInt64(count))]
        switch rng.next() % 10 {
        case 0, 1:
            // A small key space, so the same payment is often created at two regions at once.
            let key = Int(rng.next() % 12)
            let id = Fixtures.id(key)
            var create = Fixtures.create(key)
            if rng.next() % 5 == 0 { create.description = "from \(region)" }  // same key, other parameters
            _ = cluster.submit(.create(id, create, idempotent: true), at: region)
            if !created.contains(id) { created.append(id) }
        case 2, 3:
            guard !created.isEmpty else { return }
            let id = created[Int(rng.next() % UInt64(created.count))]
            let status = PaymentStatus.allCases[Int(rng.next() % 6)]
            let patch =
                rng.next() % 2 == 0
                ? PaymentPatch(status: status)
                : PaymentPatch(description: .set("d\(rng.next() % 4)"), metadata: .set(["r": region.name]))
            _ = cluster.submit(.update(id, patch), at: region)
        case 4:
            cluster.commit(region, count: 1 + Int(rng.next() % 3))
        case 5, 6, 7:
            let links = cluster.links.keys.filter { !(cluster.links[$0]!.isEmpty) }.sorted()
            if !links.isEmpty { cluster.deliver(links[Int(rng.next() % UInt64(links.count))]) }
        case 8:
            cluster.tick(region)
        default:
            let other = regions[Int(rng.next() % UInt64(count))]
            guard other != region else { return }
            if rng.next() % 2 == 0 { cluster.disconnect(region, other) } else { cluster.connect(region, other) }
        }
    }

    static func runSchedule(seed: UInt64) -> (
        converged: Bool, digests: Set<String>, missingAcked: Int, counters: EngineCounters
    ) {
        var rng = SplitMix64(seed: seed)
        let count = 3 + Int(rng.next() % 3)
        let regions = (0..<count).map { RegionID("region-\($0)")! }
        var cluster = TestCluster(regions: regions) { c in
            c.batchEntriesMax = 1 + Int(seed % 4)
            c.logEntriesMax = 8
            c.snapshotChunkRecords = 2
            c.inFlightBatchesMax = 2
            c.retransmitAfterMillis = 200
        }
        var created: [PaymentID] = []
        for _ in 0..<(60 + Int(rng.next() % 120)) { randomStep(&cluster, &rng, created: &created) }
        let converged = cluster.heal()
        let digests = Set(regions.map { cluster.engines[$0]!.stateDigest() })
        var missing = 0
        for ack in cluster.acks.values {
            for r in regions {
                // The write itself (its entry) is held everywhere, and so is its payment.
                if !cluster.engines[r]!.durableVector.dominates(ack.sessionToken) { missing += 1 }
                if cluster.engines[r]!.payment(ack.payment.id) == nil { missing += 1 }
            }
        }
        var total = EngineCounters()
        for r in regions {
            let c = cluster.engines[r]!.counters
            total.snapshotsReceived += c.snapshotsReceived
            total.conflictsDetected += c.conflictsDetected
            total.retransmits += c.retransmits
            total.duplicatesSkipped += c.duplicatesSkipped
        }
        return (converged, digests, missing, total)
    }

    @Test func test_randomSchedules_converge_over1000Seeds() {
        var passed = 0
        var seen = EngineCounters()
        for seed in UInt64(1)...1_000 {
            let (converged, digests, missing, counters) = Self.runSchedule(seed: seed)
            seen.snapshotsReceived += counters.snapshotsReceived
            seen.conflictsDetected += counters.conflictsDetected
            seen.retransmits += counters.retransmits
            seen.duplicatesSkipped += counters.duplicatesSkipped
            #expect(converged, "seed \(seed) did not quiesce")
            #expect(digests.count == 1, "seed \(seed) diverged: \(digests.count) distinct states")
            #expect(missing == 0, "seed \(seed): \(missing) acknowledged writes missing")
            if !converged || digests.count != 1 || missing != 0 { return }
            passed += 1
        }
        #expect(passed == 1_000)
        // The schedules really exercised the hard paths.
        #expect(seen.snapshotsReceived > 0 && seen.conflictsDetected > 0)
        #expect(seen.retransmits > 0 && seen.duplicatesSkipped > 0)
        print(
            "convergence: 1000 schedules; snapshots \(seen.snapshotsReceived), conflicts \(seen.conflictsDetected), "
                + "retransmits \(seen.retransmits), duplicates \(seen.duplicatesSkipped)")
    }

    /// The same entries applied in any order, with duplicates, give the same records.
    @Test func test_entriesInAnyOrderWithDuplicates_giveIdenticalRecords() {
        var rng = SplitMix64(seed: 99)
        var entries: [LogEntry] = []
        var seqs: [RegionID: UInt64] = [:]
        for i in 0..<60 {
            let origin = Fixtures.regions[Int(rng.next() % 3)]
            seqs[origin, default: 0] += 1
            let fields = [PaymentField.status, .description, .metadata, .amount].filter { _ in rng.next() % 2 == 0 }
            let changes = (fields.isEmpty ? [.description] : fields).map { f -> FieldChange in
                let value: FieldValue =
                    switch f {
                    case .status: .text(PaymentStatus.allCases[Int(rng.next() % 6)].rawValue)
                    case .amount: .integer(Int64(i))
                    case .metadata: .metadata(["i": "\(i)"])
                    default: .text("v\(i)")
                    }
                return FieldChange(field: f, value: value, base: nil)
            }
            entries.append(
                LogEntry(
                    origin: origin, seq: seqs[origin]!, hlc: HLCTimestamp(wallMillis: rng.next() % 20, counter: 0),
                    paymentID: Fixtures.id(Int(rng.next() % 5)), changes: changes))
        }
        var reference: String?
        for _ in 0..<200 {
            var shuffled = entries + entries.filter { _ in rng.next() % 3 == 0 }
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
                shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            var records: [PaymentID: PaymentRecord] = [:]
            for e in shuffled {
                var r = records[e.paymentID] ?? PaymentRecord(id: e.paymentID)
                for c in e.changes { r.merge(e.register(for: c), into: c.field) }
                records[e.paymentID] = r
            }
            var w = ByteWriter()
            for id in records.keys.sorted() { w.writeRecord(records[id]!) }
            let digest = SHA256.hex(SHA256.hash(w.bytes))
            if let reference { #expect(digest == reference) } else { reference = digest }
        }
    }
}
