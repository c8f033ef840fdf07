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

    /// Every text of one to three pieces, in order.
    static let texts: [String] = pieces.flatMap { a in
        [a] + pieces.flatMap { b in [a + b] + pieces.map { c in a + b + c } }
    }

    @Test func quotedBytesAreJSONStringQuote() {
        for text in Self.texts {
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
        for n in stride(from: 0, to: Self.texts.count, by: 7) {
            let pairs = (0..<(n % 6)).map {
                MetadataPair(key: "k\($0)", value: Self.texts[(n + $0) % Self.texts.count])
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
