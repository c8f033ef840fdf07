import LZ4
import ReplicaCore

/// The bytes of one peer message on the wire:
///
///     length: UInt32 big-endian (of what follows) | kind: UInt8 | payload
///
/// `kind` 1 carries a `PeerMessage` as encoded by ReplicaCore; `kind` 2 carries the same
/// bytes compressed as one LZ4 frame (`lz4 -d` decompresses a captured payload); `kind` 3
/// is an LZ4 frame primed with `PeerDictionary.v1` (`lz4 -d -D dictionary`), which is
/// what nodes send. DELTA and SNAPSHOT messages are compressed; control messages are not.
public enum PeerFrame {
    /// The frame's `kind` byte.
    public enum Kind: UInt8, Sendable {
        case message = 1
        case compressedMessage = 2
        case dictionaryCompressedMessage = 3
    }

    /// Bytes of the length prefix.
    public static let headerBytes = 4
    /// The largest frame (kind byte + payload) a node sends or accepts.
    public static let frameBytesMax = WireLimits.messageBytesMax + 1_024

    /// A frame that cannot be read. The connection that sent it is closed.
    public struct Malformed: Error, Hashable, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// An encoded frame, with the size of the message before compression.
    public struct Encoded: Sendable {
        public let bytes: [UInt8]
        public let messageBytes: Int
        public let compressed: Bool
    }

    /// Whether a message of this kind is compressed on the wire.
    public static func compresses(_ kind: PeerMessage.Kind) -> Bool { kind == .delta || kind == .snapshot }

    /// Encodes `message` as one frame (length prefix included), in the newest format.
    public static func encode(_ message: PeerMessage) -> Encoded {
        try! encode(message, wire: WireVersion.current)  // the newest format carries every message
    }

    /// Encodes `message` as one frame in wire format `wire`; throws when that format
    /// cannot carry it.
    public static func encode(_ message: PeerMessage, wire: UInt8) throws(WireVersionError) -> Encoded {
        let raw = try message.encoded(wire: wire)
        var kind = Kind.message
        var payload = raw
        if compresses(message.kind), let packed = try? PeerDictionary.v1.compress(raw), packed.count < raw.count {
            kind = .dictionaryCompressedMessage
            payload = packed
        }
        let length = UInt32(payload.count + 1)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerBytes + Int(length))
        bytes.append(UInt8(truncatingIfNeeded: length >> 24))
        bytes.append(UInt8(truncatingIfNeeded: length >> 16))
        bytes.append(UInt8(truncatingIfNeeded: length >> 8))
        bytes.append(UInt8(truncatingIfNeeded: length))
        bytes.append(kind.rawValue)
        bytes += payload
        return Encoded(bytes: bytes, messageBytes: raw.count, compressed: kind != .message)
    }

    /// Checks a frame's declared length (read from its prefix) before its body is read.
    public static func checkLength(_ length: UInt32) throws(Malformed) {
        guard length >= 1 else { throw Malformed("empty frame") }
        guard Int(length) <= frameBytesMax else {
            throw Malformed("frame of \(length) bytes exceeds the limit of \(frameBytesMax)")
        }
    }

    /// Decodes a frame's body (kind byte + payload, without the length prefix), a message
    /// in wire format `wire`.
    public static func decodeBody(_ body: [UInt8], wire: UInt8 = WireVersion.current) throws(Malformed) -> PeerMessage {
        guard let first = body.first, let kind = Kind(rawValue: first) else {
            throw Malformed("unknown frame kind \(body.first.map(String.init) ?? "none")")
        }
        var message = Array(body.dropFirst())
        if kind != .message {
            do {
                message = try LZ4Frame.decompress(
                    message, maxOutputBytes: WireLimits.messageBytesMax,
                    dictionary: kind == .dictionaryCompressedMessage ? PeerDictionary.v1.bytes : [])
            } catch {
                throw Malformed("LZ4 payload does not decompress: \(error)")
            }
        }
        do {
            let decoded = try PeerMessage.decode(message, wire: wire)
            if kind != .message && !compresses(decoded.kind) {
                throw Malformed("\(decoded.kind) message must not be compressed")
            }
            return decoded
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed("undecodable message: \(error)")
        }
    }
}
