import Synchronization
import Testing

@testable import RegionSim
@testable import ReplicaCore

/// paysim's `--jobs`: seeds run on several threads, and what comes back is what one
/// thread would have given, in the same order.
@Suite struct InOrderPoolTests {
    /// Early jobs do the most work, so on more than one thread later jobs finish first:
    /// a pool that handed results back as they finished would fail the order check.
    @Test(arguments: [1, 2, 3, 8])
    func test_everyJobRunsOnce_andResultsComeBackInJobOrder(threads: Int) {
        let count = 40
        let runs = Mutex([Int](repeating: 0, count: count))
        var delivered: [Int] = []
        InOrderPool.run(count: count, threads: threads) { i in
            runs.withLock { $0[i] += 1 }
            var x: UInt64 = UInt64(i)
            for _ in 0..<((count - i) * 20_000) { x = x &* 6_364_136_223_846_793_005 &+ 1 }
            return (i, x)
        } deliver: { i, result in
            #expect(result.0 == i)
            delivered.append(i)
        }
        #expect(delivered == Array(0..<count))
        #expect(runs.withLock { $0 } == [Int](repeating: 1, count: count))
    }

    @Test func test_noJobs_deliversNothing() {
        var delivered = 0
        InOrderPool.run(count: 0, threads: 4) {
            $0
        } deliver: { _, _ in
            delivered += 1
        }
        #expect(delivered == 0)
    }

    /// Simulations run side by side give the trace hashes they give one at a time: a
    /// simulation shares nothing with another.
    @Test func test_simulationsOnTwoThreads_giveTheSameTraceHashes() {
        let seeds: [UInt64] = [3, 4, 5, 6]
        let alone = seeds.map { Simulation(seed: $0, options: SimulatorTests.short($0)).run().traceHash }
        var together: [String] = []
        InOrderPool.run(count: seeds.count, threads: 2) { i in
            Simulation(seed: seeds[i], options: SimulatorTests.short(seeds[i])).run().traceHash
        } deliver: { _, hash in
            together.append(hash)
        }
        #expect(together == alone)
    }
}
