import Foundation
import Logging
import NIOCore
import NIOPosix
import PaymentsWire
import Prometheus
import ReplicaCore
import ReplicaShell
import ReplicaStore
import ReplicaTransport
import ServiceLifecycle
import Synchronization

/// One region's node: the `ReplicaShell` (the directive interpreter paysim runs too) over
/// the SQLite store, the mutual-TLS peer transport and the wall clock, on one event loop.
/// Every input (client write, read, peer message, commit, timer) is one task on that
/// loop, so the shell and its engine see them one at a time, in order.
public final class ReplicaNode: @unchecked Sendable {
    typealias Shell = ReplicaShell<SQLiteShellStore, TransportPeerBus, EventLoopClock>

    /// The config the node started with. What a reload (SIGHUP) changes is in
    /// `credentials`, not here.
    public let config: NodeConfig
    public let transport: PeerTransport
    /// API key hashes, API and peer TLS material: what a reload replaces.
    public let credentials: LiveCredentials
    /// The node's own metrics registry (each node in a process has one): what the node
    /// records as it happens (`NodeActivityMetrics`), and what `/metrics` adds at each scrape.
    public let metrics = PrometheusCollectorRegistry()
    let logger: Logger
    let loop: EventLoop
    let store: ReplicaStore
    let committer: GroupCommitter
    /// Where store work runs (the node's one policy for it).
    let io: StoreIO
    /// Touched only on `loop`.
    private let shell: NIOLoopBoundBox<Shell>
    /// `moneyAtRisk`'s last answer, and when it may be given again.
    let moneyAtRiskCache = Mutex(MoneyAtRiskCache())

    /// Opens (or creates) the region's store and resumes from it. Nothing listens yet:
    /// call `start()`.
    public init(config: NodeConfig, group: EventLoopGroup, logger: Logger) throws {
        self.config = config
        self.logger = logger
        self.loop = group.next()
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        var options = StoreOptions(path: config.databasePath)
        options.eventsKept = config.eventsKept
        if let rows = config.compactionStepRows { options.compactionStepRows = rows }
        store = try ReplicaStore(options: options)
        try store.claim(region: config.region)
        let recovered = try store.recover(
            includingRecords: config.engine.recordCacheBytes == nil,
            logTailPerOrigin: config.engine.logCacheEntries)
        try Self.checkMembership(recovered, config)
        if recovered.wireActive > config.engine.wireVersions.upperBound {
            throw NodeConfigError(
                file: config.databasePath, key: "",
                problem:
                    "this store's cluster runs wire format \(recovered.wireActive), and this binary speaks \(config.engine.wireVersions.lowerBound)-\(config.engine.wireVersions.upperBound): once every region has run a release, the cluster does not go back to an older one (run the release the other regions run)"
            )
        }
        let activity = NodeActivityMetrics(registry: metrics)
        committer = GroupCommitter(store: store, observer: activity.groupCommitted)
        io = try StoreIO(store: store, committer: committer, loop: loop)
        let loaded = try NodeCredentials.load(config)
        credentials = LiveCredentials(loaded)
        transport = PeerTransport(config: config.transport, tls: loaded.peerTLS, group: group, logger: logger)
        var shellConfig = ShellConfig(engine: config.engine)
        shellConfig.sessionWaitMillis = config.sessionWaitMillis
        // 1 MiB (the memory target leaves little more): a catch-up of a million payments
        // into an empty region reads 2.7% of them back to merge (false positives), not all;
        // let go past 4 M ids.
        shellConfig.storedIDFilterBits = 1 << 23
        let ports = (
            store: SQLiteShellStore(
                loop: loop, store: store, committer: committer, io: io, logger: logger,
                engine: config.engine),
            bus: TransportPeerBus(transport: transport), clock: EventLoopClock(loop: loop)
        )
        let shell = Shell(
            config: shellConfig, recovered: recovered, store: ports.store, bus: ports.bus, clock: ports.clock)
        shell.observer = { event in
            activity.record(event)
            ReplicaNode.log(event, logger)
        }
        self.shell = NIOLoopBoundBox.makeBoxSendingValue(shell, eventLoop: loop)
        logger.info(
            "store opened",
            metadata: [
                "store.path": "\(config.databasePath)", "store.vector": "\(recovered.vector)",
                "wire.active": "\(recovered.wireActive)",
                "store.log_entries": "\(recovered.logTail.count + recovered.encodedLogTail.count)",
            ])
    }

