import Testing

@testable import ReplicaCore

/// The actor at the end of an encoded entry: it round-trips, a peer's bad one is refused,
/// and an entry kept in format 3 (no actor) reads as this format's once one zero byte is
/// appended (what the store's migration does).
@Suite struct EntryActorCodecTests {
    static func entry(actor: String?) -> LogEntry {
        LogEntry(
            origin: Fixtures.tokyo, seq: 4, hlc: HLCTimestamp(wallMillis: 1_700_000_000_000, counter: 0),
            paymentID: Fixtures.id(4),
            changes: [FieldChange(field: .status, value: .text("authorized"), base: nil, depth: 2)], actor: actor)
    }

    static func encode(_ e: LogEntry) -> [UInt8] {
        var w = ByteWriter()
        w.writeEntry(e)
        return w.bytes
    }

    @Test func test_actorRoundTrips_andNoneIsOneZeroByte() throws {
        for actor in ["shop-a", "ops", "key-c2b41294c1c2", String(repeating: "x", count: 64), nil] {
            var r = ByteReader(Self.encode(Self.entry(actor: actor)))
            #expect(try r.readEntry() == Self.entry(actor: actor))
            #expect(r.remaining == 0)
        }
        #expect(Self.encode(Self.entry(actor: nil)).last == 0)
        #expect(Self.encode(Self.entry(actor: "ops")).count == Self.encode(Self.entry(actor: nil)).count + 3)
    }

    @Test func test_format3Entry_plusAZeroByte_readsWithNoActor() throws {
        var format3 = Self.encode(Self.entry(actor: nil))
        format3.removeLast()
        var r = ByteReader(format3 + [0])
        #expect(try r.readEntry() == Self.entry(actor: nil))
    }

    @Test func test_badActorFromAPeer_doesNotDecode() {
        for bad in ["", "has space", "naïve", String(repeating: "x", count: 65), "a/b"] {
            var w = ByteWriter()
            w.writeEntry(Self.entry(actor: nil))
            var bytes = w.bytes
            bytes.removeLast()
            var tail = ByteWriter()
            tail.writeString(bad)
            var r = ByteReader(bytes + tail.bytes)
            if bad.isEmpty {
                #expect((try? r.readEntry())?.actor == nil)
            } else {
                #expect(throws: DecodingError.self) { try r.readEntry() }
            }
        }
        #expect(ActorName.problem("shop_a.v2-1") == nil)
        #expect(ActorName.problem("") != nil && ActorName.problem("a b") != nil)
    }

    @Test func test_aClientWrite_carriesItsActor_inTheEntryItPersists() {
        var e = ReplicationEngineTests.engine()
        let (_, ds) = e.submit(
            .create(Fixtures.id(1), Fixtures.create(1), idempotent: true), actor: "shop-a", ticket: WriteTicket(1),
            durability: .local, nowMillis: 1_000)
        #expect(ReplicationEngineTests.persists(ds)[0].entries.map(\.entry.actor) == ["shop-a"])
    }
}
