import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ReplicaCore

/// What the transport tells the node, in the order it happened. Calls come from any
/// thread, one at a time and never under the transport's lock: the receiver should
/// only enqueue.
public protocol PeerTransportDelegate: AnyObject, Sendable {
    /// A peer's certificate was verified and its connection is the current one, running
    /// wire format `wire` (negotiated in the TLS handshake).
    func peerConnected(_ region: RegionID, wire: UInt8)
    /// The current connection to a peer closed.
    func peerDisconnected(_ region: RegionID)
    /// A message arrived on a peer's current connection.
    func peerSent(_ message: PeerMessage, from region: RegionID)
}

/// Peer connections over mutual TLS: listens for the regions that
/// dial this one, dials the others with capped, jittered backoff, checks every peer's
/// certificate names the region it is connected as, and moves framed `PeerMessage`s.
/// A connection that breaks the framing or lies about its region is closed alone.
///
/// TLS material can be replaced while links are up (`replaceTLS`, on SIGHUP): see there
/// for which links survive.
public final class PeerTransport: @unchecked Sendable {
    public let config: PeerTransportConfig
    public let stats = TransportStats()
    let group: EventLoopGroup
    let logger: Logger
    private weak var delegate: PeerTransportDelegate?

    private struct Connection {
        let id: UInt64
        let channel: Channel
    }

    private let lock = NIOLock()
    private var current: [RegionID: Connection] = [:]
    private var nextConnectionID: UInt64 = 1
    private var failedDials: [RegionID: Int] = [:]
    private var stopped = false
    /// While false (the node's store cannot take writes), every connection is refused.
    private var enabled = true
    private var serverChannel: Channel?
    private var allChannels: [ObjectIdentifier: Channel] = [:]
    /// The material new handshakes use, and how many times its CA or certificate changed.
    private var tls: PeerTLS
    private var tlsGeneration: UInt64 = 0
    /// Connections whose peer certificate was verified (links and pending ones), by channel.
    private var verifiedPeers: [ObjectIdentifier: VerifiedPeer] = [:]
    /// Every other region and its peer address: the config's, and those added since.
    private var peerAddresses: [RegionID: HostPort]
    /// Retired regions: the config's, and those retired since.
    private var retired: Set<RegionID>

    /// Delegate calls decided under the lock, made after it in that same order by one
    /// thread at a time (`flushEvents`).
    private enum Event {
        case connected(RegionID, wire: UInt8)
        case disconnected(RegionID)
        case sent(PeerMessage, RegionID)
    }
    private var outbox: [Event] = []
    private var flushing = false

    private struct VerifiedPeer {
        let channel: Channel
        let region: RegionID
        let certificate: NIOSSLCertificate
    }

    public init(config: PeerTransportConfig, tls: PeerTLS, group: EventLoopGroup, logger: Logger) {
        self.config = config
        self.peerAddresses = config.peers
        self.retired = Set(config.retired)
        self.tls = tls
        self.group = group
        self.logger = logger
    }

    /// The address the server bound (its port is real even when 0 was asked).
    public var boundAddress: SocketAddress? { lock.withLock { serverChannel?.localAddress } }

