import Dispatch
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes
import ReplicaCore

/// The API's two busiest requests, answered in the connection's channel pipeline (on its
/// event loop), ahead of the router, for which the router's per-request machinery (a
/// task, async streams between the channel and the handler, six middleware frames) is
/// much of the cost:
/// - `GET /v1/payments/{id}` without a session token (`PlainReadByID`), read at once;
/// - `POST /v1/payments` (`PlainCreate`), handed to the engine and answered when its
///   write is acknowledged.
///
/// Each takes only what it can answer whole, and anything else goes to the router
/// unchanged, which answers it as it always did: every refusal made before a write has
/// one home. What this answers is what the router would: the same body, headers and
/// status, counted in the same request metrics, and written to the same access log line.
///
/// Answers leave in the order their requests came:
/// - while a request it passed to the router is unanswered (the router's `.end` has not
///   come back through here), the next ones go to the router too, which answers them in
///   order;
/// - while a create it took waits for its write, what the client sends next is kept here
///   (and no more is read from the socket) until the create is answered.
/// A client that does not read its answers gets no more from here once the connection
/// stops being writable: its requests then go to the router, whose writer waits.
///
/// Hummingbird's connection-state handler, after this one, never sees the requests this
/// one answers: the server must keep its idle timeout off (`NodeServer`). When the server
/// begins to shut down, a request held here is passed on first, and a create waiting for
/// its write is answered before the handler after this one hears of it; so are the
/// client's half-close and a decoding error, either of which ends the connection there.
/// Once the router is to end the connection (after `Connection: close` or a decoding
/// error) or the server is shutting down, every request goes to the router: a create
/// taken then could be committed with no one left to answer.
final class PaymentFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Arrival {
        case part(HTTPRequestPart)
        case event(Any)
        case error(any Error)
    }

    private enum Held {
        /// A read's head, kept until its end shows there is no body.
        case read(HTTPRequest)
        /// A create's head and the body so far.
        case create(HTTPRequest, ByteBuffer, since: UInt64)
    }

    private let reads: PlainReadByID
    private let creates: PlainCreate?
    private var held: Held?
    /// Requests passed to the router and not yet answered.
    private var routed = 0
    /// The create handed to the engine and not yet answered.
    private var waiting: PlainCreate.Taken?
    /// What came while it waits, in order (request parts, the client's half-close, a
    /// decoding error: the router must not hear of the last two before the create is
    /// answered); a read of the socket asked for meanwhile; the server's shutdown notice.
    private var queued: [Arrival] = []
    private var readAsked = false
    private var quiesceHeld = false
    /// Everything goes to the router from now on: it will end the connection (a request
    /// with `Connection: close`, a decoding error) or the server is shutting down, and a
    /// create taken now could be committed with no one left to answer.
    private var routeAll = false
    private var context: ChannelHandlerContext?
    private var date = HTTPDate()

    init(reads: PlainReadByID, creates: PlainCreate?) {
        self.reads = reads
        self.creates = creates
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if waiting != nil {
            queued.append(.part(part))
            return
        }
        take(part, context: context)
    }

    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let request):
            if request.headerFields[.connection]?.lowercased().contains("close") ?? false { routeAll = true }
            if routed == 0 && !routeAll && context.channel.isWritable {
                if reads.mayAnswer(request) {
                    held = .read(request)
                    return
                }
                if let creates, creates.mayTake(request) {
                    held = .create(request, context.channel.allocator.buffer(capacity: 0), since: Self.now())
                    return
                }
            }
            routed += 1
        case .body(let bytes):
            if case .create(let request, var body, let start) = held {
                held = nil  // so the body below is not a copy
                body.writeImmutableBuffer(bytes)
                held = .create(request, body, since: start)
                if creates?.isTooLarge(body.readableBytes) != false { passHeld(context) }
                return
            }
            passHeld(context)
        case .end:
            if case .read(let head) = held, let (response, body) = reads.answer(head, date: &date) {
                held = nil
                write(response, body, context: context)
                return
            }
            if case .create(let head, let body, let start) = held, let creates {
                let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
                let taken = creates.take(head, body: body, since: start) { result in
                    handler.eventLoop.execute { handler.value.answer(result) }
                }
                if let taken {
                    held = nil
                    waiting = taken
                    return
                }
            }
            passHeld(context)
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// The waiting create's write is done: its answer, then what came meanwhile.
    private func answer(_ result: Result<WriteAck, NodeError>) {
        guard let taken = waiting, let creates else { return }
        waiting = nil
        let (response, body) = creates.answer(taken, result, date: &date)
        // A connection closed meanwhile has no one to answer (the write stands).
        guard let context else { return }
        write(response, body, context: context)
        let passing = !queued.isEmpty || quiesceHeld
        // Shutting down: what came meanwhile is the router's, as it would have been.
        if quiesceHeld { routeAll = true }
        while waiting == nil, !queued.isEmpty {
            switch queued.removeFirst() {
            case .part(let part): take(part, context: context)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            case .error(let error):
                routeAll = true
                context.fireErrorCaught(error)
            }
        }
        if waiting == nil && quiesceHeld {
            quiesceHeld = false
            passHeld(context)
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        // What was passed on reaches the router at the end of a read (the async channel
        // hands its requests over then).
        if passing { context.fireChannelReadComplete() }
        guard waiting == nil else { return }
        if readAsked {
            readAsked = false
            context.read()
        }
    }

    private func write(_ response: HTTPResponse, _ body: ByteBuffer, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// The router's answers pass here on their way out: an `.end` closes one.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { routed = max(0, routed - 1) }
        context.write(data, promise: promise)
    }

    /// No more is read from the socket while a create waits.
    func read(context: ChannelHandlerContext) {
        if waiting != nil {
            readAsked = true
            return
        }
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server is shutting down: a held request goes to the router, which the
        // connection-state handler then counts as in progress; a waiting create is
        // answered first, then the notice passed on.
        if event is ChannelShouldQuiesceEvent {
            if waiting != nil {
                quiesceHeld = true
                return
            }
            routeAll = true
            passHeld(context)
        } else if waiting != nil {
            // The client's half-close, say: the router would end the connection before
            // the waiting create is answered.
            queued.append(.event(event))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A decoding error ends the connection at the router (a 400, then close): it waits
    /// for a waiting create's answer, and no request is taken after it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if waiting != nil {
            queued.append(.error(error))
            return
        }
        routeAll = true
        context.fireErrorCaught(error)
    }

    /// The held request goes to the router: its head, and a create's body so far.
    private func passHeld(_ context: ChannelHandlerContext) {
        guard let kept = held else { return }
        held = nil
        routed += 1
        switch kept {
        case .read(let head):
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .create(let head, let body, _):
            context.fireChannelRead(wrapInboundOut(.head(head)))
            if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
        }
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
