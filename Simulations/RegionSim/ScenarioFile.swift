import ReplicaCore

/// Reads scenario files (`Simulations/scenarios/*.scenario`): `key = value` settings and
/// `at <time> <fault> …` lines; `#` starts a comment. Errors name the line.
///
/// ```
/// name = one-region-lost
/// regions = 3
/// chaos_seconds = 40
/// at 20s lose us-east-1
/// at 5s crash eu-west-1 for 4s
/// at 10s partition ap-northeast-1 us-east-1 for 8s
/// at 10s oneway ap-northeast-1 eu-west-1 for 5s
/// at 12s isolate eu-west-1 for 6s
/// at 3s clog us-east-1 eu-west-1 +400ms for 10s
/// at 9s jump ap-northeast-1 -1500ms
/// at 14s diskfull us-east-1 for 5s       # commits roll back until the space is freed
/// at 16s fsyncfail eu-west-1             # the next group commit's fsync fails
/// at 18s wipe eu-west-1 for 3s           # down 3 s, back with an empty data folder
/// at 22s sigterm us-east-1 for 2s        # drains, exits, back after 2 s
/// at 24s backup us-east-1                # paynode backup: the store as committed now
/// at 28s restore us-east-1 for 2s        # folder lost, restored from that backup
/// at 30s upgrade eu-west-1 for 2s        # drains, exits, back on the next release
/// at 32s add-region us-west-2             # joins while the cluster serves (see below)
/// at 36s retire us-east-1                # decommissioned: drains, leaves for good (see below)
/// at 38s retire-lost eu-west-1           # lost for good, every member told at once
/// ```
///
/// `add-region <name>` names a region beyond the first `regions` (the next of the
/// geography: us-west-2, then sa-east-1): it is no member and does not run before its
/// step; then every member's config lists it (a reload; a member that is down has it from
/// its next start) and it starts with a `paynode init --join` store, listing every member.
/// `clock_offset_ms` and `clock_drift_ppm` then need a value for it too.
///
/// `retire <region>` decommissions a region: it takes no client writes (503, its clients
/// fail over), keeps replicating until every peer holds all it wrote, records its
/// retirement, drains and stops for good; then every member is told (a member that is
/// down, at its restart). `retire-lost <region>` loses a region for good (as `lose`,
/// unless it already was) and tells every member at once. A retired region never runs or
/// links again; later steps naming it are dropped. At least two regions stay.
///
/// Releases: `previous_release = all` (or a comma list of regions) starts those regions
/// on the release before this one (wire format 3 only; `all`: every region there at the start); `expect_wire_active = 4` fails
/// the run unless every live region reports that active format at the end.
public enum ScenarioFile {
    /// A line that could not be understood.
    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> SimOptions {
        var o = SimOptions()
        o.name = "scenario"
        var offsets: [Int64] = []
        var drift: [Int64] = []
        var pending: [(Int, [Substring])] = []
        var previous: (line: Int, value: String)?
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNo = i + 1
            let line =
                raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first else { continue }
            if first == "at" {
                pending.append((lineNo, Array(words)))
                continue
            }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces }
            guard parts.count == 2 else { throw ParseError(line: lineNo, message: "expected `key = value` or `at …`") }
            let (key, value) = (parts[0], parts[1])
            func number() throws(ParseError) -> UInt64 {
                guard let n = UInt64(value) else {
                    throw ParseError(line: lineNo, message: "\(key) needs a whole number, got \(value)")
                }
                return n
            }
            func number(in range: ClosedRange<Int>) throws(ParseError) -> Int {
                let n = try number()
                guard n <= UInt64(range.upperBound), range.contains(Int(n)) else {
                    throw ParseError(line: lineNo, message: "\(key) must be \(range.lowerBound)...\(range.upperBound)")
                }
                return Int(n)
            }
            switch key {
            case "name": o.name = value
            case "regions":
                let n = try number()
                guard (2...Geography.regionNames.count).contains(Int(n)) else {
                    throw ParseError(line: lineNo, message: "regions must be 2...\(Geography.regionNames.count)")
                }
                o.regionCount = Int(n)
            case "chaos_seconds": o.chaosMillis = try number() * 1_000
            case "converge_seconds": o.convergeBoundMillis = try number() * 1_000
            case "writes_per_second": o.writesPerSecond = try number()
            case "remote_percent": o.remoteDurabilityPercent = min(100, try number())
            case "read_percent": o.readPercent = min(100, try number())
            case "foreign_update_percent": o.foreignUpdatePercent = min(100, try number())
            case "crashes_per_minute": o.crashesPerMinute = try number()
            case "partitions_per_minute": o.partitionsPerMinute = try number()
            case "connection_resets_per_minute": o.connectionResetsPerMinute = try number()
            case "loss_per_million": o.lossPerMillion = try number()
            case "jitter_ms": o.jitterMillisMax = try number()
            case "disk_full_per_minute": o.diskFullPerMinute = try number()
            case "fsync_failures_per_minute": o.fsyncFailuresPerMinute = try number()
            case "wipes_per_minute": o.wipesPerMinute = try number()
            case "graceful_restarts_per_minute": o.gracefulRestartsPerMinute = try number()
            case "crash_before_fsync_per_million": o.crashBeforeFsyncPerMillion = try number()
            case "duplicate_request_percent": o.duplicateRequestPercent = min(100, try number())
            case "twin_create_percent": o.twinCreatePercent = min(100, try number())
            case "large_payment_percent": o.largePaymentPercent = min(100, try number())
            case "batch_entries_max": o.batchEntriesMax = try number(in: 1...WireLimits.entriesPerBatchMax)
            case "snapshot_chunk_records": o.snapshotChunkRecords = try number(in: 1...WireLimits.recordsPerChunkMax)
            case "log_entries_max": o.logEntriesMax = Int(clamping: try number())
            case "record_cache_kb": o.recordCacheBytes = try number(in: 4...1_048_576) * 1_024
            case "rpo_budget_writes": o.rpoBudgetWrites = try number()
            case "rpo_budget_ms": o.rpoBudgetMillis = try number()
            case "rto_budget_ms": o.rtoBudgetMillis = try number()
            case "previous_release": previous = (lineNo, value)
            case "expect_unsynced_chunks_lost": o.expectUnsyncedChunksLost = try number() > 0
            case "expect_wire_active":
                let n = try number()
                guard WireVersion.supported.contains(UInt8(clamping: n)) else {
                    throw ParseError(
                        line: lineNo,
                        message:
                            "expect_wire_active must be \(WireVersion.supported.lowerBound)...\(WireVersion.supported.upperBound)"
                    )
                }
                o.expectWireActive = UInt8(n)
            case "clock_offset_ms", "clock_drift_ppm":
                var values: [Int64] = []
                for v in value.split(separator: ",") {
                    guard let n = Int64(v.trimmingSpaces) else {
                        throw ParseError(line: lineNo, message: "\(key): \(v) is not an integer")
                    }
                    values.append(n)
                }
                if key == "clock_offset_ms" { offsets = values } else { drift = values }
            default:
                throw ParseError(line: lineNo, message: "unknown setting \(key)")
            }
        }
        // Regions added while the run serves come after the first `regions`.
        let founders = o.regionCount
        let joins = pending.filter { $0.1.count > 2 && $0.1[2] == "add-region" }
        guard founders + joins.count <= Geography.regionNames.count else {
            throw ParseError(
                line: joins.last!.0,
                message: "at most \(Geography.regionNames.count) regions in all, members and added ones")
        }
        let names = Array(Geography.regionNames.prefix(founders + joins.count))
        for (lineNo, words) in pending {
            let f = try fault(words, names: names, line: lineNo)
            if case .addRegion(let r) = f.kind {
                guard r >= founders else {
                    throw ParseError(
                        line: lineNo,
                        message:
                            "\(names[r]) is a member from the start; add-region takes \(names[founders...].joined(separator: ", "))"
                    )
                }
                guard !o.joiningRegions.contains(r) else {
                    throw ParseError(line: lineNo, message: "\(names[r]) is added twice")
                }
            }
            switch f.kind {
            case .retire(let r), .retireLost(let r):
                guard !o.retiringRegions.contains(r) else {
                    throw ParseError(line: lineNo, message: "\(names[r]) is retired twice")
                }
            default: break
            }
            o.scripted.append(f)
            if names.count - o.retiringRegions.count < 2 {
                throw ParseError(line: lineNo, message: "at least two regions must stay in the cluster")
            }
        }
        o.scripted.sort { $0.atMillis < $1.atMillis }
        o.regionCount = names.count
        if let (lineNo, value) = previous {
            o.previousReleaseRegions = try regionList(value, names: names, founders: founders, line: lineNo)
        }
        guard offsets.isEmpty || offsets.count == o.regionCount, drift.isEmpty || drift.count == o.regionCount else {
            throw ParseError(
                line: 0, message: "clock_offset_ms and clock_drift_ppm need one value per region (\(o.regionCount))")
        }
        guard o.logEntriesMax >= o.batchEntriesMax else {
            throw ParseError(
                line: 0, message: "log_entries_max must be at least batch_entries_max (\(o.batchEntriesMax))")
        }
        o.clockOffsetsMillis = offsets.isEmpty ? Array(repeating: 0, count: o.regionCount) : offsets
        o.clockDriftPPM = drift.isEmpty ? Array(repeating: 0, count: o.regionCount) : drift
        return o
    }

    private static func fault(_ w: [Substring], names: [String], line: Int) throws(ParseError) -> ScriptedFault {
        func fail(_ m: String) -> ParseError { ParseError(line: line, message: m) }
        func region(_ i: Int) throws(ParseError) -> Int {
            guard i < w.count else { throw fail("missing region") }
            if let n = Int(w[i]), n >= 0, n < names.count { return n }
            guard let idx = names.firstIndex(of: String(w[i])) else {
                throw fail("unknown region \(w[i]) (this scenario has \(names.joined(separator: ", ")))")
            }
            return idx
        }
        func duration(_ i: Int) throws(ParseError) -> UInt64 {
            guard i < w.count, let ms = millis(w[i]), ms >= 0 else {
                throw fail("expected a duration like 5s or 300ms")
            }
            return UInt64(ms)
        }
        func forDuration(_ i: Int) throws(ParseError) -> UInt64 {
            guard i < w.count, w[i] == "for" else { throw fail("expected `for <duration>`") }
            return try duration(i + 1)
        }
        guard w.count >= 3 else { throw fail("expected `at <time> <fault> …`") }
        let at = try duration(1)
        let kind: ScriptedFault.Kind
        switch w[2] {
        case "crash": kind = .crash(region: try region(3), downMillis: try forDuration(4))
        case "lose": kind = .lose(region: try region(3))
        case "partition": kind = .partition(try region(3), try region(4), millis: try forDuration(5))
        case "oneway": kind = .oneWay(from: try region(3), to: try region(4), millis: try forDuration(5))
        case "isolate": kind = .isolate(region: try region(3), millis: try forDuration(4))
        case "clog":
            guard w.count > 5, w[5].hasPrefix("+") else { throw fail("clog needs +<extra latency>, e.g. +300ms") }
            kind = .clog(try region(3), try region(4), extraMillis: try duration(5), millis: try forDuration(6))
        case "diskfull": kind = .diskFull(region: try region(3), millis: try forDuration(4))
        case "slowdisk":
            guard w.count > 4, w[4].hasPrefix("+") else {
                throw fail("slowdisk needs +<extra commit time>, e.g. +2500ms")
            }
            kind = .slowDisk(region: try region(3), extraMillis: try duration(4), millis: try forDuration(5))
        case "fsyncfail": kind = .fsyncFailure(region: try region(3))
        case "wipe": kind = .wipe(region: try region(3), downMillis: try forDuration(4))
        case "sigterm": kind = .gracefulRestart(region: try region(3), downMillis: try forDuration(4))
        case "backup": kind = .backup(region: try region(3))
        case "restore": kind = .restore(region: try region(3), downMillis: try forDuration(4))
        case "upgrade": kind = .upgrade(region: try region(3), downMillis: try forDuration(4))
        case "add-region": kind = .addRegion(region: try region(3))
        case "retire": kind = .retire(region: try region(3))
        case "retire-lost": kind = .retireLost(region: try region(3))
        case "jump":
            guard w.count > 4, let delta = millis(w[4]) else {
                throw fail("jump needs a signed duration, e.g. -1500ms")
            }
            kind = .clockJump(region: try region(3), deltaMillis: delta)
        default:
            throw fail(
                "unknown fault \(w[2]) (crash, lose, partition, oneway, isolate, clog, jump, diskfull, slowdisk, fsyncfail, wipe, sigterm, backup, restore, upgrade, add-region, retire, retire-lost)"
            )
        }
        return ScriptedFault(atMillis: at, kind: kind)
    }

    /// `all` (the regions there at the start), or a comma list of region names (or
    /// indices) → region indices, in order.
    private static func regionList(_ value: String, names: [String], founders: Int, line: Int) throws(ParseError)
        -> [Int]
    {
        if value == "all" { return Array(0..<founders) }
        var regions: [Int] = []
        for word in value.split(separator: ",").map(\.trimmingSpaces) {
            guard let r = Int(word).flatMap({ names.indices.contains($0) ? $0 : nil }) ?? names.firstIndex(of: word)
            else {
                throw ParseError(
                    line: line, message: "unknown region \(word) (this scenario has \(names.joined(separator: ", ")))")
            }
            if !regions.contains(r) { regions.append(r) }
        }
        return regions.sorted()
    }

    /// `5s`, `300ms`, `+300ms`, `-1.5s` → milliseconds.
    static func millis(_ s: Substring) -> Int64? {
        var t = s
        var sign: Int64 = 1
        if t.first == "+" {
            t = t.dropFirst()
        } else if t.first == "-" {
            sign = -1
            t = t.dropFirst()
        }
        if t.hasSuffix("ms"), let n = Int64(t.dropLast(2)) { return sign * n }
        if t.hasSuffix("s") {
            let body = t.dropLast()
            let parts = body.split(separator: ".", maxSplits: 1)
            guard let whole = Int64(parts[0]) else { return nil }
            var frac: Int64 = 0
            if parts.count == 2 {
                let digits = String(parts[1].prefix(3)).padding(toLength: 3)
                guard let f = Int64(digits) else { return nil }
                frac = f
            }
            return sign * (whole * 1_000 + frac)
        }
        return nil
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }

    func padding(toLength n: Int) -> String {
        let s = String(self)
        return s.count >= n ? s : s + String(repeating: "0", count: n - s.count)
    }
}
