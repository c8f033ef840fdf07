import Testing

@testable import RegionSim
@testable import ReplicaCore

/// Rolling upgrades in the simulator: regions on the release before, links at the format
/// both ends speak, the gate on the newest format, and the checks that watch it.
@Suite struct UpgradeSimulationTests {
    /// Three regions on the release before, upgraded in turn (`upgrades` of them).
    static func rolling(upgrades: Int = 3, expect: Bool = true) throws -> SimOptions {
        let steps = [
            "at 3s upgrade us-east-1 for 1s", "at 7s upgrade eu-west-1 for 1s", "at 11s upgrade ap-northeast-1 for 1s",
        ]
        return try ScenarioFile.parse(
            """
            regions = 3
            chaos_seconds = 16
            writes_per_second = 100
            remote_percent = 30
            previous_release = all
            \(expect ? "expect_wire_active = 4" : "")
            \(steps.prefix(upgrades).joined(separator: "\n"))
            """)
    }

    @Test func test_scenarioFile_parsesReleasesAndUpgrades() throws {
        let o = try ScenarioFile.parse(
            """
            regions = 3
            previous_release = eu-west-1, 1
            expect_wire_active = 4
            at 5s upgrade eu-west-1 for 1.5s
            """)
        #expect(o.previousReleaseRegions == [1, 2])  // us-east-1 (1) and eu-west-1 (2)
        #expect(o.expectWireActive == 4)
        #expect(o.scripted == [ScriptedFault(atMillis: 5_000, kind: .upgrade(region: 2, downMillis: 1_500))])
        #expect(try ScenarioFile.parse("regions = 4\nprevious_release = all").previousReleaseRegions == [0, 1, 2, 3])
        #expect(SimReport.faultSummary(o) == "upgrade")
    }

    @Test(arguments: [
        ("previous_release = mars", 1), ("regions = 3\nexpect_wire_active = 9", 2), ("at 5s upgrade us-east-1", 1),
    ])
    func test_scenarioFile_releaseErrorsNameTheLine(_ text: String, _ line: Int) {
        do {
            _ = try ScenarioFile.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }

    @Test func test_nextRelease_speaksItsOwnFormatAndTheOneBefore() {
        #expect(Simulation.previousRelease == 3...3)
        #expect(Simulation.nextRelease(after: 3...3) == 3...4)
        #expect(Simulation.nextRelease(after: 3...4) == 3...4)
    }

    @Test func test_rollingUpgrade_turnsTheNewestFormatOn_onlyAfterTheLastRegion() throws {
        let sim = Simulation(seed: 4, options: try Self.rolling())
        let r = sim.run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.stats.upgrades == 3)
        #expect(sim.regions.allSatisfy { $0.wireVersions == 3...4 && $0.engine.wireActive == 4 })
        #expect(sim.regions.allSatisfy { $0.store.committed.wireActive == 4 })
        // The last region restarts on this release at 12 s: not before.
        #expect(r.stats.wireGateOpenedMillis >= 12_000 && r.probes.wireFormatRaised)
        // Writes before name no actor, writes after name their client.
        #expect(r.stats.writesWithoutActor > 100)
        #expect(sim.acked.contains { $0.wire.atSubmit >= 4 })
    }

    @Test func test_withoutTheLastUpgrade_theGateStaysShut_andTheExpectationFails() throws {
        let sim = Simulation(seed: 4, options: try Self.rolling(upgrades: 2))
        let r = sim.run()
        #expect(r.exitCode == 3, "\(r.violations.map(\.message))")
        #expect(r.violations.allSatisfy { $0.kind == .liveness && $0.message.contains("expected 4") })
        #expect(r.stats.wireGateOpenedMillis == 0 && r.stats.upgrades == 2)
        #expect(sim.regions.allSatisfy { $0.engine.wireActive == 3 })
        // The region not upgraded runs the release before's binary, engine and links.
        #expect(sim.regions.map(\.engine.wireStatus.speaks) == [3...3, 3...4, 3...4])
        #expect(sim.connections[0][1].wire == 3 && sim.connections[1][2].wire == 4)
        let quiet = Simulation(seed: 4, options: try Self.rolling(upgrades: 2, expect: false)).run()
        #expect(quiet.passed, "\(quiet.violations.map(\.message))")
    }

    @Test func test_gateCheck_catchesARegionOnTheNewestFormat_whileOthersRunTheReleaseBefore() throws {
        var options = try Self.rolling(upgrades: 0, expect: false)
        options.previousReleaseRegions = [0, 2]
        let sim = Simulation(seed: 4, options: options)
        // us-east-1 runs this release, on a store that says the cluster turned format 4 on
        // (as if the gate had opened while the other two still run the release before).
        sim.regions[1].store.committed.wireActive = 4
        let r = sim.run()
        #expect(r.exitCode == 4)
        #expect(
            r.violations.contains { $0.message.contains("us-east-1 turned wire format 4 on") },
            "\(r.violations.map(\.message))")
    }

    @Test func test_actorCheck_followsTheActiveFormatBothWays() throws {
        let sim = Simulation(seed: 4, options: try Self.rolling())
        #expect(sim.run().passed)
        let acked = sim.acked
        let live = sim.liveRegions
        // Claimed taken at format 4: the writes made before name no actor, which is caught.
        sim.violations = []
        sim.acked = acked.map { $0.with(WireWindow(atSubmit: 4, atAck: 4)) }
        sim.checkHistories(live: live, lostPayments: [])
        #expect(sim.violations.contains { $0.message.contains("should name client-") })
        // Claimed acknowledged at format 3: the writes made after name their client, caught too.
        sim.violations = []
        sim.acked = acked.map { $0.with(WireWindow(atSubmit: 3, atAck: 3)) }
        sim.checkHistories(live: live, lostPayments: [])
        #expect(sim.violations.contains { $0.message.contains("should name no one") })
        // Taken at 3 and acknowledged at 4: either is right.
        sim.violations = []
        sim.acked = acked.map { $0.with(WireWindow(atSubmit: 3, atAck: 4)) }
        sim.checkHistories(live: live, lostPayments: [])
        #expect(sim.violations.isEmpty, "\(sim.violations.map(\.message))")
    }
}

extension AckedWrite {
    fileprivate func with(_ wire: WireWindow) -> AckedWrite {
        AckedWrite(
            region: region, epoch: epoch, seq: seq, achieved: achieved, ackMicros: ackMicros, paymentID: paymentID,
            actor: actor, wire: wire)
    }
}
