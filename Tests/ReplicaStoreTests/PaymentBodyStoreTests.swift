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
    /// Free text with what JSON must escape and what it must not touch.
    static let pieces = [
        "plain", "\"quoted\"", "back\\slash", "line\nbreak", "tab\there", "cr\r", "é", "日本", "💳", "a/b", "<>&", " ",
    ]

    /// The `n`th text of one to three pieces.
    static func text(_ n: Int) -> String {
        let k = pieces.count
        let (b, c) = (n / k % (k + 1), n / (k * (k + 1)) % (k + 1))
        return pieces[n % k] + (b < k ? pieces[b] : "") + (c < k ? pieces[c] : "")
    }

    /// The `i`th payment: each optional field present or not, and every text different.
    static func create(_ i: Int) -> CreatePayment {
        CreatePayment(
            merchantID: "m_\(i % 5)", orderID: "order-\(i)",
            amount: 1 + Int64(i) * 4_999_999_999_999 % 1_000_000_000_000_000,
            currency: ["USD", "EUR", "JPY"][i % 3], method: i % 2 == 0 ? .card : .bankTransfer,
            paymentKey: i & 2 == 0 ? "pk_\(i)" : nil, customerID: i & 4 == 0 ? "cust_\(i)" : nil,
            description: i & 8 == 0 ? text(i * 31) : nil,
            metadata: i & 16 == 0
                ? Dictionary(uniqueKeysWithValues: (0..<(i % 5)).map { ("k\($0)", text(i * 7 + $0)) }) : nil)
    }

    @Test func theBodyFromTheColumnsIsTheRecordsPaymentJSON_overGeneratedPayments() throws {
        let tmp = TempStore()
        let store = try tmp.open(.normal)
        var w = Writer()
        var ids: [PaymentID] = []
        var now: UInt64 = 1_764_000_000_000
        for i in 0..<200 {
            let c = Self.create(i)
            let id = PaymentID.derived(merchantID: c.merchantID, idempotencyKey: "k\(i)")
            now += UInt64(i % 3)
            try store.commit([w.submit(.create(id, c, idempotent: true), at: now)])
            ids.append(id)
            // Some are changed after: a newer version, cleared and replaced fields.
            if i % 3 != 0 {
                now += 1
                let patch = PaymentPatch(
                    status: .authorized, paymentKey: i & 32 == 0 ? .clear : .set("pk2_\(i)"),
                    description: .set(Self.text(i * 13 + 5)), metadata: i & 64 == 0 ? .clear : .set(["x": "\"y\""]))
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
