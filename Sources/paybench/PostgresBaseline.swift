import Foundation

/// The store a payment team would otherwise pick: PostgreSQL (Debian's `postgresql`, 15
/// on bookworm), one primary on loopback in a scratch data directory, with fsync and
/// synchronous_commit on (its defaults), a `payments` table with the node's columns, its
/// four list indexes and a unique idempotency key, driven by `pgbench` with as many
/// clients as wrk has connections: creates (one INSERT per transaction, a fresh key
/// each), then point reads by id over 20,000 rows. Same machine, same run as paynode's
/// HTTP figures; pgbench talks to PostgreSQL over a Unix socket, so there is no HTTP,
/// JSON or TLS on its side of the comparison.
enum PostgresBaseline {
    struct Options {
        var seconds = 10
        var clients = 64
        var dir: String
    }

    static let schema = """
        CREATE TABLE payments (
            id text PRIMARY KEY, merchant_id text NOT NULL, order_id text NOT NULL,
            amount bigint NOT NULL CHECK (amount BETWEEN 1 AND 1000000000000000),
            currency char(3) NOT NULL, method text NOT NULL, status text NOT NULL,
            payment_key text, customer_id text, description text, metadata jsonb,
            idempotency_key text NOT NULL UNIQUE, created_at_ms bigint NOT NULL, updated_at_ms bigint NOT NULL,
            region text NOT NULL, version bigint NOT NULL);
        CREATE INDEX payments_by_created ON payments (created_at_ms DESC, id DESC);
        CREATE INDEX payments_by_merchant ON payments (merchant_id, created_at_ms DESC, id DESC);
        CREATE INDEX payments_by_order ON payments (merchant_id, order_id);
        CREATE INDEX payments_by_status ON payments (status, created_at_ms DESC, id DESC);
        INSERT INTO payments SELECT 'r' || i, 'm_' || (i % 50), 'order-r' || i, 1250, 'EUR', 'card', 'pending', NULL, NULL,
            NULL, NULL, 'key-r' || i, i, i, 'us-east-1', 1 FROM generate_series(1, 20000) AS i;
        """

    static let createScript = """
        \\set n random(1, 9000000000000000000)
        INSERT INTO payments VALUES ('p' || :client_id || '-' || :n, 'm_' || (:n % 50), 'order-' || :n, 1250, 'EUR', 'card',
            'pending', NULL, NULL, NULL, NULL, 'key-' || :client_id || '-' || :n, 1764000000000, 1764000000000, 'us-east-1', 1);
        """

    static let readScript = """
        \\set i random(1, 20000)
        SELECT * FROM payments WHERE id = 'r' || :i;
        """

    static func run(_ options: Options, run: Int, into samples: inout Samples) throws {
        guard let bin = binDirectory() else {
            throw BenchError("PostgreSQL is not installed (apt-get install -y postgresql)")
        }
        let dir = options.dir + "/postgres-\(run)"
        let data = dir + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        // PostgreSQL refuses to run as root: as root, its files belong to `postgres`.
        let asRoot = getuid() == 0
        if asRoot { try shell("/bin/chown", ["-R", "postgres:postgres", dir]) }
        let port = Int.random(in: 20_000...60_000)
        func pg(_ tool: String, _ args: [String]) throws -> String {
            asRoot
                ? try shell("/usr/sbin/runuser", ["-u", "postgres", "--", bin + "/" + tool] + args)
                : try shell(bin + "/" + tool, args)
        }
        progress("run \(run): PostgreSQL baseline: initdb, start, schema")
        _ = try pg("initdb", ["-D", data, "-U", "bench", "--auth=trust", "-E", "UTF8"])
        // The server runs as this process's child (not daemonized by pg_ctl: Foundation's
        // Process does not return from a command that leaves a daemon behind).
        let server = Process()
        let serverArgs = [
            "-D", data, "-p", "\(port)", "-k", dir, "-c", "listen_addresses=", "-c",
            "max_connections=\(options.clients + 10)",
        ]
        server.executableURL = URL(fileURLWithPath: asRoot ? "/usr/sbin/runuser" : bin + "/postgres")
        server.arguments = asRoot ? ["-u", "postgres", "--", bin + "/postgres"] + serverArgs : serverArgs
        _ = FileManager.default.createFile(atPath: dir + "/postgres.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/postgres.log"))
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer { stop(server, data: data) }
        let connect = ["-h", dir, "-p", "\(port)", "-U", "bench"]
        let deadline = Date().addingTimeInterval(30)
        while (try? pg("pg_isready", connect + ["-d", "postgres"])) == nil {
            guard Date() < deadline, server.isRunning else {
                throw BenchError("PostgreSQL did not start; see \(dir)/postgres.log")
            }
            usleep(100_000)
        }
        try (dir + "/schema.sql").write(schema)
        _ = try pg("psql", connect + ["-q", "-v", "ON_ERROR_STOP=1", "-f", dir + "/schema.sql", "postgres"])
        try (dir + "/create.sql").write(createScript)
        try (dir + "/read.sql").write(readScript)
        if asRoot { try shell("/bin/chown", ["-R", "postgres:postgres", dir]) }

