/// How much one DELTA batch or SNAPSHOT chunk may carry: at most `countMax` entries or
/// records, and at most `bytesMax` bytes of their encodings, so that a message of the
/// largest payments stays far below what a peer accepts (`WireLimits.messageBytesMax`).
/// The first item always fits, whatever its size: every item decoded within the wire's
/// limits, so one alone is always a message a peer accepts.
public struct MessageBudget: Sendable, Hashable {
    /// Entries or records, at most.
    public let countMax: Int
    /// Bytes of their encodings, at most (unless the first alone is larger).
    public let bytesMax: Int
    /// Taken so far.
    public private(set) var count = 0
    public private(set) var bytes = 0
    /// An item did not fit.
    private var refused = false

    public init(countMax: Int, bytesMax: Int) {
        self.countMax = countMax
        self.bytesMax = bytesMax
    }

    /// Whether an item of `size` bytes fits what is left; if it does, it is counted.
    public mutating func take(_ size: Int) -> Bool {
        guard count < countMax, count == 0 || size <= bytesMax - bytes else {
            refused = true
            return false
        }
        count += 1
        bytes += size
        return true
    }

    /// No item, however small, fits any more.
    public var isFull: Bool { count >= countMax || (count > 0 && bytes >= bytesMax) }

    /// A read that took items while they fitted stopped at this limit (an item did not
    /// fit, or the count is reached), not at the end of what there was: more may follow.
    /// A reader that cannot tell whether anything follows its last allowed item (a store
    /// on disk reading `LIMIT countMax`) says so too; the next read then finds none.
    public var stoppedAtLimit: Bool { refused || count >= countMax }
}
