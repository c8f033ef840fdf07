import PaymentsWire
import ReplicaCore

/// Reading `X-Session-Token` on a request: PaymentsWire's parse, with the API's refusals.
extension SessionToken {
    /// The header's vector. Malformed or oversized text is a 400.
    static func header(_ text: String) throws(APIError) -> VersionVector {
        do throws(ParseError) { return try parse(text) } catch {
            switch error {
            case .tooLong: throw APIError.malformed("X-Session-Token is too long")
            case .malformed:
                throw APIError(
                    .badRequest, "invalid_session_token",
                    "X-Session-Token must be region:seq pairs separated by commas, got \"\(text.prefix(80))\"")
            }
        }
    }
}
