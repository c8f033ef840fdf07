import ReplicaCore

/// The `X-Session-Token` header: the version vector that includes a client's write, in
/// `VersionVector.text` form (`region:seq,region:seq`, sorted by region). A read that
/// sends it back is served once this region has caught up to it. The API writes it on
/// every write's answer and reads it on reads; the client keeps the merge of the ones it
/// was given and sends it back.
public enum SessionToken {
    /// The longest token read, in bytes.
    public static let bytesMax = 4_096

    /// Why a token was not read.
    public enum ParseError: Error, Sendable, Equatable {
        /// Longer than `bytesMax`.
        case tooLong
        /// Empty, or not `region:seq` pairs separated by commas.
        case malformed
    }

    /// The header's text for `vector`.
    public static func format(_ vector: VersionVector) -> String { vector.text }

    /// Reads a token. A region named twice counts with its highest seq.
    public static func parse(_ text: String) throws(ParseError) -> VersionVector {
        guard text.utf8.count <= bytesMax else { throw .tooLong }
        guard let vector = VersionVector(text: text), !text.isEmpty else { throw .malformed }
        return vector
    }
}
