import ReplicaCore

// MARK: - The three things a shell runs on: a store, a peer bus, a clock

/// How a commit ended.
public enum StoreOutcome: Sendable, Equatable {
    /// Durable: the request is on disk.
    case committed
    /// Nothing of the request (nor of any request handed in after it) landed; the store is
    /// as it was before it. Writing may work again later (a full disk was freed).
    case rolledBack(String)
    /// The request may or may not have landed (a failed fsync): the store's state is not
    /// known until it is opened again. The shell stops taking writes for good.
    case uncertain(String)
}

/// The durable store under a shell: SQLite in a node, a simulated disk in paysim.
///
/// Contract:
/// - `commit` hands one request to the committer. Requests MUST commit in the order they
///   were handed in (several may share a transaction). Each completion runs exactly
///   once, on the shell's executor, in hand-in order.
/// - After a `rolledBack` or `uncertain` outcome, every request handed in after it MUST
///   fail too (never commit) until `probeWritable` answers true: a later request's vector
///   includes the failed one's entries.
/// - `loadRecords`, `readRecords`, `readEvents`, `readHistory`, `readPayment` and `stateDigest` read
///   committed state only. `readPayment`, `readHistory` and `readEvents` may answer on any thread: their reply goes to the client, never back into
///   the shell.
public protocol ShellStore: AnyObject {
    func commit(_ request: PersistRequest, completion: @escaping (StoreOutcome) -> Void)
    /// Deletes log entries covered by `vector`, in order with the commits around it.
    /// Failure is not an error (the log is trimmed again later).
    func compactLog(through vector: VersionVector)
    /// The committed records of those of `ids` that exist, each in its wire encoding
    /// (`ByteWriter.writeRecord`), checked to decode. Completion on the executor, before
    /// returning (a short read done in place) or later.
    func loadRecords(_ ids: [PaymentID], completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void)
    /// `loadRecords` for a store that keeps each record decoded beside its encoding (one
    /// in memory): it hands both over, and the engine decodes nothing. Returns false,
    /// without calling `completion`, when the store keeps encodings only (the default):
    /// the shell then calls `loadRecords`.
    func loadDecodedRecords(
        _ ids: [PaymentID], completion: @escaping (Result<[EncodedRecord], StoreReadFailure>) -> Void
    ) -> Bool
    /// The committed records after store position `after` (0: from the first) that fit
    /// `limit` (count and bytes: the first always fits), in the store's own order (the
    /// order it keeps them in on disk, so a snapshot reads sequentially), each in its
    /// stored encoding; the position of the last one; and whether more may follow.
    /// Completion on the executor.
    func readRecords(
        after: UInt64, limit: MessageBudget, completion: @escaping (Result<StoredRecords, StoreReadFailure>) -> Void)
    /// The committed log entries of `origin` with seq above `after` that fit `limit`
    /// (count and bytes: the first always fits), in order, each in its wire encoding
    /// (`ByteWriter.writeEntry`), checked to decode. Completion on the executor.
    func readLogEntries(
        of origin: RegionID, after: UInt64, limit: MessageBudget,
        completion: @escaping (Result<[[UInt8]], StoreReadFailure>) -> Void)
    /// A page of the change feed: the committed changes after `query.cursor` in commit
    /// order, chosen by `EventSelection` (region `region`, own changes visible through
    /// `ownVisibleThrough`). May answer on any thread, like `readPayment`.
    func readEvents(
        _ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64,
        reply: @escaping (Result<EventPage, EventReadFailure>) -> Void)
    /// One payment's history from the committed feed rows (`PaymentHistory.assemble`; nil
    /// when the payment is unknown or incomplete). May answer on any thread, like `readPayment`.
    func readHistory(
        _ id: PaymentID, limit: Int, reply: @escaping (Result<PaymentHistory?, HistoryReadFailure>) -> Void)
    /// The payment as committed (nil when unknown or incomplete).
    func readPayment(_ id: PaymentID, reply: @escaping (Result<Payment?, StoreReadFailure>) -> Void)
    /// What a restarting engine needs, read from committed state; completion on the executor.
    func recover(completion: @escaping (Result<RecoveredState, StoreReadFailure>) -> Void)
    /// Tries a small write; true when the store takes writes again. Clears the failed
    /// state of the committer when it does. Completion on the executor.
    func probeWritable(completion: @escaping (Bool) -> Void)
    /// `StateDigest` of the committed records.
    func stateDigest() throws -> String
}

