import Foundation
import PaymentsWire
import ReplicaCore
import XCTest

@testable import PaymentNode

/// `api.keys`: named keys with scopes, merchant bounds, expiry and limits, beside the
/// older `api.key_sha256` list; every error names `api.keys[i].<setting>`.
extension NodeConfigTests {
    static let opsHash = String(repeating: "a1", count: 32)
    static let reportingHash = String(repeating: "b2", count: 32)
    static let shopHash = String(repeating: "c3", count: 32)

    /// `api.keys` with three keys (ops, reporting, shop-a), in place of `api.key_sha256`.
    var keysYAML: String {
        variant(
            "  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n",
            """
              keys:
                - id: ops
                  sha256: \(Self.opsHash)
                  scopes: [admin]
                - id: reporting
                  sha256: \(Self.reportingHash)
                  scopes: [payments:read, events:read]
                - id: shop-a
                  sha256: \(Self.shopHash)
                  scopes: [payments:write, payments:read, payments:read]
                  merchants: [m_b, m_a]
                  expires: 2027-06-30T00:00:00Z
                  rate_per_s: 500
                  burst: 1000
                  streams_max: 8

            """)
    }

    /// `keysYAML` with `old` (in shop-a, the third key) replaced by `new`.
    func shopVariant(_ old: String, _ new: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertTrue(keysYAML.contains(old), "fixture lacks \(old)", file: file, line: line)
        return keysYAML.replacingOccurrences(of: old, with: new)
    }

    func testKeysWithScopesBoundsAndLimits() throws {
        let keys = try load(keysYAML).apiKeys
        XCTAssertEqual(keys.map(\.id), ["ops", "reporting", "shop-a"])
        XCTAssertEqual(
            keys.map(\.scopes), [["admin"], ["events:read", "payments:read"], ["payments:read", "payments:write"]])
        XCTAssertEqual(keys.map(\.sha256), [Self.opsHash, Self.reportingHash, Self.shopHash])
        XCTAssertEqual(keys.map(\.legacy), [false, false, false])
        let shop = keys[2]
        XCTAssertEqual(shop.merchants, ["m_a", "m_b"])
        XCTAssertEqual(shop.expiresAtMillis, RFC3339.parse("2027-06-30T00:00:00Z"))
        XCTAssertEqual(shop.ratePerSecond, 500)
        XCTAssertEqual(shop.burst, 1_000)
        XCTAssertEqual(shop.streamsMax, 8)
        XCTAssertNil(keys[0].merchants)
        XCTAssertNil(keys[0].expiresAtMillis)
        XCTAssertNil(keys[0].ratePerSecond)
        XCTAssertNil(keys[0].streamsMax)
        XCTAssertTrue(try load(keysYAML).legacyAPIKeyIDs.isEmpty)
        let decimal = try load(shopVariant("rate_per_s: 500\n      burst: 1000\n", "rate_per_s: 0.5\n"))
        XCTAssertEqual(decimal.apiKeys[2].ratePerSecond, 0.5)
        XCTAssertNil(decimal.apiKeys[2].burst)
    }

    /// `api.key_sha256` keeps working: each hash is a key with every scope, named by the
    /// start of its hash, after the keys of `api.keys`; the environment variable replaces
    /// that list only.
    func testOlderKeyListBesideKeys() throws {
        let both = keysYAML.replacingOccurrences(of: "  keys:\n", with: "  key_sha256: [\(Self.devHash)]\n  keys:\n")
        let keys = try load(both).apiKeys
        XCTAssertEqual(keys.map(\.id), ["ops", "reporting", "shop-a", "key-c2b41294c1c2"])
        XCTAssertEqual(keys[3].scopes, ["admin"])
        XCTAssertTrue(keys[3].legacy)
        XCTAssertEqual(try load(both).legacyAPIKeyIDs, ["key-c2b41294c1c2"])
        let fromEnv = try load(both, environment: [NodeConfig.Environment.apiKeyHashes: Self.otherHash]).apiKeys
        XCTAssertEqual(fromEnv.map(\.id), ["ops", "reporting", "shop-a", "key-0123456789ab"])
        XCTAssertEqual(try load(keysYAML, environment: ["PAYNODE_API_KEY_SHA256": Self.devHash]).apiKeys.count, 4)
        XCTAssertEqual(try load(validYAML).legacyAPIKeyIDs, ["key-c2b41294c1c2", "key-0123456789ab"])
        XCTAssertTrue(try load(validYAML).acceptsDevelopmentKey)
        XCTAssertFalse(try load(keysYAML).acceptsDevelopmentKey)
    }

