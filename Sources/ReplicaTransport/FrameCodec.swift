import NIOCore
import ReplicaCore

/// Splits the inbound byte stream into frames and decodes each to a `PeerMessage` in the
/// link's wire format. A malformed or oversized frame, or a message in another format,
/// throws, and the channel handler closes the connection. Installed once TLS has
/// negotiated the format.
struct PeerFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerMessage
    let stats: TransportStats
    let wire: UInt8

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        try PeerFrame.checkLength(length)
        guard buffer.readableBytes >= PeerFrame.headerBytes + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: PeerFrame.headerBytes)
        let body = buffer.readBytes(length: Int(length))!
        let message = try PeerFrame.decodeBody(body, wire: wire)
        stats.received(bytes: PeerFrame.headerBytes + Int(length))
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Encodes outbound `PeerMessage`s as frames in the link's wire format, compressing DELTA
/// and SNAPSHOT bodies. A message the format cannot carry throws (`WireVersionError`),
/// and the channel handler closes the connection.
struct PeerFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = PeerMessage
    let stats: TransportStats
    let wire: UInt8

    func encode(data: PeerMessage, out: inout ByteBuffer) throws {
        let frame = try PeerFrame.encode(data, wire: wire)
        stats.sent(frame, kind: data.kind)
        out.writeBytes(frame.bytes)
    }
}
