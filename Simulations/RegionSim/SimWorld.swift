import ReplicaCore

/// Something that happens at a virtual instant.
enum SimEvent: Sendable {
    /// A region's timer, store completion or bus action (`SimRegion.callbacks`).
    case callback(region: Int, incarnation: Int, id: UInt64)
    case deliver(from: Int, to: Int, connection: UInt64, bytes: [UInt8])
    case reconnect(Int, Int)
    case clientNext(client: Int)
    case requestArrives(op: UInt64, attempt: Int, region: Int)
    /// `epoch`: the answering region's storage epoch when it answered. Boxed (as is a
    /// feed reply): a reply holds a whole payment, and every event is moved into the
    /// queue and out again.
    indirect case replyArrives(op: UInt64, attempt: Int, reply: ClientReply, region: Int, epoch: Int)
    case requestTimeout(op: UInt64, attempt: Int)
    case fault(FaultAction)
    case heal
    case sample
    /// The change feed consumer: sends a request, it reaches a region, the reply comes
    /// back, a request timed out, the next try after a failover.
    case feedNext(attempt: Int)
    case feedArrives(attempt: Int, region: Int)
    indirect case feedReply(attempt: Int, reply: FeedReply)
    case feedTimeout(attempt: Int)

    var code: UInt64 {
        switch self {
        case .callback: 1
        case .deliver: 3
        case .reconnect: 4
        case .clientNext: 5
        case .requestArrives: 6
        case .replyArrives: 7
        case .requestTimeout: 8
        case .fault: 9
        case .heal: 10
        case .sample: 11
        case .feedNext: 12
        case .feedArrives: 13
        case .feedReply: 14
        case .feedTimeout: 15
        }
    }
}

/// A fault being applied or ended.
enum FaultAction: Sendable, Hashable {
    case crash(Int, downMicros: UInt64)
    case restart(Int)
    case lose(Int)
    case cut(Int, Int, untilMicros: UInt64, oneWay: Bool)
    case clog(Int, Int, extraMicros: UInt64, untilMicros: UInt64)
    case resetConnection(Int, Int)
    case clockJump(Int, deltaMillis: Int64)
    case healLinks
    /// The region's disk is full until then (commits roll back).
    case diskFull(Int, untilMicros: UInt64)
    /// The region's commits take `extraMicros` longer until then (a disk behind a
    /// burst of other I/O, or a file grown past the page cache).
    case slowDisk(Int, extraMicros: UInt64, untilMicros: UInt64)
    /// The region's next group commit fails its fsync.
    case fsyncFailure(Int)
    /// The region crashes and its data folder is wiped; it restarts empty.
    case wipe(Int, downMicros: UInt64)
    /// SIGTERM: the region drains, exits, and restarts after `downMicros`.
    case gracefulRestart(Int, downMicros: UInt64)
    /// A copy of the region's committed store is taken (it serves on).
    case backup(Int)
    /// The region crashes, its data folder is lost, and its last backup is restored.
    case restore(Int, downMicros: UInt64)
    /// The node's store failed for good; its supervisor restarts it.
    case supervisorRestart(Int)
    /// A rolling upgrade's step: the next release is installed, the region drains and
    /// exits, and starts again on it after `downMicros` (`Simulation+Upgrade.swift`).
    case upgrade(Int, downMicros: UInt64)
    /// The region joins the cluster while it serves (`Simulation+Join.swift`).
    case addRegion(Int)
    /// The region is decommissioned: it takes no client writes, drains to its peers, is
    /// recorded retired and stops for good; then every member is told (`Simulation+Retire.swift`).
    case retire(Int)
    /// The region is lost for good (if it is not already) and every member is told at once.
    case retireLost(Int)
    /// A decommission in progress looks again whether its region is drained.
    case retireStep(Int)
}

/// What a region answered a client.
enum ClientReply: Sendable {
    /// `wire`: for a write, the region's active wire format when it took the request and
    /// when it acknowledged it.
    case ok(WriteAck?, Payment?, seq: UInt64?, wire: WireWindow? = nil)
    case rejected(PaymentError)
    case sessionNotAvailable
    /// 503: the region does not take writes now (its store failed, or it is draining).
    case unavailable
}

