import Testing

@testable import RegionSim
@testable import ReplicaCore

/// The simulator checks itself: same seed, same trace; a broken merge is caught; the
/// zero-data-loss promise of `remote` durability holds when a region is lost.
@Suite struct SimulatorTests {
    /// A short swarm run, so the suite stays fast in debug builds.
    static func short(_ seed: UInt64, broken: Bool = false) -> SimOptions {
        var o = SimOptions.swarm(seed: seed)
        o.chaosMillis = min(o.chaosMillis, 15_000)
        if let at = o.loseRegionAtMillis { o.loseRegionAtMillis = min(at, 7_000) }
        o.brokenMerge = broken
        return o
    }

    @Test func test_sameSeed_givesSameTraceHash_overASeedBlock() {
        var hashes = Set<String>()
        for seed in UInt64(1)...8 {
            let a = Simulation(seed: seed, options: Self.short(seed)).run()
            let b = Simulation(seed: seed, options: Self.short(seed)).run()
            #expect(a.traceHash == b.traceHash, "seed \(seed)")
            #expect(a.digests == b.digests)
            #expect(a.passed, "seed \(seed): \(a.violations.map(\.message))")
            hashes.insert(a.traceHash)
        }
        #expect(hashes.count == 8)  // different seeds, different worlds
    }

    @Test func test_brokenMerge_isCaughtWithinTheCISeedBlock() {
        var caughtAt: UInt64?
        for seed in UInt64(1)...20 {
            let r = Simulation(seed: seed, options: Self.short(seed, broken: true)).run()
            if r.violations.contains(where: { $0.kind == .safety }) {
                caughtAt = seed
                #expect(r.exitCode == 4)
                break
            }
        }
        #expect(caughtAt != nil, "a merge that keeps the lower stamp went unnoticed for 20 seeds")
    }

    static func scenario(_ text: String) throws -> SimOptions { try ScenarioFile.parse(text) }

    @Test func test_regionWithAWrongClock_stopsTakingWrites_whileTheOthersGoOn() throws {
        let r = Simulation(
            seed: 3,
            options: try Self.scenario(
                """
                regions = 3
                chaos_seconds = 20
                writes_per_second = 100
                clock_offset_ms = 0, 0, 3000
                """)
        ).run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.stats.clockRefusals > 0 && r.probes.clockFenced)
        // eu-west-1 (3 s fast) takes no write at all: none before its peers have read its
        // clock, none after; the other two write to the end.
        #expect(r.lastAckMillis[2] == nil, "eu-west-1 acknowledged a write at \(r.lastAckMillis[2] ?? 0) ms")
        #expect((r.lastAckMillis[0] ?? 0) > 18_000 && (r.lastAckMillis[1] ?? 0) > 18_000)
        #expect(Set(r.digests).count == 1)
    }

    @Test func test_remoteDurability_losesNothingWhenARegionIsLost() throws {
        let options = try Self.scenario(
            """
            regions = 3
            chaos_seconds = 12
            writes_per_second = 100
            remote_percent = 100
            rpo_budget_writes = 0
            at 6s lose us-east-1
            """)
        let r = Simulation(seed: 3, options: options).run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.rpoLostWrites == 0)
        #expect(r.stats.remoteAcks > 100)
        #expect(r.outages.count == 1 && r.outages[0].permanent)
    }

    @Test func test_localDurability_lossIsMeasuredAsRPO_andIsolationWidensTheWindow() throws {
        let options = try Self.scenario(
            """
            regions = 3
            chaos_seconds = 14
            writes_per_second = 100
            remote_percent = 0
            rpo_budget_ms = 1000
            at 3s isolate eu-west-1 for 20s
            at 8s lose eu-west-1
            """)
        let r = Simulation(seed: 5, options: options).run()
        #expect(r.passed, "\(r.violations.map(\.message))")
        #expect(r.rpoLostWrites > 10)  // five seconds of eu-west-1's local writes never left it
        #expect(r.rpoWindowMillis > 3_000 && r.rpoWindowMillis <= 6_000)
        // In money: what eu-west-1 alone holds only grows while it is cut off (no peer
        // acknowledges anything), is gone from the samples once it is lost, and the
        // report's worst moment is eu-west-1's.
        let eu = try #require(r.regions.firstIndex(of: "eu-west-1"))
        let held = r.samples.filter { $0.atMicros > 3_500_000 && $0.atMicros < 8_000_000 }.map { $0.regions[eu].atRisk }
        for currency in ["EUR", "JPY", "USD"] {
            let amounts = held.map { $0.first { $0.currency == currency }?.minorUnits ?? 0 }
            #expect(
                amounts.last! > 0 && zip(amounts, amounts.dropFirst()).allSatisfy { $0 <= $1 },
                "\(currency): \(amounts)")
        }
        #expect(r.samples.filter { $0.atMicros > 8_500_000 }.allSatisfy { $0.regions[eu].atRisk.isEmpty })
        let html = HTMLReport.render(r)
        #expect(
            html.contains("<td>EUR</td><td>eu-west-1</td>") && html.contains("<td>USD</td><td>eu-west-1</td>"),
            "\(html.suffix(2_000))")
    }

    @Test func test_scenarioFile_parsesSettingsAndFaults() throws {
        let o = try Self.scenario(
            """
            # comment
            name = demo
            regions = 4
            chaos_seconds = 30
            clock_offset_ms = 0, 2000, -300, 0
            at 5s crash us-east-1 for 2.5s
            at 1s partition 0 2 for 300ms
            at 2s clog ap-northeast-1 eu-west-1 +200ms for 4s
            at 3s jump us-west-2 -1500ms
            """)
        #expect(o.name == "demo" && o.regionCount == 4 && o.chaosMillis == 30_000)
        #expect(o.clockOffsetsMillis == [0, 2_000, -300, 0])
        #expect(o.scripted.map(\.atMillis) == [1_000, 2_000, 3_000, 5_000])
        #expect(o.scripted.last?.kind == .crash(region: 1, downMillis: 2_500))
    }

    @Test(arguments: [
        ("regions = 9", 1), ("bogus = 1", 1), ("at 5s crash nowhere for 1s", 1),
        ("regions = 3\nat 5s explode 0", 2), ("chaos_seconds = soon", 1), ("at 5s crash 0", 1),
    ])
    func test_scenarioFile_errorsNameTheLine(_ text: String, _ line: Int) {
        do {
            _ = try ScenarioFile.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
        }
    }

    @Test func test_eventQueue_ordersByTimeThenInsertion() {
        var q = EventQueue<Int>()
        for (i, t) in [5, 1, 5, 3, 1].enumerated() { q.schedule(i, atMicros: UInt64(t)) }
        var order: [Int] = []
        while let (_, e) = q.pop() { order.append(e) }
        #expect(order == [1, 4, 3, 0, 2])
    }

    @Test func test_htmlReport_isSelfContained() {
        let r = Simulation(seed: 2, options: Self.short(2)).run()
        let html = HTMLReport.render(r)
        #expect(html.contains("<svg") && html.contains(r.traceHash))
        #expect(!html.contains("http://") || !html.contains("src=\"http"))
        #expect(!html.contains("<script"))
    }
}
