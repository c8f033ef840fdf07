/// A self-contained HTML page (inline SVG, no network fetches) with one run's timeline:
/// region up/down lanes with fault marks, then RPO exposure (in time, and in money per
/// currency) and replication lag per region.
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
                svg +=
                    "<text x=\"4\" y=\"\(y + 21)\" font-size=\"8\" fill=\"#666\">clock \(c.offsetMillis >= 0 ? "+" : "")\(c.offsetMillis) ms, \(c.driftPPM) ppm</text>"
            }
            var segmentStart: UInt64?
            for (k, s) in r.samples.enumerated() {
                let down = !s.regions[i].up
                if down && segmentStart == nil { segmentStart = s.atMicros }
                let last = k == r.samples.count - 1
                if let start = segmentStart, !down || last {
                    svg +=
                        "<rect x=\"\(x(start))\" y=\"\(y)\" width=\"\(max(x(s.atMicros) - x(start), 1))\" height=\"18\" fill=\"#e45756\"/>"
                    segmentStart = nil
                }
            }
            svg += "<line x1=\"\(left)\" y1=\"\(y + 18)\" x2=\"\(width - 10)\" y2=\"\(y + 18)\" stroke=\"#ccc\"/>"
        }
        // Each mark's label gets the room up to the next mark in its lane: cut short
        // there (whole in its tooltip), left out when too little is left to read.
        let marks = r.timeline.sorted { ($0.region ?? -1, $0.atMicros) < ($1.region ?? -1, $1.atMicros) }
        for (k, m) in marks.enumerated() {
            let lane = m.region.map { 20 + Double($0) * laneHeight } ?? 8
            var tip = escape(m.label)
            if let until = m.untilMicros, until > m.atMicros {
                // A fault that lasts: a band from its start to its end.
                tip += " until \(until / 1_000) ms"
                svg +=
                    "<rect x=\"\(x(m.atMicros))\" y=\"\(lane + 2)\" width=\"\(max(x(until) - x(m.atMicros), 1))\" height=\"14\" "
                    + "fill=\"#f2b134\" fill-opacity=\"0.35\"><title>\(tip)</title></rect>"
            }
            let last = k + 1 == marks.count || marks[k + 1].region != m.region
            let room = (last ? width : x(marks[k + 1].atMicros)) - x(m.atMicros) - 4
            var text =
                "<text x=\"\(x(m.atMicros) + 2)\" y=\"\(lane + 12)\" font-size=\"9\">\(escape(fitted(m.label, room: room)))</text>"
            if last && fitted(m.label, room: room) != m.label {
                // The lane's last mark, at the right edge: its label goes to the left of it.
                text =
                    "<text x=\"\(x(m.atMicros) - 2)\" y=\"\(lane + 12)\" font-size=\"9\" text-anchor=\"end\">\(escape(m.label))</text>"
            }
            svg +=
                "<g><title>\(tip) (at \(m.atMicros / 1_000) ms)</title>"
                + "<line x1=\"\(x(m.atMicros))\" y1=\"\(lane)\" x2=\"\(x(m.atMicros))\" y2=\"\(lane + 18)\" stroke=\"#333\"/>"
                + text + "</g>"
        }
        let lanesHeight = 30 + Double(r.regions.count) * laneHeight
        svg += axis(endMicros: UInt64(endMicros), y: lanesHeight - 6, x: x)
        let rpo = chart(
            r, title: "RPO exposure (ms): age of the oldest local write not yet durable elsewhere",
            top: lanesHeight + 30,
            value: { Int64(clamping: $0.rpoExposureMillis) }, x: x)
        let lag = chart(
            r, title: "replication lag to the slowest peer (ms)", top: lanesHeight + 230,
            value: { Int64(clamping: $0.lagMillisMax) }, x: x)
        let money = moneyCharts(r, top: lanesHeight + 430, x: x)
        let legend = r.regions.enumerated().map {
            "<span style=\"color:\(colors[$0.offset % colors.count])\">■ \(escape($0.element))</span>"
        }.joined(separator: " &nbsp; ")
        let rows = r.outages.map {
            "<tr><td>\(escape($0.region))</td><td>\($0.startMillis)</td><td>\($0.permanent ? "lost" : "crash")</td><td>\($0.rtoMillis.map(String.init) ?? "-")</td></tr>"
        }.joined()
        let violations =
            r.violations.isEmpty
            ? "<p>No violations.</p>"
            : "<ul>" + r.violations.map { "<li><b>\($0.kind.rawValue)</b>: \(escape($0.message))</li>" }.joined()
                + "</ul>"
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
            <svg width="\(Int(width))" height="\(Int(lanesHeight + 430 + money.height))" xmlns="http://www.w3.org/2000/svg">\(svg)\(rpo)\(lag)\(money.svg)</svg>
            <h2>Money at risk: each currency's worst moment</h2>\(worstMoments(r))
            <h2>Outages</h2><table><tr><th>region</th><th>at ms</th><th>kind</th><th>RTO ms</th></tr>\(rows)</table>
            <h2>Violations</h2>\(violations)
            </body></html>
            """
    }

    /// A line per region of `value` over the samples, scaled to its largest value, which
    /// the title and the left margin give (through `label`); faint lines mark the time
    /// axis's seconds.
    static func chart(
        _ r: SimResult, title: String, top: Double, height: Double = 160, value: (SimSample.RegionPoint) -> Int64,
        label: (Int64) -> String = { String($0) }, x: (UInt64) -> Double
    ) -> String {
        let largest = max(r.samples.flatMap { $0.regions.map(value) }.max() ?? 1, 1)
        let maxValue = Double(largest)
        var s =
            "<text x=\"4\" y=\"\(top - 5)\" font-size=\"12\">\(escape(title)) — max \(escape(label(largest)))</text>"
        for t in ticks(endMicros: r.samples.last?.atMicros ?? 0) {
            s += "<line x1=\"\(x(t))\" y1=\"\(top)\" x2=\"\(x(t))\" y2=\"\(top + height)\" stroke=\"#eee\"/>"
        }
        s +=
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(width - left - 10)\" height=\"\(height)\" fill=\"none\" stroke=\"#ccc\"/>"
        s +=
            "<text x=\"\(left - 4)\" y=\"\(top + 9)\" font-size=\"9\" fill=\"#666\" text-anchor=\"end\">\(escape(label(largest)))</text>"
        s += "<text x=\"\(left - 4)\" y=\"\(top + height)\" font-size=\"9\" fill=\"#666\" text-anchor=\"end\">0</text>"
        for i in r.regions.indices {
            let points = r.samples.map { sample -> String in
                let v = Double(value(sample.regions[i]))
                return "\(x(sample.atMicros)),\(top + height - height * v / maxValue)"
            }.joined(separator: " ")
            s +=
                "<polyline fill=\"none\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"1.2\" points=\"\(points)\"/>"
        }
        return s
    }

    /// The time axis's ticks (µs): every 1, 2, 5, 10, ... seconds, about ten of them.
    static func ticks(endMicros: UInt64) -> [UInt64] {
        let seconds = max(1, endMicros / 1_000_000)
        let steps: [UInt64] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600]
        let step: UInt64 = steps.first { seconds / $0 <= 12 } ?? 1_200
        return stride(from: UInt64(0), through: seconds, by: Int(step)).map { $0 * 1_000_000 }
    }

    /// A time axis at `y`, labelled at `ticks`.
    static func axis(endMicros: UInt64, y: Double, x: (UInt64) -> Double) -> String {
        var s = "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - 10)\" y2=\"\(y)\" stroke=\"#999\"/>"
        for t in ticks(endMicros: endMicros) {
            let px = x(t)
            s += "<line x1=\"\(px)\" y1=\"\(y - 3)\" x2=\"\(px)\" y2=\"\(y + 3)\" stroke=\"#999\"/>"
            s += "<text x=\"\(px - 6)\" y=\"\(y + 13)\" font-size=\"9\" fill=\"#666\">\(t / 1_000_000) s</text>"
        }
        return s
    }

    /// `label` cut to what about `room` pixels of 9 px text hold ("" when under four characters do).
    static func fitted(_ label: String, room: Double) -> String {
        let fits = Int(room / 5.3)
        if label.count <= fits { return label }
        return fits < 4 ? "" : label.prefix(fits - 1) + "…"
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