/// One region of the simulated world.
struct SimRegion {
    let index: Int
    let id: RegionID
    /// The node's shell while the process runs.
    var shell: SimShell?
    /// The disk, the network end and the clock (they outlive a crash).
    var store: SimStore!
    var bus: SimBus!
    var clock: SimClock!
    /// Timers, store completions and bus actions of the running process, by id.
    var callbacks: [UInt64: () -> Void] = [:]
    /// False while the shell keeps its peer links closed (its store failed).
    var linksEnabled = true
    /// Bumped by every wipe of the data folder.
    var storageEpoch = 0
    /// The last backup of the region's store (`backup` faults).
    var backup: InMemoryStorage?
    var incarnation = 0
    var lost = false
    /// False for a region to be added later (`add-region`) until its step: it runs no
    /// process, no member lists it, and no client or check counts it.
    var member = true
    /// When it joined the cluster (nil: a member from the start, or not yet).
    var joinedAtMicros: UInt64?
    /// Being decommissioned (`retire`): it takes no client writes, from every start too,
    /// until it is drained and stopped.
    var retiring = false
    /// The incarnation whose drain-and-stop is under way once its retirement was recorded.
    var retireStopIncarnation: Int?
    /// Retired from the cluster (decommissioned, or lost and retired): no member lists it as
    /// a peer any more, it never runs or links again, and no check waits for it.
    var retired = false
    var clockOffsetMicros: Int64
    /// The wire formats its binary speaks: this release's, or the release before's.
    var wireVersions: ClosedRange<UInt8> = WireVersion.supported
    /// A newer binary installed (an upgrade in progress): the next start runs it.
    var installed: ClosedRange<UInt8>?
    /// Since when its shell has waited for peers' clock readings (nil: not waiting).
    var clockWaitSinceMicros: UInt64?
    var driftPPM: Int64
    /// Spans during which the region could not replicate (down, or no link to any peer),
    /// the last one open while it lasts: they widen the RPO budget of writes lost with it.
    var cutOff: [(startMicros: UInt64, endMicros: UInt64?)] = [(0, nil)]
    var up: Bool { shell != nil }
    /// The running engine (the region MUST be up).
    var engine: ReplicationEngine { shell!.engine }
}

/// The state of the connection between two regions (kept for the pair a < b).
struct SimConnection {
    var id: UInt64 = 0
    var up = false
    var reconnectScheduled = false
    /// A cut between the two is pending its end (for the "healed mid-batch" probe).
    var cutPending = false
    /// The wire format both ends agreed on when it was made (the transport's TLS ALPN).
    var wire: UInt8 = WireVersion.current
}

/// One direction of a link.
struct SimLink {
    var lastDeliveryMicros: UInt64 = 0
    /// When the last DELTA or SNAPSHOT sent on it arrives (PINGs and ACKs change no
    /// state: with many regions one is nearly always on its way).
    var lastDataDeliveryMicros: UInt64 = 0
    var cutUntilMicros: UInt64 = 0
    var clogExtraMicros: UInt64 = 0
    var clogUntilMicros: UInt64 = 0
    var bytesSent: UInt64 = 0
}

/// A client operation in progress.
struct ClientOp {
    enum Kind {
        case create(PaymentID, CreatePayment)
        case update(PaymentID, PaymentPatch, owned: Bool)
        case read(PaymentID)
    }
    let id: UInt64
    let client: Int
    let kind: Kind
    let durability: Durability
    let startedMicros: UInt64
    var attempt = 0
    var region = 0
    var sentMicros: UInt64 = 0
    var sessionRetries = 0
    var done = false
}

/// A client of the payment API, living next to its home region.
struct SimClient {
    let index: Int
    let home: Int
    var router: RegionRouter
    var busy = false
    var created = 0
    var sessionToken = VersionVector()
    /// Payments this client owns: its last acknowledged status and description.
    var owned: [PaymentID: (status: PaymentStatus, description: String)] = [:]
    /// Owned payments whose writes may have landed unacknowledged (a timed-out attempt):
    /// the exact-value checks skip them.
    var tainted: Set<PaymentID> = []
    var ownedOrder: [PaymentID] = []
}

/// A write a client was told succeeded.
struct AckedWrite {
    let region: Int
    /// The region's storage epoch when the write was acknowledged.
    let epoch: Int
    let seq: UInt64
    let achieved: Durability
    let ackMicros: UInt64
    let paymentID: PaymentID
    /// Who the client wrote as (the key id a node would record).
    let actor: String
    /// The region's active wire format when it took the write and when it acknowledged
    /// it: whether its log entry may carry the actor (`checkActors`).
    let wire: WireWindow
}

/// A region's active wire format over one client write: when the region took the
/// request, and when it acknowledged it. The format only rises, so a write taken at
/// format 4 records its actor, and a write still acknowledged at 3 records none; in
/// between, either.
struct WireWindow: Sendable, Hashable {
    let atSubmit: UInt8
    let atAck: UInt8
}

/// One outage, for RTO.
struct Outage {
    let region: Int
    let startMicros: UInt64
    var affectedClients: [Int]
    var recoveredMicros: [Int: UInt64] = [:]
    let permanent: Bool
}
