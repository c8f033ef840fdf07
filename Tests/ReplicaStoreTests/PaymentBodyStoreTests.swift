import Foundation
import PaymentsWire
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// A payment's body written from its row's columns (`StoreReader.paymentBody`, what the
/// read fast path answers) is, byte for byte, the JSON of the payment its record holds
/// (`PaymentJSON.payment`, what the router answers); and a row whose columns are not as
/// written gives no body, so the read goes to the record.
@Suite struct PaymentBodyStoreTests {
    /// A small seeded generator, so a failure replays from its seed.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Free text with what JSON must escape and what it must not touch.
    static let pieces = [
        "plain", "\"quoted\"", "back\\slash", "line\nbreak", "tab\there", "cr\r", "é", "日本", "💳", "a/b", "<>&", " ",
    ]

    static func text(_ r: inout Random, parts: Int = 3) -> String {
        (0..<Int.random(in: 1...parts, using: &r)).map { _ in pieces.randomElement(using: &r)! }.joined()
    }

    static func create(_ i: Int, _ r: inout Random) -> CreatePayment {
        let metadata: [String: String]? =
            Bool.random(using: &r)
            ? Dictionary(uniqueKeysWithValues: (0..<Int.random(in: 0...4, using: &r)).map { ("k\($0)", text(&r)) })
            : nil
        return CreatePayment(
            merchantID: "m_\(i % 5)", orderID: "order-\(i)",
            amount: Int64.random(in: 1...1_000_000_000_000_000, using: &r),
            currency: ["USD", "EUR", "JPY"].randomElement(using: &r)!,
            method: Bool.random(using: &r) ? .card : .bankTransfer,
            paymentKey: Bool.random(using: &r) ? "pk_\(i)" : nil,
            customerID: Bool.random(using: &r) ? "cust_\(i)" : nil,
            description: Bool.random(using: &r) ? text(&r) : nil, metadata: metadata)
    }

    @Test func theBodyFromTheColumnsIsTheRecordsPaymentJSON_overGeneratedPayments() throws {
        let tmp = TempStore()
        let store = try tmp.open(.normal)
        var w = Writer()
        var r = Random(state: 20_261_205)
        var ids: [PaymentID] = []
        var now: UInt64 = 1_764_000_000_000
        for i in 0..<200 {
            let c = Self.create(i, &r)
            let id = PaymentID.derived(merchantID: c.merchantID, idempotencyKey: "k\(i)")
            now += UInt64.random(in: 0...2, using: &r)
            try store.commit([w.submit(.create(id, c, idempotent: true), at: now)])
            ids.append(id)
            // Some are changed after: a newer version, cleared and replaced fields.
            if Bool.random(using: &r) {
                now += 1
                let patch = PaymentPatch(
                    status: .authorized, paymentKey: Bool.random(using: &r) ? .clear : .set("pk2_\(i)"),
                    description: .set(Self.text(&r)), metadata: Bool.random(using: &r) ? .clear : .set(["x": "\"y\""]))
                try store.commit([w.submit(.update(id, patch), at: now)])
            }
        }
        let reader = try store.reader()
        for id in ids {
            let payment = try #require(try reader.payment(id))
            let body = try #require(try reader.paymentBody(id))
            #expect(body == PaymentBody(payment), "\(id): \(String(decoding: body.json, as: UTF8.self))")
        }
        #expect(try reader.paymentBody(PaymentID.derived(merchantID: "m_0", idempotencyKey: "never")) == nil)
    }

    @Test func aRowWhoseColumnsAreNotAsWrittenGivesNoBody_andItsRecordStillReads() throws {
        let tmp = TempStore()
        let store = try tmp.open(.normal)
        var w = Writer()
        try store.commit([w.create(1, at: 1_000)])
        let id = PaymentID.derived(merchantID: "m1", idempotencyKey: "k1")
        let reader = try store.reader()
        #expect(try reader.paymentBody(id) != nil)

        let raw = try SQLiteDatabase(path: tmp.path)
        try raw.execute("CREATE TEMP TABLE kept AS SELECT * FROM payments")
        for damage in [
            "metadata = '{\"i\":1}'", "metadata = '{\"i\":\"1\"} '", "metadata = '{\"i\":\"1\",}'",
            "metadata = '{\"i\":\"\\x\"}'", "metadata = '[]'", "merchant_id = NULL", "order_id = NULL",
            "amount = NULL", "created_at_ms = -1", "updated_at_ms = NULL", "version = NULL", "region = NULL",
            "complete = 0",
        ] {
            try raw.execute("UPDATE payments SET \(damage)")
            #expect(try reader.paymentBody(id) == nil, "\(damage)")
            try raw.execute("DELETE FROM payments")
            try raw.execute("INSERT INTO payments SELECT * FROM kept")
        }
        #expect(try reader.paymentBody(id) == PaymentBody(try #require(try reader.payment(id))))
    }
}

extension Writer {
    /// Any command, persisted as of `now`.
    mutating func submit(_ command: PaymentCommand, at now: UInt64) -> PersistRequest {
        n += 1
        let (r, ds) = engine.submit(command, ticket: WriteTicket(UInt64(n)), durability: .local, nowMillis: now)
        guard case .pending = r, case .persist(let p)? = ds.first else { fatalError("\(command) refused: \(r)") }
        _ = engine.didPersist(requestID: p.id, nowMillis: now)
        return p
    }
}
