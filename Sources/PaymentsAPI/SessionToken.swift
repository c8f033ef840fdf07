import ReplicaCore

/// The `X-Session-Token` header: the version vector that includes a client's write,
/// written `region:seq,region:seq` (sorted by region). A read that sends it back is
/// served once this region has caught up to it.
public enum SessionToken {
    /// The header's text for `vector`.
    public static func format(_ vector: VersionVector) -> String {
        vector.sortedEntries.map { "\($0.origin.name):\($0.seq)" }.joined(separator: ",")
    }

    /// Parses a token; malformed or oversized text is a 400.
    static func parse(_ text: String) throws(APIError) -> VersionVector {
        guard text.utf8.count <= 4_096 else { throw APIError.malformed("X-Session-Token is too long") }
        var counters: [RegionID: UInt64] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let region = RegionID(String(pieces[0]).trimmingSpaces),
                  let seq = UInt64(String(pieces[1]).trimmingSpaces), counters[region] == nil
            else {
                throw APIError(.badRequest, "invalid_session_token", "X-Session-Token must be region:seq pairs separated by commas")
            }
            counters[region] = seq
        }
        guard counters.count <= WireLimits.regionsMax else { throw APIError.malformed("X-Session-Token names too many regions") }
        return VersionVector(counters)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
