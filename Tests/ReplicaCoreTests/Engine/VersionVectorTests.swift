import Testing

@testable import ReplicaCore

@Suite struct VersionVectorAndLogTests {
    @Test func test_vector_mergeDominatesMeet() {
        let a = VersionVector([Fixtures.tokyo: 3, Fixtures.virginia: 1])
        let b = VersionVector([Fixtures.virginia: 5])
        let m = a.merged(with: b)
        #expect(m[Fixtures.tokyo] == 3 && m[Fixtures.virginia] == 5)
        #expect(m.dominates(a) && m.dominates(b) && !a.dominates(b))
        #expect(VersionVector.meet([a, b]) == VersionVector([Fixtures.virginia: 1]))
        #expect(VersionVector([Fixtures.tokyo: 0]) == VersionVector())
    }

    static func entry(_ origin: RegionID, _ seq: UInt64) -> LogEntry {
        LogEntry(
            origin: origin, seq: seq, hlc: HLCTimestamp(wallMillis: seq, counter: 0), paymentID: Fixtures.id(1),
            changes: [FieldChange(field: .description, value: .text("\(seq)"), base: nil)])
    }

    @Test func test_outgoingLog_pagesTrimsAndReportsHorizon() {
        var log = OutgoingLog()
        for s in 1...10 { log.append(Self.entry(Fixtures.tokyo, UInt64(s))) }
        #expect(log.entries(of: Fixtures.tokyo, after: 3, limit: 2).map(\.seq) == [4, 5])
        #expect(log.trim(through: VersionVector([Fixtures.tokyo: 6])) == 6)
        #expect(log.firstAvailable(Fixtures.tokyo) == 7 && log.count == 4)
        #expect(log.entries(of: Fixtures.tokyo, after: 2, limit: 5).isEmpty)  // behind the horizon: needs a snapshot
        #expect(log.entries(of: Fixtures.tokyo, after: 6, limit: 10).map(\.seq) == [7, 8, 9, 10])
        #expect(log.horizon == VersionVector([Fixtures.tokyo: 6]))
        let restored = OutgoingLog(
            entries: (7...10).map { Self.entry(Fixtures.tokyo, UInt64($0)) }, horizon: log.horizon)
        #expect(restored.firstAvailable(Fixtures.tokyo) == 7 && restored.count == 4)
        #expect(log.horizonKeeping(atMost: 2)[Fixtures.tokyo] >= 8)
    }
}
