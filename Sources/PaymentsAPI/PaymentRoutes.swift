import HTTPTypes
import Hummingbird
import PaymentsWire
import ReplicaCore

/// The `/v1/payments` and `/v1/conflicts` routes.
struct PaymentRoutes<Service: PaymentService>: Sendable {
    let service: Service
    var settings: APISettings { service.apiSettings }

    func register(on router: RouteRegistrar) {
        router.on(.post, "/v1/payments", scope: .paymentsWrite) { request, _, key in
            try await create(request, key: key)
        }
        router.get("/v1/payments", scope: .paymentsRead) { request, _, key in try await list(request, key: key) }
        router.get("/v1/payments/{id}", scope: .paymentsRead) { request, context, key in
            try await get(request, id: context.parameters.get("id") ?? "", key: key)
        }
        router.get("/v1/payments/{id}/history", scope: .paymentsRead) { request, context, key in
            try await history(request, id: context.parameters.get("id") ?? "", key: key)
        }
        router.on(.patch, "/v1/payments/{id}", scope: .paymentsWrite) { request, context, key in
            try await patch(request, id: context.parameters.get("id") ?? "", key: key)
        }
        router.get("/v1/conflicts", scope: .conflictsRead) { request, _, key in try await conflicts(request, key: key) }
    }

    // MARK: Writes

