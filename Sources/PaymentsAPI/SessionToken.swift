import ReplicaCore

/// The `X-Session-Token` header: the version vector that includes a client's write, in
/// `VersionVector.text` form (`region:seq,region:seq`, sorted by region). A read that
/// sends it back is served once this region has caught up to it.
public enum SessionToken {
    /// The header's text for `vector`.
    public static func format(_ vector: VersionVector) -> String { vector.text }

    /// Parses a token. Malformed or oversized text is a 400.
    static func parse(_ text: String) throws(APIError) -> VersionVector {
        guard text.utf8.count <= 4_096 else { throw APIError.malformed("X-Session-Token is too long") }
        guard let vector = VersionVector(text: text), !text.isEmpty else {
            throw APIError(
                .badRequest, "invalid_session_token",
                "X-Session-Token must be region:seq pairs separated by commas, got \"\(text.prefix(80))\"")
        }
        return vector
    }
}
