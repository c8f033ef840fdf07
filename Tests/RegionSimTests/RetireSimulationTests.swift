import Foundation
import Testing

@testable import RegionSim
@testable import ReplicaCore

/// Regions retired while the cluster serves: one decommissioned (it drains, then leaves
/// for good), one lost for good and retired; and the checks that catch a member never told.
@Suite struct RetireSimulationTests {
    /// A scenario of `Simulations/scenarios`, as CI runs it.
    static func scenario(_ name: String) throws -> SimOptions {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("Simulations/scenarios/\(name).scenario").path
        return try ScenarioFile.parse(try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func scenarioFileParsesRetireAndRetireLost() throws {
        let o = try ScenarioFile.parse(
            """
            regions = 4
            at 5s retire us-west-2
            at 9s retire-lost eu-west-1
            """)
        #expect(o.regionCount == 4 && o.retiringRegions == [3, 2])
        #expect(
            o.scripted == [
                ScriptedFault(atMillis: 5_000, kind: .retire(region: 3)),
                ScriptedFault(atMillis: 9_000, kind: .retireLost(region: 2)),
            ])
        #expect(SimReport.faultSummary(o) == "loss,retire")
    }

    @Test(arguments: [
        ("regions = 3\nat 5s retire us-west-2", 2),  // no such region here
        ("regions = 3\nat 5s retire eu-west-1\nat 6s retire-lost eu-west-1", 3),  // twice
        ("regions = 3\nat 5s retire eu-west-1\nat 6s retire us-east-1", 3),  // one would be left
        ("regions = 3\nat 5s retire", 2),
    ])
    func scenarioFileRetireErrorsNameTheLine(_ text: String, _ line: Int) {
        do {
            _ = try ScenarioFile.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }

    @Test func removeRegionDrainsLeavesAndEveryCheckHolds() throws {
        let sim = Simulation(seed: 1, options: try Self.scenario("remove-region"))
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.stats.regionsRetired == 1 && r.probes.regionRetired && r.stats.regionsRetiredLost == 0)
        // It waited for eu-west-1, cut off until 24 s, to hold its writes.
        #expect(r.stats.retireMillisMax >= 8_000)
        let westID = sim.regionIDs[3]
        #expect(sim.regions[3].retired && !sim.regions[3].up && sim.regions[3].store.committed.selfRetired)
        // It took no write from its step (16 s) on; its last one is at every survivor.
        let west = sim.acked.filter { $0.region == 3 }
        #expect(!west.isEmpty && west.allSatisfy { $0.ackMicros < 16_200_000 })
        let last = west.map(\.seq).max()!
        #expect(sim.retirements.done.map(\.clean) == [true])
        // Three survivors, equal states; each lists it as retired, none of its writes lost,
        // ap-northeast-1 too (down when it was retired, told by its config at its restart).
        #expect(r.digests.count == 3 && Set(r.digests).count == 1)
        for s in 0..<3 {
            let status = sim.regions[s].shell!.status()
            #expect(status.retired.map(\.region) == [westID])
            #expect(status.retired.first?.lostEntries == 0)
            #expect(!status.peers.map(\.region).contains(westID))
            #expect(sim.regions[s].store.committed.vector[westID] >= last)
            #expect(sim.regions[s].store.committed.retired[westID] != nil)
        }
        // Its clients failed over; the step naming it after it left was dropped.
        #expect(sim.clients.filter { $0.home == 3 }.allSatisfy { $0.router.health[westID] == nil })
        #expect(r.timeline.contains { $0.label == "crash dropped: us-west-2 is retired" })
    }

    @Test func lostRegionRetiredReleasesTheWipedRegion() throws {
        let sim = Simulation(seed: 1, options: try Self.scenario("lost-region-retired"))
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.stats.regionsRetiredLost == 1 && r.stats.regionsRetired == 0)
        // us-east-1, back empty at 13 s, waited for eu-west-1 until it was retired at 22 s.
        let east = sim.acked.filter { $0.region == 1 }
        #expect(!east.contains { (13_000_000..<22_000_000).contains($0.ackMicros) })
        #expect(east.contains { $0.ackMicros >= 22_000_000 })
        #expect(r.timeline.contains { $0.region == 1 && $0.label == "history back" && $0.atMicros == 22_000_000 })
        // Writes it made while cut off are lost with it: counted, and no survivor reports more.
        #expect(r.stats.retiredLostEntriesTrue > 0)
        #expect(r.stats.retiredLostEntriesReported <= r.stats.retiredLostEntriesTrue)
        let eu = sim.regionIDs[2]
        for s in [0, 1] {
            #expect(sim.regions[s].shell!.status().retired.map(\.region) == [eu])
            #expect(!sim.regions[s].engine.config.peers.contains(eu))
        }
    }

    @Test(arguments: [("remove-region", 1), ("lost-region-retired", 1), ("lost-region-retired", 0)])
    func aMemberNeverToldOfTheRetirementFailsTheRun(_ name: String, _ untold: Int) throws {
        var options = try Self.scenario(name)
        options.retirementUntold = untold
        let r = Simulation(seed: 1, options: options).run()
        #expect(!r.passed && r.exitCode == 3)
        let told = r.violations.filter { $0.message.contains("was never told") }
        #expect(told.count == 1 && told.first?.message.hasPrefix(Geography.regionNames[untold]) == true)
    }

    @Test func aDecommissionBlockedByALostRegionIsNotDone() throws {
        let sim = Simulation(
            seed: 2,
            options: try ScenarioFile.parse(
                """
                regions = 4
                chaos_seconds = 14
                at 4s lose eu-west-1
                at 6s retire us-west-2
                """))
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        // eu-west-1 never holds us-west-2's writes: it drains to the end, taking no writes.
        #expect(r.stats.regionsRetired == 0 && sim.regions[3].retiring && sim.regions[3].up)
        #expect(!sim.acked.contains { $0.region == 3 && $0.ackMicros > 6_200_000 })
        #expect(r.timeline.contains { $0.label.hasPrefix("retirement not done: eu-west-1 lacks") })
    }
}
