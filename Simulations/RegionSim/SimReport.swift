import PaymentsWire
import ReplicaCore

/// Terminal tables and JSON for simulation results.
public enum SimReport {
    /// Faults a run had on, in short words.
    public static func faultSummary(_ o: SimOptions) -> String {
        var f: [String] = []
        if o.crashesPerMinute > 0 { f.append("crash") }
        if o.loseRegionAtMillis != nil
            || o.scripted.contains(where: {
                switch $0.kind {
                case .lose, .retireLost: true
                default: false
                }
            })
        {
            f.append("loss")
        }
        if o.partitionsPerMinute > 0 { f.append("part") }
        if o.oneWayPartitionsPerMinute > 0 { f.append("1way") }
        if o.cloggingPerMinute > 0 { f.append("clog") }
        if o.connectionResetsPerMinute > 0 { f.append("reset") }
        if o.lossPerMillion > 0 { f.append("pktloss") }
        if o.clockOffsetsMillis.contains(where: { $0 != 0 }) || o.clockDriftPPM.contains(where: { $0 != 0 }) {
            f.append("skew")
        }
        if o.clockJumpsPerMinute > 0 { f.append("jump") }
        if o.diskFullPerMinute > 0 { f.append("full") }
        if o.fsyncFailuresPerMinute > 0 { f.append("fsync") }
        if o.wipesPerMinute > 0 { f.append("wipe") }
        if o.gracefulRestartsPerMinute > 0 { f.append("term") }
        if o.crashBeforeFsyncPerMillion > 0 { f.append("torn") }
        if o.duplicateRequestPercent > 0 { f.append("dup") }
        if o.twinCreatePercent > 0 { f.append("twin") }
        if o.scripted.contains(where: { if case .upgrade = $0.kind { true } else { false } }) {
            f.append("upgrade")
        } else if !o.previousReleaseRegions.isEmpty {
            f.append("prev")
        }
        if !o.joiningRegions.isEmpty { f.append("join") }
        if !o.retiringRegions.isEmpty { f.append("retire") }
        // Upgrades, joins and retirements are named above (a swarm seed may draw them too).
        let scripted = o.scripted.filter {
            switch $0.kind {
            case .upgrade, .addRegion, .retire, .retireLost: false
            default: true
            }
        }
        if !scripted.isEmpty { f.append("script:\(scripted.count)") }
        return f.isEmpty ? "none" : f.joined(separator: ",")
    }

    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    /// One row per run: what it was, what it cost, whether it passed. Without
    /// `speedups` the table has no speed column: it is then the same on every machine.
    public static func table(_ results: [SimResult], speedups: [Double]?) -> String {
        var header = [
            "seed", "name", "regions", "faults", "writes", "lost", "RPO ms", "RTO ms", "converge ms", "sim-s/wall-s",
            "trace hash", "result",
        ]
        if speedups == nil { header.remove(at: 9) }
        var rows: [[String]] = []
        for (i, r) in results.enumerated() {
            let rpo = r.rpoLostWrites > 0 ? String(r.rpoWindowMillis) : "-"
            let rto = r.rtoMillisMax.map(String.init) ?? "-"
            let converged = r.convergedAfterHealMillis.map(String.init) ?? "NO"
            let result = r.passed ? "pass" : "FAIL(\(r.exitCode))"
            var row: [String] = [String(r.seed), r.options.name, String(r.regions.count), faultSummary(r.options)]
            row += [String(r.writesAcked), String(r.rpoLostWrites), rpo, rto, converged, r.traceHash, result]
            if let speedups { row.insert(String(Int(speedups[i])), at: 9) }
            rows.append(row)
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        var out = "| " + header.indices.map { pad(header[$0], widths[$0]) }.joined(separator: " | ") + " |\n"
        out += "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|\n"
        for row in rows { out += "| " + row.indices.map { pad(row[$0], widths[$0]) }.joined(separator: " | ") + " |\n" }
        return out
    }

    /// Totals over a block of runs.
    public static func blockSummary(_ results: [SimResult], wallSeconds: Double, jobs: Int = 1) -> String {
        let simSeconds = Double(results.map(\.simulatedMillis).reduce(0, +)) / 1_000
        let failed = results.filter { !$0.passed }
        var probes = SimProbes()
        for r in results { probes.formUnion(r.probes) }
        var s = "runs \(results.count), passed \(results.count - failed.count), failed \(failed.count)\n"
        s +=
            "writes acked \(results.map(\.writesAcked).reduce(0, +)), local writes lost with a lost region \(results.map(\.rpoLostWrites).reduce(0, +))"
        s +=
            ", worst RPO window \(results.map(\.rpoWindowMillis).max() ?? 0) ms, worst RTO \(results.compactMap(\.rtoMillisMax).max() ?? 0) ms\n"
        func total(_ k: KeyPath<SimStats, UInt64>) -> UInt64 { results.map { $0.stats[keyPath: k] }.reduce(0, +) }
        let resynced = results.filter { $0.stats.feedResyncs > 0 }.count
        let unsyncedLost = results.filter { $0.stats.unsyncedGroupsLost > 0 }.count
        if unsyncedLost > 0 {
            s +=
                "power losses that took back snapshot chunks committed without their fsync: \(total(\.unsyncedGroupsLost)) in \(unsyncedLost) runs\n"
        }
        s +=
            "change feed: \(total(\.feedChanges)) changes shown once each to the consumer, \(total(\.feedFailovers)) failovers, "
            + "\(total(\.feedRefusals)) cursors refused; \(resynced) runs re-synced after every region refused "
            + "(\(total(\.feedSkipped)) changes skipped, each refusal told)\n"
        s +=
            "histories: \(total(\.historiesCompared)) payment histories the same at every region, "
            + "\(total(\.historiesTruncated)) refused as truncated by a region that caught up from a snapshot\n"
        let upgraded = results.filter { !$0.options.previousReleaseRegions.isEmpty }
        if !upgraded.isEmpty {
            let opened = upgraded.filter { $0.stats.wireGateOpenedMillis > 0 }
            s +=
                "releases: \(upgraded.count) runs started regions on the release before; \(total(\.upgrades)) upgrades; "
                + "the newest wire format turned on in \(opened.count) of them"
                + (opened.isEmpty ? "" : " (latest at \(opened.map(\.stats.wireGateOpenedMillis).max()!) ms)")
                + "; \(total(\.writesWithoutActor)) acknowledged writes name no actor (taken before it was on)\n"
        }
        let joined = results.filter { !$0.options.joiningRegions.isEmpty }
        if !joined.isEmpty {
            let wrote = joined.filter { $0.stats.joinedRegionWrites > 0 }
            s +=
                "joins: \(joined.count) runs added a region while serving (\(total(\.regionsAdded)) added); "
                + "\(wrote.count) of them took writes there (\(total(\.joinedRegionWrites)) acknowledged"
                + (wrote.isEmpty
                    ? ")"
                    : ", the latest first write \(wrote.map(\.stats.joinFirstWriteMillis).max()!) ms after its join)")
                + "\n"
        }
        let retired = results.filter { !$0.options.retiringRegions.isEmpty }
        if !retired.isEmpty {
            let clean = retired.filter { $0.stats.regionsRetired > 0 }
            s +=
                "retirements: \(retired.count) runs retired a region; \(total(\.regionsRetired)) decommissioned "
                + "(drained, stopped, every member told"
                + (clean.isEmpty ? ")" : "; the longest took \(clean.map(\.stats.retireMillisMax).max()!) ms)")
                + ", \(total(\.regionsRetiredLost)) lost and retired (survivors reported "
                + "\(total(\.retiredLostEntriesReported)) of their writes lost; \(total(\.retiredLostEntriesTrue)) were)\n"
        }
        s +=
            "simulated \(Int(simSeconds)) s in \(String(format1(wallSeconds))) s wall: \(Int(simSeconds / max(wallSeconds, 0.001)))x real time"
            + (jobs > 1 ? " (\(jobs) seeds at a time)" : "") + "\n"
        s +=
            "probes: "
            + zip(SimProbes.names, probes.fired).map { "\($0.0) \($0.1 ? "yes" : "NO")" }.joined(separator: ", ") + "\n"
        return s
    }

    static func format1(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: JSON

    static func json(_ s: String) -> String { JSONString.quote(s) }

    /// The results as a JSON array (one object per run).
    public static func jsonReport(_ results: [SimResult], speedups: [Double]) -> String {
        let items = zip(results, speedups).map { r, speed -> String in
            let outages = r.outages.map {
                "{\"region\":\(json($0.region)),\"start_ms\":\($0.startMillis),\"permanent\":\($0.permanent),\"rto_ms\":\($0.rtoMillis.map(String.init) ?? "null")}"
            }.joined(separator: ",")
            let violations = r.violations.map { "{\"kind\":\(json($0.kind.rawValue)),\"message\":\(json($0.message))}" }
                .joined(separator: ",")
            let probes = zip(SimProbes.names, r.probes.fired).map { "\(json($0.0)):\($0.1)" }.joined(separator: ",")
            return """
                {"seed":\(r.seed),"name":\(json(r.options.name)),"regions":[\(r.regions.map(json).joined(separator: ","))],\
                "faults":\(json(faultSummary(r.options))),"trace_hash":\(json(r.traceHash)),"passed":\(r.passed),"exit_code":\(r.exitCode),\
                "writes_acked":\(r.writesAcked),"rpo_lost_writes":\(r.rpoLostWrites),"rpo_window_ms":\(r.rpoWindowMillis),\
                "rto_ms_max":\(r.rtoMillisMax.map(String.init) ?? "null"),"converged_after_heal_ms":\(r.convergedAfterHealMillis.map(String.init) ?? "null"),\
                "simulated_ms":\(r.simulatedMillis),"events":\(r.events),"sim_seconds_per_wall_second":\(Int(speed)),\
                "messages":\(r.stats.messages),"bytes":\(r.stats.bytes),"crashes":\(r.stats.crashes),"wipes":\(r.stats.wipes),\
                "disk_faults":\(r.stats.diskFaults),"refused_unavailable":\(r.stats.unavailable),"refused_clock":\(r.stats.clockRefusals),"refused_clock_unverified":\(r.stats.clockUnverifiedRefusals),"clock_first_reading_wait_ms_max":\(r.stats.clockFirstReadingWaitMillisMax),"outages":[\(outages)],"probes":{\(probes)},"violations":[\(violations)]}
                """
        }
        return "[\n" + items.joined(separator: ",\n") + "\n]\n"
    }
}