    func testKeyErrorsNameTheSetting() {
        let shop = "api.keys[2]"
        assertError(
            shopVariant("[payments:write, payments:read, payments:read]", "[payment:write]"), key: "\(shop).scopes",
            problem: "unknown scope \"payment:write\"")
        assertError(
            shopVariant("[payments:write, payments:read, payments:read]", "[]"), key: "\(shop).scopes",
            problem: "at least one")
        assertError(
            shopVariant("      scopes: [payments:write, payments:read, payments:read]\n", ""), key: "\(shop).scopes",
            problem: "at least one")
        for bad in ["shop a", "shop/a", String(repeating: "x", count: 65), "\"\""] {
            let expected = bad == "\"\"" ? "is required" : "is not a key id"
            assertError(shopVariant("id: shop-a", "id: \(bad)"), key: "\(shop).id", problem: expected)
        }
        assertError(shopVariant("id: shop-a", "id: ops"), key: "\(shop).id", problem: "already used by api.keys[0]")
        assertError(
            shopVariant("sha256: \(Self.shopHash)", "sha256: \(Self.opsHash)"), key: "\(shop).sha256",
            problem: "already api.keys[0]'s")
        assertError(
            shopVariant("sha256: \(Self.shopHash)", "sha256: \(Self.shopHash.uppercased())"), key: "\(shop).sha256",
            problem: "not a SHA-256 hash")
        assertError(
            shopVariant("expires: 2027-06-30T00:00:00Z", "expires: next June"), key: "\(shop).expires",
            problem: "not an RFC 3339 time")
        assertError(shopVariant("rate_per_s: 500", "rate_per_s: 0"), key: "\(shop).rate_per_s", problem: "not a rate")
        assertError(
            shopVariant("rate_per_s: 500", "rate_per_s: fast"), key: "\(shop).rate_per_s", problem: "not a rate")
        assertError(shopVariant("      rate_per_s: 500\n", ""), key: "\(shop).burst", problem: "needs rate_per_s")
        assertError(shopVariant("burst: 1000", "burst: 0"), key: "\(shop).burst", problem: "out of range")
        assertError(
            shopVariant("streams_max: 8", "streams_max: -1"), key: "\(shop).streams_max", problem: "out of range")
        assertError(
            shopVariant("merchants: [m_b, m_a]", "merchants: []"), key: "\(shop).merchants", problem: "may not be empty"
        )
        assertError(
            shopVariant("merchants: [m_b, m_a]", "merchants: [m b]"), key: "\(shop).merchants",
            problem: "not a merchant id")
        assertError(
            shopVariant("streams_max: 8", "streams_max: 8\n      scope: admin"), key: "\(shop).scope",
            problem: "unknown setting")
        assertError(
            keysYAML.replacingOccurrences(of: "  keys:\n", with: "  key_sha256: [\(Self.opsHash)]\n  keys:\n"),
            key: "api.key_sha256", problem: "already api.keys[0]'s")
        assertError(
            variant("  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n", "  keys: ops\n"),
            key: "api.keys",
            problem: "expected a list of keys")
        assertError(
            variant("  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n", "  keys: []\n"), key: "api.keys",
            problem: "at least one API key is required")
        assertError(
            variant("  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n", ""), key: "api.keys",
            problem: "at least one API key is required")
        assertError(
            variant("    - \(Self.otherHash)\n", "    - \(Self.devHash)\n"), key: "api.key_sha256",
            problem: "the id \"key-c2b41294c1c2\" is already used by api.key_sha256")
    }

    /// The keys reload with the certificates; a reload keeps every other setting.
    func testKeysAreReloaded() throws {
        let running = try load(validYAML)
        let new = try load(keysYAML)
        XCTAssertEqual(running.reloaded(from: new).apiKeys, new.apiKeys)
        XCTAssertEqual(running.restartOnlyDifferences(new), [])
    }

    /// A region added to `peers` (or a peer's new address) is reloaded; one left out needs a restart.
    func testAddedPeersAreReloadedAndAPeerLeftOutNeedsARestart() throws {
        let running = try load(validYAML)
        let grown = try load(
            variant("  eu-west-1: \"[::1]:9103\"\n", "  eu-west-1: \"[::1]:9103\"\n  sa-east-1: 127.0.0.1:9104\n"))
        XCTAssertEqual(running.restartOnlyDifferences(grown), [])
        XCTAssertEqual(running.reloaded(from: grown).peers, grown.peers)
        let shrunk = try load(variant("  eu-west-1: \"[::1]:9103\"\n", ""))
        XCTAssertEqual(running.restartOnlyDifferences(shrunk), ["peers (a region left out, not moved to retired)"])
        XCTAssertEqual(running.reloaded(from: shrunk).peers, running.peers)
        // Moved to retired: applied by the reload, no restart.
        let retired = try load(variant("  eu-west-1: \"[::1]:9103\"\n", "") + "\nretired: [eu-west-1]\n")
        XCTAssertEqual(running.restartOnlyDifferences(retired), [])
        XCTAssertNil(running.reloaded(from: retired).peers[RegionID("eu-west-1")!])
        XCTAssertEqual(running.reloaded(from: retired).engine.retired, [RegionID("eu-west-1")!])
    }

    // MARK: The older api.key_sha256 list

    func testEnvironmentOverridesTheAPIKeyHashes() throws {
        let config = try load(
            validYAML, environment: [NodeConfig.Environment.apiKeyHashes: "\(Self.otherHash) , \(Self.devHash)"])
        XCTAssertEqual(config.apiKeys.map(\.sha256), [Self.otherHash, Self.devHash])
        // The variable also stands in for hashes missing from the file.
        let without = variant("  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n", "")
        XCTAssertEqual(
            try load(without, environment: ["PAYNODE_API_KEY_SHA256": Self.devHash]).apiKeys.map(\.sha256),
            [Self.devHash])
        let bad = assertError(
            validYAML, key: "api.key_sha256 (from PAYNODE_API_KEY_SHA256)", problem: "not a SHA-256 hash",
            environment: ["PAYNODE_API_KEY_SHA256": "abc"])
        XCTAssertNotNil(bad)
    }

    func testBadKeyHashes() {
        for bad in [
            Self.devHash.uppercased(), String(Self.devHash.dropLast()), Self.devHash + "0",
            String(repeating: "g", count: 64), String(repeating: "\u{FF41}", count: 64),
        ] {
            assertError(
                variant("- \(Self.otherHash)", "- \(bad)"), key: "api.key_sha256", problem: "not a SHA-256 hash")
        }
        assertError(
            variant("  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n", "  key_sha256: []\n"),
            key: "api.key_sha256", problem: "at least one")
        assertError(
            variant(
                "  key_sha256:\n    - \(Self.devHash)\n    - \(Self.otherHash)\n", "  key_sha256: \(Self.devHash)\n"),
            key: "api.key_sha256", problem: "expected a list of strings")
    }
}
