import PaymentsWire
import ReplicaCore
import Testing

/// The byte writer the read fast path's bodies are written with escapes as
/// `JSONString.quote` does, and the check a stored metadata column passes before it is
/// written into a body as it is accepts exactly what `PaymentJSON.metadata` writes.
@Suite struct PaymentBodyTests {
    static let pieces = [
        "plain", "\"q\"", "b\\s", "l\nb", "t\th", "cr\r", "\u{1}", "\u{1f}", "é", "日本", "💳", "a/b", " ",
    ]

    /// A small seeded generator, so a failure replays.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func text(_ r: inout some RandomNumberGenerator) -> String {
        (0..<Int.random(in: 1...4, using: &r)).map { _ in pieces.randomElement(using: &r)! }.joined()
    }

    @Test func quotedBytesAreJSONStringQuote() {
        var r = Seeded(state: 1)
        for _ in 0..<500 {
            let text = Self.text(&r)
            var out = JSONBytes(capacity: 0)
            out.quoted(text)
            #expect(String(decoding: out.bytes, as: UTF8.self) == JSONString.quote(text), "\(text.debugDescription)")
        }
        // SQLite's text is read up to its first NUL, and an invalid sequence as U+FFFD.
        var out = JSONBytes(capacity: 0)
        [UInt8(0x61), 0xFF, 0x62, 0x00, 0x63].withUnsafeBytes { out.quoted($0) }
        #expect(String(decoding: out.bytes, as: UTF8.self) == "\"a\u{FFFD}b\"")
    }

    @Test func metadataIsCheckedToBeWhatPaymentJSONWrites() {
        func check(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { PaymentJSON.isMetadata(UnsafeRawBufferPointer($0)) }
        }
        var r = Seeded(state: 2)
        for _ in 0..<200 {
            let pairs = (0..<Int.random(in: 0...5, using: &r)).map {
                MetadataPair(key: "k\($0)", value: Self.text(&r))
            }
            let text = PaymentJSON.metadata(pairs)
            #expect(check(text), "\(text)")
        }
        for bad in [
            "", "{", "}", "{}x", "{\"a\"}", "{\"a\":}", "{\"a\":\"b\",}", "{\"a\":\"b\" }", "{ \"a\":\"b\"}",
            "{\"a\":1}", "{\"a\":null}", "{\"a\":\"\\u00G0\"}", "{\"a\":\"\\u00A0\"}", "{\"a\":\"\\u0041\"}",
            "{\"a\":\"\\ud800\"}", "{\"a\":\"\\/\"}",
            "{\"a\":\"b\n\"}", "{\"a\":\"b}", "[\"a\"]", "{\"a\":\"b\"}{}",
        ] {
            #expect(!check(bad), "\(bad)")
        }
        let invalidUTF8: [UInt8] = Array("{\"a\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        #expect(!invalidUTF8.withUnsafeBytes { PaymentJSON.isMetadata($0) })
    }
}
