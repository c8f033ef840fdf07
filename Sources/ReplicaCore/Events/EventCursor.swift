/// A consumer's place in the change feed, meaning the same at every region: per origin
/// region, how many of its changes the consumer has seen. It is a version vector, and is
/// written like a session token: `region:seq` pairs joined by commas (`""` for none).
///
/// Why a consumer that moves between regions sees every change exactly once:
///
/// 1. Each region commits the changes of one origin in seq order, with no gap above the
///    last one it no longer shows (its floor): the engine takes `(o, s)` only when it
///    holds `(o, s - 1)`, and a snapshot moves the floor to where it leaves off.
/// 2. A page takes row `(o, s)` only when `s == seen[o] + 1` (`EventSelection`), then
///    sets `seen[o] = s`. So per origin the consumer has been shown exactly
///    `1 ... seen[o]`, in order: nothing twice, nothing skipped. This holds at whichever
///    region served each page, because `(o, s)` names the same change everywhere.
/// 3. A region refuses (410) a cursor below its floor for some origin, since it no
///    longer holds that origin's next change; it never answers as if there were none.
/// 4. A region shows its own change only once another region holds it, so a change a
///    consumer saw survives the loss of the region that made it, and its sequence
///    number is never given to another change.
///
/// Filters do not break this: a change that does not match still moves `seen` past it.
public struct EventCursor: Hashable, Sendable, CustomStringConvertible {
    /// Per origin, the number of its changes seen (the consumer has seen `1 ... seen[o]`).
    public var seen: VersionVector

    public init(seen: VersionVector = VersionVector()) { self.seen = seen }

    /// `region:seq,region:seq`, sorted by region (`VersionVector.text`).
    public var description: String { seen.text }

    /// Reads a cursor's text (`VersionVector(text:)`); nil when it is not one.
    public init?(text: String) {
        guard let seen = VersionVector(text: text) else { return nil }
        self.seen = seen
    }
}
