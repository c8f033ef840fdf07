import CLZ4

/// A dictionary that primes LZ4 compression with bytes both sides know, so that small
/// inputs compress as well as large ones (the first record no longer starts cold). A
/// frame made with it is still a standard LZ4 frame: `lz4 -d -D DICT` reads it.
public final class LZ4Dictionary: @unchecked Sendable {
    /// The dictionary's bytes (at most 64 KiB are used).
    public let bytes: [UInt8]
    private let digested: OpaquePointer

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        digested = bytes.withUnsafeBytes { LZ4F_createCDict($0.baseAddress, bytes.count) }
    }

    deinit { LZ4F_freeCDict(digested) }

    /// Compresses `input` into one LZ4 frame (no content size or checksum) primed with
    /// this dictionary.
    public func compress(_ input: [UInt8], level: Int32 = 0) throws(LZ4Frame.Error) -> [UInt8] {
        var ctx: OpaquePointer?
        let created = LZ4F_createCompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context = ctx else {
            throw LZ4Frame.Error(description: "lz4: cannot create a compression context")
        }
        defer { LZ4F_freeCompressionContext(context) }
        var prefs = LZ4F_preferences_t()
        prefs.compressionLevel = level
        let bound = LZ4F_compressFrameBound(input.count, &prefs)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { src in
                LZ4F_compressFrame_usingCDict(
                    context, out.baseAddress, bound, src.baseAddress, input.count, digested, &prefs)
            }
        }
        if LZ4F_isError(written) != 0 {
            throw LZ4Frame.Error(description: "lz4 compress: " + String(cString: LZ4F_getErrorName(written)))
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one frame made with this dictionary, refusing output beyond
    /// `maxOutputBytes`.
    public func decompress(_ input: [UInt8], maxOutputBytes: Int) throws(LZ4Frame.Error) -> [UInt8] {
        try LZ4Frame.decompress(input, maxOutputBytes: maxOutputBytes, dictionary: bytes)
    }
}