    /// Refuses a store whose region was retired, and a config that lists a region the store
    /// records as retired among its peers: a retired region's name is never reused.
    static func checkMembership(_ recovered: RecoveredState, _ config: NodeConfig) throws(NodeConfigError) {
        if recovered.selfRetired {
            throw NodeConfigError(
                file: config.databasePath, key: "",
                problem:
                    "\(config.region) was retired from its cluster (paynode decommission): this store serves no more. A retired region's name is never reused; a new region needs a new name and a store from `paynode init --join`"
            )
        }
        if let reused = config.engine.peers.first(where: { recovered.retired[$0] != nil }) {
            throw NodeConfigError(
                file: config.sourceFile, key: "peers",
                problem:
                    "\(reused) was retired from this cluster (this region's store records it): move it from peers to retired; a retired region's name is never reused"
            )
        }
    }

    /// Creates the store of a region that has never written anywhere, recording that it
    /// holds its (empty) history: it takes writes without waiting for its peers. Refused
    /// when the store already holds data.
    public static func initializeNewRegion(_ config: NodeConfig) throws {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let store = try ReplicaStore(options: StoreOptions(path: config.databasePath))
        try store.claim(region: config.region)
        try store.markNewRegion(wireVersion: config.engine.wireVersions.upperBound)
    }

    /// Creates the store of a region joining a cluster that serves: empty, claimed by the
    /// region, and not holding its own history, so it takes writes only once every peer has
    /// said what it holds (as a wiped region does); it catches up from them meanwhile.
    /// Refused when the store already holds data.
    public static func initializeJoiningRegion(_ config: NodeConfig) throws {
        try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
        let store = try ReplicaStore(options: StoreOptions(path: config.databasePath))
        let recovered = try store.recover(includingRecords: false)
        guard recovered.vector.sortedEntries.isEmpty, !recovered.ownHistoryComplete else {
            throw NodeConfigError(
                file: config.databasePath, key: "",
                problem:
                    "the store already holds data or was made by plain `paynode init` (a new cluster's region): a joining region starts from a store `init --join` made"
            )
        }
        try store.claim(region: config.region)
    }

    /// Makes this region one that is being retired (`paynode decommission`): it takes no
    /// client writes and replicates until every peer holds all it wrote.
    public func beginRetirement() async throws { try await onLoop { $0.beginRetirement() } }

    /// What the peers still lack of this region's writes.
    public func retirement() async throws -> RetirementStatus { try await onLoop { $0.engine.retirement } }

    /// Records this region's retirement once drained (true); false while a peer still
    /// lacks some of its writes. The record is committed by `shutdown`.
    public func finishRetirement() async throws -> Bool { try await onLoop { $0.finishRetirement() } }

    /// Starts the peer transport and the engine's timer.
    public func start() async throws {
        try await transport.start(delegate: self)
        try await onLoop { $0.start() }
    }

    /// Stops in order: no new writes or peer messages, every commit in flight finished and
    /// answered, peers closed, the committer stopped. Acknowledged writes are on disk
    /// before this returns.
    public func shutdown() async {
        let drained = loop.makePromise(of: Void.self)
        loop.execute { [self] in shell.value.drain { drained.succeed() } }
        try? await drained.futureResult.get()
        await transport.shutdown()
        committer.shutdown()
        await io.shutdown()
        logger.info("node stopped", metadata: ["region": "\(config.region)"])
    }

    // MARK: - Writes and reads

    /// Submits a create or patch; returns once it is durable at `durability` (or `local`
    /// when `remote` timed out: see `WriteAck.achieved`).
    /// With `tracing:` in the config it runs under spans (`tracedSubmit`); without, no
    /// span is started.
    public func submit(
        _ command: PaymentCommand, actor: String? = nil, durability: Durability
    ) async throws(NodeError) -> WriteAck {
        if config.tracing != nil { return try await tracedSubmit(command, actor: actor, durability: durability) }
        return try await answer { shell, reply in
            shell.submit(command, actor: actor, durability: durability, reply: reply)
        }
    }

