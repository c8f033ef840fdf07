import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PaymentsWire
import ReplicaCore

/// What the read fast path answers, and the answer: the route's own checks and body, with
/// what the router's answers share (`RouterParity`).
struct PlainReadByID: Sendable {
    let parity: RouterParity
    var service: any PaymentService { parity.service }

    static let prefix = "/v1/payments/"
    /// The route as the router names it in metrics and the access log.
    static let route = "/v1/payments/{id}"

    /// A GET of `/v1/payments/<one segment>` with no query and no session token.
    func mayAnswer(_ request: HTTPRequest) -> Bool {
        guard request.method == .get, let path = request.path, path.hasPrefix(Self.prefix) else { return false }
        let rest = path.utf8.dropFirst(Self.prefix.utf8.count)
        return !rest.isEmpty && !rest.contains(UInt8(ascii: "/")) && !rest.contains(UInt8(ascii: "?"))
            && request.headerFields[.xSessionToken] == nil
            // The router closes the connection after `Connection: close`; this path does not.
            && !(request.headerFields[.connection]?.lowercased().contains("close") ?? false)
    }

    /// The answer, or nil for the router to give it.
    func answer(_ request: HTTPRequest, date: inout HTTPDate) -> (HTTPResponse, ByteBuffer)? {
        let start = DispatchTime.now().uptimeNanoseconds
        // The prefix is ASCII: its characters are its bytes.
        guard let path = request.path, let id = PaymentID(String(path.dropFirst(Self.prefix.count))) else { return nil }
        let now = service.nowMillis()
        guard let key = parity.key(request, scope: .paymentsRead, now: now),
            let payment = service.readPaymentBodyAtOnce(id), key.covers(merchantID: payment.merchantID),
            parity.limits.take(key, nowMillis: now) == nil
        else { return nil }
        return parity.answer(
            .ok, [.contentType: "application/json"], ByteBuffer(bytes: payment.json), method: "GET", route: Self.route,
            path: path, keyID: key.id,
            requestID: AccessLog<APIRequestContext>.requestID(request.headerFields[.xRequestID]), since: start,
            date: &date)
    }
}

/// The `Date` header's text (IMF-fixdate, `Sat, 05 Dec 2026 16:56:51 GMT`), made once a
/// second.
struct HTTPDate {
    private var second: UInt64 = .max
    private var cached = ""

    mutating func text(atMillis millis: UInt64) -> String {
        let s = millis / 1_000
        if s != second {
            second = s
            cached = Self.format(millis: millis)
        }
        return cached
    }

    static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `millis` since 1970 as an IMF-fixdate (RFC 9110), from the RFC 3339 text's fields.
    static func format(millis: UInt64) -> String {
        // YYYY-MM-DDThh:mm:ss.mmmZ (a year past 9999 takes more digits at the front).
        let text = Array(RFC3339.format(millis: millis).utf8)
        let y = text.count - 20
        func digits(_ from: Int, _ count: Int) -> String { String(decoding: text[from..<from + count], as: UTF8.self) }
        let month = Int(digits(y + 1, 2))!
        let weekday = weekdays[Int(millis / 86_400_000 % 7)]
        return "\(weekday), \(digits(y + 4, 2)) \(months[month - 1]) \(digits(0, y)) \(digits(y + 7, 8)) GMT"
    }
}

extension PaymentService {
    /// Nothing is read at once unless a service says how.
    public func readPaymentBodyAtOnce(_ id: PaymentID) -> PaymentBody? { nil }
}
