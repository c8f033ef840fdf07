import Foundation

/// The suite's one markdown table: what was measured, the median, the baseline measured
/// in the same run, their ratio, the issue's target and whether it was met.
enum SuiteTable {
    static func render(_ s: Samples, _ o: Suite.Options, started: Date, wall: Double) -> String {
        var rows: [[String]] = []
        func n(_ key: String, _ format: String = "%.0f") -> String {
            s.median(key).map { String(format: format, $0) } ?? "-"
        }
        func ms(_ key: String) -> String { s.median(key).map { String(format: $0 < 10 ? "%.2f" : "%.1f", $0) } ?? "-" }
        func ratio(_ a: String, _ b: String) -> String {
            guard let x = s.median(a), let y = s.median(b), y > 0 else { return "-" }
            return String(format: "%.2fx", x / y)
        }
        func ratioValue(_ a: String, _ b: String) -> Double? {
            guard let x = s.median(a), let y = s.median(b), y > 0 else { return nil }
            return x / y
        }
        func met2(_ v: Double?, atLeast floor: Double) -> String {
            guard let v else { return "-" }
            return v >= floor ? "yes" : String(format: "no (%.0f%% of it)", 100 * v / floor)
        }
        func met2(_ v: Double?, under ceiling: Double) -> String {
            guard let v else { return "-" }
            return v < ceiling ? "yes" : String(format: "no (%.1fx over)", v / ceiling)
        }
        /// "yes", or "no: <how far off>" for a target `value` must stay at least/under.
        func met(_ key: String, atLeast: Double? = nil, under: Double? = nil) -> String {
            guard let v = s.median(key) else { return "-" }
            if let floor = atLeast { return v >= floor ? "yes" : String(format: "no (%.0f%% of it)", 100 * v / floor) }
            if let ceiling = under { return v < ceiling ? "yes" : String(format: "no (%.1fx over)", v / ceiling) }
            return "-"
        }

        if s.runs("http.creates_per_s") > 0 {
            rows.append([
                "durable creates/s, HTTP, one node (wrk, \(o.connections) connections)", n("http.creates_per_s"),
                "raw SQLite, one transaction + fsync per insert: " + n("sqlite.creates_per_s"),
                ratio("http.creates_per_s", "sqlite.creates_per_s"), ">= 10,000/s",
                met("http.creates_per_s", atLeast: 10_000),
            ])
            rows.append([
                "create latency p50 / p99 ms", ms("http.create_p50_ms") + " / " + ms("http.create_p99_ms"),
                "raw SQLite insert p50 / p99: " + ms("sqlite.create_p50_ms") + " / " + ms("sqlite.create_p99_ms"),
                ratio("http.create_p99_ms", "sqlite.create_p99_ms"), "p99 < 20 ms",
                met("http.create_p99_ms", under: 20),
            ])
            rows.append([
                "disk bytes written per create (WAL and checkpoints)", n("http.disk_bytes_per_create"), "-", "-", "-",
                "-",
            ])
            rows.append([
                "GET /health/s: the HTTP stack alone (no key, no store)", n("http.health_per_s"),
                "p99 " + ms("http.health_p99_ms") + " ms", "-", "-", "-",
            ])
            rows.append([
                "reads by id/s, HTTP, one node", n("http.reads_per_s"),
                "SQLite point reads, one thread in-process: " + n("sqlite.reads_per_s"),
                ratio("http.reads_per_s", "sqlite.reads_per_s"), ">= 30,000/s",
                met("http.reads_per_s", atLeast: 30_000),
            ])
            rows.append([
                "read latency p50 / p99 ms", ms("http.read_p50_ms") + " / " + ms("http.read_p99_ms"),
                "SQLite point read p50 / p99: " + ms("sqlite.read_p50_ms") + " / " + ms("sqlite.read_p99_ms"),
                ratio("http.read_p99_ms", "sqlite.read_p99_ms"), "p99 < 5 ms", met("http.read_p99_ms", under: 5),
            ])
            rows.append([
                "reads by id/s against the HTTP stack's ceiling (GET /health)", n("http.reads_per_s"),
                "GET /health: " + n("http.health_per_s"), ratio("http.reads_per_s", "http.health_per_s"),
                ">= 0.70x", met2(ratioValue("http.reads_per_s", "http.health_per_s"), atLeast: 0.70),
            ])
        }
        if s.runs("https.creates_per_s") > 0 {
            rows.append([
                "durable creates/s, HTTPS, one node", n("https.creates_per_s"),
                "plain HTTP: " + n("http.creates_per_s"), ratio("https.creates_per_s", "http.creates_per_s"), "-",
                "-",
            ])
            rows.append([
                "reads by id/s, HTTPS, one node", n("https.reads_per_s"), "plain HTTP: " + n("http.reads_per_s"),
                ratio("https.reads_per_s", "http.reads_per_s"), "-", "-",
            ])
        }
        if let taken = s.median("http.rss_creates") {
            rows.append([
                "node RSS right after taking \(Int(taken).formatted()) creates over HTTP",
                n("http.rss_after_creates_mb") + " MB", "-", "-", "< 150 MB",
                taken >= 300_000 ? met("http.rss_after_creates_mb", under: 150) : "- (fewer than 300,000 creates)",
            ])
        }
        if s.runs("pg.creates_per_s") > 0 {
            rows.append([
                "PostgreSQL 15, one primary, fsync on: creates/s (pgbench, \(o.connections) clients)",
                n("pg.creates_per_s"),
                "latency average " + ms("pg.create_avg_ms") + " ms", "-", "-", "-",
            ])
            rows.append([
                "PostgreSQL 15: point reads by id/s (pgbench, \(o.connections) clients)", n("pg.reads_per_s"),
                "latency average " + ms("pg.read_avg_ms") + " ms", "-", "-", "-",
            ])
            if s.runs("http.creates_per_s") > 0 {
                rows.append([
                    "paynode creates/s over HTTP against PostgreSQL's", n("http.creates_per_s"),
                    "PostgreSQL: " + n("pg.creates_per_s"),
                    ratio("http.creates_per_s", "pg.creates_per_s"), ">= 1.5x",
                    met2(ratioValue("http.creates_per_s", "pg.creates_per_s"), atLeast: 1.5),
                ])
                rows.append([
                    "paynode reads/s over HTTP against PostgreSQL's", n("http.reads_per_s"),
                    "PostgreSQL: " + n("pg.reads_per_s"),
                    ratio("http.reads_per_s", "pg.reads_per_s"), ">= 1.2x",
                    met2(ratioValue("http.reads_per_s", "pg.reads_per_s"), atLeast: 1.2),
                ])
            }
        }
        if s.runs("wire.ratio") > 0 {
            for rate in o.lagRates {
                let k = "lag.\(rate)"
                rows.append([
                    "replication lag p50 / p99 ms, A to B and C, \(rate) creates/s asked (\(n(k + ".achieved_rate")) achieved)",
                    ms(k + ".p50_ms") + " / " + ms(k + ".p99_ms"), "-", "-",
                    rate == 5_000 ? "p99 < 100 ms at 5,000/s" : "-",
                    rate == 5_000 ? met(k + ".p99_ms", under: 100) : "-",
                ])
            }
            rows.append([
                "replication bytes per create per peer, raw / on the wire",
                n("wire.raw_bytes_per_create") + " / " + n("wire.wire_bytes_per_create"),
                "-", n("wire.ratio", "%.2fx"), "LZ4 >= 3x", met("wire.ratio", atLeast: 3),
            ])
            rows.append([
                "3-region create latency p50 / p99 ms, `local` ack",
                ms("seq.local_p50_ms") + " / " + ms("seq.local_p99_ms"),
                "etcd quorum put p50 / p99: " + ms("etcd.put_p50_ms") + " / " + ms("etcd.put_p99_ms"),
                ratio("seq.local_p99_ms", "etcd.put_p99_ms"), "-", "-",
            ])
            rows.append([
                "3-region create latency p50 / p99 ms, `remote` ack",
                ms("seq.remote_p50_ms") + " / " + ms("seq.remote_p99_ms"),
                "etcd quorum put p50 / p99: " + ms("etcd.put_p50_ms") + " / " + ms("etcd.put_p99_ms"),
                ratio("seq.remote_p99_ms", "etcd.put_p99_ms"), "-", "-",
            ])
            rows.append([
                "write on the minority side (the other two paused)",
                "local: " + (s.note("minority.local") ?? "-") + "; remote: " + (s.note("minority.remote") ?? "-"),
                "etcd: " + (s.note("etcd.minority") ?? "-"), "-", "-", "-",
            ])
        }
        if s.runs("events.creates_followed_per_s") > 0 {
            rows.append([
                "creates/s at A with one SSE consumer following its change feed (2 regions)",
                n("events.creates_followed_per_s"),
                "no consumer: " + n("events.creates_alone_per_s"),
                ratio("events.creates_followed_per_s", "events.creates_alone_per_s"),
                "consumer costs < 10%", met("events.consumer_cost_pct", under: 10),
            ])
            rows.append([
                "change feed events/s delivered to that consumer", n("events.delivered_per_s"), "-", "-", "-", "-",
            ])
            rows.append([
                "change feed lag p50 / p99 ms, A's ack to the consumer, \(n("events.lag_achieved_rate")) creates/s",
                ms("events.lag_p50_ms") + " / " + ms("events.lag_p99_ms"), "-", "-", "p99 < 50 ms at 1,000/s",
                met("events.lag_p99_ms", under: 50),
            ])
        }
        if s.runs("catchup.second_s") > 0 {
            let p = o.catchUpPayments.formatted()
            rows.append([
                "catch-up of \(p) payments: C restarts, A and B serve", n("catchup.second_s", "%.1f") + " s",
                "B first, from A alone: " + n("catchup.first_s", "%.1f") + " s", "-", "< 30 s",
                met("catchup.second_s", under: 30),
            ])
            rows.append([
                "node RSS with \(p) payments stored (largest / smallest of 3)",
                n("rss.max_mb") + " / " + n("rss.min_mb") + " MB",
                "-", "-", "< 150 MB", met("rss.max_mb", under: 150),
            ])
            rows.append([
                "longest `GET /v1/cluster` answer during catch-up", n("catchup.api_stall_s", "%.1f") + " s", "-", "-",
                "-", "-",
            ])
            rows.append([
                "restart of a region holding \(p) payments (until /health answers)",
                n("restart.seconds", "%.1f") + " s",
                "store writes without HTTP: " + n("seed.per_s") + "/s", "-", "-", "-",
            ])
        }
        if s.runs("dataset.restart_s") > 0 {
            let p = o.datasetPayments.formatted()
            rows.append([
                "restart of a region holding \(p) payments (until /health answers)",
                n("dataset.restart_s", "%.1f") + " s",
                "filled without HTTP: " + n("dataset.fill_per_s") + "/s, store " + n("dataset.store_gb", "%.1f")
                    + " GB",
                "-", "< 2 s", met("dataset.restart_s", under: 2),
            ])
            rows.append([
                "node RSS with \(p) payments: at rest / during creates",
                n("dataset.rss_rest_mb") + " / " + n("dataset.rss_creates_mb") + " MB",
                "-", "-", "< 150 MB",
                met2(max(s.median("dataset.rss_rest_mb") ?? 0, s.median("dataset.rss_creates_mb") ?? 0), under: 150),
            ])
            rows.append([
                "reads by id with \(p) stored: cold cache / warm, per s (p99 ms)",
                n("dataset.cold_reads_per_s") + " (" + ms("dataset.cold_read_p99_ms") + ") / "
                    + n("dataset.warm_reads_per_s") + " (" + ms("dataset.warm_read_p99_ms") + ")",
                s.median("dataset.page_cache_dropped") == 1
                    ? "OS page cache dropped before" : "OS page cache not dropped (not root)",
                "-", "-", "-",
            ])
            rows.append(["creates/s with \(p) stored", n("dataset.creates_per_s"), "-", "-", "-", "-"])
        }
        if s.runs("dataset.catchup_s") > 0 {
            let p = o.datasetPayments.formatted()
            rows.append([
                "catch-up of \(p) payments into an empty region", n("dataset.catchup_s", "%.0f") + " s",
                "RSS source / receiver: " + n("dataset.rss_catchup_source_mb") + " / "
                    + n("dataset.rss_catchup_receiver_mb") + " MB; largest WAL: "
                    + n("dataset.wal_catchup_source_mb") + " / " + n("dataset.wal_catchup_receiver_mb") + " MB",
                "-", o.datasetPayments >= 10_000_000 ? "< 5 min" : "-",
                o.datasetPayments >= 10_000_000 ? met("dataset.catchup_s", under: 300) : "-",
            ])
        }
        if s.runs("paysim.speedup") > 0 {
            rows.append([
                "paysim speed (\(o.paysimSeeds) swarm seeds, one at a time)",
                n("paysim.seeds_per_s", "%.1f") + " seeds/s",
                "real time", n("paysim.speedup", "%.0fx"), ">= 400x real time",
                met("paysim.speedup", atLeast: 400),
            ])
        }
        if s.runs("paysim.speedup_jobs2") > 0 {
            rows.append([
                "paysim block throughput (the same seeds, two at a time: `--jobs 2`)",
                n("paysim.seeds_per_s_jobs2", "%.1f") + " seeds/s", "one at a time: " + n("paysim.speedup", "%.0fx"),
                n("paysim.speedup_jobs2", "%.0fx"), "-", "-",
            ])
        }

        var out = "paybench suite, \(ISO8601DateFormatter().string(from: started)), \(Machine.description)\n"
        out +=
            "medians of \(o.runs) runs (catch-up: \(o.catchUpRuns)), \(o.seconds) s per load; whole suite took \(Int(wall)) s\n\n"
        out += "| measurement | paynode | baseline, same run | ratio | target | met |\n|---|---:|---|---:|---|---|\n"
        for r in rows { out += "| " + r.joined(separator: " | ") + " |\n" }
        return out
    }
}

/// The machine, for the table's heading.
enum Machine {
    static var description: String {
        let cpu =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let gib = Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(String(format: "%.0f", gib)) GiB"
    }
}