    /// The same write, answered through `reply` on the engine's loop rather than awaited:
    /// what an API event loop calls (the create fast path), which hands the write to the
    /// engine's loop and returns. No span is started (with tracing, every request takes
    /// the router).
    public func submit(
        _ command: PaymentCommand, actor: String?, durability: Durability,
        reply: @escaping @Sendable (Result<WriteAck, NodeError>) -> Void
    ) {
        loop.execute { [shell] in shell.value.submit(command, actor: actor, durability: durability, reply: reply) }
    }

    /// Waits until this region has committed everything `token` covers (up to the
    /// configured wait), so a read that follows sees the session's own writes.
    public func waitForSession(_ token: VersionVector?) async throws(NodeError) {
        guard let token, !token.sortedEntries.isEmpty else { return }
        try await answer { shell, reply in shell.waitForSession(token, reply: reply) }
    }

    /// The committed payment, once the session (if any) is served: the shell's read path.
    ///
    /// A read with no session token waits for nothing the engine knows: it reads the
    /// committed row straight from the request (`StoreIO.readPoint`, on the request's own
    /// thread), with no turn of the engine's loop and no hop to the pool. The row it reads
    /// is the one the shell's read path (`SQLiteShellStore.readPayment`) reads.
    public func readPayment(_ id: PaymentID, sessionToken: VersionVector?) async throws(NodeError) -> Payment? {
        guard let sessionToken, !sessionToken.sortedEntries.isEmpty else {
            do { return try await io.readPoint { try $0.payment(id) } } catch {
                // The store's own error text stays inside (it may name files and statements).
                throw .unavailable("the store could not be read")
            }
        }
        return try await answer { shell, reply in shell.readPayment(id, sessionToken: sessionToken, reply: reply) }
    }

    /// The committed payment as the API's JSON, read at once on the calling thread (an API
    /// event loop) when a point connection is free, from its row's columns
    /// (`StoreReader.paymentBody`): nil when none is free, when the payment is not held
    /// here, or when the read failed (the read the usual way, `readPayment`, says which).
    public func readPaymentBodyAtOnce(_ id: PaymentID) -> PaymentBody? {
        (try? io.readAtOnce { try $0.paymentBody(id) }) ?? nil
    }

    /// A page of the change feed.
    public func events(_ query: EventQuery) async throws(NodeError) -> EventPage {
        try await answer { shell, reply in shell.readEvents(query, reply: reply) }
    }

    /// One payment's history (nil when this region does not hold the payment whole).
    public func history(_ id: PaymentID, limit: Int) async throws(NodeError) -> PaymentHistory? {
        try await answer { shell, reply in shell.readHistory(id, limit: limit, reply: reply) }
    }

    /// The change feed's version now (see `waitForEvents`).
    public func eventsVersion() async throws -> UInt64 { try await onLoop { $0.feedVersion } }

    /// Returns the feed's new version once it moves past `version` (a commit, or own
    /// changes becoming visible), or `version` after `timeoutMillis`.
    public func waitForEvents(after version: UInt64, timeoutMillis: UInt64) async throws -> UInt64 {
        let promise = loop.makePromise(of: UInt64.self)
        loop.execute { [shell] in
            shell.value.waitForFeed(after: version, timeoutMillis: timeoutMillis) { promise.succeed($0) }
        }
        return try await promise.futureResult.get()
    }

    /// Runs `body` against the committed store, on a thread of the blocking pool.
    public func read<T: Sendable>(_ body: @escaping @Sendable (StoreReader) throws -> T) async throws -> T {
        try await io.read(body)
    }

    /// The store's WAL checkpoints so far (for `/metrics`).
    public var walCheckpoints: WALCheckpointCounts { store.walCheckpoints }

    // MARK: - On the loop

    func onLoop<T: Sendable>(_ body: @escaping @Sendable (Shell) -> T) async throws -> T {
        try await loop.submit { [shell] in body(shell.value) }.get()
    }

