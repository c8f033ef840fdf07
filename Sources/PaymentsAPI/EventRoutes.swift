import HTTPTypes
import Hummingbird
import PaymentsWire
import ReplicaCore

/// `GET /v1/events`: the change feed, as JSON pages or as a Server-Sent Events stream
/// (`Accept: text/event-stream`).
///
/// A stream reads the service's feed at its own pace, a page at a time, and waits for the
/// next commit when it has caught up. Nothing is buffered for a consumer, so a
/// slow one lags without slowing writes; one that falls further behind than the feed
/// keeps gets a `cursor_expired` error event and the stream ends.
///
/// A merchant-bound key sees only its merchants' changes, whatever `merchant_id` says
/// (one outside its bounds finds nothing; the cursor still moves). A stream counts
/// against its key's `streams_max` while it is open (429 `streams_exhausted` beyond), and
/// checks its key again before each page: a key removed by a reload, expired, or no
/// longer holding `events:read` ends the stream with an `error` event (`key_revoked`,
/// `key_expired`, `scope_missing`); new merchant bounds apply from the next page.
struct EventRoutes<Service: PaymentService>: Sendable {
    let service: Service
    let limits: APIKeyLimits
    /// Between two heartbeats of an idle stream.
    var heartbeatMillis: UInt64 = 15_000

    func register(on router: RouteRegistrar) {
        router.get("/v1/events", scope: .eventsRead) { request, _, key in try await events(request, key: key) }
    }

    func events(_ request: Request, key: APIKey) async throws -> Response {
        let params = request.uri.queryParameters
        let given = try cursor(request)
        var query = EventQuery(cursor: given ?? EventCursor())
        query.merchantIDs = key.merchants
        query.merchantID = params["merchant_id"].map(String.init)
        query.status = try QueryParameters.status(params["status"])
        if let text = params["limit"] {
            guard let n = Int(String(text)), (1...EventQuery.limitMax).contains(n) else {
                throw APIError.invalid("limit", "limit must be an integer from 1 to \(EventQuery.limitMax)")
            }
            query.limit = n
        }
        let streaming = request.headers[.accept]?.contains("text/event-stream") ?? false
        // Counted from before the first page: two streams can never both take the last place.
        let lease = streaming ? limits.openStream(key) : nil
        if streaming && lease == nil { throw APIError.streamsExhausted(key) }
        // The first page is read before answering, so a bad cursor is a plain 410.
        let version = try await service.eventsVersion()
        let first: EventPage
        do {
            first = try await service.events(query)
        } catch .eventCursorTooOld(let oldest) where given == nil {
            // No cursor: from the oldest change this region keeps.
            query.cursor = oldest
            do { first = try await service.events(query) } catch { throw APIError(error) }
        } catch {
            throw APIError(error)
        }
        guard streaming else { return APIResponses.json(.ok, EventJSON.page(first)) }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { [service, heartbeatMillis, query, lease] writer in
                defer { lease?.close() }
                try await Self.stream(
                    service: service, key: key, query: query, first: first, version: version,
                    heartbeatMillis: heartbeatMillis, writer: &writer)
                try await writer.finish(nil)
            })
    }

    /// Writes pages as they come until the consumer goes away, the feed fails, or the
    /// key may no longer follow it.
    static func stream(
        service: Service, key: APIKey, query: EventQuery, first: EventPage, version: UInt64, heartbeatMillis: UInt64,
        writer: inout any ResponseBodyWriter
    ) async throws {
        var query = query
        var page = first
        var version = version
        while true {
            var text = JSONBytes(capacity: 600 * page.events.count)
            EventJSON.stream(page.events, into: &text)
            // Changes the filters passed over still move the consumer's place.
            if page.events.isEmpty && page.cursor != query.cursor { text.unquoted("id: \(page.cursor)\n\n") }
            let moved = page.cursor != query.cursor
            query.cursor = page.cursor
            if !moved {
                let next = try await service.waitForEvents(after: version, timeoutMillis: heartbeatMillis)
                if next == version { text.raw(": heartbeat\n\n") }
                version = next
            } else {
                version = try await service.eventsVersion()
            }
            if !text.bytes.isEmpty { try await writer.write(ByteBuffer(bytes: text.bytes)) }
            switch Self.standing(of: key, among: service.apiKeys(), nowMillis: service.nowMillis()) {
            case .success(let current): query.merchantIDs = current.merchants
            case .failure(let refusal):
                try await writer.write(ByteBuffer(string: "event: error\ndata: \(refusal.json)\n\n"))
                return
            }
            do { page = try await service.events(query) } catch {
                try await writer.write(ByteBuffer(string: "event: error\ndata: \(APIError(error).json)\n\n"))
                return
            }
        }
    }

    /// The key a stream was opened with, as the configuration defines it now (same id,
    /// same secret): its current bounds, or why it may no longer follow the feed.
    static func standing(of key: APIKey, among keys: [APIKey], nowMillis: UInt64) -> Result<APIKey, APIError> {
        guard let current = keys.first(where: { $0.id == key.id && $0.sha256 == key.sha256 }) else {
            return .failure(.keyRevoked(key.id))
        }
        if current.isExpired(at: nowMillis) { return .failure(.keyExpired(current)) }
        guard current.allows(.eventsRead) else { return .failure(.scopeMissing(current, .eventsRead)) }
        return .success(current)
    }

    /// `cursor` from the query, else `Last-Event-ID` (an SSE client reconnecting), else
    /// from the oldest change the region keeps.
    private func cursor(_ request: Request) throws(APIError) -> EventCursor? {
        func parse(_ text: String?, _ name: String) throws(APIError) -> EventCursor? {
            guard let text else { return nil }
            guard let cursor = EventCursor(text: text) else {
                throw APIError.invalid(
                    name, "\(name) must be region:seq pairs separated by commas, as a page or event gave it")
            }
            return cursor
        }
        // Both are checked when both come; the query's wins.
        let header = try parse(request.headers[.lastEventID], "Last-Event-ID")
        return try parse(request.uri.queryParameters["cursor"].map(String.init), "cursor") ?? header
    }
}

extension HTTPField.Name {
    static let lastEventID = Self("Last-Event-ID")!
}
