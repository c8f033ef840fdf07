import CLZ4

/// The LZ4 *frame* format (the format of the `lz4` command-line tool), used for the
/// payloads of DELTA messages between regions.
///
/// Decompression is bounded: a caller states the largest output it accepts, so a
/// hostile or corrupt frame cannot make the node allocate without limit.
public enum LZ4Frame {
    /// Why a frame could not be made or read.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        /// What went wrong, in words.
        public let description: String
    }

    /// Compresses `input` into one complete LZ4 frame. `checksummed` adds the content
    /// size and checksum (12 bytes); peer links leave them off, since TLS already
    /// guarantees integrity and the decoder bounds the size itself.
    public static func compress(_ input: [UInt8], level: Int32 = 0, checksummed: Bool = true) throws(Error) -> [UInt8] {
        var prefs = LZ4F_preferences_t()
        if checksummed {
            prefs.frameInfo.contentSize = UInt64(input.count)
            prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        }
        prefs.compressionLevel = level
        let bound = LZ4F_compressFrameBound(input.count, &prefs)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { src in
                LZ4F_compressFrame(out.baseAddress, bound, src.baseAddress, input.count, &prefs)
            }
        }
        if LZ4F_isError(written) != 0 {
            throw Error(description: "lz4 compress: " + String(cString: LZ4F_getErrorName(written)))
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses one or more concatenated LZ4 frames.
    ///
    /// - Parameter maxOutputBytes: the most bytes the result may hold; a frame that would
    ///   decode to more is refused with an error (nothing beyond the limit is allocated).
    public static func decompress(_ input: [UInt8], maxOutputBytes: Int, dictionary: [UInt8] = []) throws(Error)
        -> [UInt8]
    {
        var ctx: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context = ctx else {
            throw Error(description: "lz4: cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var consumed = 0
        var hint = 1
        while consumed < input.count {
            var srcSize = input.count - consumed
            var dstSize = chunk.count
            let result = chunk.withUnsafeMutableBytes { dst in
                input.withUnsafeBytes { src in
                    dictionary.withUnsafeBytes { dict in
                        LZ4F_decompress_usingDict(
                            context, dst.baseAddress, &dstSize, src.baseAddress! + consumed, &srcSize,
                            dict.baseAddress, dictionary.count, nil)
                    }
                }
            }
            if LZ4F_isError(result) != 0 {
                throw Error(description: "lz4 decompress: " + String(cString: LZ4F_getErrorName(result)))
            }
            consumed += srcSize
            if output.count + dstSize > maxOutputBytes {
                throw Error(description: "lz4 decompress: output exceeds the limit of \(maxOutputBytes) bytes")
            }
            output.append(contentsOf: chunk[0..<dstSize])
            hint = result
            if srcSize == 0 && dstSize == 0 { break }
        }
        // Drain output still buffered in the context after all input was consumed.
        while hint != 0 {
            var srcSize = 0
            var dstSize = chunk.count
            let result = chunk.withUnsafeMutableBytes { dst in
                dictionary.withUnsafeBytes { dict in
                    LZ4F_decompress_usingDict(
                        context, dst.baseAddress, &dstSize, nil, &srcSize, dict.baseAddress,
                        dictionary.count, nil)
                }
            }
            if LZ4F_isError(result) != 0 {
                throw Error(description: "lz4 decompress: " + String(cString: LZ4F_getErrorName(result)))
            }
            if dstSize == 0 {
                throw Error(description: "lz4 decompress: truncated frame")
            }
            if output.count + dstSize > maxOutputBytes {
                throw Error(description: "lz4 decompress: output exceeds the limit of \(maxOutputBytes) bytes")
            }
            output.append(contentsOf: chunk[0..<dstSize])
            hint = result
        }
        return output
    }
}
