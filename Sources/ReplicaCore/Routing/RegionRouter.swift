/// The client's choice of region (pure; shared by `PaymentsClient` and the simulator).
///
/// Regions are ranked by smoothed measured latency; a region that fails (connection
/// error, timeout, a 5xx other than 503) is benched for a cooldown that doubles with each
/// consecutive failure, up to a cap. A region that answers 503 (it is up, but takes no
/// writes for now: its store is recovering, its clock is out of bound or not yet read)
/// is benched for the base cooldown only, however often it refuses: such refusals end by
/// themselves, often within a second or two, and a client that backed off for half a
/// minute would miss the region's return when the others are down too. When the cooldown ends the region is tried again (half-open);
/// one success clears its record. Benched regions stay in the ranking, last, so a
/// client with every region down still has somewhere to try.
public struct RegionRouter: Sendable {
    /// Tuning of the policy.
    public struct Config: Sendable {
        /// Weight of a new sample in the moving average, in eighths (1...8).
        public var sampleWeightEighths: UInt64 = 2
        /// Cooldown after the first failure.
        public var cooldownBaseMillis: UInt64 = 1_000
        /// Longest cooldown.
        public var cooldownMaxMillis: UInt64 = 30_000

        public init() {}
    }

    /// What the router knows of one region.
    public struct Health: Hashable, Sendable {
        /// Smoothed latency, microseconds; nil until measured.
        public var latencyMicros: UInt64?
        public var consecutiveFailures: UInt32 = 0
        public var benchedUntilMillis: UInt64 = 0
    }

    public let config: Config
    public private(set) var health: [RegionID: Health]

    /// A router over `regions`, none measured yet.
    public init(regions: [RegionID], config: Config = Config()) {
        self.config = config
        self.health = Dictionary(uniqueKeysWithValues: regions.map { ($0, Health()) })
    }

    /// Adds a region (one that joined the cluster), unmeasured; a known one keeps its record.
    public mutating func addRegion(_ region: RegionID) {
        if health[region] == nil { health[region] = Health() }
    }

    /// Removes a region (one retired from the cluster): it is never ranked again.
    public mutating func removeRegion(_ region: RegionID) { health[region] = nil }

    /// A request to `region` succeeded after `latencyMicros`.
    public mutating func recordSuccess(_ region: RegionID, latencyMicros: UInt64) {
        guard var h = health[region] else { return }
        let w = min(max(config.sampleWeightEighths, 1), 8)
        h.latencyMicros = h.latencyMicros.map { ($0 * (8 - w) + latencyMicros * w) / 8 } ?? latencyMicros
        h.consecutiveFailures = 0
        h.benchedUntilMillis = 0
        health[region] = h
    }

    /// A request to `region` failed at `nowMillis`: bench it.
    public mutating func recordFailure(_ region: RegionID, nowMillis: UInt64) {
        guard var h = health[region] else { return }
        h.consecutiveFailures += 1
        let shift = UInt64(min(h.consecutiveFailures - 1, 16))
        h.benchedUntilMillis = nowMillis + min(config.cooldownBaseMillis << shift, config.cooldownMaxMillis)
        health[region] = h
    }

    /// `region` answered at `nowMillis` but refused the request for now (503): bench it for
    /// the base cooldown, and forget its earlier failures (it is up).
    public mutating func recordRefusal(_ region: RegionID, nowMillis: UInt64) {
        guard var h = health[region] else { return }
        h.consecutiveFailures = 0
        h.benchedUntilMillis = nowMillis + config.cooldownBaseMillis
        health[region] = h
    }

    /// Whether `region` is not benched at `nowMillis`.
    public func isHealthy(_ region: RegionID, nowMillis: UInt64) -> Bool {
        (health[region]?.benchedUntilMillis ?? 0) <= nowMillis
    }

    /// Every region, best first: healthy ones by latency (unmeasured after measured,
    /// ties by name), then benched ones by the end of their cooldown.
    public func ranked(nowMillis: UInt64) -> [RegionID] {
        let regions = health.keys.sorted()
        let healthy = regions.filter { isHealthy($0, nowMillis: nowMillis) }.sorted { a, b in
            let (la, lb) = (health[a]!.latencyMicros ?? .max, health[b]!.latencyMicros ?? .max)
            return la != lb ? la < lb : a < b
        }
        let benched = regions.filter { !isHealthy($0, nowMillis: nowMillis) }.sorted { a, b in
            let (ua, ub) = (health[a]!.benchedUntilMillis, health[b]!.benchedUntilMillis)
            return ua != ub ? ua < ub : a < b
        }
        return healthy + benched
    }

    /// The region to try first.
    public func preferred(nowMillis: UInt64) -> RegionID? { ranked(nowMillis: nowMillis).first }
}
