import ReplicaCore

/// Something that happens at a virtual instant.
enum SimEvent: Sendable {
    case tick(region: Int, incarnation: Int)
    case commit(region: Int, incarnation: Int)
    case deliver(from: Int, to: Int, connection: UInt64, bytes: [UInt8])
    case reconnect(Int, Int)
    case clientNext(client: Int)
    case requestArrives(op: UInt64, attempt: Int, region: Int)
    case replyArrives(op: UInt64, attempt: Int, reply: ClientReply)
    case requestTimeout(op: UInt64, attempt: Int)
    case fault(FaultAction)
    case heal
    case sample

    var code: UInt64 {
        switch self {
        case .tick: 1
        case .commit: 2
        case .deliver: 3
        case .reconnect: 4
        case .clientNext: 5
        case .requestArrives: 6
        case .replyArrives: 7
        case .requestTimeout: 8
        case .fault: 9
        case .heal: 10
        case .sample: 11
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
}

/// What a region answered a client.
enum ClientReply: Sendable {
    case ok(WriteAck?, Payment?, seq: UInt64?)
    case rejected(PaymentError)
    case sessionNotAvailable
}

/// One region of the simulated world.
struct SimRegion {
    let index: Int
    let id: RegionID
    var engine: ReplicationEngine?
    var storage = InMemoryStorage()
    var pending: [PersistRequest] = []
    var commitScheduled = false
    var incarnation = 0
    var lost = false
    var clockOffsetMicros: Int64
    var driftPPM: Int64
    /// Client requests waiting for their write's acknowledgement.
    var waiting: [WriteTicket: (op: UInt64, attempt: Int, seq: UInt64)] = [:]
    /// Since when the region has had no connection to any peer (nil while it has one).
    var isolatedSinceMicros: UInt64? = 0
    var up: Bool { engine != nil }
}

/// The state of the connection between two regions (kept for the pair a < b).
struct SimConnection {
    var id: UInt64 = 0
    var up = false
    var reconnectScheduled = false
    /// A cut between the two is pending its end (for the "healed mid-batch" probe).
    var cutPending = false
}

/// One direction of a link.
struct SimLink {
    var lastDeliveryMicros: UInt64 = 0
    var cutUntilMicros: UInt64 = 0
    var clogExtraMicros: UInt64 = 0
    var clogUntilMicros: UInt64 = 0
    var bytesSent: UInt64 = 0
}

/// A client operation in progress.
struct ClientOp {
    enum Kind { case create(PaymentID, CreatePayment), update(PaymentID, PaymentPatch, owned: Bool), read(PaymentID) }
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
    let seq: UInt64
    let achieved: Durability
    let ackMicros: UInt64
    let paymentID: PaymentID
}

/// One outage, for RTO.
struct Outage {
    let region: Int
    let startMicros: UInt64
    var affectedClients: [Int]
    var recoveredMicros: [Int: UInt64] = [:]
    let permanent: Bool
}
