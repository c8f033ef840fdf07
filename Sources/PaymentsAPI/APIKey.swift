import ReplicaCore

/// What an API key may do. A route needs exactly one scope (openapi.yaml names it per
/// operation, and a test holds the two equal); `admin` grants every scope.
public enum APIScope: String, CaseIterable, Sendable, Hashable, Comparable {
    /// `GET /v1/payments`, `GET /v1/payments/{id}`.
    case paymentsRead = "payments:read"
    /// `POST /v1/payments`, `PATCH /v1/payments/{id}`.
    case paymentsWrite = "payments:write"
    /// `GET /v1/events`, pages and streams.
    case eventsRead = "events:read"
    /// `GET /v1/conflicts`.
    case conflictsRead = "conflicts:read"
    /// `GET /v1/cluster`.
    case clusterRead = "cluster:read"
    /// `GET /metrics`.
    case metricsRead = "metrics:read"
    /// Every scope above.
    case admin

    public static func < (a: APIScope, b: APIScope) -> Bool { a.rawValue < b.rawValue }
}

/// One API key as the region's configuration defines it: a name that logs, metrics and
/// spans show (never the secret or its hash), the SHA-256 of the secret, what it may do,
/// which merchants' payments it sees, when it stops working, and its share of the node
/// (request rate, concurrent event streams).
public struct APIKey: Sendable, Hashable {
    /// The default cap on concurrent event streams of one key.
    public static let streamsMaxDefault = 64

    /// 1-64 characters of `A-Za-z0-9_.-`; unique among the region's keys.
    public var id: String
    /// The 32-byte SHA-256 digest of the secret a client sends as `Bearer <secret>`.
    public var sha256: [UInt8]
    public var scopes: Set<APIScope>
    /// Nil: every merchant. Else the only merchants whose payments this key reads, writes,
    /// lists and follows.
    public var merchants: Set<String>?
    /// When the key stops working (ms since 1970); nil: never.
    public var expiresAtMillis: UInt64?
    /// Requests per second this key may make on average; nil: no limit.
    public var ratePerSecond: Double?
    /// Requests it may make at once above that rate (the token bucket's size).
    public var burst: Int
    /// Event streams (`GET /v1/events` as Server-Sent Events) it may hold open at once.
    public var streamsMax: Int

    public init(
        id: String, sha256: [UInt8], scopes: Set<APIScope>, merchants: Set<String>? = nil,
        expiresAtMillis: UInt64? = nil, ratePerSecond: Double? = nil, burst: Int? = nil,
        streamsMax: Int = APIKey.streamsMaxDefault
    ) {
        self.id = id
        self.sha256 = sha256
        self.scopes = scopes
        self.merchants = merchants
        self.expiresAtMillis = expiresAtMillis
        self.ratePerSecond = ratePerSecond
        self.burst = burst ?? ratePerSecond.map { max(1, Int($0.rounded(.up))) } ?? 1
        self.streamsMax = streamsMax
    }

    /// A key for `secret` (hashed here): for tests and development tools.
    public init(id: String, secret: String, scopes: Set<APIScope>, merchants: Set<String>? = nil) {
        self.init(id: id, sha256: SHA256.hash(Array(secret.utf8)), scopes: scopes, merchants: merchants)
    }

    /// The 32 bytes that 64 lower-case hex digits spell; nil for anything else.
    public static func digest(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for i in stride(from: 0, to: 64, by: 2) {
            guard let high = value(digits[i]), let low = value(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// Whether this key holds `scope` (directly or through `admin`).
    public func allows(_ scope: APIScope) -> Bool { scopes.contains(scope) || scopes.contains(.admin) }

    /// Whether this key may see and write payments of `merchantID`.
    public func covers(merchantID: String) -> Bool { merchants?.contains(merchantID) ?? true }

    /// Whether the key no longer works at `nowMillis`.
    public func isExpired(at nowMillis: UInt64) -> Bool { expiresAtMillis.map { nowMillis >= $0 } ?? false }
}