        progress("run \(run): pgbench creates, \(options.clients) clients, about \(options.seconds) s")
        let creates = try parse(
            try pg("pgbench", connect + benchArgs(options, script: dir + "/create.sql", perSecond: 10_000)))
        samples.add("pg.creates_per_s", creates.tps)
        samples.add("pg.create_avg_ms", creates.averageMillis)
        progress("run \(run): pgbench point reads, \(options.clients) clients, about \(options.seconds) s")
        let reads = try parse(
            try pg("pgbench", connect + benchArgs(options, script: dir + "/read.sql", perSecond: 30_000)))
        samples.add("pg.reads_per_s", reads.tps)
        samples.add("pg.read_avg_ms", reads.averageMillis)
    }

    /// Fast shutdown (SIGINT to the postmaster, whose pid its data folder records), then
    /// SIGKILL if it lingers: the data is scratch.
    static func stop(_ server: Process, data: String) {
        let pid = (try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8))?
            .split(separator: "\n").first.flatMap { Int32($0) }
        if let pid { kill(pid, SIGINT) }
        let deadline = Date().addingTimeInterval(10)
        while server.isRunning && Date() < deadline { usleep(50_000) }
        if server.isRunning {
            if let pid { kill(pid, SIGKILL) }
            kill(server.processIdentifier, SIGKILL)
        }
        server.waitUntilExit()
    }

    /// A run of about `seconds` at `perSecond`, given as transactions per client: pgbench
    /// started by this process does not stop at its `-T` deadline (its timer signal does
    /// not reach it), so the count ends it.
    static func benchArgs(_ o: Options, script: String, perSecond: Int) -> [String] {
        let perClient = max(20, o.seconds * perSecond / max(1, o.clients))
        return ["-n", "-c", "\(o.clients)", "-j", "2", "-t", "\(perClient)", "-f", script, "postgres"]
    }

    /// pgbench's "tps = N (without initial connection time)" and "latency average = M ms".
    static func parse(_ output: String) throws -> (tps: Double, averageMillis: Double) {
        func number(after prefix: String) -> Double? {
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
            return Double(line.dropFirst(prefix.count).split(separator: " ").first ?? "")
        }
        guard let tps = number(after: "tps = "), let avg = number(after: "latency average = ") else {
            throw BenchError("pgbench printed no tps:\n\(output)")
        }
        return (tps, avg)
    }

    static func binDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init).sorted() ?? []
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap {
            FileManager.default.isExecutableFile(atPath: $0 + "/pgbench") ? $0 : nil
        }
    }

    /// Runs a command to its end; its output, or an error with it when it fails.
    @discardableResult
    static func shell(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw BenchError("\(path) \(args.joined(separator: " ")) failed:\n\(text)")
        }
        return text
    }
}

extension String {
    fileprivate func write(_ text: String) throws { try text.write(toFile: self, atomically: true, encoding: .utf8) }
}
