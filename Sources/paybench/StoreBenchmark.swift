import Foundation
import ReplicaCore
import ReplicaStore

/// `paybench store`: durable creates through the store's group commit, beside two raw
/// SQLite baselines with the same pragmas, in one process, printed as one table.
enum StoreBenchmark {
    struct Row {
        let name: String
        let writes: Int
        let seconds: Double
        let p50Millis: Double?
        let p99Millis: Double?
        var perSecond: Double { Double(writes) / seconds }
    }

    static func run(writers: Int, writes: Int, naiveWrites: Int, synchronous: StoreOptions.Synchronous, dir: String)
        throws
    {
        let rows = [
            try groupCommit(writers: writers, writes: writes, synchronous: synchronous, dir: dir),
            try raw(oneTransaction: true, writes: writes, synchronous: synchronous, dir: dir),
            try raw(oneTransaction: false, writes: naiveWrites, synchronous: synchronous, dir: dir),
        ]
        print(table(rows, synchronous: synchronous, writers: writers))
    }

    static func fresh(_ dir: String, _ name: String) -> String {
        let path = dir + "/" + name + ".sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return path
    }

    /// Many writers, each waiting for its own create to be durable, as API clients do.
    static func groupCommit(writers: Int, writes: Int, synchronous: StoreOptions.Synchronous, dir: String) throws -> Row
    {
        var options = StoreOptions(path: fresh(dir, "store-group-commit"))
        options.synchronous = synchronous
        let store = try ReplicaStore(options: options)
        let committer = GroupCommitter(store: store)
        // `writers` clients, each with one create in flight at a time: as soon as one is
        // durable its client sends the next. The engine makes requests one at a time, in
        // order (under the lock, as the node's actor would), and hands them to the committer.
        let shared = SharedLoad(writes: writes)
        let finished = DispatchSemaphore(value: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        @Sendable func issue() {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let more = shared.next { request in
                committer.submit([request]) { _ in
                    shared.record(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                    if shared.completed == writes { finished.signal() }
                    DispatchQueue.global().async { issue() }  // off the committing thread
                }
            }
            _ = more
        }
        for _ in 0..<writers { issue() }
        finished.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        committer.shutdown()
        let latencies = shared.latencies.sorted()
        return Row(
            name: "store API, group commit (\(writers) concurrent writers)", writes: writes, seconds: seconds,
            p50Millis: percentile(latencies, 0.50), p99Millis: percentile(latencies, 0.99))
    }

    /// Raw prepared inserts of the same rows: one big transaction (the ceiling) or one
    /// transaction per insert (what naive code gets).
    static func raw(oneTransaction: Bool, writes: Int, synchronous: StoreOptions.Synchronous, dir: String) throws -> Row
    {
        let db = try SQLiteDatabase(path: fresh(dir, oneTransaction ? "raw-one-txn" : "raw-txn-per-insert"))
        try db.execute("PRAGMA journal_mode = WAL")
        try db.execute("PRAGMA synchronous = \(synchronous.rawValue)")
        try db.execute(
            """
            CREATE TABLE payments (id TEXT PRIMARY KEY, merchant_id TEXT, order_id TEXT, amount INTEGER, currency TEXT,
                status TEXT, description TEXT, created_at_ms INTEGER, registers BLOB) WITHOUT ROWID
            """)
        var workload = CreateWorkload()
        let requests = (0..<writes).map { _ in workload.next() }
        let insert = try db.prepare("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        var latencies: [Double] = []
        let start = DispatchTime.now().uptimeNanoseconds
        if oneTransaction { try db.execute("BEGIN") }
        for r in requests {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let p = Payment(r.records[0].record)!
            if !oneTransaction { try db.execute("BEGIN") }
            insert.bind(1, p.id.rawValue)
            insert.bind(2, p.merchantID)
            insert.bind(3, p.orderID)
            insert.bind(4, p.amount)
            insert.bind(5, p.currency)
            insert.bind(6, p.status.rawValue)
            insert.bind(7, p.description)
            insert.bind(8, Int64(p.createdAtMillis))
            insert.bind(9, blob: r.records[0].bytes)
            try insert.run()
            if !oneTransaction {
                try db.execute("COMMIT")
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
        }
        if oneTransaction { try db.execute("COMMIT") }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        latencies.sort()
        return Row(
            name: oneTransaction ? "raw SQLite, one transaction (ceiling)" : "raw SQLite, one transaction per insert",
            writes: writes, seconds: seconds, p50Millis: percentile(latencies, 0.5),
            p99Millis: percentile(latencies, 0.99))
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> Double? {
        sorted.isEmpty ? nil : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }

    static func table(_ rows: [Row], synchronous: StoreOptions.Synchronous, writers: Int) -> String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "-" }
        let ceiling = rows[1].perSecond
        let naive = rows[2].perSecond
        var s =
            "durable creates, synchronous=\(synchronous.rawValue), WAL, \(ProcessInfo.processInfo.activeProcessorCount) cores\n\n"
        s += "| method | writes | creates/s | p50 ms | p99 ms | vs ceiling | vs one-per-txn |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            s += "| \(r.name) | \(r.writes) | \(Int(r.perSecond)) | \(f(r.p50Millis)) | \(f(r.p99Millis)) | "
            s +=
                String(format: "%.2fx", r.perSecond / ceiling) + " | " + String(format: "%.1fx", r.perSecond / naive)
                + " |\n"
        }
        return s
    }
}

/// The benchmark's shared state: the engine (used under a lock, as the node's actor
/// would) and the latencies measured.
final class SharedLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var workload = CreateWorkload()
    private var issued = 0
    private let writes: Int
    private(set) var latencies: [Double] = []

    init(writes: Int) {
        self.writes = writes
        latencies.reserveCapacity(writes)
    }

    /// Makes the next request and hands it on under the lock; false when all are issued.
    func next(_ hand: (PersistRequest) -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard issued < writes else { return false }
        issued += 1
        hand(workload.next())
        return true
    }

    func record(_ ms: Double) {
        lock.lock()
        latencies.append(ms)
        lock.unlock()
    }

    var completed: Int {
        lock.lock()
        defer { lock.unlock() }
        return latencies.count
    }
}
