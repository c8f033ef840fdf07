import Logging
import NIOCore
import NIOSSL
import NIOTLS
import ReplicaCore

/// The last handler of a peer connection: checks the peer's identity once TLS is up,
/// insists its first message is a HELLO naming the same region, and hands messages to
/// the transport. Any error closes this connection only.
///
/// A connection becomes the region's link at once when this side dialed it, or when the
/// region has no link; otherwise (a second connection naming a region that has a live
/// link) only once its HELLO checks out, so a refused connection never drops the live one.
final class PeerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = PeerMessage

    private let transport: PeerTransport
    /// The region this side dialed (nil for an accepted connection).
    private let dialed: RegionID?
    /// Which of the transport's TLS material this connection's handshake used.
    private let tlsGeneration: UInt64
    private var region: RegionID?
    private var connectionID: UInt64?
    private var greeted = false
    /// Refused and closing: what still arrives is dropped (and not refused twice).
    private var refusedAlready = false

    init(transport: PeerTransport, dialed: RegionID?, tlsGeneration: UInt64) {
        self.transport = transport
        self.dialed = dialed
        self.tlsGeneration = tlsGeneration
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            verifyPeer(context: context)
        } else if event is IdleStateHandler.IdleStateEvent {
            transport.logger.warning("peer silent, closing", metadata: ["peer.region": "\(region.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func verifyPeer(context: ChannelHandlerContext) {
        let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        let known = Array(transport.config.peers.keys)
        switch PeerIdentity.region(of: certificate, among: known) {
        case .failure(let refusal):
            refuse(context, refusal.description)
        case .success(let named):
            if let dialed, named != dialed {
                refuse(context, "dialed \(dialed) but its certificate names \(named)")
                return
            }
            guard let certificate, transport.verified(context.channel, region: named, certificate: certificate,
                                                      tlsGeneration: tlsGeneration) else {
                transport.logger.info("peer handshake began before a TLS reload: closing it (the peer redials)",
                                      metadata: ["peer.region": "\(named)"])
                refusedAlready = true
                context.close(promise: nil)
                return
            }
            region = named
            if dialed == nil && transport.hasLink(to: named) { return } // pending until its HELLO
            connectionID = transport.register(named, channel: context.channel)
            if connectionID == nil { context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard !refusedAlready else { return }
        guard let region else {
            refuse(context, "message before the peer's certificate was verified")
            return
        }
        if !greeted {
            guard case .hello(let claimed, _) = message else {
                refuse(context, "first message is \(message.kind), not HELLO")
                return
            }
            guard claimed == region else {
                refuse(context, "HELLO claims region \(claimed) but the certificate names \(region)")
                return
            }
            greeted = true
            if connectionID == nil {
                // A pending connection: its HELLO checked out, so it takes over the link.
                connectionID = transport.register(region, channel: context.channel)
                guard connectionID != nil else { return context.close(promise: nil) }
            }
        }
        guard let connectionID else { return }
        transport.deliver(message, from: region, connection: connectionID)
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.closed(context.channel, region: region, connection: connectionID)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let malformed = error as? PeerFrame.Malformed {
            transport.stats.malformed()
            transport.logger.warning("malformed frame, closing the connection", metadata: [
                "peer.region": "\(region.map { "\($0)" } ?? "?")", "error": "\(malformed)",
            ])
        } else if region == nil && (error is NIOSSLError || error is BoringSSLError) {
            refuse(context, "TLS handshake failed: \(error)")
            return
        } else {
            transport.logger.debug("peer connection error", metadata: [
                "peer.region": "\(region.map { "\($0)" } ?? "?")", "error": "\(error)",
            ])
        }
        context.close(promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        guard !refusedAlready else { return }
        refusedAlready = true
        transport.refused(context.channel, reason)
        context.close(promise: nil)
    }
}
