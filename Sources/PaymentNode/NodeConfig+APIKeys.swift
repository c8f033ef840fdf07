import Foundation
import Logging
import PaymentsWire
import ReplicaCore
import Yams

/// One API key as the config file defines it (`api.keys`), or one hash of the older
/// `api.key_sha256` list (a key with every scope, its id made from its hash). The
/// PaymentsServer module turns it into the API's `APIKey`; the API checks the scopes and
/// bounds, the node only reads and validates them.
public struct NodeAPIKey: Sendable, Hashable {
    /// The scopes a key may hold, as the file writes them. PaymentsAPI's `APIScope` is the
    /// vocabulary's home; a test holds the two lists equal.
    public static let scopeNames = [
        "payments:read", "payments:write", "events:read", "conflicts:read", "cluster:read", "metrics:read", "admin",
    ]

    /// 1-64 characters of `A-Za-z0-9_.-`: shown in logs, metrics and spans; never the secret.
    public var id: String
    /// SHA-256 of the secret, 64 lower-case hex digits.
    public var sha256: String
    /// Sorted, each once, each one of `scopeNames`.
    public var scopes: [String]
    /// Sorted, each once; nil: every merchant.
    public var merchants: [String]?
    /// When the key stops working (ms since 1970); nil: never.
    public var expiresAtMillis: UInt64?
    /// Requests per second on average; nil: no limit.
    public var ratePerSecond: Double?
    /// The token bucket's size (nil: one second's worth of `ratePerSecond`).
    public var burst: Int?
    /// Concurrent event streams (nil: the API's default, 64).
    public var streamsMax: Int?
    /// From `api.key_sha256` or `PAYNODE_API_KEY_SHA256`: every scope, no bounds.
    public var legacy: Bool

    public init(
        id: String, sha256: String, scopes: [String], merchants: [String]? = nil, expiresAtMillis: UInt64? = nil,
        ratePerSecond: Double? = nil, burst: Int? = nil, streamsMax: Int? = nil, legacy: Bool = false
    ) {
        self.id = id
        self.sha256 = sha256
        self.scopes = scopes
        self.merchants = merchants
        self.expiresAtMillis = expiresAtMillis
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.streamsMax = streamsMax
        self.legacy = legacy
    }

    /// The key a hash of `api.key_sha256` stands for: every scope, id `key-` and the
    /// hash's first 12 hex digits.
    public static func legacy(sha256: String) -> NodeAPIKey {
        NodeAPIKey(id: "key-" + sha256.prefix(12), sha256: sha256, scopes: ["admin"], legacy: true)
    }

    static func isID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F
                    || $0 == 0x2D
            }
    }

    static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A merchant id as payments carry it: 1-64 of `A-Za-z0-9_-`.
    static func isMerchantID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2D
            }
    }
}

extension NodeConfig {
    /// The ids of the keys that came from `api.key_sha256` (or its environment variable).
    public var legacyAPIKeyIDs: [String] { apiKeys.filter(\.legacy).map(\.id) }

    /// Whether the development key `paynode-dev-key` is among the keys.
    public var acceptsDevelopmentKey: Bool { apiKeys.contains { $0.sha256 == Self.developmentKeyHash } }

    /// Logs what an operator should change about the keys, at start and at each reload:
    /// keys from the older `api.key_sha256` (every scope, no name of their own), keys
    /// already expired, and (with `developmentKey`) the development key accepted.
    public func warnAboutAPIKeys(_ logger: Logger, nowMillis: UInt64, developmentKey: Bool = true) {
        let legacy = legacyAPIKeyIDs
        if !legacy.isEmpty {
            logger.warning(
                "api.key_sha256 is deprecated: each of its keys has every scope; move them to api.keys with an id and the scopes they need",
                metadata: ["api.key_ids": "\(legacy.joined(separator: ","))"])
        }
        let expired = apiKeys.filter { ($0.expiresAtMillis ?? .max) <= nowMillis }.map(\.id)
        if !expired.isEmpty {
            logger.warning(
                "API keys past their expires time are refused (401 key_expired)",
                metadata: ["api.key_ids": "\(expired.joined(separator: ","))"])
        }
        if developmentKey && acceptsDevelopmentKey {
            logger.warning("the development API key paynode-dev-key is accepted: replace it before real use")
        }
    }

