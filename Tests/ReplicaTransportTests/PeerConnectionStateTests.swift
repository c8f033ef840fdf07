import ReplicaCore
import Testing

@testable import ReplicaTransport

/// Every rule of a peer connection, without sockets: identity, the HELLO, when a
/// connection becomes the region's link, and that nothing is acted on after a refusal.
@Suite struct PeerConnectionStateTests {
    let us = RegionID("us-east-1")!
    let eu = RegionID("eu-west-1")!
    func hello(_ r: RegionID) -> PeerMessage { .hello(region: r, vector: VersionVector()) }
    let ping = PeerMessage.ping(vector: VersionVector())

    @Test func aDialedConnection_linksAtOnce_thenDeliversFromItsHello() {
        var s = PeerConnectionState(dialed: us)
        #expect(s.handshakeCompleted(.success(us), regionHasLink: true) == .link(us))
        #expect(s.linked(7) == .none)
        #expect(s.received(hello(us)) == .deliver(us, link: 7))
        #expect(s.received(ping) == .deliver(us, link: 7))
        #expect(s.phase == .greeted(us, link: 7))
    }

    @Test func anAcceptedConnection_forARegionWithALink_waitsForItsHello() {
        var s = PeerConnectionState(dialed: nil)
        #expect(s.handshakeCompleted(.success(eu), regionHasLink: true) == .none)
        #expect(s.link == nil)
        // Its HELLO checks out: it asks for the link, and the HELLO goes up once linked.
        #expect(s.received(hello(eu)) == .link(eu))
        #expect(s.linked(9) == .deliver(eu, link: 9))
        #expect(s.received(ping) == .deliver(eu, link: 9))
    }

    @Test func aWaitingConnectionThatLies_isRefused_andTheLiveLinkIsNeverTouched() {
        var s = PeerConnectionState(dialed: nil)
        #expect(s.handshakeCompleted(.success(eu), regionHasLink: true) == .none)
        #expect(s.received(hello(us)) == .refuse("HELLO claims region us-east-1 but the certificate names eu-west-1"))
        #expect(s.received(hello(eu)) == .none, "nothing is acted on after a refusal")
        #expect(s.link == nil)
    }

    @Test func refusals() {
        var dialedElsewhere = PeerConnectionState(dialed: us)
        #expect(
            dialedElsewhere.handshakeCompleted(.success(eu), regionHasLink: false)
                == .refuse("dialed us-east-1 but its certificate names eu-west-1"))

        var noName = PeerConnectionState(dialed: nil)
        #expect(
            noName.handshakeCompleted(.failure(PeerIdentity.Refusal("no client certificate")), regionHasLink: false)
                == .refuse("no client certificate"))

        var early = PeerConnectionState(dialed: nil)
        #expect(early.received(ping) == .refuse("message before the peer's certificate was verified"))

        var notHello = PeerConnectionState(dialed: nil)
        _ = notHello.handshakeCompleted(.success(eu), regionHasLink: false)
        _ = notHello.linked(1)
        #expect(notHello.received(ping) == .refuse("first message is ping, not HELLO"))
        #expect(notHello.received(ping) == .none)
    }

    @Test func aTransportThatSaysNo_closesTheConnection() {
        var s = PeerConnectionState(dialed: nil)
        #expect(s.handshakeCompleted(.success(eu), regionHasLink: false) == .link(eu))
        #expect(s.linked(nil) == .close)
        #expect(s.received(hello(eu)) == .none)
    }
}
