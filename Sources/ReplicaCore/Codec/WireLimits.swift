/// Hard limits on everything a peer controls in a message. A message beyond any of
/// them is refused whole (the transport closes that connection only).
public enum WireLimits {
    /// Regions in a vector.
    public static let regionsMax = 64
    /// Entries in one DELTA batch.
    public static let entriesPerBatchMax = 4_096
    /// Records in one SNAPSHOT chunk.
    public static let recordsPerChunkMax = 4_096
    /// Field changes in one entry.
    public static let changesPerEntryMax = 16
    /// Bytes of one text value (500 characters of up to 4 bytes each, with room).
    public static let textBytesMax = 4_096
    /// Pairs in a metadata value.
    public static let metadataPairsMax = 64
    /// Bytes of a whole encoded message (after decompression).
    public static let messageBytesMax = 16 * 1024 * 1024
    /// Bytes of a region name or payment id.
    public static let identifierBytesMax = 64
}
