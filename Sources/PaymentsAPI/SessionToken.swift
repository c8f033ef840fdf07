import ReplicaCore

/// The `X-Session-Token` header: the version vector that includes a client's write,
/// written `region:seq,region:seq` (sorted by region). A read that sends it back is
/// served once this region has caught up to it.
public enum SessionToken {
    /// The header's text for `vector`.
    public static func format(_ vector: VersionVector) -> String {
        vector.sortedEntries.map { "\($0.origin.name):\($0.seq)" }.joined(separator: ",")
    }

    /// Parses a token: `region:seq` pairs joined by commas, nothing else (a region named
    /// twice counts with its highest seq). Malformed or oversized text is a 400.
    static func parse(_ text: String) throws(APIError) -> VersionVector {
        guard text.utf8.count <= 4_096 else { throw APIError.malformed("X-Session-Token is too long") }
        var counters: [RegionID: UInt64] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count == 2, let region = RegionID(String(pieces[0])),
                  !pieces[1].isEmpty, pieces[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seq = UInt64(pieces[1])
            else {
                throw APIError(.badRequest, "invalid_session_token",
                               "X-Session-Token must be region:seq pairs separated by commas, got \"\(text.prefix(80))\"")
            }
            counters[region] = max(counters[region] ?? 0, seq)
        }
        guard counters.count <= WireLimits.regionsMax else { throw APIError.malformed("X-Session-Token names too many regions") }
        return VersionVector(counters)
    }
}
