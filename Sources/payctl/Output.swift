import Foundation
import PaymentsClient

/// payctl's printing: aligned tables for people, JSON for scripts.
enum Output {
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        print(line(widths.map { String(repeating: "-", count: $0) }))
        for row in rows { print(line(row)) }
    }

    static func json(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
    }

    static func raw(_ data: Data) {
        if let object = try? JSONSerialization.jsonObject(with: data),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }

    static func payments(_ payments: [RemotePayment], region: String, next: String?, json wantJSON: Bool) {
        if wantJSON {
            json(payments.count == 1 && next == nil ? AnyEncodable(payments[0]) : AnyEncodable(payments))
            return
        }
        table(
            ["id", "merchant", "order", "amount", "currency", "method", "status", "created", "region"],
            payments.map {
                [
                    $0.id, $0.merchantID, $0.orderID, String($0.amount), $0.currency, $0.method, $0.status,
                    $0.createdAt, $0.region,
                ]
            })
        print("(served by \(region)\(next.map { "; next page: --cursor \($0)" } ?? ""))")
    }

    /// One line per change (JSON Lines with --json), flushed at once for --follow.
    static func event(_ e: ChangeEvent, json wantJSON: Bool) {
        if wantJSON {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: (try? encoder.encode(e)) ?? Data(), as: UTF8.self))
        } else {
            let changes = e.changes.keys.sorted().map { "\($0)=\(e.changes[$0]!)" }.joined(separator: " ")
            print(
                "\(e.origin):\(e.seq)  \(e.paymentID)  \(e.payment?.status ?? "-")  by \(e.actor ?? "-")  \(changes)  "
                    + "cursor \(e.cursor)")
        }
        fflush(nil)  // every stream: `stdout` itself is not concurrency-safe to name
    }

    static func history(_ h: PaymentHistoryPage, region: String, json wantJSON: Bool) {
        if wantJSON {
            json(h)
            return
        }
        for c in h.data {
            let changes = c.changes.keys.sorted().map { "\($0)=\(c.changes[$0]!)" }.joined(separator: " ")
            print("\(c.at)  \(c.kind)  by \(c.actor ?? "-")  at \(c.origin):\(c.seq)  \(changes)")
        }
        print("\(h.data.count) changes of \(h.paymentID) (from \(region))" + (h.hasMore ? "; more follow" : ""))
    }

    static func write(_ result: WriteResult, json wantJSON: Bool, session: String) {
        if wantJSON {
            json(result.payment)
            return
        }
        payments([result.payment], region: result.region, next: nil, json: false)
        var notes = ["durable: \(result.durability)"]
        if result.replayed { notes.append("replay of an earlier create (same payment)") }
        if let key = result.idempotencyKey { notes.append("idempotency key: \(key)") }
        notes.append("session token: \(session)")
        print(notes.joined(separator: "; "))
    }

    static func cluster(_ documents: [(String, Data)], json wantJSON: Bool) {
        if wantJSON {
            print("[" + documents.map { String(decoding: $0.1, as: UTF8.self) }.joined(separator: ",") + "]")
            return
        }
        var rows: [[String]] = []
        for (url, data) in documents {
            guard let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let region = doc["region"] as? String
            else {
                rows.append([url, "unreachable", "", "", "", "", ""])
                continue
            }
            let peers = (doc["peers"] as? [[String: Any]]) ?? []
            let peerText = peers.map { p in
                "\(p["region"] as? String ?? "?") \((p["connected"] as? Bool) == true ? "up" : "DOWN") lag \(p["lag_seconds"] ?? 0)s"
            }.joined(separator: ", ")
            let vector = (doc["vector"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map {
                "\($0.key):\($0.value)"
            }
            let atRisk = ((doc["rpo_exposure_amounts"] as? [[String: Any]]) ?? []).map { a in
                "\(a["currency"] ?? "?") \(a["amount"] ?? 0)"
            }
            rows.append([
                url, region, vector.joined(separator: ","), "\(doc["rpo_exposure_seconds"] ?? 0)s",
                atRisk.isEmpty ? "-" : atRisk.joined(separator: ", "), "\(doc["unreplicated_local_entries"] ?? 0)",
                peerText,
            ])
        }
        table(["url", "region", "vector", "rpo exposure", "at risk (minor units)", "unreplicated", "peers"], rows)
    }

    static func conflicts(_ data: Data, region: String, json wantJSON: Bool) {
        if wantJSON { return raw(data) }
        let doc = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        let items = (doc["data"] as? [[String: Any]]) ?? []
        table(
            ["id", "payment", "field", "winner", "loser"],
            items.map { c in
                let w = c["winner"] as? [String: Any] ?? [:]
                let l = c["loser"] as? [String: Any] ?? [:]
                return [
                    "\(c["id"] ?? "")", "\(c["payment_id"] ?? "")", "\(c["field"] ?? "")",
                    "\(w["value"] ?? "") @ \(w["stamp"] ?? "")", "\(l["value"] ?? "") @ \(l["stamp"] ?? "")",
                ]
            })
        print("(served by \(region)\((doc["next_cursor"] as? String).map { "; next page: --cursor \($0)" } ?? ""))")
    }

    static func regions(_ regions: [PaymentsClient.RegionState], json wantJSON: Bool) {
        struct Row: Encodable {
            let url: String
            let region: String?
            let latencyMs: Double?
            let healthy: Bool

            enum CodingKeys: String, CodingKey {
                case url, region, healthy
                case latencyMs = "latency_ms"
            }
        }
        let rows = regions.map {
            Row(
                url: $0.url, region: $0.name, latencyMs: $0.latencyMicros.map { Double($0) / 1_000 },
                healthy: $0.healthy)
        }
        if wantJSON { return json(rows) }
        table(
            ["url", "region", "latency", "state"],
            rows.map {
                [
                    $0.url, $0.region ?? "?", $0.latencyMs.map { String(format: "%.1f ms", $0) } ?? "-",
                    $0.healthy ? "healthy" : "failing",
                ]
            })
    }
}

/// Type erasure for JSON output of one value or a list.
struct AnyEncodable: Encodable {
    let encodeValue: (Encoder) throws -> Void
    init(_ value: some Encodable) { encodeValue = value.encode }
    func encode(to encoder: Encoder) throws { try encodeValue(encoder) }
}
