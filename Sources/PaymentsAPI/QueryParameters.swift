import ReplicaCore

/// Query parameters that more than one route reads, read one way.
enum QueryParameters {
    /// `status` (`GET /v1/payments`, `GET /v1/events`): nil when absent; 422 naming the
    /// field when it is not a payment status.
    static func status(_ text: Substring?) throws(APIError) -> PaymentStatus? {
        guard let text else { return nil }
        guard let status = PaymentStatus(rawValue: String(text)) else { throw APIError.invalidStatus }
        return status
    }
}
