import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

extension PaymentsClient {
    /// One page of the change feed after `cursor` (nil: from the oldest change the region
    /// keeps), from the nearest region that can serve it. A region that no longer keeps
    /// the changes after the cursor answers 410 and the next one is asked.
    public func events(after cursor: String? = nil, filter: EventFilter = EventFilter(), limit: Int? = nil)
        async throws -> ReadResult<ChangePage>
    {
        let reply = try await send(
            "GET", "/v1/events" + filter.queryString(cursor: cursor, limit: limit), retry: .anyFailure,
            elsewhere: [410, 412])
        return ReadResult(value: try decode(ChangePage.self, reply), region: reply.region)
    }

    /// Who changed a payment: its changes, oldest first, from the nearest region that holds
    /// its whole history (one that no longer does answers 410 and the next one is asked).
    public func history(_ id: String, limit: Int? = nil) async throws -> ReadResult<PaymentHistoryPage> {
        let query = limit.map { "?limit=\($0)" } ?? ""
        let reply = try await send(
            "GET", "/v1/payments/\(escape(id))/history" + query, retry: .anyFailure, session: true,
            elsewhere: [410, 412])
        return ReadResult(value: try decode(PaymentHistoryPage.self, reply), region: reply.region)
    }

    /// Follows the change feed as Server-Sent Events from the nearest region. When that
    /// region goes away (the connection breaks, or nothing, not even a heartbeat, comes
    /// for `idleTimeout`), it goes on at the next region from the cursor of the last
    /// change it yielded, so every change is yielded once. It ends with an error only
    /// when every region answers that it no longer keeps the changes after the cursor;
    /// while regions are unreachable it keeps trying. Cancel the consuming task to stop.
    public func followEvents(
        after cursor: String? = nil, filter: EventFilter = EventFilter(),
        idleTimeout: Duration = .seconds(45)
    ) -> AsyncThrowingStream<ChangeEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await follow(from: cursor, filter: filter, idleTimeout: idleTimeout) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func follow(
        from start: String?, filter: EventFilter, idleTimeout: Duration,
        yield: @escaping @Sendable (ChangeEvent) -> Void
    ) async throws {
        let cursor = Shared<String?>(start)
        var backoffMillis: UInt64 = 100
        while !Task.isCancelled {
            let order: [(index: Int, url: String)] = state.withLock { s in
                s.router.ranked(nowMillis: Self.nowMillis()).map { (Self.index($0), s.urls[Self.index($0)]) }
            }
            var expired: PaymentsClientError?
            var refusedEverywhere = true
            for (i, url) in order where !Task.isCancelled {
                switch await stream(
                    region: i, url: url, cursor: cursor, filter: filter, idleTimeout: idleTimeout, yield: yield)
                {
                case .expired(let error): expired = error
                case .ended:
                    refusedEverywhere = false
                    backoffMillis = 100
                case .failed: refusedEverywhere = false
                }
            }
            if refusedEverywhere, let expired { throw expired }
            try await Task.sleep(for: .milliseconds(backoffMillis))
            backoffMillis = min(backoffMillis * 2, 2_000)
        }
    }

    private enum StreamEnd {
        /// The stream ran and ended (the region went away or stopped).
        case ended
        /// The region could not be reached or failed before streaming.
        case failed
        /// The region no longer keeps the changes after the cursor.
        case expired(PaymentsClientError)
    }

    private func stream(
        region i: Int, url: String, cursor: Shared<String?>, filter: EventFilter, idleTimeout: Duration,
        yield: @escaping @Sendable (ChangeEvent) -> Void
    ) async -> StreamEnd {
        var request = HTTPClientRequest(
            url: url + "/v1/events" + filter.queryString(cursor: cursor.withLock { $0 }, limit: nil))
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .now() + options.requestTimeout)
        } catch {
            state.withLock { $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis()) }
            return .failed
        }
        let region = response.headers.first(name: "X-Region") ?? url
        guard response.status.code == 200 else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
            if response.status.code == 410 { return .expired(Self.apiError(410, body, region)) }
            state.withLock { $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis()) }
            return .failed
        }
        let lastByte = Shared(ContinuousClock.now)
        let outcome: StreamEnd = await withTaskGroup(of: StreamEnd?.self) { group in
            group.addTask {
                var parser = SSEParser()
                do {
                    for try await chunk in response.body {
                        lastByte.withLock { $0 = .now }
                        for item in parser.feed(chunk.readableBytesView) {
                            switch item {
                            case .event("change", let data, _):
                                guard let event = try? JSONDecoder().decode(ChangeEvent.self, from: Data(data.utf8))
                                else { return .ended }
                                cursor.withLock { $0 = event.cursor }
                                yield(event)
                            case .moved(let id):
                                cursor.withLock { $0 = id }
                            case .event("error", let data, _):
                                let error = Self.apiError(410, Data(data.utf8), region)
                                if case .api(_, "cursor_expired", _, _, _) = error { return .expired(error) }
                                return .ended
                            case .event, .heartbeat:
                                break
                            }
                        }
                    }
                } catch {}
                return .ended
            }
            group.addTask {
                // The watchdog: a region that went silent (not even a heartbeat) is left.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    if ContinuousClock.now - lastByte.withLock({ $0 }) > idleTimeout { return .ended }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .ended
        }
        if case .ended = outcome {
            state.withLock { $0.router.recordFailure(Self.key(i), nowMillis: Self.nowMillis()) }
        }
        return outcome
    }
}

/// A value shared between tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
