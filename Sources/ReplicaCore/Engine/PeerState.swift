/// What an engine knows about one peer: the link as it stands (`link`), and what
/// outlives a connection (what the peer has acked, its clock, when it was last heard).
///
/// The link is one value, so no impossible mix (a session on a closed link, a snapshot
/// streamed to a peer not yet greeted) can be written. The engine is the one owner of
/// "connected": `/v1/cluster` and `/metrics` both read it from `status`.
struct PeerState: Sendable {
    var link: PeerLink = .down
    /// The wire format of the current (or last) connection, as the transport negotiated it.
    var linkWire: UInt8?
    /// What the peer has durably stored (from HELLO, ACK, PING).
    var acked: VersionVector
    var lastContactMillis: UInt64?
    /// When entries first waited unsent for this peer (for `batchDelayMillis`).
    var unsentSinceMillis: UInt64?
    /// The latest estimate of the peer's clock offset from ours.
    var clockOffset: ClockOffset?
    /// Since when this region has waited for the peer's clock reading: the engine's start,
    /// then each time the link comes up. Until `clockFirstReadingMillis` after it, a peer
    /// with no fresh reading may still vouch for (or against) this region's clock.
    var clockWaitSinceMillis: UInt64
    /// The region the peer last said streams it a snapshot (its PING): while that is
    /// another region, this one starts none for it.
    var snapshotFrom: RegionID?
    /// Receiving: records merged from this peer's current snapshot stream (from its last
    /// one once that ended).
    var snapshotRecordsMerged: UInt64 = 0

    init(acked: VersionVector, clockWaitSinceMillis: UInt64) {
        self.acked = acked
        self.clockWaitSinceMillis = clockWaitSinceMillis
    }

    /// The session, when the link is up.
    var session: PeerSession? {
        if case .up(let session) = link { session } else { nil }
    }

    /// The link is open (greeting or up): acknowledgements may go on it.
    var isOpen: Bool {
        switch link {
        case .greeting, .up: true
        case .down, .closing: false
        }
    }

    /// A batch or snapshot chunk not yet acknowledged.
    struct InFlight: Sendable {
        /// For a batch or final chunk: the vector an ack must cover to release it.
        /// Nil for an intermediate snapshot chunk, released by the next ack in order.
        let upTo: VersionVector?
        let sentAtMillis: UInt64
    }

    /// A snapshot being streamed: the vector it will carry and where it has got to.
    struct SnapshotProgress: Sendable {
        let vector: VersionVector
        /// Records held in full: the ids to send, in order, and the next.
        var ids: [PaymentID] = []
        var next = 0
        /// Records in a bounded cache: chunks are read from the store after this id.
        /// The store's position of the last record sent (bounded mode; 0 before the first).
        var after: UInt64 = 0
        /// The next chunk's number in this stream (0: the first).
        var part: UInt64 = 0
    }
}

/// The link to a peer as the engine sees it. The transport reports connections
/// (`peerConnected`, `peerDisconnected`); the engine's view is the one the node reports.
enum PeerLink: Sendable {
    /// No connection.
    case down
    /// Connected, this region's HELLO sent, the peer's not yet come: only a HELLO is taken.
    case greeting
    /// Both HELLOs exchanged: entries, acks, pings and snapshots flow.
    case up(PeerSession)
    /// This engine asked the shell to close the connection: whatever else arrives on it
    /// is dropped (a snapshot's last chunk must not land after a chunk was refused).
    case closing

    /// The state as `PeerStatus` shows it.
    var state: PeerLinkState {
        switch self {
        case .down: .down
        case .greeting: .greeting
        case .up: .up
        case .closing: .closing
        }
    }
}

/// What one connection to a peer carries, from its HELLO to the link's end; a new
/// connection starts a new one.
struct PeerSession: Sendable {
    /// What has been sent on this connection (at least `acked` at HELLO).
    var sent: VersionVector
    var inFlight: [PeerState.InFlight] = []
    var snapshot: PeerState.SnapshotProgress?
    /// Of the peer's own writes, the last we held when it said HELLO: it has every later
    /// one (it wrote them), so only those up to here may need sending (after a disk loss).
    let ownHistoryCap: UInt64
    /// The store read on its way for this peer (older log entries, or a snapshot's next
    /// chunk): its number tells its answer from one meant for an earlier connection or
    /// stream, and one that never answers is given up like an unacked batch.
    var storeRead: (id: UInt64, sinceMillis: UInt64)?
    var lastPingSentMillis: UInt64 = 0
    /// The peer's last PING clock reading (its `sentAtMillis`) and our clock when it came:
    /// our next PING echoes it, so the peer can measure the offset too. Only this
    /// connection's: an older one's round trip says nothing.
    var lastPingFromPeer: (sentAtMillis: UInt64, receivedAtMillis: UInt64)?
    /// Receiving: this peer's current snapshot stream has been merged from its first chunk.
    var snapshotAccepted = false
    /// When an ack last released something in flight (0: never on this connection).
    var lastReleaseMillis: UInt64 = 0

    init(sent: VersionVector, ownHistoryCap: UInt64) {
        self.sent = sent
        self.ownHistoryCap = ownHistoryCap
    }

    /// Releases in-flight items the peer's acks (`acked`) now cover: batches whose vector
    /// is covered, and (in order) one snapshot chunk per ack.
    mutating func releaseInFlight(acked: VersionVector, nowMillis: UInt64) {
        var releasedChunk = false
        while let first = inFlight.first {
            if let upTo = first.upTo {
                guard acked.dominates(upTo) else { return }
            } else {
                guard !releasedChunk else { return }
                releasedChunk = true
            }
            inFlight.removeFirst()
            lastReleaseMillis = nowMillis
        }
    }

    /// Since when the peer has acknowledged nothing that was in flight: the oldest item's
    /// (or store read's) start, or the last release if later. A peer that works through
    /// a deep window slowly (a region committing a snapshot behind a busy disk) keeps
    /// acknowledging, and is not sent it all again.
    var waitingSinceMillis: UInt64? {
        guard let oldest = inFlight.first?.sentAtMillis ?? storeRead?.sinceMillis else { return nil }
        return max(oldest, lastReleaseMillis)
    }
}

/// A persist request handed to the shell and not yet reported committed.
struct PendingPersist: Sendable {
    let id: UInt64
    let vector: VersionVector
    let entries: [EncodedEntry]
    var localWrites: [LocalWrite]
    /// The peer to ack once committed.
    let ackPeer: RegionID?
    /// A final snapshot chunk: on commit the log restarts above this vector.
    let compactThrough: VersionVector?
    /// Records this request writes: kept in the cache until it commits.
    let pinned: [PaymentID]
    /// A snapshot chunk's records: dropped from the cache once committed (a region
    /// catching up would otherwise fill it with records nobody is about to write).
    var dropOnCommit = false
}

/// A client write inside a pending persist.
struct LocalWrite: Sendable {
    let ticket: WriteTicket
    let seq: UInt64
    let durability: Durability
    let ack: WriteAck
}

/// A committed `remote` write waiting for another region's ack.
struct RemoteWait: Sendable {
    let ticket: WriteTicket
    let seq: UInt64
    let deadlineMillis: UInt64
    let ack: WriteAck
}
