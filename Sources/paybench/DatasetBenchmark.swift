import Foundation
import PaymentNode
import ReplicaCore
import ReplicaStore

/// A region holding a large dataset (10 million payments by default). Its store is filled
/// in this process through a real engine and the store's commit (as the catch-up part
/// does, in larger groups), its log compacted as if every peer had acked it. Then: the
/// restart to `/health`; RSS at rest; reads by id with a cold cache (ids not read since
/// the restart, the OS page cache dropped first when this user may) and a warm one (a set
/// that fits the record cache, read once before it is timed); RSS under a create load;
/// and catch-up of the whole dataset into an empty region, RSS of both sampled throughout.
enum DatasetBenchmark {
    struct Options {
        var payments = 10_000_000
        var seconds = 10
        var connections = 64
        var catchUp = true
        var dir: String
    }

    static func run(_ o: Options, into samples: inout Samples) async throws {
        let http = BenchHTTP.client()
        defer { BenchHTTP.shutdown(http) }
        let (a, b) = (RegionID("us-east-1")!, RegionID("eu-west-1")!)
        let dir = o.dir + "/dataset"
        let cluster = try BenchCluster(regions: [a, b], dir: dir, http: http)
        defer { cluster.stopAll() }
        try? FileManager.default.removeItem(atPath: cluster.dataDir(b))  // b starts empty
        let database = cluster.dataDir(a) + "/paynode.sqlite"
        // A store this part filled before (paybench suite --dir DIR keeps it) is reused.
        let held = (try? StoreReader(readOnlyPath: database).count()) ?? 0
        if held >= o.payments {
            progress("dataset: reusing \(held) payments in \(database)")
        } else {
            try? FileManager.default.removeItem(atPath: cluster.dataDir(a))
            try await cluster.start(a)  // makes a's store (a new region)
            cluster.stopAll()
            progress("dataset: writing \(o.payments) payments into \(a)'s store")
            let fillStart = now()
            try fill(path: database, region: a, payments: o.payments)
            samples.add("dataset.fill_per_s", Double(o.payments) / (now() - fillStart))
        }
        samples.add("dataset.store_gb", Double(fileBytes(database)) / 1e9)
        let coldIDs = try sampleIDs(count: 400_000, from: database)
        let warmIDs = try sampleIDs(count: 20_000, from: database)

        let dropped = dropPageCache()
        samples.add("dataset.page_cache_dropped", dropped ? 1 : 0)
        let restart = now()
        try await cluster.start(a)
        samples.add("dataset.restart_s", now() - restart)
        try await Task.sleep(for: .seconds(1))
        samples.add("dataset.rss_rest_mb", mb(cluster.rssBytes(a)))

        // Cold: every read a payment not read since the restart.
        let coldPath = dir + "/cold-ids.txt"
        try coldIDs.joined(separator: "\n").write(toFile: coldPath, atomically: true, encoding: .utf8)
        progress("dataset: reads by id, cold cache, for \(o.seconds) s")
        let cold = try Wrk.run(
            script: Wrk.readScript, url: cluster.url(a), seconds: o.seconds, connections: o.connections,
            env: ["PAYBENCH_IDS": coldPath], dir: dir)
        guard cold.failures == 0 else {
            throw BenchError("\(cold.failures) cold reads failed; see \(cluster.logPath(a))")
        }
        guard cold.requests < coldIDs.count else { throw BenchError("the cold read ran out of unread ids") }
        samples.add("dataset.cold_reads_per_s", cold.perSecond)
        samples.add("dataset.cold_read_p99_ms", cold.p99Millis)

        // Warm: a set the record cache holds, read once before it is timed.
        let warmPath = dir + "/warm-ids.txt"
        try warmIDs.joined(separator: "\n").write(toFile: warmPath, atomically: true, encoding: .utf8)
        _ = try Wrk.run(
            script: Wrk.readScript, url: cluster.url(a), seconds: 3, connections: o.connections,
            env: ["PAYBENCH_IDS": warmPath], dir: dir)
        progress("dataset: reads by id, warm cache, for \(o.seconds) s")
        let warm = try Wrk.run(
            script: Wrk.readScript, url: cluster.url(a), seconds: o.seconds, connections: o.connections,
            env: ["PAYBENCH_IDS": warmPath], dir: dir)
        guard warm.failures == 0 else {
            throw BenchError("\(warm.failures) warm reads failed; see \(cluster.logPath(a))")
        }
        samples.add("dataset.warm_reads_per_s", warm.perSecond)
        samples.add("dataset.warm_read_p99_ms", warm.p99Millis)

        progress("dataset: creates for \(o.seconds) s, RSS sampled")
        let createSampler = PeakSampler(cluster.pids([a]))
        let creates = try Wrk.run(
            script: Wrk.createScript, url: cluster.url(a), seconds: o.seconds, connections: o.connections,
            env: ["PAYBENCH_RUN": "dataset"], dir: dir)
        let createRSS = createSampler.stop().rss
        guard creates.failures == 0 else {
            throw BenchError("\(creates.failures) creates failed; see \(cluster.logPath(a))")
        }
        samples.add("dataset.creates_per_s", creates.perSecond)
        samples.add("dataset.rss_creates_mb", mb(createRSS[a]))

        guard o.catchUp else { return }
        progress("dataset: \(b) starts empty and catches up from \(a)")
        let catchUpStart = now()
        try await cluster.start(b)
        let catchUpSampler = PeakSampler(
            cluster.pids([a, b]), files: [a: database + "-wal", b: cluster.dataDir(b) + "/paynode.sqlite-wal"])
        try await CatchUpBenchmark.converged(cluster, [a, b], timeout: 3_600)
        samples.add("dataset.catchup_s", now() - catchUpStart)
        let catchUpPeaks = catchUpSampler.stop()
        samples.add("dataset.rss_catchup_source_mb", mb(catchUpPeaks.rss[a]))
        samples.add("dataset.rss_catchup_receiver_mb", mb(catchUpPeaks.rss[b]))
        samples.add("dataset.wal_catchup_source_mb", mb(catchUpPeaks.files[a]))
        samples.add("dataset.wal_catchup_receiver_mb", mb(catchUpPeaks.files[b]))
    }

