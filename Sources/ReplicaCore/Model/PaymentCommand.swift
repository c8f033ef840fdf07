/// A request to create a payment, as the API received it (already parsed from JSON).
public struct CreatePayment: Hashable, Sendable {
    public var merchantID: String
    public var orderID: String
    /// Minor units (cents): 1 ... 10^15.
    public var amount: Int64
    public var currency: String
    public var method: PaymentMethod
    public var paymentKey: String?
    public var customerID: String?
    public var description: String?
    public var metadata: [String: String]?

    public init(
        merchantID: String, orderID: String, amount: Int64, currency: String, method: PaymentMethod,
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

    /// The field values of the create, in field order, absent optionals left out.
    public var fieldValues: [(PaymentField, FieldValue)] {
        var values: [(PaymentField, FieldValue)] = [
            (.merchantID, .text(merchantID)), (.orderID, .text(orderID)), (.amount, .integer(amount)),
            (.currency, .text(currency)), (.method, .text(method.rawValue)),
            (.status, .text(PaymentStatus.pending.rawValue)),
        ]
        if let paymentKey { values.append((.paymentKey, .text(paymentKey))) }
        if let customerID { values.append((.customerID, .text(customerID))) }
        if let description { values.append((.description, .text(description))) }
        if let metadata { values.append((.metadata, .metadata(metadata))) }
        return values
    }

    /// The first 130 bits of SHA-256 over the canonical encoding of every parameter, in
    /// 26 Crockford base-32 characters: identical requests, and only those, share it. It
    /// is compared only between requests with the same merchant and Idempotency-Key, so
    /// 130 bits leave no practical chance of a false "identical"; it is replicated with
    /// every create, and 26 random characters cost far less on the wire than 64 hex.
    public var fingerprint: String { Self.fingerprint(of: fieldValues) }

    /// The fingerprint of a create's field values (in field order). The codec uses it to
    /// leave the fingerprint off the wire: a receiver derives it from the entry.
    public static func fingerprint(of values: [(PaymentField, FieldValue)]) -> String {
        var writer = ByteWriter()
        for (field, value) in values {
            writer.writeUInt8(field.rawValue)
            writer.writeFieldValue(value)
        }
        return CrockfordBase32.encode(bits: SHA256.hash(writer.bytes), characters: 26)
    }
}

/// A change to a field: set it to a value, or clear it.
public enum FieldUpdate<Value: Hashable & Sendable>: Hashable, Sendable {
    case set(Value)
    case clear
}

/// A request to change a payment. Only these fields may change after creation.
public struct PaymentPatch: Hashable, Sendable {
    public var status: PaymentStatus?
    public var paymentKey: FieldUpdate<String>?
    public var description: FieldUpdate<String>?
    public var metadata: FieldUpdate<[String: String]>?

    public init(
        status: PaymentStatus? = nil, paymentKey: FieldUpdate<String>? = nil,
        description: FieldUpdate<String>? = nil, metadata: FieldUpdate<[String: String]>? = nil
    ) {
        self.status = status
        self.paymentKey = paymentKey
        self.description = description
        self.metadata = metadata
    }

    /// Whether the patch changes nothing at all.
    public var isEmpty: Bool { status == nil && paymentKey == nil && description == nil && metadata == nil }

    /// The field values the patch asks for, in field order.
    public var fieldValues: [(PaymentField, FieldValue)] {
        var values: [(PaymentField, FieldValue)] = []
        if let status { values.append((.status, .text(status.rawValue))) }
        if let paymentKey { values.append((.paymentKey, Self.value(paymentKey) { .text($0) })) }
        if let description { values.append((.description, Self.value(description) { .text($0) })) }
        if let metadata { values.append((.metadata, Self.value(metadata) { .metadata($0) })) }
        return values
    }

    private static func value<T>(_ update: FieldUpdate<T>, _ make: (T) -> FieldValue) -> FieldValue {
        switch update {
        case .set(let v): make(v)
        case .clear: .absent
        }
    }
}

/// A client's write, as handed to the engine.
public enum PaymentCommand: Hashable, Sendable {
    /// Create a payment with this id (derived from the idempotency key, or generated).
    case create(PaymentID, CreatePayment, idempotent: Bool)
    /// Change a payment.
    case update(PaymentID, PaymentPatch)
}

extension PaymentCommand {
    /// The payment the command concerns.
    public var paymentID: PaymentID {
        switch self {
        case .create(let id, _, _), .update(let id, _): id
        }
    }
}
