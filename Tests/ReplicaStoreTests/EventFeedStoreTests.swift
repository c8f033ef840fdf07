import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// The change feed as the SQLite store serves it: commit order, cursors, filters, own
/// changes held back until another region holds them, retention and snapshots moving
/// the floor, and the very same pages as the in-memory store paysim runs on.
@Suite struct EventFeedStoreTests {
    /// Reads every page from `cursor` on; the events and the last cursor.
    static func drain(_ reader: StoreReader, _ query: EventQuery, visible: UInt64 = .max) throws -> (
        [PaymentEvent], EventCursor
    ) {
        var query = query
        var all: [PaymentEvent] = []
        while true {
            let page = try reader.events(query, region: usEast, ownVisibleThrough: visible)
            all += page.events
            if page.cursor == query.cursor { return (all, page.cursor) }
            query.cursor = page.cursor
        }
    }

    @Test func test_pages_inCommitOrder_withFilters_sameAsTheInMemoryStore() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var memory = InMemoryStorage()
        var w = Writer()
        var requests = (0..<30).map { w.create($0, at: 1_000 + UInt64($0)) }
        requests += (0..<10).map { w.update($0 * 3, PaymentPatch(status: .authorized), at: 3_000 + UInt64($0)) }
        for r in requests {
            try store.commit([r])
            memory.commit([r])
        }
        let reader = try store.reader()
        let (events, end) = try Self.drain(reader, EventQuery(cursor: EventCursor(), limit: 7))
        #expect(events.map(\.entry.seq) == Array(1...40))
        #expect(end.description == "us-east-1:40")
        // The payment as it stood after the change: the patches' events show "authorized".
        #expect(events[30...].allSatisfy { $0.record.flatMap(Payment.init)?.status == .authorized })
        #expect(events.map(\.entry) == requests.flatMap { $0.entries.map(\.entry) })

        // A filter shows only matching changes, and the cursor still moves past the rest.
        let (m1, m1End) = try Self.drain(reader, EventQuery(cursor: EventCursor(), merchantID: "m1", limit: 4))
        #expect(!m1.isEmpty && m1.allSatisfy { $0.record.flatMap(Payment.init)?.merchantID == "m1" })
        #expect(m1End == end)
        let (authorized, _) = try Self.drain(reader, EventQuery(cursor: EventCursor(), status: .authorized, limit: 4))
        #expect(authorized.map(\.entry.seq) == Array(31...40))

        // The in-memory store gives the same pages.
        var cursor = EventCursor()
        while true {
            let q = EventQuery(cursor: cursor, limit: 3, scanLimit: 5)
            let sql = try reader.events(q, region: usEast, ownVisibleThrough: 35)
            let mem = try memory.events.page(q, region: usEast, ownVisibleThrough: 35).get()
            #expect(sql.events.map(\.entry) == mem.events.map(\.entry) && sql.cursor == mem.cursor)
            #expect(sql.events.map(\.record) == mem.events.map(\.record))
            if sql.cursor == cursor { break }
            cursor = sql.cursor
        }
        #expect(cursor.description == "us-east-1:35", "own changes past what another region holds are held back")
    }

    @Test func test_trimmedFeed_refusesAnOlderCursor_andNamesTheOldestItServes() throws {
        let tmp = TempStore()
        var options = StoreOptions(path: tmp.path)
        options.eventsKept = 10
        let store = try ReplicaStore(options: options)
        var w = Writer()
        try store.commit((0..<40).map { w.create($0, at: 1_000 + UInt64($0)) })
        try store.trimEvents()
        let reader = try store.reader()
        #expect(throws: EventFeedError.cursorTooOld(oldest: EventCursor(text: "us-east-1:30")!)) {
            try reader.events(
                EventQuery(cursor: EventCursor(text: "us-east-1:29")!), region: usEast, ownVisibleThrough: .max)
        }
        let (events, _) = try Self.drain(reader, EventQuery(cursor: EventCursor(text: "us-east-1:30")!))
        #expect(events.map(\.entry.seq) == Array(31...40))
        // Trimming again with nothing new changes nothing.
        try store.trimEvents()
        #expect(try reader.eventFloor().description == VersionVector([usEast: 30]).description)
    }

    @Test func test_aSnapshot_movesTheFloorPastWhatItBrought() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        try store.commit((0..<20).map { w.create($0, at: 1_000 + UInt64($0)) })
        var snapshot: [PaymentRecord] = []
        let vector = try store.reader().snapshot(pageSize: 50) { snapshot += $0 }

        // A new region takes the snapshot, then two changes made after it.
        let joined = TempStore()
        let target = try joined.open()
        var engine = ReplicationEngine(
            config: EngineConfig(region: euWest, peers: [usEast]), recovered: RecoveredState(ownHistoryComplete: true),
            nowMillis: 0)
        _ = engine.peerConnected(usEast, nowMillis: 0)
        _ = engine.receive(.hello(region: usEast, vector: VersionVector()), from: usEast, nowMillis: 0)
        let after = (0..<2).map { w.update($0, PaymentPatch(status: .authorized), at: 5_000 + UInt64($0)) }
        for message in [
            PeerMessage.snapshot(records: snapshot, vector: vector),
            .delta(batchID: 1, entries: after.flatMap { $0.entries.map(\.entry) }),
        ] {
            for case .persist(let p) in engine.receive(message, from: usEast, nowMillis: 10_000) {
                try target.commit([p])
                _ = engine.didPersist(requestID: p.id, nowMillis: 10_000)
            }
        }
        let reader = try target.reader()
        #expect(try reader.eventFloor() == vector)
        #expect(throws: EventFeedError.self) {
            try reader.events(EventQuery(cursor: EventCursor()), region: euWest, ownVisibleThrough: 0)
        }
        let page = try reader.events(
            EventQuery(cursor: EventCursor(seen: vector)), region: euWest, ownVisibleThrough: 0)
        #expect(page.events.map(\.entry.seq) == [21, 22])
    }

    @Test func test_cursorText_roundTrips_andRejectsWhatIsNotOne() {
        let c = EventCursor(text: "us-east-1:12,eu-west-1:3")!
        #expect(c.description == "eu-west-1:3,us-east-1:12")
        #expect(EventCursor(text: "")! == EventCursor())
        for bad in [
            "us-east-1", "us-east-1:", "us-east-1:-1", "us-east-1:1x", ":3", "a:1,,b:2",
            String(repeating: "x", count: 5_000),
        ] {
            #expect(EventCursor(text: bad) == nil, "\(bad.prefix(20))")
        }
    }
}