    /// Runs `start` on the loop and waits for the reply it is given. A traced write's
    /// `commitTrace` waits in the store port, from the hand-over to the reply, for the
    /// persist request that carries the write.
    func answer<T: Sendable>(
        commitTrace: CommitTrace? = nil,
        _ start: @escaping @Sendable (Shell, @escaping Shell.Reply<T>) -> Void
    ) async throws(NodeError) -> T {
        let promise = loop.makePromise(of: T.self)
        loop.execute { [shell] in
            let shell = shell.value
            if let commitTrace { shell.store.expectCommit(commitTrace) }
            start(shell) { result in
                if let commitTrace { shell.store.forgetCommit(commitTrace) }
                switch result {
                case .success(let value): promise.succeed(value)
                case .failure(let error): promise.fail(error)
                }
            }
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as NodeError {
            throw error
        } catch {
            logger.warning("request not answered", metadata: ["error": "\(error)"])
            throw .unavailable("the node could not answer (it may be stopping)")
        }
    }

    static func log(_ event: ShellEvent, _ logger: Logger) {
        switch event {
        case .storeFailed(let reason, let uncertain):
            logger.critical(
                "store failed: writes refused",
                metadata: ["reason": "\(reason)", "store.restart_needed": "\(uncertain)"])
        case .storeRecovered(let downMillis):
            logger.warning("store takes writes again", metadata: ["store.down_ms": "\(downMillis)"])
        case .recoveryFailed(let reason, let retryMillis):
            logger.info(
                "store still cannot take writes", metadata: ["reason": "\(reason)", "retry_ms": "\(retryMillis)"])
        case .ownHistoryRecovered(let seq):
            logger.info(
                "own history recovered from peers: writes taken", metadata: ["store.resuming_after_seq": "\(seq)"])
        case .clockStandingChanged(let standing):
            switch standing {
            case .vouched:
                logger.info("clock vouched for by a majority of the cluster: writes taken")
            case .awaitingReadings(let why):
                logger.notice("writes wait for peers' clock readings", metadata: ["reason": "\(why)"])
            case .unverified(let why):
                logger.warning("writes taken on an unverified clock", metadata: ["reason": "\(why)"])
            case .outOfBound(let why):
                logger.error("clock out of bound: writes refused", metadata: ["reason": "\(why)"])
            }
        case .wireFormatRaised(let to):
            logger.notice(
                "every region speaks wire format \(to): the cluster now runs it, for good",
                metadata: ["wire.active": "\(to)"])
        case .drained, .sessionWaitStarted, .sessionWaitEnded:
            break
        }
    }
}

extension ReplicaNode: PeerTransportDelegate {
    public func peerConnected(_ region: RegionID, wire: UInt8) {
        loop.execute { [shell] in shell.value.peerConnected(region, wire: wire) }
    }

    public func peerDisconnected(_ region: RegionID) {
        loop.execute { [shell] in shell.value.peerDisconnected(region) }
    }

    public func peerSent(_ message: PeerMessage, from region: RegionID) {
        loop.execute { [shell] in shell.value.peerSent(message, from: region) }
    }
}

extension ReplicaNode: Service {
    /// Runs until graceful shutdown (SIGTERM) or cancellation, then stops in order.
    /// `start()` must have been called.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}

/// Amounts, per currency in minor units, of the payments whose latest writes here no
/// other region holds yet: what losing the region now would lose.
public struct MoneyAtRisk: Sendable {
    /// Held by no other region.
    public let total: [(currency: String, minorUnits: Int64)]
    /// Lacked by each peer.
    public let perPeer: [(peer: RegionID, amounts: [(currency: String, minorUnits: Int64)])]
    /// 0: the sums are of the store as it is now. Otherwise how long ago they were read:
    /// a slow read of the log is not repeated on every ask (`MoneyAtRiskCache`).
    public var ageMillis: UInt64 = 0

    func aged(_ millis: UInt64) -> MoneyAtRisk {
        var copy = self
        copy.ageMillis = millis
        return copy
    }
}
