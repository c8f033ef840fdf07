/// The tuning of one region's replication engine. Defaults suit regions a few hundred
/// milliseconds apart; the simulator and tests shrink them.
public struct EngineConfig: Sendable, Equatable {
    /// This region.
    public var region: RegionID
    /// Every other region of the cluster.
    public var peers: [RegionID]
    /// Regions retired from the cluster: their writes stay valid (their origin is accepted
    /// in vectors and stamps), but they are never dialed or waited for.
    public var retired: [RegionID] = []
    /// How far ahead of local time a peer's clock may pull ours.
    public var maxClockSkewMillis: UInt64 = 500
    /// Entries per DELTA batch.
    public var batchEntriesMax: Int = 512
    /// How long committed entries may wait for more to fill a batch (0: send at once).
    /// Larger batches compress better; the wait adds at most this much replication lag.
    /// The shell's tick must come at least this often for the wait to be honoured.
    public var batchDelayMillis: UInt64 = 0
    /// Entries of a third region are relayed to a peer only once they are this old (by
    /// their stamp): normally the peer gets them straight from their origin first, and its
    /// vector (PING, every `pingIntervalMillis`) tells us so. Relaying is for cut links.
    /// 0 relays at once (every entry then crosses each link twice in a full mesh).
    public var relayDelayMillis: UInt64 = 0
    /// Unacknowledged batches in flight per peer.
    public var inFlightBatchesMax: Int = 8
    /// Unacknowledged snapshot chunks in flight per peer. Nil: `inFlightBatchesMax`. A
    /// receiver commits in one transaction the chunks that arrived while it committed
    /// the ones before, so a wider window makes fewer, larger transactions (each writes
    /// a random id index page once for many records), at the cost of holding that many
    /// chunks in the receiver's memory until they commit.
    public var snapshotChunksInFlightMax: Int? = nil

    /// The snapshot window in force.
    public var snapshotWindow: Int { snapshotChunksInFlightMax ?? inFlightBatchesMax }
    /// With no ack for this long (since the oldest item in flight was sent, or since the
    /// last ack that released one, whichever is later), resend everything the peer has
    /// not acked.
    public var retransmitAfterMillis: UInt64 = 2_000
    /// How often to send each connected peer a PING with our vector.
    public var pingIntervalMillis: UInt64 = 1_000
    /// How long a region waits for its peers' clock readings before it takes writes on
    /// its own clock: after it starts (engine built), and after a link to a peer whose
    /// reading has gone stale comes back. A region whose clock a majority of the
    /// cluster (itself included) has vouched for writes at once; one that hears from no
    /// peer in this time writes on its own clock (a partitioned region keeps serving).
    /// 0 turns the wait off (writes before any reading: a clock far ahead can then stamp
    /// values the cluster keeps).
    public var clockFirstReadingMillis: UInt64 = 3_000
    /// How often the shell should call `tick`.
    public var tickIntervalMillis: UInt64 = 20
    /// How long a `remote` write waits for another region's ack before it is acknowledged
    /// as `local` only (the API answers 202 then).
    public var remoteAckTimeoutMillis: UInt64 = 2_000
    /// Durable entries kept for peers (in the store's log table); beyond it the oldest go
    /// and a peer that still needed them gets a snapshot.
    public var logEntriesMax: Int = 500_000
    /// Of those, the newest kept in memory too. Nil: all of them. Set: a peer that needs
    /// older ones has them read from the store (`readLog`), and a restart reads only
    /// this many per origin.
    public var logCacheEntries: Int? = nil
    /// Records per SNAPSHOT chunk.
    public var snapshotChunkRecords: Int = 1_024
    /// Bytes of entries in one DELTA, and of records in one SNAPSHOT chunk: a batch or a
    /// chunk closes before the entry or record that would pass it, whatever the count
    /// allows. 512 entries or 1,024 records of the largest payments the API takes (about
    /// 48 KB each) would be 24-48 MB, over the 16 MB a peer accepts in one message; of
    /// common payments (well under 1 KB), the count closes them first.
    public var messageBytesBudget: Int = 4 * 1_024 * 1_024

