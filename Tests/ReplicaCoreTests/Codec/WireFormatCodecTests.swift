import Testing

@testable import ReplicaCore

/// Formats 3 and 4 on the wire: a link encodes and decodes in its own format only; format
/// 3 (the release before) has no actor, no announcement in HELLO and no active format in
/// PING; an entry with an actor cannot go out in format 3; a format-4 HELLO's
/// announcement round-trips and a peer's bad one is refused.
@Suite struct WireFormatCodecTests {
    static let entry = EntryActorCodecTests.entry(actor: nil)
    static let announcement = WireAnnouncement(speaks: 3...4, active: 3, release: "0.4.0")

    @Test func everyMessageRoundTripsInEachFormat() throws {
        let messages: [PeerMessage] = [
            .hello(region: Fixtures.tokyo, vector: VersionVector([Fixtures.tokyo: 4])),
            .delta(batchID: 7, entries: [Self.entry]),
            .ack(vector: VersionVector([Fixtures.virginia: 2])),
            .ping(vector: VersionVector(), clock: ClockSample(sentAtMillis: 5, echoMillis: 0, heldMillis: 0)),
        ]
        for message in messages {
            for wire in WireVersion.supported {
                let bytes = try message.encoded(wire: wire)
                #expect(bytes[0] == wire)
                #expect(try PeerMessage.decode(bytes, wire: wire) == message)
            }
        }
        let hello = PeerMessage.hello(region: Fixtures.tokyo, vector: VersionVector(), wire: Self.announcement)
        #expect(try PeerMessage.decode(try hello.encoded(wire: 4), wire: 4) == hello)
        let ping = PeerMessage.ping(vector: VersionVector(), wireActive: 4)
        #expect(try PeerMessage.decode(try ping.encoded(wire: 4), wire: 4) == ping)
    }

    @Test func format3LeavesOutWhatFormat4Adds() throws {
        // The entry: format 4's bytes less the empty actor's one zero byte.
        let four = try PeerMessage.delta(batchID: 1, entries: [Self.entry]).encoded(wire: 4)
        let three = try PeerMessage.delta(batchID: 1, entries: [Self.entry]).encoded(wire: 3)
        #expect(Array(three.dropFirst()) == Array(four.dropFirst().dropLast()))
        // HELLO and PING: what format 4 adds is not written, and reads back as nothing.
        let hello = PeerMessage.hello(region: Fixtures.tokyo, vector: VersionVector(), wire: Self.announcement)
        #expect(
            try PeerMessage.decode(try hello.encoded(wire: 3), wire: 3)
                == .hello(region: Fixtures.tokyo, vector: VersionVector()))
        let ping = PeerMessage.ping(vector: VersionVector(), wireActive: 4)
        #expect(try ping.encoded(wire: 3).count == ping.encoded(wire: 4).count - 1)
        #expect(try PeerMessage.decode(try ping.encoded(wire: 3), wire: 3) == .ping(vector: VersionVector()))
        // A kept entry sent as it is stored: the same bytes as encoding it in format 3.
        let kept = PeerMessage.encodedDelta(batchID: 1, entries: [EncodedEntry(Self.entry).bytes])
        #expect(try kept.encoded(wire: 3) == three)
    }

    @Test func anEntryWithAnActorCannotGoOutInFormat3() {
        let withActor = EntryActorCodecTests.entry(actor: "shop-a")
        #expect(throws: WireVersionError.self) {
            try PeerMessage.delta(batchID: 1, entries: [withActor]).encoded(wire: 3)
        }
        #expect(throws: WireVersionError.self) {
            try PeerMessage.encodedDelta(batchID: 1, entries: [EncodedEntry(withActor).bytes]).encoded(wire: 3)
        }
    }

    @Test func aMessageInAnotherFormatThanTheLinksIsRefused() throws {
        let ack = PeerMessage.ack(vector: VersionVector())
        #expect(throws: DecodingError.self) { try PeerMessage.decode(try ack.encoded(wire: 4), wire: 3) }
        #expect(throws: DecodingError.self) { try PeerMessage.decode(try ack.encoded(wire: 3), wire: 4) }
    }

    @Test func aBadAnnouncementIsRefused() throws {
        let good = try PeerMessage.hello(region: Fixtures.tokyo, vector: VersionVector(), wire: Self.announcement)
            .encoded(wire: 4)
        // The announcement's bytes, from its tag: 1, low, high, active, release.
        let at = good.count - (5 + Self.announcement.release.utf8.count)
        for (offset, value) in [(0, 2 as UInt8), (1, 0), (1, 5), (3, 0), (4, 0)] {
            var bad = good
            bad[at + offset] = value
            #expect(throws: DecodingError.self) { try PeerMessage.decode(bad, wire: 4) }
        }
        var unprintable = good
        unprintable[good.count - 1] = 0x0A
        #expect(throws: DecodingError.self) { try PeerMessage.decode(unprintable, wire: 4) }
    }

    @Test func linksUseTheNewestFormatBothSpeak_andALPNNamesThem() {
        #expect(WireVersion.negotiate(3...4, 3...4) == 4)
        #expect(WireVersion.negotiate(3...4, 3...3) == 3)
        #expect(WireVersion.negotiate(4...5, 3...3) == nil)
        #expect(WireVersion.protocolNames(3...4) == ["paynode-wire/4", "paynode-wire/3"])
        #expect(WireVersion.protocolNames(3...3) == [])
        #expect(WireVersion.version(ofProtocol: nil) == 3)
        #expect(WireVersion.version(ofProtocol: "paynode-wire/4") == 4)
        #expect(WireVersion.version(ofProtocol: "h2") == nil)
    }
}
