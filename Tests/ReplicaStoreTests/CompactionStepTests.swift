import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// A large compaction runs as bounded steps, each a transaction of its own that moves
/// the horizon (or the feed's floor) only as far as it deleted.
@Suite struct CompactionStepTests {
    @Test func test_theLog_isCompactedInSteps_oldestFirst_andEachStepLeavesAWholeStore() throws {
        let tmp = TempStore()
        var options = StoreOptions(path: tmp.path)
        options.compactionStepRows = 30
        let store = try ReplicaStore(options: options)
        var east = Writer(usEast)
        var west = Writer(euWest)
        try store.commit((0..<100).map { east.create($0, at: 1_000 + UInt64($0)) })
        try store.commit((100..<150).map { west.create($0, at: 2_000 + UInt64($0)) })
        let target = VersionVector([usEast: 80, euWest: 50])

        #expect(try store.compactLog(through: target), "130 entries are covered: more remain")
        // Origins in name order: eu-west-1 first. A store stopped here recovers with the
        // horizon the step reached, not the target.
        #expect(try store.recover().logHorizon == VersionVector([euWest: 30]))
        #expect(try store.reader().entries(above: VersionVector([euWest: 30]), limit: 1_000).count == 120)

        var steps = 1
        while try store.compactLog(through: target) { steps += 1 }
        steps += 1
        #expect(steps == 5, "130 entries, 30 a step: the fifth step ends the work and says so")
        #expect(try store.recover().logHorizon == target)
        #expect(try store.db.scalarInt("SELECT count(*) FROM log") == 20)
        #expect(try store.db.scalarInt("SELECT min(seq) FROM log WHERE origin = 'us-east-1'") == 81)
        #expect(try !store.compactLog(through: target), "nothing is left to do")
    }

    @Test func test_theFeed_isTrimmedInSteps_andItsFloorFollowsWhatWent() throws {
        let tmp = TempStore()
        var options = StoreOptions(path: tmp.path)
        options.eventsKept = 10
        options.compactionStepRows = 12
        let store = try ReplicaStore(options: options)
        var w = Writer()
        try store.commit((0..<40).map { w.create($0, at: 1_000 + UInt64($0)) })
        let reader = try store.reader()

        #expect(try store.trimEvents())
        #expect(try reader.eventFloor() == VersionVector([usEast: 12]))
        // A cursor at the floor still reads on from there.
        let page = try reader.events(
            EventQuery(cursor: EventCursor(text: "us-east-1:12")!), region: usEast, ownVisibleThrough: .max)
        #expect(page.events.first?.entry.seq == 13)

        #expect(try store.trimEvents())
        #expect(try reader.eventFloor() == VersionVector([usEast: 24]))
        #expect(try !store.trimEvents(), "the third step reaches the feed's length")
        #expect(try reader.eventFloor() == VersionVector([usEast: 30]))
        #expect(try store.db.scalarInt("SELECT count(*) FROM events") == 10)
        #expect(try !store.trimEvents())
    }
}
