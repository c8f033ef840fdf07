import Logging
import NIOCore
import NIOSSL
import NIOTLS
import ReplicaCore

/// The last handler of a peer connection: a thin shell around `PeerConnectionState`.
/// It feeds the state machine what happens on the channel (TLS up, a message, the end)
/// and carries out what it answers against the transport. Any error closes this
/// connection only. All of it runs on the channel's event loop.
final class PeerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = PeerMessage

    private let transport: PeerTransport
    /// Which of the transport's TLS material this connection's handshake used.
    private let tlsGeneration: UInt64
    private var state: PeerConnectionState
    /// The wire format TLS negotiated (ALPN), once the handshake is done.
    private var wire: UInt8 = WireVersion.current

    init(transport: PeerTransport, dialed: RegionID?, tlsGeneration: UInt64) {
        self.transport = transport
        self.tlsGeneration = tlsGeneration
        self.state = PeerConnectionState(dialed: dialed)
    }

    private var regionLabel: String { state.region.map { "\($0)" } ?? "?" }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.eventLoop.assertInEventLoop()
        if let tls = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = tls {
            handshakeCompleted(negotiatedProtocol: negotiated, context: context)
        } else if event is IdleStateHandler.IdleStateEvent {
            transport.logger.warning("peer silent, closing", metadata: ["peer.region": "\(regionLabel)"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func handshakeCompleted(negotiatedProtocol: String?, context: ChannelHandlerContext) {
        // No protocol: a peer of the release before, which offers none (format 3).
        guard let negotiated = WireVersion.version(ofProtocol: negotiatedProtocol),
            WireVersion.supported.contains(negotiated)
        else {
            let named = negotiatedProtocol ?? "none"
            perform(
                state.refuse("TLS negotiated protocol \(named), not a wire format this binary speaks"),
                context: context, message: nil)
            return
        }
        wire = negotiated
        do { try transport.installFrameCodec(wire: negotiated, on: context.channel, before: self) } catch {
            perform(state.refuse("cannot set up the frame codec: \(error)"), context: context, message: nil)
            return
        }
        let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        let identity = PeerIdentity.region(
            of: certificate, among: transport.peerRegions, retired: transport.retiredRegions)
        if case .success(let named) = identity, state.dialed == nil || state.dialed == named, let certificate,
            !transport.verified(context.channel, region: named, certificate: certificate, tlsGeneration: tlsGeneration)
        {
            transport.logger.info(
                "peer handshake began before a TLS reload: closing it (the peer redials)",
                metadata: ["peer.region": "\(named)"])
            state.close()
            context.close(promise: nil)
            return
        }
        let hasLink = (try? identity.get()).map(transport.hasLink(to:)) ?? false
        perform(state.handshakeCompleted(identity, regionHasLink: hasLink), context: context, message: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        perform(state.received(message), context: context, message: message)
    }

    private func perform(_ action: PeerConnectionState.Action, context: ChannelHandlerContext, message: PeerMessage?) {
        switch action {
        case .none:
            break
        case .link(let region):
            let id = transport.register(region, wire: wire, channel: context.channel)
            perform(state.linked(id), context: context, message: message)
        case .deliver(let region, let link):
            if let message { transport.deliver(message, from: region, connection: link) }
        case .refuse(let reason):
            transport.refused(context.channel, reason)
            context.close(promise: nil)
        case .close:
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        transport.closed(context.channel, region: state.region, connection: state.link)
        state.close()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let malformed = error as? PeerFrame.Malformed {
            transport.stats.malformed()
            transport.logger.warning(
                "malformed frame, closing the connection",
                metadata: [
                    "peer.region": "\(regionLabel)", "error": "\(malformed)",
                ])
        } else if let unsendable = error as? WireVersionError {
            transport.logger.error(
                "a message this link's wire format cannot carry, closing the connection",
                metadata: ["peer.region": "\(regionLabel)", "peer.wire": "\(wire)", "error": "\(unsendable)"])
        } else if state.region == nil && (error is NIOSSLError || error is BoringSSLError) {
            perform(state.refuse("TLS handshake failed: \(error)"), context: context, message: nil)
            return
        } else {
            transport.logger.debug(
                "peer connection error", metadata: ["peer.region": "\(regionLabel)", "error": "\(error)"])
        }
        context.close(promise: nil)
    }
}
