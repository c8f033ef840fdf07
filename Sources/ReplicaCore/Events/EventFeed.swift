/// One change a region committed, as its change feed (`GET /v1/events`) shows it.
///
/// A change is one log entry: a create or a patch, made at `entry.origin` with sequence
/// number `entry.seq`. `(origin, seq)` names the same change at every region.
public struct PaymentEvent: Hashable, Sendable {
    /// Where this region committed it in its own order (1, 2, ...). Differs between
    /// regions; shown for debugging, never part of a cursor.
    public let position: UInt64
    /// The change: origin, seq, stamp, payment id and the fields it wrote.
    public let entry: LogEntry
    /// The payment as this region held it once the change committed. A field may show
    /// a newer value than the change wrote: a later change with a newer stamp won.
    /// nil while the region holds only part of the payment (a patch that came before
    /// its create).
    public let record: PaymentRecord?
    /// The consumer's cursor right after this change: resuming from it continues after
    /// this change, at any region. Set by `EventSelection`.
    public internal(set) var cursor = EventCursor()

    public init(position: UInt64, entry: LogEntry, record: PaymentRecord?) {
        self.position = position
        self.entry = entry
        self.record = record
    }
}

/// What a consumer asks of the feed: the changes after `cursor`, at most `limit` of
/// them, only those whose payment matches the filters.
public struct EventQuery: Hashable, Sendable {
    /// The largest page.
    public static let limitMax = 1_000

    public var cursor: EventCursor
    /// Only changes to this merchant's payments.
    public var merchantID: String?
    /// Only changes to payments of these merchants (an API key's bounds); nil: any. With
    /// `merchantID` too, a change must pass both.
    public var merchantIDs: Set<String>?
    /// Only changes after which the payment has this status.
    public var status: PaymentStatus?
    public var limit: Int
    /// The most rows one page looks at (matching or not), so a narrow filter over a long
    /// feed answers in bounded time; the cursor still moves past what was looked at.
    public var scanLimit: Int

    public init(
        cursor: EventCursor, merchantID: String? = nil, status: PaymentStatus? = nil,
        limit: Int = 100, scanLimit: Int = 10_000, merchantIDs: Set<String>? = nil
    ) {
        self.cursor = cursor
        self.merchantID = merchantID
        self.merchantIDs = merchantIDs
        self.status = status
        self.limit = limit
        self.scanLimit = scanLimit
    }

    /// True when the change's payment passes the filters. A change to a payment the
    /// region holds only part of (no record yet) passes no filter.
    public func matches(_ record: PaymentRecord?) -> Bool {
        guard merchantID != nil || merchantIDs != nil || status != nil else { return true }
        guard let record else { return false }
        if let m = merchantID, record[.merchantID]?.value != .text(m) { return false }
        if let bounds = merchantIDs {
            guard case .text(let m) = record[.merchantID]?.value, bounds.contains(m) else { return false }
        }
        if let s = status, record[.status]?.value != .text(s.rawValue) { return false }
        return true
    }
}

/// A page of the feed and the cursor to ask with next.
public struct EventPage: Hashable, Sendable {
    public let events: [PaymentEvent]
    /// Covers every change of this page and every one passed over by the filters. When
    /// a page comes back empty, it is the cursor that was sent.
    public let cursor: EventCursor

    public init(events: [PaymentEvent], cursor: EventCursor) {
        self.events = events
        self.cursor = cursor
    }
}

/// Why a page cannot be served.
public enum EventFeedError: Error, Hashable, Sendable {
    /// The cursor is older than what this region keeps: changes it has not seen are gone
    /// here (trimmed by retention, or never held because the region caught up from a
    /// snapshot). `oldest` is the oldest cursor the region can serve; another region
    /// may still serve the one sent.
    case cursorTooOld(oldest: EventCursor)
}

/// Which committed changes a page takes: the one rule both stores (SQLite in a node,
/// memory in paysim) apply to the rows they hold, in their commit order.
///
/// A row `(origin, seq)` is taken when it is the next change of its origin the consumer
/// has not seen (`seq == cursor[origin] + 1`) and it is visible: a change this region
/// made itself is shown only once another region holds it (`ownVisibleThrough`), so a
/// consumer never sees a change that losing this one region could take back and whose
/// sequence number the region could then use again. Changes from other regions are
/// held by two regions (their origin and this one) the moment they commit here.
public struct EventSelection: Sendable {
    public let region: RegionID
    public let ownVisibleThrough: UInt64
    public let query: EventQuery
    public private(set) var cursor: EventCursor
    public private(set) var events: [PaymentEvent] = []
    public private(set) var rowsLooked = 0

    public init(region: RegionID, ownVisibleThrough: UInt64, query: EventQuery) {
        self.region = region
        self.ownVisibleThrough = ownVisibleThrough
        self.query = query
        self.cursor = query.cursor
    }

    /// False once the page is full or has looked at its share of rows.
    public var wantsMore: Bool {
        events.count < min(max(1, query.limit), EventQuery.limitMax) && rowsLooked < max(1, query.scanLimit)
    }

    /// True when the row is the origin's next change for this consumer and visible.
    public func takes(origin: RegionID, seq: UInt64) -> Bool {
        guard seq == cursor.seen[origin] &+ 1 else { return false }
        return origin != region || seq <= ownVisibleThrough
    }

    /// Looks at the next row in commit order. `event` is decoded only when the row is
    /// taken (so a store may pass the header first and decode lazily).
    public mutating func look<E: Error>(origin: RegionID, seq: UInt64, event: () throws(E) -> PaymentEvent) throws(E) {
        rowsLooked += 1
        guard takes(origin: origin, seq: seq) else { return }
        var e = try event()
        cursor.seen[origin] = seq
        e.cursor = cursor
        if query.matches(e.record) { events.append(e) }
    }

    /// The page.
    public var page: EventPage { EventPage(events: events, cursor: cursor) }

    /// The first row a page needs to look at: for each origin, the next change the
    /// consumer has not seen that this region could show; the smallest of their
    /// positions. `positionOf(origin, seq)` gives a row's position when the region holds
    /// it. Rows before it are all seen (each origin's rows come in seq order), so a scan
    /// from there misses nothing.
    public static func startPosition(
        cursor: EventCursor, region: RegionID, ownVisibleThrough: UInt64,
        origins: [RegionID], positionOf: (RegionID, UInt64) throws -> UInt64?
    ) rethrows -> UInt64? {
        var start: UInt64?
        for origin in origins {
            let next = cursor.seen[origin] &+ 1
            if origin == region && next > ownVisibleThrough { continue }
            if let p = try positionOf(origin, next) { start = min(start ?? p, p) }
        }
        return start
    }

    /// Checks that `floor` (per origin, the last change this region no longer shows) is
    /// not above the cursor.
    public static func check(_ cursor: EventCursor, against floor: VersionVector) throws(EventFeedError) {
        for (origin, seq) in floor.sortedEntries where cursor.seen[origin] < seq {
            throw .cursorTooOld(oldest: EventCursor(seen: floor))
        }
    }
}
