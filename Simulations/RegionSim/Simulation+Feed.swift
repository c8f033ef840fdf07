import ReplicaCore
import ReplicaShell

// MARK: - A change feed consumer, following one region and failing over with its cursor

/// The simulated consumer of `GET /v1/events`: it reads the feed of one region through
/// the shell's read path (waiting for the next commit when it has caught up, as an SSE
/// stream does), and when that region fails, goes on at the next one with its cursor.
/// It checks as it goes that each origin's changes come as 1, 2, 3, ...; at the end,
/// that it saw every change the live regions hold, and that each one it saw is the
/// change the regions hold under that name.
///
/// When every region in turn refuses its cursor (each keeps its feed only from where a
/// snapshot brought it, or from what retention left), it does what a real consumer must:
/// it re-syncs, going on from the oldest cursor the last region named. The changes it
/// skips so are counted (it was told of each), never silently lost.
struct FeedConsumer {
    var cursor = EventCursor()
    var region = 0
    var attempt = 0
    /// Per origin, what it was shown as seq 1, 2, ...: stamp and payment (nil: skipped
    /// in a re-sync after every region refused the cursor).
    var shown: [RegionID: [(hlc: HLCTimestamp, id: PaymentID)?]] = [:]
    var refusedInARow = 0
}

/// What a region answered the consumer.
enum FeedReply: Sendable {
    case page(EventPage)
    case refused(oldest: EventCursor)
    case unavailable
}

extension Simulation {
    static let feedTimeoutMicros: UInt64 = 3_000_000
    /// How long a caught-up request waits at the region for the next commit.
    static let feedWaitMillis: UInt64 = 1_000
    static let feedPageLimit = 1_000

    func feedRequest(attempt: Int) {
        guard attempt == feed.attempt else { return }
        let r = feed.region
        schedule(
            .feedArrives(attempt: attempt, region: r), in: Geography.clientLatencyMillis(home: 0, target: r) * 1_000)
        schedule(.feedTimeout(attempt: attempt), in: Self.feedTimeoutMicros)
    }

    /// At region `r`: a page, or once caught up, the page after the next commit.
    func feedArrives(attempt: Int, region r: Int) {
        guard let shell = regions[r].shell else { return }  // the region is down: the timeout moves on
        let query = EventQuery(cursor: feed.cursor, limit: Self.feedPageLimit)
        let version = shell.feedVersion
        let answer: (Result<EventPage, NodeError>) -> Void = { [unowned self] result in
            let reply: FeedReply =
                switch result {
                case .success(let page): .page(page)
                case .failure(.eventCursorTooOld(let oldest)): .refused(oldest: oldest)
                case .failure: .unavailable
                }
            schedule(
                .feedReply(attempt: attempt, reply: reply),
                in: Geography.clientLatencyMillis(home: 0, target: r) * 1_000)
        }
        shell.readEvents(query) { result in
            guard case .success(let page) = result, page.cursor == query.cursor else { return answer(result) }
            shell.waitForFeed(after: version, timeoutMillis: Self.feedWaitMillis) { _ in
                shell.readEvents(query, reply: answer)
            }
        }
    }

    func feedReply(attempt: Int, reply: FeedReply) {
        guard attempt == feed.attempt else { return }
        feed.attempt += 1
        switch reply {
        case .page(let page):
            feed.refusedInARow = 0
            for event in page.events { feedShown(event.entry, at: feed.region) }
            feed.cursor = page.cursor
            stats.feedChanges += UInt64(page.events.count)
            feedRequest(attempt: feed.attempt)
        case .refused(let oldest):
            stats.feedRefusals += 1
            feed.refusedInARow += 1
            if feed.refusedInARow >= memberRegions.count { feedResync(to: oldest) }
            feedFailOver()
        case .unavailable:
            feedFailOver()
        }
    }

    func feedTimedOut(attempt: Int) {
        guard attempt == feed.attempt else { return }
        feed.attempt += 1
        feedFailOver()
    }

