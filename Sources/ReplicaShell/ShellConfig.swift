import ReplicaCore

/// Settings of a shell beyond its engine's.
public struct ShellConfig: Sendable {
    public var engine: EngineConfig
    /// How long a read with a session token may wait for this region to catch up.
    public var sessionWaitMillis: UInt64 = 1_000
    /// After a failed commit: first wait before trying the store again, doubled per
    /// failed try up to the max.
    public var recoveryRetryMillisMin: UInt64 = 500
    public var recoveryRetryMillisMax: UInt64 = 5_000
    /// Bits of the filter of ids a store that held few payments at the start may hold
    /// (`StoredIDFilter`: bits / 8 bytes of memory); 0: none, every read of a record the
    /// engine lacks goes to the store.
    public var storedIDFilterBits = 0

    public init(engine: EngineConfig) { self.engine = engine }
}
