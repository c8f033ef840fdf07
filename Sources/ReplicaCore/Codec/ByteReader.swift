/// Why bytes could not be decoded. Decoding hostile input throws this; it never traps.
public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let reason: String
    /// The byte offset where it was noticed.
    public let offset: Int

    public init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "undecodable at byte \(offset): \(reason)" }
}

/// Reads the primitives `ByteWriter` writes, checking bounds and limits at every step.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8() throws(DecodingError) -> UInt8 {
        guard offset < bytes.count else { throw DecodingError("unexpected end of input", at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next `count` bytes.
    public mutating func readBytes(_ count: Int) throws(DecodingError) -> ArraySlice<UInt8> {
        guard remaining >= count else {
            throw DecodingError("unexpected end of input (need \(count) bytes)", at: offset)
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    public mutating func readUInt64() throws(DecodingError) -> UInt64 {
        guard remaining >= 8 else { throw DecodingError("unexpected end of input (need 8 bytes)", at: offset) }
        var v: UInt64 = 0
        for i in 0..<8 { v = (v << 8) | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    public mutating func readVarint() throws(DecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = offset
        while true {
            let byte = try readUInt8()
            if shift == 63 && byte > 1 { throw DecodingError("varint overflows 64 bits", at: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw DecodingError("varint longer than 10 bytes", at: start) }
        }
    }

    public mutating func readSignedVarint() throws(DecodingError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// A count, refused when above `max` (before anything is allocated for it).
    public mutating func readCount(max: Int, what: String) throws(DecodingError) -> Int {
        let start = offset
        let n = try readVarint()
        guard n <= UInt64(max) else { throw DecodingError("\(what) count \(n) exceeds the limit \(max)", at: start) }
        return Int(n)
    }

    /// A length-prefixed UTF-8 string of at most `maxBytes` bytes.
    public mutating func readString(maxBytes: Int, what: String) throws(DecodingError) -> String {
        let start = offset
        let n = try readCount(max: maxBytes, what: what + " length")
        guard remaining >= n else { throw DecodingError("\(what) runs past the end of input", at: start) }
        let from = offset
        offset += n
        let decoded: String? = bytes.withUnsafeBufferPointer { all in
            let utf8 = UnsafeBufferPointer(rebasing: all[from..<(from + n)])
            // ASCII (nearly every string here) needs no validation beyond the high bit.
            if utf8.allSatisfy({ $0 < 0x80 }) { return String(decoding: utf8, as: UTF8.self) }
            return String(validating: utf8, as: UTF8.self)
        }
        guard let s = decoded else { throw DecodingError("\(what) is not valid UTF-8", at: start) }
        return s
    }

    /// Fails unless every byte was consumed.
    public func expectEnd() throws(DecodingError) {
        guard remaining == 0 else { throw DecodingError("\(remaining) trailing bytes", at: offset) }
    }

    /// Decodes bytes this process encoded and kept in memory: all of them, with `read`.
    /// Failure is a bug or memory corruption, never bad input, so it stops the process.
    static func decodeOwn<T>(_ bytes: [UInt8], _ what: String, _ read: (inout ByteReader) throws(DecodingError) -> T)
        -> T
    {
        var reader = ByteReader(bytes)
        do {
            let value = try read(&reader)
            try reader.expectEnd()
            return value
        } catch {
            preconditionFailure("\(what) held in memory does not decode: \(error)")
        }
    }
}