extension ShellStore {
    /// The store keeps encodings only.
    public func loadDecodedRecords(
        _ ids: [PaymentID], completion: @escaping (Result<[EncodedRecord], StoreReadFailure>) -> Void
    ) -> Bool { false }
}

/// Reading committed state failed.
public struct StoreReadFailure: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reading the change feed failed.
public enum EventReadFailure: Error, Sendable {
    /// The cursor cannot be served here (see `EventFeedError`).
    case feed(EventFeedError)
    case store(StoreReadFailure)
}

/// Reading a payment's history failed.
public enum HistoryReadFailure: Error, Sendable {
    /// A change the history needs is no longer held here.
    case truncated(PaymentHistoryError)
    case store(StoreReadFailure)
}

/// Connections to the other regions: TLS links in a node, a simulated network in paysim.
/// What arrives is handed to the shell's `peerConnected`, `peerDisconnected` and
/// `peerSent`, on the shell's executor.
public protocol ShellPeerBus: AnyObject {
    /// Sends on the peer's current connection; dropped when there is none.
    func send(_ message: PeerMessage, to peer: RegionID)
    /// Closes the peer's current connection (it broke the protocol).
    func disconnect(_ peer: RegionID, reason: String)
    /// While false, no peer connection is kept, made or accepted; true connects again.
    func setLinksEnabled(_ enabled: Bool)
}

/// Time and timers: the wall clock and the event loop in a node, virtual time in paysim.
public protocol ShellClock: AnyObject {
    /// Wall time, milliseconds since 1970.
    var nowMillis: UInt64 { get }
    /// Runs `body` on the shell's executor after `millis`.
    func schedule(afterMillis millis: UInt64, _ body: @escaping () -> Void)
}

/// Something a shell's host may want to log, count or check.
public enum ShellEvent: Sendable, Equatable {
    /// A commit failed; writes are refused until the store recovers (`uncertain`: for good).
    case storeFailed(reason: String, uncertain: Bool)
    /// The store took a write again and the engine was rebuilt from what it committed.
    case storeRecovered(downMillis: UInt64)
    /// A try to recover failed; the next one is due after `retryMillis`.
    case recoveryFailed(reason: String, retryMillis: UInt64)
    /// A new or wiped store has its own history back from the peers: writes are taken,
    /// numbered from `resumingAfter` + 1.
    case ownHistoryRecovered(resumingAfter: UInt64)
    /// The region's clock standing changed kind: it takes writes on a vouched clock, waits
    /// for its peers' readings, writes on an unverified one (cut off), or is out of bound.
    case clockStandingChanged(ClockStanding)
    /// The cluster's active wire format rose: every region announced a binary that speaks
    /// it, and the features it gates (the actor on each change) are on for good.
    case wireFormatRaised(to: UInt8)
    /// Drained: every commit finished, every waiter answered.
    case drained
    /// A read or patch began waiting for this region to catch up to its session token.
    case sessionWaitStarted
    /// That wait ended after `waitedMillis`: served (the region caught up), or not
    /// (`sessionNotAvailable`: the API's 412). Waits a drain answers report nothing.
    case sessionWaitEnded(waitedMillis: UInt64, served: Bool)
}

/// Records read in the store's own order, and the position to read on from.
public struct StoredRecords: Sendable {
    public let records: [[UInt8]]
    /// The store's position of the last record (the given one when none came back).
    public let position: UInt64
    /// The read stopped at its limit (count or bytes), not at the last record: more may
    /// follow. False: this is the snapshot's last chunk.
    public let more: Bool

    public init(records: [[UInt8]], position: UInt64, more: Bool) {
        self.records = records
        self.position = position
        self.more = more
    }
}
