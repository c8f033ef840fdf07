import PaymentsWire
import ReplicaCore

/// Turns JSON request bodies into engine commands. Types are checked here (wrong type or
/// unknown field: 422 naming the field); the rules on values (lengths, currency, card
/// numbers, transitions) are ReplicaCore's `PaymentValidation`, shared with the simulator.
enum PaymentRequests {
    static let createFields: Set<String> = [
        "merchant_id", "order_id", "amount", "currency", "method", "payment_key", "customer_id", "description",
        "metadata",
    ]
    static let patchFields: Set<String> = ["status", "payment_key", "description", "metadata"]
    static let immutableFields: Set<String> = [
        "id", "merchant_id", "order_id", "amount", "currency", "method", "customer_id", "created_at", "updated_at",
        "region", "version",
    ]

    /// A request body as JSON (PaymentsWire's strict parser); a body that is not JSON is a 400.
    static func parseBody(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        do throws(JSONValue.ParseError) { return try JSONValue.parse(bytes) } catch {
            throw APIError.malformed("the body is not valid JSON (at byte \(error.at))")
        }
    }

    static func create(_ body: JSONValue) throws(APIError) -> CreatePayment {
        let fields = try object(body)
        for key in fields.keys.sorted() where !createFields.contains(key) {
            throw APIError.invalid(key, "unknown field \(key)")
        }
        let methodName = try requiredString(fields, "method")
        guard let method = PaymentMethod(rawValue: methodName) else {
            throw APIError.invalid("method", "method must be card or bank_transfer")
        }
        return CreatePayment(
            merchantID: try requiredString(fields, "merchant_id"), orderID: try requiredString(fields, "order_id"),
            amount: try amount(fields), currency: try requiredString(fields, "currency"), method: method,
            paymentKey: try optionalString(fields, "payment_key"),
            customerID: try optionalString(fields, "customer_id"),
            description: try optionalString(fields, "description"), metadata: try metadata(fields["metadata"]) ?? nil)
    }

    static func patch(_ body: JSONValue) throws(APIError) -> PaymentPatch {
        let fields = try object(body)
        for key in fields.keys.sorted() where !patchFields.contains(key) {
            if immutableFields.contains(key) {
                throw APIError(
                    .unprocessableContent, PaymentError.Code.immutableField.rawValue,
                    "\(key) cannot be changed after the payment is created", field: key)
            }
            throw APIError.invalid(key, "unknown field \(key)")
        }
        var patch = PaymentPatch()
        if let value = fields["status"] {
            guard case .string(let s) = value, let status = PaymentStatus(rawValue: s) else {
                throw APIError.invalidStatus
            }
            patch.status = status
        }
        patch.paymentKey = try update(fields, "payment_key")
        patch.description = try update(fields, "description")
        if let value = fields["metadata"] {
            if case .some(.some(let map)) = try metadata(value) {
                patch.metadata = .set(map)
            } else {
                patch.metadata = .clear
            }
        }
        guard !patch.isEmpty else {
            throw APIError.invalid(
                "status", "a patch must change at least one of status, payment_key, description, metadata")
        }
        return patch
    }

    // MARK: Field readers

    static func object(_ body: JSONValue) throws(APIError) -> [String: JSONValue] {
        guard case .object(let fields) = body else { throw APIError.malformed("the body must be a JSON object") }
        return fields
    }

    static func requiredString(_ fields: [String: JSONValue], _ key: String) throws(APIError) -> String {
        guard let value = fields[key], value != .null else { throw APIError.invalid(key, "\(key) is required") }
        guard case .string(let s) = value else {
            throw APIError.invalid(key, "\(key) must be a string, not \(value.typeName)")
        }
        return s
    }

    static func optionalString(_ fields: [String: JSONValue], _ key: String) throws(APIError) -> String? {
        guard let value = fields[key], value != .null else { return nil }
        guard case .string(let s) = value else {
            throw APIError.invalid(key, "\(key) must be a string, not \(value.typeName)")
        }
        return s
    }

    static func update(_ fields: [String: JSONValue], _ key: String) throws(APIError) -> FieldUpdate<String>? {
        guard let value = fields[key] else { return nil }
        if value == .null { return .clear }
        guard case .string(let s) = value else {
            throw APIError.invalid(key, "\(key) must be a string or null, not \(value.typeName)")
        }
        return .set(s)
    }

    static func amount(_ fields: [String: JSONValue]) throws(APIError) -> Int64 {
        guard let value = fields["amount"], value != .null else {
            throw APIError.invalid("amount", "amount is required")
        }
        guard case .integer(let n) = value else {
            throw APIError.invalid(
                "amount", "amount must be an integer number of minor units (cents), not \(value.typeName)")
        }
        return n
    }

    /// nil: absent; .some(nil): JSON null; .some(map): an object of strings.
    static func metadata(_ value: JSONValue?) throws(APIError) -> [String: String]?? {
        guard let value else { return nil }
        if value == .null { return .some(nil) }
        guard case .object(let pairs) = value else {
            throw APIError.invalid("metadata", "metadata must be an object of strings")
        }
        var result: [String: String] = [:]
        for (k, v) in pairs {
            guard case .string(let s) = v else {
                throw APIError.invalid("metadata", "metadata value for \(k) must be a string")
            }
            result[k] = s
        }
        return .some(result)
    }
}
