import Foundation

/// A payment as the API returns it.
public struct RemotePayment: Codable, Hashable, Sendable {
    public let id: String
    public let merchantID: String
    public let orderID: String
    /// Minor units.
    public let amount: Int64
    public let currency: String
    public let method: String
    public let status: String
    public let paymentKey: String?
    public let customerID: String?
    public let description: String?
    public let metadata: [String: String]?
    public let createdAt: String
    public let updatedAt: String
    public let region: String
    public let version: String

    enum CodingKeys: String, CodingKey {
        case id, amount, currency, method, status, description, metadata, region, version
        case merchantID = "merchant_id"
        case orderID = "order_id"
        case paymentKey = "payment_key"
        case customerID = "customer_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// What to create. Amounts are minor units (cents).
///
/// Not ReplicaCore's `CreatePayment`, though it holds the same fields. This is the
/// request body as the HTTP contract has it, strings included (`method`: the server's
/// 422 is the one judge of what is valid), like every type a caller of this library
/// sees, so callers import PaymentsClient alone. `CreatePayment` is the engine's command:
/// a closed `PaymentMethod`, the field values a create writes and its request
/// fingerprint, which a client has no use for.
public struct NewPayment: Encodable, Hashable, Sendable {
    public var merchantID: String
    public var orderID: String
    public var amount: Int64
    public var currency: String
    public var method: String
    public var paymentKey: String?
    public var customerID: String?
    public var description: String?
    public var metadata: [String: String]?

    public init(
        merchantID: String, orderID: String, amount: Int64, currency: String, method: String = "card",
        paymentKey: String? = nil, customerID: String? = nil, description: String? = nil,
        metadata: [String: String]? = nil
    ) {
        self.merchantID = merchantID
        self.orderID = orderID
        self.amount = amount
        self.currency = currency
        self.method = method
        self.paymentKey = paymentKey
        self.customerID = customerID
        self.description = description
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case amount, currency, method, description, metadata
        case merchantID = "merchant_id"
        case orderID = "order_id"
        case paymentKey = "payment_key"
        case customerID = "customer_id"
    }
}

/// A change to a payment: only the fields set are sent.
public struct PaymentChange: Encodable, Hashable, Sendable {
    public var status: String?
    public var paymentKey: String?
    public var description: String?
    public var metadata: [String: String]?

    public init(
        status: String? = nil, paymentKey: String? = nil, description: String? = nil, metadata: [String: String]? = nil
    ) {
        self.status = status
        self.paymentKey = paymentKey
        self.description = description
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case status, description, metadata
        case paymentKey = "payment_key"
    }
}

/// One page of the reporting list.
public struct PaymentPage: Decodable, Sendable {
    public let data: [RemotePayment]
    public let nextCursor: String?
    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
    }
}

/// Filters of the reporting list.
public struct PaymentQuery: Sendable {
    public var merchantID: String?
    public var orderID: String?
    public var status: String?
    public var createdFrom: String?
    public var createdTo: String?
    public var limit: Int?
    public var cursor: String?

    public init(
        merchantID: String? = nil, orderID: String? = nil, status: String? = nil, createdFrom: String? = nil,
        createdTo: String? = nil, limit: Int? = nil, cursor: String? = nil
    ) {
        self.merchantID = merchantID
        self.orderID = orderID
        self.status = status
        self.createdFrom = createdFrom
        self.createdTo = createdTo
        self.limit = limit
        self.cursor = cursor
    }

    var queryString: String {
        let pairs: [(String, String?)] = [
            ("merchant_id", merchantID), ("order_id", orderID), ("status", status),
            ("created_from", createdFrom), ("created_to", createdTo),
            ("limit", limit.map(String.init)), ("cursor", cursor),
        ]
        let items = pairs.compactMap { k, v in
            v.map { "\(k)=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? $0)" }
        }
        return items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }
}

extension CharacterSet {
    static let urlQueryValueAllowed: CharacterSet = {
        var set = CharacterSet.urlQueryAllowed
        set.remove(charactersIn: "&=+?#")
        return set
    }()
}

/// A write's answer: the payment, the region that served it and how durable it is.
public struct WriteResult: Sendable {
    public let payment: RemotePayment
    /// The region that answered (`X-Region`).
    public let region: String
    /// `local` or `remote` (`X-Durability-Achieved`).
    public let durability: String
    /// True when the create was an identical replay (`Idempotent-Replayed`).
    public let replayed: Bool
    /// The Idempotency-Key the create was sent with (generated when none was given).
    public let idempotencyKey: String?
}

/// A read's answer and the region that served it.
public struct ReadResult<Value: Sendable>: Sendable {
    public let value: Value
    public let region: String
}
