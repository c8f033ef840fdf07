/// The change feed of `InMemoryStorage` (paysim's disk, unit tests): every change
/// committed, in commit order, with the payment as it stood after it. Answers pages with
/// the same `EventSelection` rule as the SQLite store.
public struct InMemoryEventLog: Sendable {
    struct Row: Sendable {
        let entry: EncodedEntry
        let record: EncodedRecord?
    }

    /// Row `i` has position `i + 1`.
    private var rows: [Row] = []
    /// Per origin, the seq of its first row above the floor and the positions of its rows
    /// from there (contiguous seqs).
    private var byOrigin: [RegionID: (firstSeq: UInt64, positions: [UInt64])] = [:]
    /// Per payment, the indexes of its rows in `rows`.
    private var byPayment: [PaymentID: [Int]] = [:]
    /// Per origin, the last change this log no longer shows (a snapshot moved past it).
    public private(set) var floor = VersionVector()

    public init() {}

    /// Every change held, in commit order.
    public var entries: [LogEntry] { rows.map(\.entry.entry) }

    /// The changes held of one payment, in commit order.
    public func entries(of id: PaymentID) -> [LogEntry] {
        (byPayment[id] ?? []).map { rows[$0].entry.entry }
    }

    /// The highest seq of `origin` held or passed over.
    func last(of origin: RegionID) -> UInt64 {
        guard let o = byOrigin[origin] else { return floor[origin] }
        return max(floor[origin], o.firstSeq + UInt64(o.positions.count) - 1)
    }

    /// Adds a committed change (one already held is ignored, as a replayed commit is).
    public mutating func append(_ entry: EncodedEntry, record: EncodedRecord?) {
        let e = entry.entry
        guard e.seq > last(of: e.origin) else { return }
        byPayment[e.paymentID, default: []].append(rows.count)
        rows.append(Row(entry: entry, record: record))
        if byOrigin[e.origin] == nil { byOrigin[e.origin] = (e.seq, []) }
        byOrigin[e.origin]!.positions.append(UInt64(rows.count))
    }

    /// A snapshot brought the region to `vector`: changes it did not hold as rows are
    /// not shown here (the floor moves past them).
    public mutating func snapshotApplied(_ vector: VersionVector) {
        for (origin, seq) in vector.sortedEntries where seq > last(of: origin) {
            floor[origin] = seq
            byOrigin[origin] = (seq + 1, [])
        }
    }

    /// A page of the feed as region `region` shows it.
    public func page(_ query: EventQuery, region: RegionID, ownVisibleThrough: UInt64) -> Result<
        EventPage, EventFeedError
    > {
        do throws(EventFeedError) {
            try EventSelection.check(query.cursor, against: floor)
        } catch {
            return .failure(error)
        }
        var selection = EventSelection(region: region, ownVisibleThrough: ownVisibleThrough, query: query)
        let origins = byOrigin.keys.sorted()
        let start = EventSelection.startPosition(
            cursor: query.cursor, region: region, ownVisibleThrough: ownVisibleThrough,
            origins: origins
        ) { origin, seq in
            guard let o = byOrigin[origin], seq >= o.firstSeq, seq - o.firstSeq < UInt64(o.positions.count) else {
                return nil
            }
            return o.positions[Int(seq - o.firstSeq)]
        }
        guard let start else { return .success(selection.page) }
        var i = Int(start - 1)
        while selection.wantsMore && i < rows.count {
            let row = rows[i]
            let position = UInt64(i + 1)
            selection.look(origin: row.entry.entry.origin, seq: row.entry.entry.seq) {
                PaymentEvent(position: position, entry: row.entry.entry, record: row.record?.record)
            }
            i += 1
        }
        return .success(selection.page)
    }
}
