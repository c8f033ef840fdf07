import ReplicaCore

/// The report's RPO exposure in money: per currency, a chart of each region's amounts
/// that no other region holds yet (what losing that region at that moment would lose;
/// the node's `paynode_rpo_exposure_amount`), on the timeline's time axis, and a table
/// of each currency's worst moment.
extension HTMLReport {
    /// Currencies that were ever at risk, sorted.
    static func currenciesAtRisk(_ r: SimResult) -> [String] {
        Set(r.samples.flatMap { $0.regions.flatMap { $0.atRisk.filter { $0.minorUnits != 0 }.map(\.currency) } })
            .sorted()
    }

    /// One chart per currency, stacked from `top`, the time axis under the last; returns
    /// the SVG and its height.
    static func moneyCharts(_ r: SimResult, top: Double, x: (UInt64) -> Double) -> (svg: String, height: Double) {
        let currencies = currenciesAtRisk(r)
        guard !currencies.isEmpty else { return ("", 0) }
        var svg = ""
        var y = top
        for currency in currencies {
            svg += chart(
                r,
                title:
                    "\(currency) at risk: payments with a write committed in the region that no other region has acknowledged",
                top: y, height: moneyChartHeight, value: { amount($0, currency) }, label: { money($0, currency) }, x: x)
            y += moneyChartHeight + 40
        }
        svg += axis(endMicros: r.samples.last?.atMicros ?? 0, y: y - 40 + 4, x: x)
        return (svg, y - top)
    }

    static let moneyChartHeight = 110.0

    /// The region's amount of `currency` at risk at one sample (0 when none).
    static func amount(_ point: SimSample.RegionPoint, _ currency: String) -> Int64 {
        point.atRisk.first { $0.currency == currency }?.minorUnits ?? 0
    }

    /// Per currency, the sample where one region had the most of it at risk.
    static func worstMoments(_ r: SimResult) -> String {
        let currencies = currenciesAtRisk(r)
        guard !currencies.isEmpty else {
            return "<p>At no sample did a region hold a write that no other region had acknowledged.</p>"
        }
        var rows = ""
        for currency in currencies {
            var worst: (atMicros: UInt64, region: Int, minorUnits: Int64)?
            for s in r.samples {
                for (i, point) in s.regions.enumerated() {
                    let v = amount(point, currency)
                    if v > (worst?.minorUnits ?? 0) { worst = (s.atMicros, i, v) }
                }
            }
            guard let w = worst else { continue }
            rows +=
                "<tr><td>\(escape(currency))</td><td>\(escape(r.regions[w.region]))</td><td>\(seconds(w.atMicros))</td>"
                + "<td style=\"text-align:right\">\(escape(money(w.minorUnits, currency)))</td>"
                + "<td style=\"text-align:right\">\(w.minorUnits)</td></tr>"
        }
        return "<p>The sample where one region alone held the most of a currency: what losing it then would have lost. "
            + "As the node's <code>paynode_rpo_exposure_amount</code>, it counts every write committed there, "
            + "<code>remote</code> ones too until a peer acknowledges them (their clients have had no answer yet).</p>"
            + "<table><tr><th>currency</th><th>region</th><th>at s</th><th>at risk</th><th>minor units</th></tr>\(rows)</table>"
    }

    /// `micros` as seconds with one decimal, from integers.
    static func seconds(_ micros: UInt64) -> String { "\(micros / 1_000_000).\(micros / 100_000 % 10)" }

    /// `minorUnits` in the currency's major units, grouped by thousands: `1,234.56 USD`,
    /// `98,765 JPY` (integer arithmetic only).
    static func money(_ minorUnits: Int64, _ currency: String) -> String {
        let digits = ISO4217.minorUnitDigits(currency) ?? 2
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let magnitude = minorUnits.magnitude
        var major = String(magnitude / scale)
        var grouped = ""
        while major.count > 3 {
            grouped = "," + major.suffix(3) + grouped
            major.removeLast(3)
        }
        grouped = major + grouped
        var text = (minorUnits < 0 ? "-" : "") + grouped
        if digits > 0 {
            let fraction = String(magnitude % scale)
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return text + " " + currency
    }
}
