/// A self-contained HTML page (inline SVG, no network fetches) with one run's timeline:
/// region up/down lanes with fault marks, then RPO exposure and replication lag per region.
public enum HTMLReport {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    static let width = 1_000.0
    static let left = 130.0

    public static func render(_ r: SimResult) -> String {
        let endMicros = Double(max(r.samples.last?.atMicros ?? 1, 1))
        func x(_ t: UInt64) -> Double { left + (width - left - 10) * Double(t) / endMicros }
        var svg = ""
        // Lanes.
        let laneHeight = 26.0
        for (i, name) in r.regions.enumerated() {
            let y = 20 + Double(i) * laneHeight
            svg += "<text x=\"4\" y=\"\(y + 11)\" font-size=\"12\">\(escape(name))</text>"
            if i < r.clocks.count {
                let c = r.clocks[i]
                svg += "<text x=\"4\" y=\"\(y + 21)\" font-size=\"8\" fill=\"#666\">clock \(c.offsetMillis >= 0 ? "+" : "")\(c.offsetMillis) ms, \(c.driftPPM) ppm</text>"
            }
            var segmentStart: UInt64?
            for (k, s) in r.samples.enumerated() {
                let down = !s.regions[i].up
                if down && segmentStart == nil { segmentStart = s.atMicros }
                let last = k == r.samples.count - 1
                if let start = segmentStart, !down || last {
                    svg += "<rect x=\"\(x(start))\" y=\"\(y)\" width=\"\(max(x(s.atMicros) - x(start), 1))\" height=\"18\" fill=\"#e45756\"/>"
                    segmentStart = nil
                }
            }
            svg += "<line x1=\"\(left)\" y1=\"\(y + 18)\" x2=\"\(width - 10)\" y2=\"\(y + 18)\" stroke=\"#ccc\"/>"
        }
        for m in r.timeline {
            let lane = m.region.map { 20 + Double($0) * laneHeight } ?? 8
            if let until = m.untilMicros, until > m.atMicros {
                // A fault that lasts: a band from its start to its end.
                svg += "<rect x=\"\(x(m.atMicros))\" y=\"\(lane + 2)\" width=\"\(max(x(until) - x(m.atMicros), 1))\" height=\"14\" "
                    + "fill=\"#f2b134\" fill-opacity=\"0.35\"><title>\(escape(m.label)) until \(until / 1_000) ms</title></rect>"
            }
            svg += "<line x1=\"\(x(m.atMicros))\" y1=\"\(lane)\" x2=\"\(x(m.atMicros))\" y2=\"\(lane + 18)\" stroke=\"#333\"/>"
            svg += "<title>\(escape(m.label))</title>"
            svg += "<text x=\"\(x(m.atMicros) + 2)\" y=\"\(lane + 10)\" font-size=\"9\">\(escape(m.label))</text>"
        }
        let lanesHeight = 30 + Double(r.regions.count) * laneHeight
        svg += axis(endMicros: UInt64(endMicros), y: lanesHeight - 6, x: x)
        let rpo = chart(r, title: "RPO exposure (ms): age of the oldest local write not yet durable elsewhere", top: lanesHeight + 20,
                        value: { $0.rpoExposureMillis }, x: x)
        let lag = chart(r, title: "replication lag to the slowest peer (ms)", top: lanesHeight + 220, value: { $0.lagMillisMax }, x: x)
        let legend = r.regions.enumerated().map {
            "<span style=\"color:\(colors[$0.offset % colors.count])\">■ \(escape($0.element))</span>"
        }.joined(separator: " &nbsp; ")
        let rows = r.outages.map {
            "<tr><td>\(escape($0.region))</td><td>\($0.startMillis)</td><td>\($0.permanent ? "lost" : "crash")</td><td>\($0.rtoMillis.map(String.init) ?? "-")</td></tr>"
        }.joined()
        let violations = r.violations.isEmpty ? "<p>No violations.</p>"
            : "<ul>" + r.violations.map { "<li><b>\($0.kind.rawValue)</b>: \(escape($0.message))</li>" }.joined() + "</ul>"
        return """
        <!doctype html><html><head><meta charset="utf-8"><title>paysim seed \(r.seed)</title>
        <style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}</style>
        </head><body>
        <h1>paysim: seed \(r.seed) (\(escape(r.options.name)))</h1>
        <p>\(r.passed ? "PASS" : "FAIL") · trace hash <code>\(r.traceHash)</code> · regions \(r.regions.count) · faults \(escape(SimReport.faultSummary(r.options)))
        · writes acked \(r.writesAcked) · local writes lost \(r.rpoLostWrites) (window \(r.rpoWindowMillis) ms)
        · converged \(r.convergedAfterHealMillis.map { "\($0) ms after heal" } ?? "never")</p>
        <p>Replay: <code>\(escape("paysim --seed \(r.seed)" + (r.options.name == "swarm" ? "" : " --scenario <file of \(r.options.name)>")))</code></p>
        <p>\(legend) &nbsp; <span style="color:#e45756">■ region down</span></p>
        <svg width="\(Int(width))" height="\(Int(lanesHeight + 420))" xmlns="http://www.w3.org/2000/svg">\(svg)\(rpo)\(lag)</svg>
        <h2>Outages</h2><table><tr><th>region</th><th>at ms</th><th>kind</th><th>RTO ms</th></tr>\(rows)</table>
        <h2>Violations</h2>\(violations)
        </body></html>
        """
    }

    static func chart(_ r: SimResult, title: String, top: Double, value: (SimSample.RegionPoint) -> UInt64, x: (UInt64) -> Double) -> String {
        let height = 160.0
        let maxValue = Double(max(r.samples.flatMap { $0.regions.map(value) }.max() ?? 1, 1))
        var s = "<text x=\"4\" y=\"\(top - 4)\" font-size=\"12\">\(escape(title)) — max \(Int(maxValue))</text>"
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - 10)\" height=\"\(height)\" fill=\"none\" stroke=\"#ccc\"/>"
        for i in r.regions.indices {
            let points = r.samples.map { sample -> String in
                let v = Double(value(sample.regions[i]))
                return "\(x(sample.atMicros)),\(top + height - height * v / maxValue)"
            }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"1.2\" points=\"\(points)\"/>"
        }
        return s
    }

    /// A time axis: a tick and a label every 1, 2, 5, 10, ... seconds, about ten of them.
    static func axis(endMicros: UInt64, y: Double, x: (UInt64) -> Double) -> String {
        let seconds = max(1, endMicros / 1_000_000)
        let steps: [UInt64] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600]
        let step: UInt64 = steps.first { seconds / $0 <= 12 } ?? 1_200
        var s = "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - 10)\" y2=\"\(y)\" stroke=\"#999\"/>"
        for t in stride(from: UInt64(0), through: seconds, by: Int(step)) {
            let px = x(t * 1_000_000)
            s += "<line x1=\"\(px)\" y1=\"\(y - 3)\" x2=\"\(px)\" y2=\"\(y + 3)\" stroke=\"#999\"/>"
            s += "<text x=\"\(px - 6)\" y=\"\(y + 13)\" font-size=\"9\" fill=\"#666\">\(t) s</text>"
        }
        return s
    }

    static func escape(_ s: String) -> String {
        s.replacingAll("&", "&amp;").replacingAll("<", "&lt;").replacingAll(">", "&gt;").replacingAll("\"", "&quot;")
    }
}

extension String {
    func replacingAll(_ a: Character, _ b: String) -> String {
        var out = ""
        for ch in self { if ch == a { out += b } else { out.append(ch) } }
        return out
    }
}
