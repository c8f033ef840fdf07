import ReplicaCore

/// Followers of the change feed waiting for something new, and what they last saw.
struct FeedWaiters {
    struct Waiter {
        let seenVersion: UInt64
        let deadlineMillis: UInt64
        let reply: (UInt64) -> Void
    }

    /// Moves whenever the feed may show more: a commit of another region's changes (or of
    /// a snapshot's end, which moves the feed's floor), or own changes becoming visible.
    /// A commit of only this region's own changes shows nothing until another region
    /// holds them, so it does not move it: a follower is not woken to read an empty page.
    var version: UInt64 = 0
    var ownVisible: UInt64 = 0
    var waiting: [Waiter] = []
    /// Persist requests handed to the store whose commit moves the version.
    var movingCommits: Set<UInt64> = []

    /// Whether committing `request` may show a follower more at once: it holds another
    /// region's changes, or ends a snapshot.
    static func moves(_ request: PersistRequest, region: RegionID) -> Bool {
        request.compactThrough != nil || request.entries.contains { $0.entry.origin != region }
    }
}

extension ReplicaShell {
    // MARK: - The change feed

    /// This region's own changes are shown in the feed up to this seq (see
    /// `ReplicationEngine.ownChangesVisibleThrough`).
    public var ownEventsVisibleThrough: UInt64 { inPlace { $0.ownChangesVisibleThrough } }

    /// A page of the change feed (`GET /v1/events`). The reply may run on any thread.
    public func readEvents(_ query: EventQuery, reply: @escaping Reply<EventPage>) {
        if health == .draining || health == .stopped {
            return reply(.failure(.unavailable("the node is shutting down")))
        }
        store.readEvents(query, region: region, ownVisibleThrough: ownEventsVisibleThrough) { result in
            reply(
                result.mapError { failure in
                    switch failure {
                    case .feed(.cursorTooOld(let oldest)): .eventCursorTooOld(oldest: oldest)
                    // The store's own error text stays inside (it may name files and statements).
                    case .store: .unavailable("the store could not be read")
                    }
                })
        }
    }

    /// One payment's history (`GET /v1/payments/{id}/history`): nil when the region does
    /// not hold the payment whole. The reply may run on any thread.
    public func readHistory(_ id: PaymentID, limit: Int, reply: @escaping Reply<PaymentHistory?>) {
        if health == .draining || health == .stopped {
            return reply(.failure(.unavailable("the node is shutting down")))
        }
        store.readHistory(id, limit: limit) { result in
            reply(
                result.mapError { failure in
                    switch failure {
                    case .truncated(let gap): .historyTruncated(gap)
                    case .store: .unavailable("the store could not be read")
                    }
                })
        }
    }

    /// The feed's version now: pass it to `waitForFeed` after reading a page.
    public var feedVersion: UInt64 { feed.version }

    /// Calls `reply` with the feed's new version once it moves past `version`, or with
    /// the same version after `timeoutMillis` (time for a heartbeat).
    public func waitForFeed(after version: UInt64, timeoutMillis: UInt64, reply: @escaping (UInt64) -> Void) {
        if feed.version != version || health == .stopped { return reply(feed.version) }
        feed.waiting.append(.init(seenVersion: version, deadlineMillis: clock.nowMillis + timeoutMillis, reply: reply))
    }

    /// After directives ran or a commit landed: wakes followers if the feed moved.
    func feedMayHaveMoved() {
        let visible = ownEventsVisibleThrough
        if visible != feed.ownVisible {
            feed.ownVisible = visible
            feed.version &+= 1
        }
        guard !feed.waiting.isEmpty, feed.waiting.contains(where: { $0.seenVersion != feed.version }) else { return }
        let version = feed.version
        let waiting = feed.waiting
        feed.waiting = []
        for w in waiting { w.reply(version) }
    }

    func expireFeedWaiters() {
        guard !feed.waiting.isEmpty else { return }
        let now = clock.nowMillis
        let version = feed.version
        var still: [FeedWaiter] = []
        for w in feed.waiting {
            if w.deadlineMillis <= now || health == .stopped { w.reply(version) } else { still.append(w) }
        }
        feed.waiting = still
    }

    typealias FeedWaiter = FeedWaiters.Waiter
}