    /// Binds the peer listener and starts dialing. Events go to `delegate`.
    public func start(delegate: PeerTransportDelegate) async throws {
        lock.withLock { self.delegate = delegate }
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.installHandlers(on: channel, dialed: nil) }
            }
            .bind(host: config.listen.host, port: config.listen.port).get()
        lock.withLock { serverChannel = server }
        logger.info("peer listener up", metadata: ["peer.listen": "\(server.localAddress.map { "\($0)" } ?? "?")"])
        for peer in config.dialed { dial(peer) }
    }

    /// Sends `message` on the peer's current connection; dropped when there is none (the
    /// engine resends whatever a peer does not acknowledge).
    public func send(_ message: PeerMessage, to region: RegionID) {
        guard let channel = lock.withLock({ current[region]?.channel }) else { return }
        channel.writeAndFlush(message, promise: nil)
    }

    /// Closes the peer's current connection (it broke the protocol).
    public func disconnect(_ region: RegionID, reason: String) {
        guard let channel = lock.withLock({ current[region]?.channel }) else { return }
        logger.warning("closing peer connection", metadata: ["peer.region": "\(region)", "reason": "\(reason)"])
        channel.close(promise: nil)
    }

    /// While `false`, closes every peer connection and refuses new ones (dialing goes
    /// on, so links come back soon after `true`).
    public func setEnabled(_ enabled: Bool) {
        let toClose: [Channel] = lock.withLock {
            self.enabled = enabled
            return enabled ? [] : current.values.map(\.channel)
        }
        if !enabled { logger.info("peer links closed; new ones refused until enabled again") }
        for channel in toClose { channel.close(promise: nil) }
    }

    /// The regions a peer certificate may name: the config's and those added since.
    public var peerRegions: [RegionID] { lock.withLock { peerAddresses.keys.sorted() } }

    /// Adds a region that joined the cluster (or moves a known one to `address`): its
    /// certificate is accepted from now on, and this side dials it when its name sorts
    /// after this region's. A link already up stays.
    public func addPeer(_ region: RegionID, at address: HostPort) {
        let (changed, dialNow): (Bool, Bool) = lock.withLock {
            let before = peerAddresses[region]
            peerAddresses[region] = address
            return (before != address, before == nil && !stopped && config.region < region)
        }
        guard changed else { return }
        logger.info("peer address set", metadata: ["peer.region": "\(region)", "peer.address": "\(address)"])
        if dialNow { dial(region) }
    }

    /// Regions retired from the cluster, sorted.
    public var retiredRegions: [RegionID] { lock.withLock { retired.sorted() } }

    /// Retires `region`: it is no longer dialed, its link closes, and a certificate naming
    /// it is refused from now on, with a log line saying it was retired.
    public func retirePeer(_ region: RegionID) {
        let channel: Channel? = lock.withLock {
            peerAddresses[region] = nil
            retired.insert(region)
            failedDials[region] = nil
            return current[region]?.channel
        }
        logger.notice("peer retired: no longer dialed or accepted", metadata: ["peer.region": "\(region)"])
        channel?.close(promise: nil)
    }

    /// Whether `region` has a live link now.
    func hasLink(to region: RegionID) -> Bool { lock.withLock { current[region] != nil } }

    /// The TLS material new handshakes use.
    public var currentTLS: PeerTLS { lock.withLock { tls } }

    /// Makes `new` the material of every handshake from now on, dialed and accepted.
    ///
    /// The rule for connections already up: they stay, since replacing a certificate or
    /// key does not make a verified peer less trustworthy, except those whose peer
    /// certificate does not chain to the new CA file at this moment (`TLSFiles.chains`:
    /// issued by another CA, or expired); those are closed, and their peers must
    /// handshake again against the new material. A handshake that began before a swap
    /// that changed the CA or certificate and completes after it is closed too (the peer
    /// redials), so every link that starts after this call was verified against `new`.
    /// Returns the regions whose link closed.
    @discardableResult
    public func replaceTLS(_ new: PeerTLS, now: Date = Date()) async -> [RegionID] {
        let peers: [VerifiedPeer] = lock.withLock {
            if new.caCertificates != tls.caCertificates || new.certificateChain != tls.certificateChain {
                tlsGeneration += 1
            }
            tls = new
            return Array(verifiedPeers.values)
        }
        var closed: [RegionID] = []
        for peer in peers where !(await TLSFiles.chains(peer.certificate, to: new.caCertificates, at: now)) {
            logger.warning(
                "closing peer connection: its certificate does not chain to the new CA",
                metadata: [
                    "peer.region": "\(peer.region)", "tls.ca": "\(new.files.caPath)",
                ])
            peer.channel.close(promise: nil)
            closed.append(peer.region)
        }
        return closed.sorted()
    }

    /// Stops dialing, closes the listener and every connection.
    public func shutdown() async {
        let channels: [Channel] = lock.withLock {
            stopped = true
            var all = Array(allChannels.values)
            if let serverChannel { all.append(serverChannel) }
            return all
        }
        for channel in channels { try? await channel.close() }
    }

    // MARK: - Pipeline

    func installHandlers(on channel: Channel, dialed: RegionID?) throws {
        let (tls, generation) = lock.withLock { (self.tls, tlsGeneration) }
        let sync = channel.pipeline.syncOperations
        if dialed != nil {
            try sync.addHandler(NIOSSLClientHandler(context: tls.client, serverHostname: nil))
        } else {
            try sync.addHandler(NIOSSLServerHandler(context: tls.server))
        }
        // The frame decoder and encoder come once TLS has negotiated the wire format
        // (`installFrameCodec`): no message moves before that.
        try sync.addHandler(IdleStateHandler(readTimeout: .milliseconds(config.idleTimeoutMillis)))
        try sync.addHandler(PeerChannelHandler(transport: self, dialed: dialed, tlsGeneration: generation))
        lock.withLock { allChannels[ObjectIdentifier(channel)] = channel }
    }

    /// Adds the frame decoder and encoder for wire format `wire` in front of `handler`.
    func installFrameCodec(wire: UInt8, on channel: Channel, before handler: ChannelHandler) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(
            ByteToMessageHandler(PeerFrameDecoder(stats: stats, wire: wire)), position: .before(handler))
        try sync.addHandler(
            MessageToByteHandler(PeerFrameEncoder(stats: stats, wire: wire)), position: .before(handler))
    }

    // MARK: - Dialing

    private func dial(_ region: RegionID) {
        guard let address = lock.withLock({ stopped ? nil : peerAddresses[region] }) else { return }
        let connect = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(config.connectTimeoutMillis))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.installHandlers(on: channel, dialed: region) }
            }
            .connect(host: address.host, port: address.port)
        connect.whenComplete { [self] result in
            switch result {
            case .success(let channel):
                channel.closeFuture.whenComplete { _ in self.redialLater(region) }
            case .failure(let error):
                logger.debug("peer dial failed", metadata: ["peer.region": "\(region)", "error": "\(error)"])
                redialLater(region)
            }
        }
    }

    private func redialLater(_ region: RegionID) {
        let delay: Int64? = lock.withLock {
            guard !stopped else { return nil }
            let attempts = failedDials[region, default: 0]
            failedDials[region] = attempts + 1
            let ceiling = min(config.reconnectMaxMillis, config.reconnectBaseMillis << min(attempts, 16))
            return ceiling / 2 + Int64.random(in: 0...max(1, ceiling / 2))
        }
        guard let delay else { return }
        group.next().scheduleTask(in: .milliseconds(delay)) { [self] in dial(region) }
    }

    // MARK: - Connection events (from PeerChannelHandler)

    /// Records a connection whose peer certificate was verified. False when its handshake
    /// used material replaced since: the caller closes it (see `replaceTLS`).
    func verified(_ channel: Channel, region: RegionID, certificate: NIOSSLCertificate, tlsGeneration: UInt64) -> Bool {
        lock.withLock {
            guard tlsGeneration == self.tlsGeneration else { return false }
            verifiedPeers[ObjectIdentifier(channel)] = VerifiedPeer(
                channel: channel, region: region, certificate: certificate)
            return true
        }
    }

    /// A verified connection running wire format `wire`: it becomes the peer's current
    /// one, replacing an older one.
    func register(_ region: RegionID, wire: UInt8, channel: Channel) -> UInt64? {
        let id: UInt64? = lock.withLock {
            guard !stopped, enabled else { return nil }
            let id = nextConnectionID
            nextConnectionID += 1
            if let old = current[region] {
                logger.info("peer reconnected: replacing the older connection", metadata: ["peer.region": "\(region)"])
                old.channel.close(promise: nil)
                outbox.append(.disconnected(region))
            }
            current[region] = Connection(id: id, channel: channel)
            stats.opened()
            outbox.append(.connected(region, wire: wire))
            logger.info(
                "peer connected",
                metadata: [
                    "peer.region": "\(region)", "peer.wire": "\(wire)",
                    "peer.address": "\(channel.remoteAddress.map { "\($0)" } ?? "?")",
                ])
            return id
        }
        flushEvents()
        return id
    }

    func deliver(_ message: PeerMessage, from region: RegionID, connection id: UInt64) {
        lock.withLock {
            guard current[region]?.id == id else { return }
            // A link that carries messages resets the redial backoff; one the node refuses
            // at once (a wire format the cluster no longer runs) keeps backing off.
            failedDials[region] = 0
            outbox.append(.sent(message, region))
        }
        flushEvents()
    }

    func closed(_ channel: Channel, region: RegionID?, connection id: UInt64?) {
        lock.withLock {
            allChannels[ObjectIdentifier(channel)] = nil
            verifiedPeers[ObjectIdentifier(channel)] = nil
            guard let region, let id, current[region]?.id == id else { return }
            current[region] = nil
            outbox.append(.disconnected(region))
            logger.info("peer disconnected", metadata: ["peer.region": "\(region)"])
        }
        flushEvents()
    }

    /// Makes the delegate calls queued so far, in order, outside the lock. A thread that
    /// finds another one flushing leaves its events to it: that one loops until the
    /// outbox is empty, so no event waits and none overtakes an earlier one.
    private func flushEvents() {
        while true {
            let (events, delegate): ([Event], PeerTransportDelegate?) = lock.withLock {
                guard !flushing, !outbox.isEmpty else { return ([], nil) }
                flushing = true
                defer { outbox = [] }
                return (outbox, self.delegate)
            }
            guard !events.isEmpty else { return }
            for event in events {
                switch event {
                case .connected(let r, let wire): delegate?.peerConnected(r, wire: wire)
                case .disconnected(let r): delegate?.peerDisconnected(r)
                case .sent(let m, let r): delegate?.peerSent(m, from: r)
                }
            }
            lock.withLock { flushing = false }
        }
    }

    func refused(_ channel: Channel, _ reason: String) {
        stats.refused()
        logger.warning(
            "refused peer connection",
            metadata: [
                "peer.address": "\(channel.remoteAddress.map { "\($0)" } ?? "?")", "reason": "\(reason)",
            ])
    }
}
