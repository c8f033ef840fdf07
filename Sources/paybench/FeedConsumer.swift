import NIOCore
import NIOHTTP1
import NIOPosix
import ReplicaCore

/// One SSE consumer of a region's change feed, from the region's current position on.
///
/// It shares this machine's two cores with the node and wrk, and what the change feed
/// part measures is the node's cost of serving a follower, so it reads the stream as
/// cheaply as a follower can: one NIO connection on its own event loop, the body's bytes
/// scanned where they arrive (no async sequence between, no JSON decoding), of each
/// `data:` line only the payment id kept (and only when `recordsTimes`), and the cursor
/// made into text once per chunk, for its last change. A consumer elsewhere would decode
/// the JSON on its own machine.
final class FeedConsumer: Sendable {
    struct State {
        var count = 0
        var cursor = ""
        var seenAt: [String: Double] = [:]
        var failure: String?
    }

    private let state: Locked<State>
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    /// Opens `GET /v1/events` on `region` from its current vector; answers once the node
    /// answered 200. `recordsTimes` keeps, per payment id, when its first change arrived.
    static func start(cluster: BenchCluster, region: RegionID, recordsTimes: Bool) async throws -> FeedConsumer {
        let vector = try await cluster.vector(region)
        let cursor = vector.keys.sorted().map { "\($0):\(vector[$0]!)" }.joined(separator: ",")
        let state = Locked(State(cursor: cursor))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let answered = group.next().makePromise(of: Void.self)
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            Reader(state: state, recordsTimes: recordsTimes, answered: answered))
                    }
                }
                .connect(host: "127.0.0.1", port: cluster.apiPorts[region]!).get()
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/events?cursor=" + cursor)
            head.headers.add(name: "Host", value: "127.0.0.1")
            head.headers.add(name: "Authorization", value: "Bearer \(BenchCluster.apiKey)")
            head.headers.add(name: "Accept", value: "text/event-stream")
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
            let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) {
                answered.fail(BenchError("the feed did not answer within 10 s"))
            }
            defer { deadline.cancel() }
            try await answered.futureResult.get()
            return FeedConsumer(state: state, group: group, channel: channel)
        } catch {
            answered.fail(error)
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Runs `body` with a consumer following `region`'s feed, and stops it whatever
    /// `body` does.
    static func following<T>(
        _ cluster: BenchCluster, _ region: RegionID, recordsTimes: Bool, _ body: (FeedConsumer) async throws -> T
    ) async throws -> T {
        let consumer = try await start(cluster: cluster, region: region, recordsTimes: recordsTimes)
        let result: Result<T, Error>
        do { result = .success(try await body(consumer)) } catch { result = .failure(error) }
        await consumer.stop()
        return try result.get()
    }

    private init(state: Locked<State>, group: MultiThreadedEventLoopGroup, channel: Channel) {
        self.state = state
        self.group = group
        self.channel = channel
    }

    var received: Int { state.with { $0.count } }
    var seenAt: [String: Double] { state.with { $0.seenAt } }

    /// Waits until the consumer's cursor covers `vector`; fails at once if the stream broke.
    func catchUp(to vector: [String: UInt64], timeout: Double) async throws {
        try await poll("the feed consumer catches up to \(vector)", timeout: timeout) {
            let (text, failure) = state.with { ($0.cursor, $0.failure) }
            if let failure { throw BenchError("the feed consumer's stream ended: \(failure)") }
            let cursor = EventCursor(text: text) ?? EventCursor()
            return vector.allSatisfy { cursor.seen[RegionID($0.key)!] >= $0.value }
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Splits the body into lines and takes each change's cursor and payment id.
    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let state: Locked<State>
        private let recordsTimes: Bool
        private let answered: EventLoopPromise<Void>
        private var isAnswered = false
        /// The start of a line that has not ended yet.
        private var partial: [UInt8] = []
        /// The cursor of the last change taken.
        private var lastCursor: [UInt8] = []

        init(state: Locked<State>, recordsTimes: Bool, answered: EventLoopPromise<Void>) {
            self.state = state
            self.recordsTimes = recordsTimes
            self.answered = answered
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                guard head.status == .ok else {
                    ended("the feed answered \(head.status)")
                    context.close(promise: nil)
                    return
                }
                isAnswered = true
                answered.succeed(())
            case .body(let bytes):
                bytes.withUnsafeReadableBytes { take($0.bindMemory(to: UInt8.self)) }
            case .end:
                ended("the node ended the stream")
            }
        }

        /// Takes a chunk's complete lines (with the line left open by the chunk before).
        private func take(_ chunk: UnsafeBufferPointer<UInt8>) {
            let t = recordsTimes ? now() : 0
            var count = 0
            var ids: [String] = []
            var lineStart = 0
            func line(_ bytes: UnsafeBufferPointer<UInt8>) {
                guard let (cursor, id) = Self.change(in: bytes) else { return }
                count += 1
                lastCursor.removeAll(keepingCapacity: true)
                lastCursor.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[cursor]))
                if recordsTimes {
                    ids.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[id]), as: UTF8.self))
                }
            }
            for i in 0..<chunk.count where chunk[i] == 0x0A {
                if partial.isEmpty {
                    line(UnsafeBufferPointer(rebasing: chunk[lineStart..<i]))
                } else {
                    partial.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[lineStart..<i]))
                    partial.withUnsafeBufferPointer { line($0) }
                    partial.removeAll(keepingCapacity: true)
                }
                lineStart = i + 1
            }
            partial.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[lineStart...]))
            guard count > 0 else { return }
            let cursor = String(decoding: lastCursor, as: UTF8.self)
            state.with { s in
                s.count += count
                s.cursor = cursor
                for id in ids where s.seenAt[id] == nil { s.seenAt[id] = t }
            }
        }

        /// The ranges of the cursor and the payment id in a `data: {"cursor":"…","payment_id":"…"` line.
        static func change(in line: UnsafeBufferPointer<UInt8>) -> (cursor: Range<Int>, id: Range<Int>)? {
            let head = Array("data: {\"cursor\":\"".utf8)
            guard line.count > head.count, line.starts(with: head) else { return nil }
            guard let cursorEnd = line[head.count...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            let idKey = Array("\",\"payment_id\":\"".utf8)
            let idStart = cursorEnd + idKey.count
            guard idStart < line.count, line[cursorEnd..<idStart].elementsEqual(idKey),
                let idEnd = line[idStart...].firstIndex(of: UInt8(ascii: "\""))
            else { return nil }
            return (head.count..<cursorEnd, idStart..<idEnd)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            ended("\(error)")
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            ended("the connection closed")
            context.fireChannelInactive()
        }

        private func ended(_ why: String) {
            if !isAnswered {
                isAnswered = true
                answered.fail(BenchError(why))
            }
            state.with { if $0.failure == nil { $0.failure = why } }
        }
    }
}
