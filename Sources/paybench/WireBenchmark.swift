import Foundation
import LZ4
import ReplicaCore
import ReplicaTransport

/// `paybench wire`: bytes per replicated create on the wire, raw vs plain LZ4 vs LZ4 with
/// the peer dictionary (what nodes send), by batch size, for entries made by a real
/// engine from API-like creates.
enum WireBenchmark {
    static func entries(_ count: Int) -> [LogEntry] {
        let region = RegionID("ap-northeast-1")!
        let writer = ShellWriter(region: region, recovered: RecoveredState())
        var rng = SystemRandomNumberGenerator()
        var out: [LogEntry] = []
        let start: UInt64 = 1_800_000_000_000
        for i in 0..<count {
            let order = "order-" + String(format: "%06d", i)
            let create = CreatePayment(
                merchantID: "m_shop_42", orderID: order, amount: Int64(100 + (i * 37) % 90_000),
                currency: "EUR", method: .card, description: "Order \(order) at shop 42",
                metadata: ["channel": "web", "cart": order])
            let now = start + UInt64(i / 2)
            let id = PaymentID.generated(wallMillis: now, entropy: (rng.next(), UInt16.random(in: 0...UInt16.max)))
            out += writer.write(.create(id, create, idempotent: false), nowMillis: now).entries.map(\.entry)
        }
        return out
    }

    static func run(count: Int) throws {
        let all = entries(count)
        print(
            "| batch entries | raw bytes/entry | plain LZ4 frame bytes/entry | ratio | LZ4 + peer dictionary (sent) bytes/entry | ratio |"
        )
        print("|---:|---:|---:|---:|---:|---:|")
        for size in [1, 4, 8, 16, 32, 64, 128, 512] {
            var raw = 0
            var plain = 0
            var sent = 0
            var i = 0
            var batchID: UInt64 = 1
            while i < all.count {
                let batch = Array(all[i..<min(all.count, i + size)])
                let message = PeerMessage.delta(batchID: batchID, entries: batch)
                let frame = PeerFrame.encode(message)
                raw += frame.messageBytes + PeerFrame.headerBytes + 1
                sent += frame.bytes.count
                plain += try LZ4Frame.compress(message.encoded(), checksummed: false).count + PeerFrame.headerBytes + 1
                i += size
                batchID += 1
            }
            let n = Double(all.count)
            print(
                String(
                    format: "| %d | %.0f | %.0f | %.2fx | %.0f | %.2fx |", size, Double(raw) / n, Double(plain) / n,
                    Double(raw) / Double(plain), Double(sent) / n, Double(raw) / Double(sent)))
        }
    }
}
