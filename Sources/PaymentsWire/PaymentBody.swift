import ReplicaCore

/// A payment as the API returns it, already written as JSON bytes, with its merchant
/// (what an API key's scope is checked against): what the read fast path answers. The
/// store writes one straight from a row's columns (`StoreReader.paymentBody`), with no
/// record decoded and no `Payment` built; its bytes are those of `PaymentJSON.payment`.
public struct PaymentBody: Sendable, Equatable {
    public let merchantID: String
    public let json: [UInt8]

    public init(merchantID: String, json: [UInt8]) {
        self.merchantID = merchantID
        self.json = json
    }

    /// The body of a payment already built.
    public init(_ payment: Payment) {
        var json = JSONBytes(capacity: 512)
        json.payment(payment)
        self.init(merchantID: payment.merchantID, json: json.bytes)
    }
}

/// JSON written as UTF-8 bytes into an array, for a body built with no String between.
/// Strings are escaped exactly as `JSONString.quote` escapes them.
public struct JSONBytes {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Text written as it is (the caller's own JSON punctuation and names).
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A String written as it is, unquoted (text the caller knows needs no escaping).
    public mutating func unquoted(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// Bytes already known to be JSON, written as they are.
    public mutating func raw(_ json: UnsafeRawBufferPointer) { bytes.append(contentsOf: json) }

    /// UTF-8 text as a quoted JSON string: up to its first NUL, as SQLite's text becomes a
    /// String (`String(cString:)`), with an invalid sequence read as U+FFFD as there.
    public mutating func quoted(_ text: UnsafeRawBufferPointer) {
        let end = text.firstIndex(of: 0) ?? text.count
        let t = UnsafeRawBufferPointer(rebasing: text[0..<end])
        // Printable ASCII other than `"` and `\` is written as it is: the common case.
        if t.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != 0x22 && $0 != 0x5C }) {
            bytes.append(0x22)
            bytes.append(contentsOf: t)
            bytes.append(0x22)
        } else {
            bytes.append(contentsOf: JSONString.quote(String(decoding: t, as: UTF8.self)).utf8)
        }
    }

    /// A String as a quoted JSON string, all of it (a NUL is escaped, as
    /// `JSONString.quote` escapes it).
    public mutating func quoted(_ text: String) {
        var text = text
        let plain = text.withUTF8 { t in
            // Printable ASCII other than `"` and `\` is written as it is: the common case.
            guard t.allSatisfy({ $0 >= 0x20 && $0 < 0x80 && $0 != 0x22 && $0 != 0x5C }) else { return false }
            bytes.append(0x22)
            bytes.append(contentsOf: t)
            bytes.append(0x22)
            return true
        }
        if !plain { bytes.append(contentsOf: JSONString.quote(text).utf8) }
    }

    /// A decimal integer.
    public mutating func integer(_ n: Int64) { bytes.append(contentsOf: String(n).utf8) }

    /// An unsigned decimal integer.
    public mutating func integer(_ n: UInt64) { bytes.append(contentsOf: String(n).utf8) }

    /// A time as a quoted RFC 3339 string (`"2026-11-22T22:30:07.123Z"`).
    public mutating func time(millis: UInt64) {
        bytes.append(0x22)
        RFC3339.append(millis: millis, to: &bytes)
        bytes.append(0x22)
    }

    /// A version (an HLC stamp) as `PaymentJSON.payment` writes it: `"<wall ms>.<counter>"`.
    public mutating func version(_ stamp: HLCTimestamp) {
        bytes.append(0x22)
        integer(stamp.wallMillis)
        bytes.append(0x2E)
        integer(UInt64(stamp.counter))
        bytes.append(0x22)
    }
}

extension PaymentJSON {
    /// Whether `text` is metadata as `metadata` writes it: an object of string keys and
    /// string values, no whitespace, the escapes `JSONString.quote` uses, valid UTF-8. A
    /// stored column is checked with this before it is written into a body as it is.
    public static func isMetadata(_ text: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = text.count
        func take(_ byte: UInt8) -> Bool {
            guard i < n, text[i] == byte else { return false }
            i += 1
            return true
        }
        func string() -> Bool {
            guard take(0x22) else { return false }
            while i < n {
                let c = text[i]
                i += 1
                if c == 0x22 { return true }
                if c < 0x20 { return false }
                guard c == 0x5C else { continue }
                guard i < n else { return false }
                let e = text[i]
                i += 1
                switch e {
                case 0x22, 0x5C, 0x6E, 0x72, 0x74: continue  // " \ n r t
                case 0x75:  // u00, then a control character's two lower-case hex digits
                    guard i + 4 <= n, text[i] == 0x30, text[i + 1] == 0x30, text[i + 2] == 0x30 || text[i + 2] == 0x31,
                        isLowerHex(text[i + 3])
                    else { return false }
                    i += 4
                default: return false
                }
            }
            return false
        }
        guard take(0x7B) else { return false }
        if !take(0x7D) {
            repeat {
                guard string(), take(0x3A), string() else { return false }
            } while take(0x2C)
            guard take(0x7D) else { return false }
        }
        guard i == n else { return false }
        return !text.contains(where: { $0 >= 0x80 }) || String(validating: text, as: UTF8.self) != nil
    }

    private static func isLowerHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x66).contains(b) }
}