    /// The limits of one DELTA batch.
    public var batchBudget: MessageBudget { MessageBudget(countMax: batchEntriesMax, bytesMax: messageBytesBudget) }
    /// The limits of one SNAPSHOT chunk.
    public var chunkBudget: MessageBudget {
        MessageBudget(countMax: snapshotChunkRecords, bytesMax: messageBytesBudget)
    }
    /// Memory for records, in bytes of their encodings. Nil: the engine holds every record
    /// (unit tests, tools). Set: it holds a bounded cache of the store, the shell loads
    /// what each input needs before the engine runs it, and snapshots are read from the
    /// store (a node and the simulator run this way).
    public var recordCacheBytes: Int? = nil
    /// The wire formats this region's binary speaks (its own and the one before). Only
    /// tests narrow it, to run a region as the release before would.
    public var wireVersions: ClosedRange<UInt8> = WireVersion.supported
    /// The release this region announces to its peers.
    public var release: String = WireVersion.release

    /// A configuration with default tuning.
    public init(region: RegionID, peers: [RegionID]) {
        self.region = region
        self.peers = peers
    }

    /// Checks the values an operator can get wrong; the message names the setting.
    public func validate() throws(ConfigError) {
        if peers.contains(region) { throw ConfigError("peers must not include this region (\(region))") }
        if Set(peers).count != peers.count { throw ConfigError("peers lists a region twice") }
        if retired.contains(region) { throw ConfigError("retired must not include this region (\(region))") }
        if Set(retired).count != retired.count { throw ConfigError("retired lists a region twice") }
        if let both = retired.first(where: peers.contains) {
            throw ConfigError("\(both) is both a peer and retired: a retired region's name is never reused")
        }
        if !(1...WireLimits.entriesPerBatchMax).contains(batchEntriesMax) {
            throw ConfigError("batch_entries_max must be 1...\(WireLimits.entriesPerBatchMax)")
        }
        if !(1...WireLimits.recordsPerChunkMax).contains(snapshotChunkRecords) {
            throw ConfigError("snapshot_chunk_records must be 1...\(WireLimits.recordsPerChunkMax)")
        }
        if !(64 * 1_024...WireLimits.messageBytesMax / 2).contains(messageBytesBudget) {
            throw ConfigError("messageBytesBudget must be 65536...\(WireLimits.messageBytesMax / 2)")
        }
        if inFlightBatchesMax < 1 { throw ConfigError("in_flight_batches_max must be at least 1") }
        if let w = snapshotChunksInFlightMax, !(1...1_024).contains(w) {
            throw ConfigError("snapshot_chunks_in_flight must be 1...1024")
        }
        if tickIntervalMillis < 1 { throw ConfigError("tick_interval_ms must be at least 1") }
        if relayDelayMillis > 600_000 { throw ConfigError("relay_delay_ms must be at most 600000") }
        if clockFirstReadingMillis > 600_000 { throw ConfigError("clock_first_reading_ms must be at most 600000") }
        if batchDelayMillis > 10_000 { throw ConfigError("batch_delay_ms must be at most 10000") }
        if logEntriesMax < batchEntriesMax { throw ConfigError("log_entries_max must be at least batch_entries_max") }
        if let b = recordCacheBytes, b < 4_096 { throw ConfigError("record_cache_mb is too small (at least 4 KB)") }
        if let n = logCacheEntries, n < 1 { throw ConfigError("log_cache_entries must be at least 1") }
        if !WireVersion.supported.contains(wireVersions.lowerBound)
            || !WireVersion.supported.contains(wireVersions.upperBound)
        {
            throw ConfigError(
                "wire formats \(wireVersions.lowerBound)-\(wireVersions.upperBound) are not all spoken by this binary (\(WireVersion.supported.lowerBound)-\(WireVersion.supported.upperBound))"
            )
        }
    }
}

/// A configuration value that cannot work, with the setting named in the message.
public struct ConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
