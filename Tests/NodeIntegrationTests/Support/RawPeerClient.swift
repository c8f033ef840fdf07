import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A hand-driven TLS client to a node's peer port, for tests that misbehave on purpose:
/// it presents whatever certificate it is given and writes raw bytes (format 4's, as a
/// peer of this release offers it in the TLS handshake).
final class RawPeerClient: @unchecked Sendable {
    let channel: Channel
    private let received: NIOLockedValueBox<[UInt8]>

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>
        init(_ received: NIOLockedValueBox<[UInt8]>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            received.withLockedValue { $0 += bytes }
        }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }

    private init(channel: Channel, received: NIOLockedValueBox<[UInt8]>) {
        self.channel = channel
        self.received = received
    }

    /// Connects to 127.0.0.1:`port` trusting `caPath`, presenting `certificatePath`/`keyPath`.
    static func connect(port: Int, caPath: String, certificatePath: String, keyPath: String) async throws
        -> RawPeerClient
    {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv13
        tls.applicationProtocols = ["paynode-wire/4"]  // a peer of this release: the link runs format 4
        let context = try NIOSSLContext(configuration: tls)
        let received = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(Collector(received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawPeerClient(channel: channel, received: received)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    var bytesReceived: [UInt8] { received.withLockedValue { $0 } }

    /// The certificate the server presented, once the handshake is done (within `timeout` seconds).
    func serverCertificate(within timeout: Double = 10) async throws -> NIOSSLCertificate {
        var certificate: NIOSSLCertificate?
        try await eventually("the TLS handshake completes", timeout: timeout) {
            certificate = try? await channel.nioSSL_peerCertificate().get()
            return certificate != nil
        }
        return certificate!
    }

    /// Whether the server closed the connection within `timeout` seconds.
    func closedByServer(within timeout: Double) async -> Bool {
        (try? await eventually("the server closes the connection", timeout: timeout) { !self.channel.isActive }) != nil
    }

    func close() async { try? await channel.close() }
}
