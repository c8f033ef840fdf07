import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import PaymentsWire
import ReplicaCore

/// `GET /v1/payments/{id}` without a session token, answered in the connection's channel
/// pipeline (on its event loop), ahead of the router: the one route whose own work is a
/// few microseconds, for which the router's per-request machinery (a task, async streams
/// between the channel and the handler, six middleware frames) is most of the cost.
///
/// It answers only the plain success: a valid, unexpired key with `payments:read` that
/// covers the payment's merchant, a token from the key's rate limit, and a payment the
/// service reads at once as its JSON (`PaymentService.readPaymentBodyAtOnce`). Anything else (no key, a
/// bad one, a session token, `Connection: close`, a payment not held, no connection
/// free, a limit reached, any query or body) goes to the router unchanged, which answers
/// it as it always did: every refusal has one home. What it answers is what the router
/// would: the same body, headers and status, counted in the same request metrics, and
/// written to the same access log line.
///
/// Answers leave in the order their requests came: while a request it passed to the
/// router is unanswered (the router's `.end` has not come back through here), the next
/// ones go to the router too, which answers them in order. A client that does not read
/// its answers gets no more from here once the connection stops being writable: its
/// requests then go to the router, whose writer waits.
///
/// Hummingbird's connection-state handler, after this one, never sees the requests this
/// one answers: the server must keep its idle timeout off (`NodeServer`), and a request
/// held here when the server begins to shut down is passed on first.
final class PaymentReadFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let reads: PlainReadByID
    /// A request head kept until its end shows there is no body.
    private var held: HTTPRequest?
    /// Requests passed to the router and not yet answered.
    private var routed = 0
    private var date = HTTPDate()

    init(reads: PlainReadByID) { self.reads = reads }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            if routed == 0 && context.channel.isWritable && reads.mayAnswer(request) {
                held = request
                return
            }
            routed += 1
        case .body:
            passHeld(context)
        case .end:
            if let head = held {
                held = nil
                if let (response, body) = reads.answer(head, date: &date) {
                    context.write(wrapOutboundOut(.head(response)), promise: nil)
                    context.write(wrapOutboundOut(.body(body)), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                    return
                }
                routed += 1
                context.fireChannelRead(wrapInboundOut(.head(head)))
            }
        }
        context.fireChannelRead(data)
    }

    /// The router's answers pass here on their way out: an `.end` closes one.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routed = max(0, routed - 1) }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server is shutting down: a held request goes to the router, which the
        // connection-state handler then counts as in progress.
        if event is ChannelShouldQuiesceEvent { passHeld(context) }
        context.fireUserInboundEventTriggered(event)
    }

    private func passHeld(_ context: ChannelHandlerContext) {
        guard let head = held else { return }
        held = nil
        routed += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

/// What the fast path answers, and the answer: the route's own checks and body, the
/// router's metrics and access log, shared with it.
struct PlainReadByID: Sendable {
    let service: any PaymentService
    let limits: APIKeyLimits
    let metrics: HTTPRequestMetrics
    let accessLog: Bool
    let logger: Logger
    let serverName: String
    let region: String

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
        let authentication = APIKeyIdentification.identify(
            request.headerFields[.authorization], among: service.apiKeys(), nowMillis: { now })
        guard case .valid(let key) = authentication, key.allows(.paymentsRead) else { return nil }
        // As the router does, a key past its limit reads nothing: it is refused first.
        guard limits.hasToken(key, nowMillis: now) else { return nil }
        guard let payment = service.readPaymentBodyAtOnce(id), key.covers(merchantID: payment.merchantID) else {
            return nil
        }
        guard limits.take(key, nowMillis: now) == nil else { return nil }

        let requestID = AccessLog<APIRequestContext>.requestID(request.headerFields[.xRequestID])
        let body = ByteBuffer(bytes: payment.json)
        var fields = HTTPFields()
        fields.reserveCapacity(7)
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        fields[.xRegion] = region
        fields[.xRequestID] = requestID
        fields[.date] = date.text(atMillis: now)
        fields[.server] = serverName
        metrics.record(route: Self.route, "GET", 200, keyID: key.id, since: start)
        if accessLog {
            var logger = logger
            logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
            logger[metadataKey: "key_id"] = .string(key.id)
            logger[metadataKey: "request_id"] = .string(requestID)
            AccessLog<APIRequestContext>.write(
                logger, method: "GET", route: Self.route, path: path, status: 200, since: start)
        }
        return (HTTPResponse(status: .ok, headerFields: fields), body)
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