    /// On to the next region of the cluster (a retired one is none), a moment later.
    func feedFailOver() {
        repeat {
            feed.region = (feed.region + 1) % regions.count
        } while !regions[feed.region].member || regions[feed.region].retired
        stats.feedFailovers += 1
        probes.feedFailover = true
        let attempt = feed.attempt
        schedule(.feedNext(attempt: attempt), in: 100_000)
    }

    /// Every region refused the cursor: go on from `oldest`, counting what is skipped.
    func feedResync(to oldest: EventCursor) {
        for (origin, seq) in oldest.seen.sortedEntries where seq > feed.cursor.seen[origin] {
            let skipped = Int(seq - feed.cursor.seen[origin])
            feed.shown[origin, default: []] += Array(repeating: nil, count: skipped)
            stats.feedSkipped += UInt64(skipped)
        }
        feed.cursor.seen.merge(oldest.seen)
        feed.refusedInARow = 0
        stats.feedResyncs += 1
    }

    /// Checks a change as it is shown: the next one of its origin.
    func feedShown(_ entry: LogEntry, at r: Int) {
        let before = feed.shown[entry.origin]?.count ?? 0
        guard entry.seq == UInt64(before) + 1 else {
            violations.append(
                SimViolation(
                    kind: .safety,
                    message:
                        "the change feed of \(regionIDs[r]) showed \(entry.origin):\(entry.seq) after \(entry.origin):\(before)"
                        + (entry.seq <= UInt64(before) ? " (a change shown twice)" : " (changes skipped)")))
            return
        }
        feed.shown[entry.origin, default: []].append((entry.hlc, entry.paymentID))
    }

    /// After convergence: the consumer reads on at the first live region that serves its
    /// cursor, to the end; it must then have seen every change the regions hold, each as
    /// the regions hold it.
    func checkFeed(live: [Int]) {
        guard let first = live.first, regions[first].up else { return }
        let final = regions[first].engine.durableVector
        var oldest: EventCursor?
        for round in 0..<2 where feed.cursor.seen != final {
            // Second round: every live region refused; re-sync as the consumer would.
            if round == 1, let oldest { feedResync(to: oldest) }
            for r in live where regions[r].up && feed.cursor.seen != final {
                var refused = false
                while !refused, feed.cursor.seen != final {
                    var page: EventPage?
                    regions[r].shell!.readEvents(EventQuery(cursor: feed.cursor, limit: 1_000)) { result in
                        switch result {
                        case .success(let p): page = p
                        case .failure(.eventCursorTooOld(let o)):
                            refused = true
                            oldest = o
                        case .failure: refused = true
                        }
                    }
                    guard let page, page.cursor != feed.cursor else { break }
                    for event in page.events { feedShown(event.entry, at: r) }
                    stats.feedChanges += UInt64(page.events.count)
                    feed.cursor = page.cursor
                }
            }
        }
        if feed.cursor.seen != final {
            violations.append(
                SimViolation(
                    kind: .liveness,
                    message:
                        "the change feed consumer ended at \(feed.cursor), the regions hold \(final): no live region serves its cursor "
                        + "(their feeds start above: "
                        + live.map { "\(regionIDs[$0]) \(regions[$0].store.committed.events.floor)" }.joined(
                            separator: ", ") + ")"))
        }
        for r in live where regions[r].up {
            for entry in regions[r].store.committed.events.entries {
                guard let shown = feed.shown[entry.origin], entry.seq <= UInt64(shown.count),
                    let s = shown[Int(entry.seq) - 1]
                else { continue }
                if s.hlc != entry.hlc || s.id != entry.paymentID {
                    violations.append(
                        SimViolation(
                            kind: .safety,
                            message:
                                "the change feed showed \(entry.origin):\(entry.seq) as a change to \(s.id) at \(s.hlc); "
                                + "\(regionIDs[r]) holds it as a change to \(entry.paymentID) at \(entry.hlc)"))
                    return
                }
            }
        }
    }
}
