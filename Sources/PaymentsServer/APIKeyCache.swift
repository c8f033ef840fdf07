import PaymentNode
import PaymentsAPI
import Synchronization

/// The node's configured keys (`NodeAPIKey`, as the file says them) as the API's
/// `APIKey`s, converted once per reload rather than once per request: the API asks for
/// the keys on every request, and the credentials' key list stays the same array (same
/// storage, so comparing it is one pointer check) until a reload replaces it.
package final class APIKeyCache: Sendable {
    private let cached = Mutex<(source: [NodeAPIKey], keys: [APIKey])>(([], []))

    package init() {}

    /// `source` as API keys.
    package func keys(for source: [NodeAPIKey]) -> [APIKey] {
        if let hit = cached.withLock({ $0.source == source ? $0.keys : nil }) { return hit }
        let keys = source.map(Self.key)
        cached.withLock { $0 = (source, keys) }
        return keys
    }

    /// One key: the config checked the hash, scopes and bounds already (an unknown scope
    /// cannot reach here; were one to, it would grant nothing).
    package static func key(_ k: NodeAPIKey) -> APIKey {
        APIKey(
            id: k.id, sha256: APIKey.digest(hex: k.sha256) ?? [], scopes: Set(k.scopes.compactMap(APIScope.init)),
            merchants: k.merchants.map(Set.init), expiresAtMillis: k.expiresAtMillis, ratePerSecond: k.ratePerSecond,
            burst: k.burst, streamsMax: k.streamsMax ?? APIKey.streamsMaxDefault)
    }
}
