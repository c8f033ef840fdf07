/// The replicated fields of a payment, each a last-writer-wins register.
///
/// The raw value is the field's number on the wire and in the store: append new
/// fields with new numbers, never renumber. `created_at` and `region` are not fields:
/// they are read off the stamp of the create (the winning `merchant_id` register).
public enum PaymentField: UInt8, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case merchantID = 1
    case orderID = 2
    case amount = 3
    case currency = 4
    case method = 5
    case status = 6
    case paymentKey = 7
    case customerID = 8
    case description = 9
    case metadata = 10
    /// SHA-256 of the canonical create request: tells an identical idempotent replay
    /// from a reuse of the key with other parameters. Never shown to clients.
    case requestFingerprint = 11

    /// The JSON name of the field.
    public var description: String {
        switch self {
        case .merchantID: "merchant_id"
        case .orderID: "order_id"
        case .amount: "amount"
        case .currency: "currency"
        case .method: "method"
        case .status: "status"
        case .paymentKey: "payment_key"
        case .customerID: "customer_id"
        case .description: "description"
        case .metadata: "metadata"
        case .requestFingerprint: "request_fingerprint"
        }
    }

    /// Fields fixed at creation; a patch naming them is refused.
    public var isImmutable: Bool {
        switch self {
        case .merchantID, .orderID, .amount, .currency, .method, .requestFingerprint: true
        case .status, .paymentKey, .customerID, .description, .metadata: false
        }
    }

    /// The kind of value the field holds; decoding refuses any other kind.
    public var valueKind: FieldValue.Kind {
        switch self {
        case .amount: .integer
        case .metadata: .metadata
        default: .text
        }
    }

    /// Fields whose value may be cleared (set to absent).
    public var isOptional: Bool {
        switch self {
        case .paymentKey, .customerID, .description, .metadata: true
        default: false
        }
    }

    public static func < (lhs: PaymentField, rhs: PaymentField) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The value of one field. Metadata is kept as pairs sorted by key, so equal maps
/// encode to equal bytes on every node.
public enum FieldValue: Hashable, Sendable {
    case absent
    case text(String)
    case integer(Int64)
    case metadata([MetadataPair])

    /// The kinds of value, for type checks at decode time.
    public enum Kind: Sendable { case text, integer, metadata }

    /// The kind of this value, or nil for `absent` (which every optional field accepts).
    public var kind: Kind? {
        switch self {
        case .absent: nil
        case .text: .text
        case .integer: .integer
        case .metadata: .metadata
        }
    }

    /// The text, when this is text.
    public var text: String? { if case .text(let s) = self { s } else { nil } }
    /// The integer, when this is an integer.
    public var integer: Int64? { if case .integer(let n) = self { n } else { nil } }

    /// A metadata value from a dictionary (sorted by key).
    public static func metadata(_ map: [String: String]) -> FieldValue {
        .metadata(
            map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map {
                MetadataPair(key: $0, value: map[$0]!)
            })
    }
}

/// One metadata key and its value.
public struct MetadataPair: Hashable, Sendable {
    public let key: String
    public let value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