    /// Writes `payments` creates into a stopped region's store in groups of 5,000, then
    /// compacts its log (a region whose peers acked everything keeps none of it). One
    /// thread makes the persist requests while another commits the previous group.
    static func fill(path: String, region: RegionID, payments: Int) throws {
        var options = StoreOptions(path: path)
        options.cacheMegabytes = 1_024
        let store = try ReplicaStore(options: options)
        let startMillis = UInt64(Date().timeIntervalSince1970 * 1_000)
        let recovered = try store.recover(includingRecords: false, logTailPerOrigin: 0)
        guard recovered.vector.total == 0 else {
            throw BenchError("the dataset fills a new region's store; \(path) holds payments")
        }
        let groups = Pipeline<[PersistRequest]>(depth: 4)
        let producer = Thread {
            var workload = CreateWorkload(
                region: region.name, startMillis: startMillis, recovered: recovered, boundedMemory: true)
            var made = 0
            while made < payments {
                let n = min(5_000, payments - made)
                let nowMillis = UInt64(Date().timeIntervalSince1970 * 1_000)
                groups.put((0..<n).map { _ in workload.next(nowMillis: nowMillis) })
                made += n
            }
            groups.finish()
        }
        producer.start()
        var written = 0
        var lastReport = now()
        let started = now()
        while let group = groups.take() {
            try store.commit(group)
            written += group.count
            if now() - lastReport > 10 {
                lastReport = now()
                progress("  \(written) written, \(Int(Double(written) / (now() - started)))/s")
            }
        }
        let vector = try store.recover(includingRecords: false, logTailPerOrigin: 0).vector
        while try store.compactLog(through: vector) {}
    }

    /// `count` distinct payment ids of the store at `path`, drawn at random by row.
    static func sampleIDs(count: Int, from path: String) throws -> [String] {
        let reader = try StoreReader(readOnlyPath: path)
        let rows = try reader.maxRow()
        var rng = SystemRandomNumberGenerator()
        var picked = Set<UInt64>()
        while picked.count < min(count, Int(rows)) { picked.insert(UInt64.random(in: 1...max(1, rows), using: &rng)) }
        return try reader.ids(atRows: picked.sorted()).shuffled(using: &rng)
    }

    /// Empties the kernel's page cache (root only): the first reads then come from disk.
    static func dropPageCache() -> Bool {
        sync()
        return (try? "3\n".write(toFile: "/proc/sys/vm/drop_caches", atomically: false, encoding: .utf8)) != nil
    }

    static func fileBytes(_ path: String) -> Int {
        ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }.reduce(
            0, +)
    }

    static func mb(_ bytes: Int?) -> Double { Double(bytes ?? 0) / 1_048_576 }
}

/// The largest RSS each process reaches while it runs, and the largest size each given
/// file reaches (a store's WAL: SQLite reuses the file rather than shrink it, so this is
/// the most the log held at once, until `journal_size_limit` cuts it back), read from `/proc`
/// and the file system every 100 ms on a thread of its own (the benchmark's own work
/// blocks on wrk meanwhile).
final class PeakSampler: @unchecked Sendable {
    /// The peaks per region, in bytes.
    struct Peaks {
        var rss: [RegionID: Int] = [:]
        var files: [RegionID: Int] = [:]
    }
    private let lock = NSLock()
    private var peaks = Peaks()
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(_ pids: [RegionID: Int32], files: [RegionID: String] = [:]) {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                for (r, pid) in pids {
                    if let rss = BenchCluster.rssBytes(pid: pid) {
                        lock.withLock { peaks.rss[r] = max(peaks.rss[r] ?? 0, rss) }
                    }
                }
                for (r, path) in files {
                    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    lock.withLock { peaks.files[r] = max(peaks.files[r] ?? 0, size) }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling; the peaks per region.
    func stop() -> Peaks {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { peaks }
    }
}

/// A bounded queue between one producing and one consuming thread.
final class Pipeline<Item>: @unchecked Sendable {
    private let lock = NSCondition()
    private var items: [Item] = []
    private var finished = false
    private let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Adds `item`, waiting while `depth` items are queued.
    func put(_ item: Item) {
        lock.lock()
        while items.count >= depth { lock.wait() }
        items.append(item)
        lock.broadcast()
        lock.unlock()
    }

    /// No more items will come.
    func finish() {
        lock.lock()
        finished = true
        lock.broadcast()
        lock.unlock()
    }

    /// The next item, or nil once finished and empty.
    func take() -> Item? {
        lock.lock()
        defer { lock.unlock() }
        while items.isEmpty && !finished { lock.wait() }
        guard !items.isEmpty else { return nil }
        lock.broadcast()
        return items.removeFirst()
    }
}