    func create(_ request: Request, key: APIKey) async throws -> Response {
        let body = try await APIResponses.body(request, max: settings.bodyBytesMax)
        let creation = try PaymentCreation.prepare(
            body: body, headers: request.headers, key: key, settings: settings, newID: { service.newPaymentID() })
        let ack = try await submit(creation.command, by: key, durability: creation.durability)
        let answer = creation.answer(ack)
        var headers = answer.headers
        headers[.contentType] = "application/json"
        return Response(
            status: answer.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    func patch(_ request: Request, id text: String, key: APIKey) async throws -> Response {
        let id = try paymentID(text)
        let body = try await APIResponses.body(request, max: settings.bodyBytesMax)
        let patch = try PaymentRequests.patch(try PaymentRequests.parseBody(body))
        let durability = try durability(request)
        // Bad input is refused before any wait (the engine checks again when it applies it).
        do { try PaymentValidation.validate(patch) } catch { throw APIError(error) }
        // A patch with a session token applies to a state that includes the session's writes.
        try await waitForSession(request)
        if key.merchants != nil {
            // A merchant-bound key patching another merchant's payment gets the 404 of a
            // payment this region does not hold, word for word, not 403: ids made from an
            // Idempotency-Key can be computed by anyone who knows the merchant and the key,
            // and a 403 would confirm that such a payment exists. Merchants never change,
            // so the payment read here is the one the patch applies to.
            let found: Payment?
            do { found = try await service.readPayment(id, sessionToken: nil) } catch { throw APIError(error) }
            guard let payment = found, key.covers(merchantID: payment.merchantID) else { throw notHeld(id) }
        }
        let ack = try await submit(.update(id, patch), by: key, durability: durability)
        let status: HTTPResponse.Status = durability == .remote && ack.achieved == .local ? .accepted : .ok
        return APIResponses.json(status, PaymentJSON.payment(ack.payment), headers: PaymentCreation.writeHeaders(ack))
    }

    /// The write, recorded with the key's id as its actor (who made the change).
    private func submit(_ command: PaymentCommand, by key: APIKey, durability: Durability) async throws(APIError)
        -> WriteAck
    {
        do { return try await service.submit(command, actor: key.id, durability: durability) } catch {
            throw APIError(error)
        }
    }

    private func durability(_ request: Request) throws(APIError) -> Durability {
        try PaymentCreation.durability(request.headers, default: settings.defaultDurability)
    }

    // MARK: Reads

    func get(_ request: Request, id text: String, key: APIKey) async throws -> Response {
        let id = try paymentID(text)
        let token = try request.headers[.xSessionToken].map(SessionToken.header)
        let found: Payment?
        do { found = try await service.readPayment(id, sessionToken: token) } catch { throw APIError(error) }
        // Another merchant's payment is, to a merchant-bound key, one this region does not hold.
        guard let payment = found, key.covers(merchantID: payment.merchantID) else { throw notHeld(id) }
        return APIResponses.json(.ok, PaymentJSON.payment(payment))
    }

    /// The 404 of a payment this region does not hold (the engine's own words for a patch).
    func notHeld(_ id: PaymentID) -> APIError {
        APIError(.notFound, "not_found", "no payment \(id) in region \(settings.region)", field: "id")
    }

    /// A merchant-bound key lists only its merchants' payments: a `merchant_id` outside
    /// them finds nothing (an empty page, as for a merchant with no payments), never a
    /// refusal, so the answer is the same whether that merchant exists or not.
    func list(_ request: Request, key: APIKey) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = PaymentFilter()
        filter.merchantIDs = key.merchants
        filter.merchantID = query["merchant_id"].map(String.init)
        filter.orderID = query["order_id"].map(String.init)
        filter.status = try QueryParameters.status(query["status"])
        filter.createdFromMillis = try time(query["created_from"].map(String.init), "created_from")
        filter.createdToMillis = try time(query["created_to"].map(String.init), "created_to")
        let limit = try limit(query["limit"].map(String.init), default: 50)
        var cursor: ListCursor?
        if let text = query["cursor"] {
            guard let parsed = ListCursor(text: String(text)) else {
                throw APIError.invalid("cursor", "cursor is not one this server issued")
            }
            cursor = parsed
        }
        try await waitForSession(request)
        let page = try await service.listPayments(filter, limit: limit, after: cursor)
        return APIResponses.json(.ok, PaymentJSON.page(page))
    }

    /// A merchant-bound key sees only conflicts on its merchants' payments.
    func conflicts(_ request: Request, key: APIKey) async throws -> Response {
        let query = request.uri.queryParameters
        let limit = try limit(query["limit"].map(String.init), default: 50)
        var before: Int64?
        if let c = query["cursor"] {
            guard let n = Int64(String(c)), n > 0 else {
                throw APIError.invalid("cursor", "cursor is not one this server issued")
            }
            before = n
        }
        let page = try await service.conflicts(limit: limit, before: before, merchantIDs: key.merchants)
        return APIResponses.json(.ok, PaymentJSON.conflicts(page))
    }

    private func waitForSession(_ request: Request) async throws {
        guard let text = request.headers[.xSessionToken] else { return }
        let token = try SessionToken.header(text)
        do { try await service.waitForSession(token) } catch { throw APIError(error) }
    }

    func paymentID(_ text: String) throws(APIError) -> PaymentID {
        guard let id = PaymentID(text) else {
            throw APIError(
                .notFound, "not_found", "no payment \(text): ids look like pay_ and 26 characters", field: "id")
        }
        return id
    }

    func limit(_ text: String?, default value: Int) throws(APIError) -> Int {
        guard let text else { return value }
        guard let n = Int(text), (1...PaymentPage.limitMax).contains(n) else {
            throw APIError.invalid("limit", "limit must be an integer from 1 to \(PaymentPage.limitMax)")
        }
        return n
    }

    private func time(_ text: String?, _ name: String) throws(APIError) -> UInt64? {
        guard let text else { return nil }
        guard let millis = RFC3339.parse(text) else {
            throw APIError.invalid(name, "\(name) must be an RFC 3339 time, e.g. 2026-11-22T10:00:00Z")
        }
        return millis
    }
}

/// Small response helpers shared by the routes.
enum APIResponses {
    static func json(_ status: HTTPResponse.Status, _ body: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The request body, at most `max` bytes (else 413).
    static func body(_ request: Request, max: Int) async throws -> [UInt8] {
        var buffer = try await request.body.collect(upTo: max)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
