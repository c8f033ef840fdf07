/// The rules a payment's fields must meet, checked before any write
/// reaches the engine's state, so bad input never leaves partial state behind.
public enum PaymentValidation {
    // MARK: Limits (units last, as everywhere)

    public static let idLengthMax = 64
    public static let amountMinorMin: Int64 = 1
    public static let amountMinorMax: Int64 = 1_000_000_000_000_000
    public static let paymentKeyLengthMax = 200
    public static let customerIDLengthMax = 64
    public static let descriptionLengthMax = 500
    public static let metadataPairsMax = 20
    public static let metadataKeyLengthMax = 40
    public static let metadataValueLengthMax = 500

    // MARK: Commands

    /// Checks every field of a create; the first problem found is returned.
    public static func validate(_ create: CreatePayment) throws(PaymentError) {
        try merchantID(create.merchantID)
        try text(create.orderID, field: "order_id", lengthMax: idLengthMax, allowEmpty: false, freeText: false)
        guard (amountMinorMin...amountMinorMax).contains(create.amount) else {
            throw .invalid("amount", "must be an integer number of minor units from 1 to 10^15, got \(create.amount)")
        }
        guard ISO4217.isActive(create.currency) else {
            throw .invalid(
                "currency", "must be an active ISO 4217 code in upper case (e.g. USD), got \"\(create.currency)\"")
        }
        if let key = create.paymentKey { try paymentKey(key) }
        if let customer = create.customerID {
            try text(customer, field: "customer_id", lengthMax: customerIDLengthMax, allowEmpty: false, freeText: false)
        }
        if let description = create.description { try descriptionText(description) }
        if let metadata = create.metadata { try metadataMap(metadata) }
    }

    /// Checks the values of a patch (the status transition is checked against the record).
    public static func validate(_ patch: PaymentPatch) throws(PaymentError) {
        guard !patch.isEmpty else {
            throw .invalid("body", "a patch must change at least one of status, payment_key, description, metadata")
        }
        if case .set(let key) = patch.paymentKey { try paymentKey(key) }
        if case .set(let description) = patch.description { try descriptionText(description) }
        if case .set(let metadata) = patch.metadata { try metadataMap(metadata) }
    }

    // MARK: Fields

    // MARK: Field values (what a peer's entries and records carry)

    /// Checks one field's value by the rules of a client write, so what a peer sends is
    /// held to the same rules as what the API takes.
    public static func validate(_ field: PaymentField, _ value: FieldValue) throws(PaymentError) {
        let name = field.description
        switch (field, value) {
        case (_, .absent):
            guard field.isOptional else { throw .invalid(name, "a required field cannot be removed") }
        case (.merchantID, .text(let s)): try merchantID(s)
        case (.orderID, .text(let s)):
            try text(s, field: name, lengthMax: idLengthMax, allowEmpty: false, freeText: false)
        case (.amount, .integer(let n)):
            guard (amountMinorMin...amountMinorMax).contains(n) else {
                throw .invalid(name, "must be from 1 to 10^15 minor units, got \(n)")
            }
        case (.currency, .text(let s)):
            guard ISO4217.isActive(s) else {
                throw .invalid(name, "must be an active ISO 4217 code, got \"\(s.prefix(8))\"")
            }
        case (.method, .text(let s)):
            guard PaymentMethod(rawValue: s) != nil else { throw .invalid(name, "unknown method") }
        case (.status, .text(let s)):
            guard PaymentStatus(rawValue: s) != nil else { throw .invalid(name, "unknown status") }
        case (.paymentKey, .text(let s)): try paymentKey(s)
        case (.customerID, .text(let s)):
            try text(s, field: name, lengthMax: customerIDLengthMax, allowEmpty: false, freeText: false)
        case (.description, .text(let s)): try descriptionText(s)
        case (.metadata, .metadata(let pairs)):
            var map: [String: String] = [:]
            for p in pairs {
                guard map.updateValue(p.value, forKey: p.key) == nil else {
                    throw .invalid(name, "a key appears twice")
                }
            }
            try metadataMap(map)
        case (.requestFingerprint, .text(let s)):
            guard s.utf8.count == 26, s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) })
            else {
                throw .invalid(name, "must be 26 base-32 characters")
            }
        default:
            throw .invalid(name, "holds a value of the wrong kind")
        }
    }

    static func merchantID(_ value: String) throws(PaymentError) {
        let bytes = value.utf8
        guard (1...idLengthMax).contains(bytes.count) else {
            throw .invalid("merchant_id", "must be 1 to \(idLengthMax) characters, got \(bytes.count)")
        }
        let ok = bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
        }
        guard ok else { throw .invalid("merchant_id", "may hold only letters, digits, '_' and '-'") }
        guard !CardNumberDetector.containsCardNumber(value) else {
            throw .invalid("merchant_id", "holds what looks like a card number; card data is never stored")
        }
    }

    static func paymentKey(_ value: String) throws(PaymentError) {
        if CardNumberDetector.containsCardNumber(value) {
            throw .invalid("payment_key", "looks like a card number; store the provider's token, never card data")
        }
        try text(value, field: "payment_key", lengthMax: paymentKeyLengthMax, allowEmpty: false, freeText: false)
        // (text() refuses a card number anywhere in it; this message says what to store instead.)
    }

    static func descriptionText(_ value: String) throws(PaymentError) {
        try text(value, field: "description", lengthMax: descriptionLengthMax, allowEmpty: true, freeText: true)
    }

    static func metadataMap(_ map: [String: String]) throws(PaymentError) {
        guard map.count <= metadataPairsMax else {
            throw .invalid("metadata", "may hold at most \(metadataPairsMax) pairs, got \(map.count)")
        }
        for key in map.keys.sorted() {
            try text(
                key, field: "metadata", lengthMax: metadataKeyLengthMax, allowEmpty: false, freeText: false,
                what: "key \"\(key.prefix(40))\"")
            try text(
                map[key]!, field: "metadata", lengthMax: metadataValueLengthMax, allowEmpty: true, freeText: true,
                what: "value of \"\(key)\"")
        }
    }

    /// Length (in Unicode scalars), control characters (line breaks and tabs in free text
    /// only) and card numbers (in every text: ids, keys and free text alike).
    static func text(
        _ value: String, field: String, lengthMax: Int, allowEmpty: Bool, freeText: Bool,
        what: String? = nil
    ) throws(PaymentError) {
        let subject = what ?? "value"
        let count = value.unicodeScalars.count
        guard count <= lengthMax else {
            throw .invalid(field, "\(subject) must be at most \(lengthMax) characters, got \(count)")
        }
        guard allowEmpty || count > 0 else { throw .invalid(field, "\(subject) must not be empty") }
        for scalar in value.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            let allowed = freeText && (scalar == "\n" || scalar == "\t" || scalar == "\r")
            guard allowed else { throw .invalid(field, "\(subject) must not contain control characters") }
        }
        if CardNumberDetector.containsCardNumber(value) {
            throw .invalid(field, "\(subject) contains what looks like a card number; card data is never stored")
        }
    }
}
