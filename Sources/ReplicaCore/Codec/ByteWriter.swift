/// Appends the primitives of the wire format to a byte buffer: LEB128 varints,
/// big-endian fixed-width integers, and length-prefixed UTF-8 strings.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// The bytes in a buffer of exactly their size (`bytes` keeps the writer's spare room),
    /// for encodings held for long.
    public var exactBytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            _ = buffer.initialize(from: bytes)
            count = bytes.count
        }
    }

    public mutating func writeUInt8(_ v: UInt8) { bytes.append(v) }

    public mutating func writeUInt64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
        }
    }

    public mutating func writeVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Signed integers, zig-zag encoded so small magnitudes stay short.
    public mutating func writeSignedVarint(_ v: Int64) {
        writeVarint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    public mutating func writeString(_ s: String) {
        writeVarint(UInt64(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    public mutating func writeBytes(_ b: [UInt8]) {
        writeVarint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    /// Appends bytes already encoded by another writer, with no length prefix.
    public mutating func writeEncoded(_ b: [UInt8]) { bytes.append(contentsOf: b) }
}
