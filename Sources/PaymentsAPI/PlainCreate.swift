import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PaymentsWire
import ReplicaCore

/// `POST /v1/payments` as the fast path (`PaymentFastPath`) takes it: the route's own
/// checks (`PaymentCreation`), the write handed to the service without a task
/// (`PaymentService.submit(_:actor:durability:reply:)`), and the route's answer once it
/// is acknowledged, counted in the router's metrics and written to its access log line.
///
/// It takes only what it can answer whole: a valid, unexpired key with `payments:write`
/// and a token from its rate limit, a body within the size limit that `PaymentCreation`
/// accepts, no query, no `Expect`. Everything else, every refusal made before the write
/// included, is the router's. The write's own answer, success or refusal (a 409 for a
/// reused `Idempotency-Key`, a 503 while the region is unavailable, ...), is written
/// here, as the router would write it.
struct PlainCreate: Sendable {
    let parity: RouterParity
    var service: any PaymentService { parity.service }

    static let path = "/v1/payments"

    /// A create this path has checked and handed on, until its answer.
    struct Taken: Sendable {
        let creation: PaymentCreation
        let key: APIKey
        let requestID: String
        let start: UInt64
    }

    /// A POST of `/v1/payments` with no query and no `Expect`, whose declared length (if
    /// any) is within the limit.
    func mayTake(_ request: HTTPRequest) -> Bool {
        guard request.method == .post, request.path == Self.path, request.headerFields[.expect] == nil else {
            return false
        }
        // The router closes the connection after `Connection: close`; this path does not.
        if request.headerFields[.connection]?.lowercased().contains("close") ?? false { return false }
        if let length = request.headerFields[.contentLength] {
            guard let n = Int(length), n <= service.apiSettings.bodyBytesMax else { return false }
        }
        return true
    }

    /// The body is too large for this path (the router answers 413).
    func isTooLarge(_ bytes: Int) -> Bool { bytes > service.apiSettings.bodyBytesMax }

    /// Checks `request` with `body` as the router would and, when nothing refuses it,
    /// takes a token from the key's limit and hands the write to the service: `reply`
    /// gets its outcome. Nil, with nothing taken or written, for the router to answer.
    func take(
        _ request: HTTPRequest, body: ByteBuffer, since start: UInt64,
        reply: @escaping @Sendable (Result<WriteAck, NodeError>) -> Void
    ) -> Taken? {
        let now = service.nowMillis()
        guard let key = parity.key(request, scope: .paymentsWrite, now: now) else { return nil }
        let creation: PaymentCreation
        do throws(APIError) {
            creation = try PaymentCreation.prepare(
                body: Array(buffer: body), headers: request.headerFields, key: key, settings: service.apiSettings,
                newID: { service.newPaymentID() })
        } catch {
            return nil
        }
        guard parity.limits.take(key, nowMillis: now) == nil else { return nil }
        parity.metrics.inFlight.increment()
        service.submit(creation.command, actor: key.id, durability: creation.durability, reply: reply)
        return Taken(
            creation: creation, key: key,
            requestID: AccessLog<APIRequestContext>.requestID(request.headerFields[.xRequestID]), start: start)
    }

    /// The answer to `taken` once its write has `result`, counted and logged as the
    /// router counts and logs it.
    func answer(_ taken: Taken, _ result: Result<WriteAck, NodeError>, date: inout HTTPDate) -> (
        HTTPResponse, ByteBuffer
    ) {
        let status: HTTPResponse.Status
        var fields: HTTPFields
        let body: ByteBuffer
        switch result {
        case .success(let ack):
            let answer = taken.creation.answer(ack)
            (status, fields, body) = (answer.status, answer.headers, ByteBuffer(bytes: answer.body))
            fields[.contentType] = "application/json"
        case .failure(let refusal):
            let error = APIError(refusal)
            (status, fields) = (error.status, ErrorBodyMiddleware<APIRequestContext>.headers(error))
            body = ByteBuffer(string: error.json)
        }
        parity.metrics.inFlight.decrement()
        return parity.answer(
            status, fields, body, method: "POST", route: Self.path, path: Self.path, keyID: taken.key.id,
            requestID: taken.requestID, since: taken.start, date: &date)
    }
}
