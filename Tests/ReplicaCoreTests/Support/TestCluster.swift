@testable import ReplicaCore

/// A few engines wired together in memory for property tests: per-link FIFO queues
/// (like TCP), links that drop and reconnect (losing what was in flight), commits that
/// happen late, and a seeded schedule choosing what happens next.
struct TestCluster {
    var engines: [RegionID: ReplicationEngine] = [:]
    var links: [Link: [PeerMessage]] = [:]
    var connected: Set<Link> = []
    var uncommitted: [RegionID: [UInt64]] = [:]
    /// What each region committed, as its store would hold it (the change feed included).
    var stores: [RegionID: InMemoryStorage] = [:]
    var uncommittedRequests: [RegionID: [PersistRequest]] = [:]
    var acks: [WriteTicket: WriteAck] = [:]
    var now: UInt64 = 1_000
    var nextTicket: UInt64 = 1
    let regions: [RegionID]

    struct Link: Hashable, Comparable {
        let from: RegionID
        let to: RegionID
        static func < (l: Link, r: Link) -> Bool { (l.from, l.to) < (r.from, r.to) }
    }

    init(regions: [RegionID], configure: (inout EngineConfig) -> Void = { _ in }) {
        self.regions = regions
        for r in regions {
            var c = EngineConfig(region: r, peers: regions.filter { $0 != r })
            c.clockFirstReadingMillis = 0  // writes race the first pings here; the wait has its own tests
            configure(&c)
            engines[r] = ReplicationEngine(
                config: c, recovered: RecoveredState(ownHistoryComplete: true), nowMillis: now)
            uncommitted[r] = []
            uncommittedRequests[r] = []
            stores[r] = InMemoryStorage()
        }
        for a in regions { for b in regions where a < b { connect(a, b) } }
    }

    // MARK: Connections

    mutating func connect(_ a: RegionID, _ b: RegionID) {
        guard !connected.contains(Link(from: a, to: b)) else { return }
        connected.insert(Link(from: a, to: b))
        connected.insert(Link(from: b, to: a))
        run(a, engines[a]!.peerConnected(b, nowMillis: now))
        run(b, engines[b]!.peerConnected(a, nowMillis: now))
    }

    mutating func disconnect(_ a: RegionID, _ b: RegionID) {
        guard connected.contains(Link(from: a, to: b)) else { return }
        for l in [Link(from: a, to: b), Link(from: b, to: a)] {
            connected.remove(l)
            links[l] = []
        }
        run(a, engines[a]!.peerDisconnected(b, nowMillis: now))
        run(b, engines[b]!.peerDisconnected(a, nowMillis: now))
    }

    // MARK: Inputs

    mutating func submit(_ command: PaymentCommand, at region: RegionID, durability: Durability = .local)
        -> SubmitResult
    {
        let ticket = WriteTicket(nextTicket)
        nextTicket += 1
        let (result, ds) = engines[region]!.submit(command, ticket: ticket, durability: durability, nowMillis: now)
        if case .answered(let ack) = result { acks[ticket] = ack }
        run(region, ds)
        return result
    }

    /// Commits the oldest `count` uncommitted requests of `region` (all when nil).
    mutating func commit(_ region: RegionID, count: Int? = nil) {
        let pending = uncommitted[region]!
        guard !pending.isEmpty else { return }
        let n = min(count ?? pending.count, pending.count)
        let last = pending[n - 1]
        uncommitted[region] = Array(pending.dropFirst(n))
        stores[region]!.commit(Array(uncommittedRequests[region]!.prefix(n)))
        uncommittedRequests[region] = Array(uncommittedRequests[region]!.dropFirst(n))
        run(region, engines[region]!.didPersist(requestID: last, nowMillis: now))
    }

    /// Delivers the next message on `link`.
    mutating func deliver(_ link: Link) {
        guard var queue = links[link], !queue.isEmpty else { return }
        let message = queue.removeFirst()
        links[link] = queue
        // Every message crosses the wire as bytes, so the codec is exercised too.
        let decoded = try! PeerMessage.decode(message.encoded())
        run(link.to, engines[link.to]!.receive(decoded, from: link.from, nowMillis: now))
    }

    mutating func tick(_ region: RegionID) {
        run(region, engines[region]!.tick(nowMillis: now))
    }

    private mutating func run(_ region: RegionID, _ directives: [EngineDirective]) {
        for d in directives {
            switch d {
            case .persist(let p):
                uncommitted[region]!.append(p.id)
                uncommittedRequests[region]!.append(p)
            case .send(let peer, let m):
                let l = Link(from: region, to: peer)
                if connected.contains(l) { links[l, default: []].append(m) }
            case .acknowledge(let t, let a): acks[t] = a
            case .compactLog: break
            case .disconnect(let peer, let reason):
                preconditionFailure("unexpected disconnect of \(peer) by \(region): \(reason)")
            case .readSnapshotChunk, .readLog:
                preconditionFailure("an engine holding every record and log entry reads none from a store")
            }
        }
    }

    // MARK: Heal

    var quiescent: Bool {
        links.values.allSatisfy(\.isEmpty) && uncommitted.values.allSatisfy(\.isEmpty)
    }

    /// Reconnects everything and runs until nothing is in flight and nothing changes.
    mutating func heal(maxRounds: Int = 10_000) -> Bool {
        for a in regions { for b in regions where a < b { connect(a, b) } }
        for _ in 0..<maxRounds {
            for r in regions { commit(r) }
            for l in links.keys.sorted() { while !(links[l]?.isEmpty ?? true) { deliver(l) } }
            for r in regions { commit(r) }
            now += 50
            for r in regions { tick(r) }
            let vectors = regions.map { engines[$0]!.durableVector }
            if quiescent && Set(vectors).count == 1 { return true }
        }
        return false
    }
}
