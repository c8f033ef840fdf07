/// Why a call failed.
public enum PaymentsClientError: Error, Sendable, CustomStringConvertible {
    /// The API refused the request (4xx): its status and error body.
    case api(status: Int, code: String, message: String, field: String?, region: String?)
    /// No region could answer: each one tried, with why it failed.
    case unavailable([String])
    /// The answer could not be read.
    case badResponse(String)
    /// The client was set up wrongly (no regions, bad URL).
    case configuration(String)

    public var description: String {
        switch self {
        case .api(let status, let code, let message, let field, let region):
            "\(status) \(code): \(message)" + (field.map { " (field \($0))" } ?? "") + (region.map { " [\($0)]" } ?? "")
        case .unavailable(let attempts):
            "no region answered: " + attempts.joined(separator: "; ")
        case .badResponse(let why): "unreadable answer: \(why)"
        case .configuration(let why): why
        }
    }
}
