import ReplicaCore
import XCTest

@testable import ReplicaTransport

/// `HostPort` parsing and which peers a region dials.
final class PeerTransportConfigTests: XCTestCase {
    func testHostPortParsesIPv4AndHostNames() throws {
        let v4 = try XCTUnwrap(HostPort("127.0.0.1:9101"))
        XCTAssertEqual(v4.host, "127.0.0.1")
        XCTAssertEqual(v4.port, 9101)
        XCTAssertEqual(v4.description, "127.0.0.1:9101")
        XCTAssertEqual(v4, HostPort(host: "127.0.0.1", port: 9101))

        let named = try XCTUnwrap(HostPort("localhost:0"))
        XCTAssertEqual(named, HostPort(host: "localhost", port: 0))
        XCTAssertEqual(HostPort("h:65535"), HostPort(host: "h", port: 65_535))
    }

    func testHostPortParsesBracketedIPv6() throws {
        let v6 = try XCTUnwrap(HostPort("[::1]:80"))
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.port, 80)
        // IPv6 hosts print bracketed again, so the description parses back to the same value.
        XCTAssertEqual(v6.description, "[::1]:80")
        XCTAssertEqual(HostPort(v6.description), v6)
        XCTAssertEqual(HostPort("[2001:db8::7]:9102"), HostPort(host: "2001:db8::7", port: 9102))
    }

    func testHostPortRejectsMalformedText() {
        for text in [
            "nohost", ":80", "h:99999", "h:x", "h:", "", "[]:80", "h:65536", "h:-1", "h:80x",
            "[::1:8102", "::1]:80", "h:+80", "::1:80", "a b:80",
        ] {
            XCTAssertNil(HostPort(text), "\"\(text)\" should not parse")
        }
    }

    static let tokyo = RegionID("ap-northeast-1")!
    static let virginia = RegionID("us-east-1")!
    static let ireland = RegionID("eu-west-1")!
    static let regions = [tokyo, virginia, ireland]

    /// The config each region of `regions` would have: every other region as a peer.
    static func configs(_ regions: [RegionID]) -> [PeerTransportConfig] {
        regions.enumerated().map { i, region in
            var peers: [RegionID: HostPort] = [:]
            for (j, other) in regions.enumerated() where other != region {
                peers[other] = HostPort(host: "127.0.0.1", port: 9_101 + j)
            }
            return PeerTransportConfig(
                region: region, listen: HostPort(host: "127.0.0.1", port: 9_101 + i), peers: peers)
        }
    }

    func testDialedListsOnlyPeersSortingAfterTheRegion() {
        let byRegion = Dictionary(uniqueKeysWithValues: Self.configs(Self.regions).map { ($0.region, $0) })
        XCTAssertEqual(byRegion[Self.tokyo]?.dialed, [Self.ireland, Self.virginia])
        XCTAssertEqual(byRegion[Self.ireland]?.dialed, [Self.virginia])
        XCTAssertEqual(byRegion[Self.virginia]?.dialed, [])
        for config in byRegion.values {
            XCTAssertFalse(config.dialed.contains(config.region))
            XCTAssertTrue(config.dialed.allSatisfy { config.region < $0 && config.peers[$0] != nil })
        }
    }

    func testEveryUnorderedPairIsDialedExactlyOnce() {
        for regions in [Self.regions, ["a", "b", "c", "d", "e"].compactMap(RegionID.init)] {
            var dials: [Set<RegionID>: Int] = [:]
            for config in Self.configs(regions) {
                for peer in config.dialed { dials[[config.region, peer], default: 0] += 1 }
            }
            let pairs = regions.count * (regions.count - 1) / 2
            XCTAssertEqual(dials.count, pairs, "every pair of \(regions) has a dialer")
            XCTAssertTrue(dials.values.allSatisfy { $0 == 1 }, "no pair is dialed twice: \(dials)")
        }
    }

    func testDefaults() {
        let config = PeerTransportConfig(region: Self.tokyo, listen: HostPort(host: "0.0.0.0", port: 9101), peers: [:])
        XCTAssertEqual(config.dialed, [])
        XCTAssertLessThan(config.reconnectBaseMillis, config.reconnectMaxMillis)
        XCTAssertGreaterThan(config.idleTimeoutMillis, 1_000, "peers ping every second; idling out sooner would flap")
    }
}
