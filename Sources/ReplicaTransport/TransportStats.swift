import NIOConcurrencyHelpers
import ReplicaCore

/// Counters of what crossed the peer links, for `/v1/cluster`, `/metrics` and tests.
/// Thread-safe: channel handlers on any event loop update it.
public final class TransportStats: Sendable {
    /// One reading of every counter.
    public struct Snapshot: Hashable, Sendable {
        /// Bytes of encoded messages before compression (what an uncompressed protocol sends).
        public var messageBytesSent: UInt64 = 0
        /// Bytes actually written to peers (frames, after compression; TLS overhead excluded).
        public var wireBytesSent: UInt64 = 0
        /// The same two for DELTA and SNAPSHOT frames only (the compressed kinds).
        public var deltaMessageBytesSent: UInt64 = 0
        public var deltaWireBytesSent: UInt64 = 0
        public var framesSent: UInt64 = 0
        public var framesReceived: UInt64 = 0
        public var wireBytesReceived: UInt64 = 0
        /// Connections closed because a frame was malformed or too large.
        public var malformedFrames: UInt64 = 0
        /// Connections refused: wrong CA, unknown region, or a HELLO that lies about the region.
        public var refusedPeers: UInt64 = 0
        public var connectionsOpened: UInt64 = 0

        /// Message bytes over wire bytes for the compressed kinds (1 when none were sent).
        public var deltaCompressionRatio: Double {
            deltaWireBytesSent == 0 ? 1 : Double(deltaMessageBytesSent) / Double(deltaWireBytesSent)
        }
    }

    private let state = NIOLockedValueBox(Snapshot())

    public init() {}

    /// The counters now.
    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    func sent(_ frame: PeerFrame.Encoded, kind: PeerMessage.Kind) {
        state.withLockedValue {
            $0.framesSent += 1
            $0.messageBytesSent += UInt64(frame.messageBytes + PeerFrame.headerBytes + 1)
            $0.wireBytesSent += UInt64(frame.bytes.count)
            if PeerFrame.compresses(kind) {
                $0.deltaMessageBytesSent += UInt64(frame.messageBytes + PeerFrame.headerBytes + 1)
                $0.deltaWireBytesSent += UInt64(frame.bytes.count)
            }
        }
    }

    func received(bytes: Int) {
        state.withLockedValue {
            $0.framesReceived += 1
            $0.wireBytesReceived += UInt64(bytes)
        }
    }

    func malformed() { state.withLockedValue { $0.malformedFrames += 1 } }
    func refused() { state.withLockedValue { $0.refusedPeers += 1 } }
    func opened() { state.withLockedValue { $0.connectionsOpened += 1 } }
}