    /// `api.keys` and `api.key_sha256` (replaced by `PAYNODE_API_KEY_SHA256` when set),
    /// checked: at least one key in all, ids and hashes each used once.
    static func parseAPIKeys(_ api: YAMLSection, environment: [String: String]) throws(NodeConfigError)
        -> [NodeAPIKey]
    {
        var hashes = try api.strings("key_sha256")
        var hashKey = "key_sha256"
        if let fromEnv = environment[Environment.apiKeyHashes] {
            hashes = fromEnv.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            hashKey = "key_sha256 (from \(Environment.apiKeyHashes))"
        }
        for h in hashes ?? [] where !NodeAPIKey.isHash(h) {
            throw api.error(hashKey, "\"\(h)\" is not a SHA-256 hash (64 lower-case hex digits)")
        }
        var keys: [(key: NodeAPIKey, setting: String)] = []
        let listed = api.node("keys")
        if let listed {
            guard let items = listed.sequence else {
                throw api.error("keys", "expected a list of keys, each with id, sha256 and scopes")
            }
            for (i, item) in items.enumerated() {
                let section = try YAMLSection(file: api.file, path: api.qualified("keys[\(i)]"), node: item)
                keys.append((try parseAPIKey(section), section.path))
            }
        }
        keys += (hashes ?? []).map { (NodeAPIKey.legacy(sha256: $0), api.qualified(hashKey)) }
        guard !keys.isEmpty else {
            throw api.error(
                listed != nil || hashes == nil ? "keys" : hashKey,
                "at least one API key is required (api.keys, or the older api.key_sha256)")
        }
        var ids: [String: String] = [:]
        var seenHashes: [String: String] = [:]
        for (key, setting) in keys {
            let (idSetting, hashSetting) =
                key.legacy ? (setting, setting) : ("\(setting).id", "\(setting).sha256")
            if let first = ids[key.id] {
                throw NodeConfigError(
                    file: api.file, key: idSetting, problem: "the id \"\(key.id)\" is already used by \(first)")
            }
            if let first = seenHashes[key.sha256] {
                throw NodeConfigError(
                    file: api.file, key: hashSetting,
                    problem: "the hash \(key.sha256.prefix(12))... is already \(first)'s (one key, one id)")
            }
            ids[key.id] = setting
            seenHashes[key.sha256] = setting
        }
        return keys.map(\.key)
    }

    /// One entry of `api.keys`: every error names `api.keys[i].<setting>`.
    private static func parseAPIKey(_ section: YAMLSection) throws(NodeConfigError) -> NodeAPIKey {
        let id = try section.requiredString("id")
        guard NodeAPIKey.isID(id) else {
            throw section.error("id", "\"\(id)\" is not a key id (1-64 characters of A-Za-z0-9_.-)")
        }
        let hash = try section.requiredString("sha256")
        guard NodeAPIKey.isHash(hash) else {
            throw section.error("sha256", "is not a SHA-256 hash (64 lower-case hex digits)")
        }
        guard let scopes = try section.strings("scopes"), !scopes.isEmpty else {
            throw section.error(
                "scopes", "at least one scope is required: \(NodeAPIKey.scopeNames.joined(separator: ", "))")
        }
        for scope in scopes where !NodeAPIKey.scopeNames.contains(scope) {
            throw section.error(
                "scopes", "unknown scope \"\(scope)\" (one of \(NodeAPIKey.scopeNames.joined(separator: ", ")))")
        }
        let merchants = try section.strings("merchants")
        if let merchants {
            guard !merchants.isEmpty else {
                throw section.error("merchants", "may not be empty (leave it out for every merchant)")
            }
            for m in merchants where !NodeAPIKey.isMerchantID(m) {
                throw section.error("merchants", "\"\(m)\" is not a merchant id (1-64 characters of A-Za-z0-9_-)")
            }
        }
        var expires: UInt64?
        if let text = try section.string("expires") {
            guard let millis = RFC3339.parse(text) else {
                throw section.error("expires", "\"\(text)\" is not an RFC 3339 time, e.g. 2027-06-30T00:00:00Z")
            }
            expires = millis
        }
        var rate: Double?
        if let text = try section.string("rate_per_s") {
            guard let value = Double(text), value.isFinite, value > 0, value <= 1_000_000 else {
                throw section.error("rate_per_s", "\"\(text)\" is not a rate (a number above 0, at most 1000000)")
            }
            rate = value
        }
        let burst = try section.integer("burst", in: 1...10_000_000).map { Int($0) }
        if burst != nil && rate == nil {
            throw section.error("burst", "needs rate_per_s (a key without a rate has no limit)")
        }
        let streams = try section.integer("streams_max", in: 0...100_000).map { Int($0) }
        try section.finish()
        return NodeAPIKey(
            id: id, sha256: hash, scopes: Array(Set(scopes)).sorted(),
            merchants: merchants.map { Array(Set($0)).sorted() },
            expiresAtMillis: expires, ratePerSecond: rate, burst: burst, streamsMax: streams)
    }
}
