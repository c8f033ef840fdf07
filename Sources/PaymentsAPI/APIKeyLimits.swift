import Synchronization

/// Each key's share of the node: a token bucket for its requests (`rate_per_s`, `burst`)
/// and a count of the event streams it holds open (`streams_max`), by key id. Safe to use
/// from any request at once; time comes from the caller (the service's clock), never read
/// here.
///
/// A bucket starts full and refills at the key's rate; a clock that steps back pauses
/// the refill until it passes the last reading again. A reload that changes a key's
/// limits applies to its next request (the bucket keeps its tokens, capped at the new
/// burst); a key that is removed keeps its few bytes here until the process ends.
package final class APIKeyLimits: Sendable {
    private struct Bucket {
        var tokens: Double
        var atMillis: UInt64
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var streams: [String: Int] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Takes one request's token from `key`'s bucket at `nowMillis`. Nil when there was
    /// one (or the key has no rate); else the whole seconds until there is one.
    package func take(_ key: APIKey, nowMillis: UInt64) -> Int? {
        guard let rate = key.ratePerSecond, rate > 0 else { return nil }
        let burst = Double(max(1, key.burst))
        return state.withLock { s in
            var bucket = Self.refilled(s.buckets[key.id], rate: rate, burst: burst, nowMillis: nowMillis)
            defer { s.buckets[key.id] = bucket }
            guard bucket.tokens < 1 else {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }

    /// Counts an event stream of `key` as open until the lease is closed or released;
    /// nil when the key holds `streamsMax` already.
    /// Whether `take` would give `key` a token now (nothing is taken).
    package func hasToken(_ key: APIKey, nowMillis: UInt64) -> Bool {
        guard let rate = key.ratePerSecond, rate > 0 else { return true }
        let burst = Double(max(1, key.burst))
        return state.withLock { s in Self.refilled(s.buckets[key.id], rate: rate, burst: burst, nowMillis: nowMillis) }
            .tokens >= 1
    }

    /// `bucket` (a full one when the key has none yet) refilled up to `nowMillis`.
    private static func refilled(_ bucket: Bucket?, rate: Double, burst: Double, nowMillis: UInt64) -> Bucket {
        var bucket = bucket ?? Bucket(tokens: burst, atMillis: nowMillis)
        if nowMillis > bucket.atMillis {
            bucket.tokens += Double(nowMillis - bucket.atMillis) * rate / 1_000
            bucket.atMillis = nowMillis
        }
        bucket.tokens = min(bucket.tokens, burst)
        return bucket
    }

    func openStream(_ key: APIKey) -> StreamLease? {
        let opened = state.withLock { s in
            let open = s.streams[key.id, default: 0]
            guard open < key.streamsMax else { return false }
            s.streams[key.id] = open + 1
            return true
        }
        return opened ? StreamLease(limits: self, keyID: key.id) : nil
    }

    /// Event streams `keyID` holds open now.
    func openStreams(_ keyID: String) -> Int { state.withLock { $0.streams[keyID, default: 0] } }

    fileprivate func closeStream(_ keyID: String) {
        state.withLock { s in
            let open = s.streams[keyID, default: 0] - 1
            s.streams[keyID] = open > 0 ? open : nil
        }
    }
}

/// One open event stream, counted against its key until `close()` or until the lease is
/// released (a response whose body never ran still gives its place back).
final class StreamLease: Sendable {
    private let limits: APIKeyLimits
    private let keyID: String
    private let closed = Atomic<Bool>(false)

    fileprivate init(limits: APIKeyLimits, keyID: String) {
        self.limits = limits
        self.keyID = keyID
    }

    /// Gives the stream's place back (once, however often called).
    func close() {
        if !closed.exchange(true, ordering: .relaxed) { limits.closeStream(keyID) }
    }

    deinit { close() }
}
