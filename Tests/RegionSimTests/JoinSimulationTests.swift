import Testing

@testable import RegionSim
@testable import ReplicaCore

/// A region added while the cluster serves, and the empty stores (wiped, joining) that
/// start on the oldest wire format and adopt their peers'.
@Suite struct JoinSimulationTests {
    /// Three regions, us-west-2 added at 6 s while eu-west-1 is down (4-9 s).
    static func joining(chaosSeconds: Int = 16) throws -> SimOptions {
        try ScenarioFile.parse(
            """
            regions = 3
            chaos_seconds = \(chaosSeconds)
            writes_per_second = 100
            remote_percent = 30
            at 4s crash eu-west-1 for 5s
            at 6s add-region us-west-2
            """)
    }

    @Test func test_scenarioFile_parsesAddRegion() throws {
        let o = try Self.joining()
        #expect(o.regionCount == 4 && o.joiningRegions == [3])
        #expect(o.scripted.last == ScriptedFault(atMillis: 6_000, kind: .addRegion(region: 3)))
        #expect(o.clockOffsetsMillis.count == 4)
        #expect(SimReport.faultSummary(o) == "join,script:1")
        // `all` is the regions there at the start.
        let upgrading = try ScenarioFile.parse("regions = 3\nprevious_release = all\nat 5s add-region us-west-2")
        #expect(upgrading.previousReleaseRegions == [0, 1, 2])
    }

    @Test(arguments: [
        ("regions = 3\nat 5s add-region us-east-1", 2),  // a member from the start
        ("regions = 3\nat 5s add-region sa-east-1", 2),  // only the next region of the geography
        ("regions = 3\nat 5s add-region us-west-2\nat 6s add-region us-west-2", 3),
        ("regions = 5\nat 5s add-region us-west-2", 2),
        ("regions = 3\nclock_offset_ms = 0, 0, 0\nat 5s add-region us-west-2", 0),
    ])
    func test_scenarioFile_addRegionErrorsNameTheLine(_ text: String, _ line: Int) {
        do {
            _ = try ScenarioFile.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }

    @Test func test_addedRegion_catchesUp_takesWrites_andEveryCheckHolds() throws {
        let sim = Simulation(seed: 5, options: try Self.joining())
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.stats.regionsAdded == 1 && r.probes.regionJoined && r.stats.joinedRegionWrites > 0)
        // It took no write before eu-west-1, down at the join, was back and had greeted it.
        #expect(r.stats.joinFirstWriteMillis >= 3_000)
        // Four regions, equal states; every one lists the other three.
        #expect(r.digests.count == 4 && Set(r.digests).count == 1)
        let us = sim.regionIDs[3]
        for region in sim.regions {
            #expect(Set(region.engine.config.peers + [region.id]) == Set(sim.regionIDs))
            #expect(region.engine.wireActive == WireVersion.current)
        }
        // The feed consumer's cursor grew by the new origin, without a reset.
        #expect(sim.feed.cursor.seen[us] > 0 && sim.stats.feedResyncs == 0)
        #expect(sim.acked.contains { $0.region == 3 })
    }

    @Test func test_beforeItsStep_theRegionIsNoMember() throws {
        var options = try Self.joining()
        options.chaosMillis = 5_000  // the run heals before the step: the region never joins
        let sim = Simulation(seed: 5, options: options)
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(!sim.regions[3].up && !sim.regions[3].member && r.stats.regionsAdded == 0)
        #expect(sim.liveRegions == [0, 1, 2] && r.digests.count == 3)
        #expect(sim.regions[0].engine.config.peers.count == 2)
        #expect(sim.clients.filter { $0.home == 3 }.allSatisfy { $0.created == 0 })
    }

    @Test func test_emptyStore_startsOnTheOldestFormat_andAdoptsThePeers() throws {
        let sim = Simulation(
            seed: 2,
            options: try ScenarioFile.parse(
                """
                regions = 3
                chaos_seconds = 12
                at 4s wipe eu-west-1 for 1s
                """))
        let empty = sim.emptyStorage()
        #expect(empty.wireActive == WireVersion.supported.lowerBound && !empty.ownHistoryComplete)
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.probes.wipedRegionRecovered && r.probes.wireFormatRaised)
        #expect(sim.regions.allSatisfy { $0.store.committed.wireActive == WireVersion.current })
    }
}
