import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// A payment's row holds its stamps once, in `registers`: the `stamps` column (JSON of
/// the same stamps in earlier releases) is written '{}', also over a row an earlier
/// release wrote, and the record read back still carries every stamp.
@Suite struct PaymentRowTests {
    static func stampsColumn(_ path: String) throws -> [String] {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        let s = try db.prepare("SELECT stamps FROM payments ORDER BY row")
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "NULL") }
        return out
    }

    @Test func stampsAreStoredOnlyInTheRegisters_andAnOldRowsJSONIsReplacedOnUpdate() throws {
        let tmp = TempStore()
        var w = Writer()
        let store = try tmp.open()
        try store.commit([w.create(1, at: 1_000), w.create(2, at: 1_001)])
        #expect(try Self.stampsColumn(tmp.path) == ["{}", "{}"])

        // A row as an earlier release left it, with its stamps spelled out.
        let old = #"{"status":"1000.0@us-east-1"}"#
        try SQLiteDatabase(path: tmp.path).execute("UPDATE payments SET stamps = '\(old)'")
        try store.commit([w.update(1, PaymentPatch(status: .authorized), at: 1_002)])
        #expect(try Self.stampsColumn(tmp.path) == ["{}", old])

        let id = PaymentID.derived(merchantID: "m1", idempotencyKey: "k1")
        let stored = try #require(try store.reader().record(id))
        #expect(stored == w.engine.record(id))
        #expect(stored[.status]?.stamp.time.wallMillis == 1_002)
        #expect(stored[.amount]?.stamp.time.wallMillis == 1_000)
    }
}
