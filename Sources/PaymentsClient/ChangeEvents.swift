import Foundation

/// One change from a region's change feed (`GET /v1/events`).
public struct ChangeEvent: Codable, Hashable, Sendable {
    /// Resume after this change, at any region.
    public let cursor: String
    public let paymentID: String
    /// The region that made the change, and its sequence number there: together they
    /// name the change at every region.
    public let origin: String
    public let seq: UInt64
    public let stamp: String
    /// Who made it: the id of the API key it came with (nil for changes made before
    /// changes recorded one).
    public let actor: String?
    /// Where the serving region committed it, in its own order (differs per region).
    public let position: UInt64
    /// The fields the change wrote, with their values (text, integer, metadata or null).
    public let changes: [String: ChangeValue]
    /// The payment as the serving region held it after the change; nil while that region
    /// holds only part of it.
    public let payment: RemotePayment?

    enum CodingKeys: String, CodingKey {
        case cursor, origin, seq, stamp, actor, position, changes, payment
        case paymentID = "payment_id"
    }
}

/// One payment's changes, oldest first (`GET /v1/payments/{id}/history`).
public struct PaymentHistoryPage: Codable, Hashable, Sendable {
    public let paymentID: String
    public let data: [PaymentHistoryChange]
    /// More changes follow the last one listed.
    public let hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case data
        case paymentID = "payment_id"
        case hasMore = "has_more"
    }
}

/// One change in a payment's history: who made it (`actor`, a key id), where (`origin`,
/// `seq`), when (`stamp`, `at`) and the fields it wrote.
public struct PaymentHistoryChange: Codable, Hashable, Sendable {
    /// `create` or `patch`.
    public let kind: String
    public let actor: String?
    public let origin: String
    public let seq: UInt64
    public let stamp: String
    /// The stamp's wall time, RFC 3339.
    public let at: String
    public let changes: [String: ChangeValue]
}

/// A field's value in a change.
public enum ChangeValue: Codable, Hashable, Sendable, CustomStringConvertible {
    case null
    case text(String)
    case integer(Int64)
    case metadata([String: String])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let n = try? c.decode(Int64.self) {
            self = .integer(n)
        } else if let s = try? c.decode(String.self) {
            self = .text(s)
        } else {
            self = .metadata(try c.decode([String: String].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .text(let s): try c.encode(s)
        case .integer(let n): try c.encode(n)
        case .metadata(let m): try c.encode(m)
        }
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .text(let s): s
        case .integer(let n): "\(n)"
        case .metadata(let m): "{" + m.keys.sorted().map { "\($0)=\(m[$0]!)" }.joined(separator: ",") + "}"
        }
    }
}

/// A page of the change feed and the cursor to continue from.
public struct ChangePage: Decodable, Sendable {
    public let data: [ChangeEvent]
    public let cursor: String
}

/// Which changes to ask for.
public struct EventFilter: Sendable, Hashable {
    public var merchantID: String?
    public var status: String?
    public init(merchantID: String? = nil, status: String? = nil) {
        self.merchantID = merchantID
        self.status = status
    }

    func queryString(cursor: String?, limit: Int?) -> String {
        var items: [URLQueryItem] = []
        if let cursor { items.append(URLQueryItem(name: "cursor", value: cursor)) }
        if let merchantID { items.append(URLQueryItem(name: "merchant_id", value: merchantID)) }
        if let status { items.append(URLQueryItem(name: "status", value: status)) }
        if let limit { items.append(URLQueryItem(name: "limit", value: String(limit))) }
        var c = URLComponents()
        c.queryItems = items
        // A cursor holds ":" and ","; keep them readable but escape what a query needs.
        return items.isEmpty ? "" : "?" + (c.percentEncodedQuery ?? "")
    }
}

/// Reads a Server-Sent Events stream line by line: what `data:` lines carry, with the
/// last `id:` seen (a cursor), and heartbeats (comment lines).
struct SSEParser {
    enum Item: Equatable {
        case event(name: String, data: String, id: String?)
        /// An `id:` with no data: the consumer's place moved past changes a filter dropped.
        case moved(id: String)
        case heartbeat
    }

    private var pending: [UInt8] = []
    private var name = ""
    private var data: [String] = []
    private var id: String?

    /// Feeds bytes; returns the items they complete.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Item] {
        var items: [Item] = []
        for b in bytes {
            guard b == 0x0A else {
                pending.append(b)
                continue
            }
            var line = String(decoding: pending, as: UTF8.self)
            pending.removeAll(keepingCapacity: true)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty {
                if !data.isEmpty {
                    items.append(
                        .event(name: name.isEmpty ? "message" : name, data: data.joined(separator: "\n"), id: id))
                } else if let id {
                    items.append(.moved(id: id))
                }
                name = ""
                data = []
                id = nil
            } else if line.hasPrefix(":") {
                items.append(.heartbeat)
            } else {
                let (field, value) = Self.split(line)
                switch field {
                case "event": name = value
                case "data": data.append(value)
                case "id": id = value
                default: break
                }
            }
        }
        return items
    }

    static func split(_ line: String) -> (String, String) {
        guard let colon = line.firstIndex(of: ":") else { return (line, "") }
        var value = line[line.index(after: colon)...]
        if value.hasPrefix(" ") { value = value.dropFirst() }
        return (String(line[..<colon]), String(value))
    }
}
