import Foundation
import NIOCore
import NIOPosix
import ReplicaShell
import ReplicaStore
import Synchronization

/// The node's one policy for store I/O: where each kind of store work runs, and where
/// its answer goes.
///
/// - **Writes** (commits, log compaction, write probes, recovery) run on the group
///   committer's thread, one at a time, in the order they were handed in.
/// - **Reads** (other than a client's read by id, below) run on a blocking thread pool, each on a reader connection of its own (WAL
///   lets them run beside each other and beside the writer). The engine's reads (records
///   for a peer's batch, log entries and snapshot chunks for a peer) have two threads and
///   two connections of their own, so client reads (a long list, a digest) can never
///   queue ahead of them and hold up the inputs waiting on them; client reads use NIO's
///   shared pool and up to eight connections. A read never runs on the node's event loop
///   (the engine's turn), and no read longer than a point read runs on a Swift
///   concurrency thread (that pool must never wait on a scan).
/// - **Answers** go where their asker lives: the engine's to the event loop
///   (`completion`), a client's straight to the client (`reply`, from the pool thread:
///   it only completes the client's promise), a request task's by `await`.
/// - **A client's read of one payment by id** runs where the request is: in the
///   connection's pipeline on the API's event loop (`readAtOnce`, for the API's read fast
///   path; those loops are never the node's), or else on the request's own Swift
///   concurrency thread (`readPoint`). Both use connections of their own: one per core,
///   at most eight. A point read touches a handful of pages and takes microseconds when
///   they are cached: less than the two thread hops a pool read costs. Neither waits for
///   a connection: when all of those are busy, the fast path leaves the request to the
///   router, and `readPoint` reads on the pool like any other read. What they can wait
///   for is the disk: with a cold cache a point read is a few random reads (p99 about
///   20 ms on a 10 M store), and that thread waits with it. Lists, scans and digests
///   never run there.
/// - **The loop's exception, measured**: a handful of records the engine needs for a
///   client's write (`inPlaceReadsMax` ids) are read in place on the loop. Two point
///   reads take tens of microseconds, less than the two thread hops a pool read costs.
///   They use a reader connection of the loop's own, so slow client reads holding every
///   pooled connection can never make the engine's loop wait.
///
/// Every thread hop of the node's store work is in this type; nothing else touches
/// `StoreReaderPool` or `GroupCommitter.perform`.
final class StoreIO: Sendable {
    /// Client reads' connections.
    let readers: StoreReaderPool
    /// Point reads' connections (`readPoint`).
    let pointReaders: StoreReaderPool
    /// The engine's reads: their threads and connections.
    private let engineThreads: NIOThreadPool
    private let engineReaders: StoreReaderPool
    let committer: GroupCommitter
    let loop: EventLoop
    /// The loop's own reader connection (used on the loop only: the box checks it).
    private let loopReader: NIOLoopBoundBox<StoreReader>

    /// The most ids read in place on the loop.
    static let inPlaceReadsMax = 32
    /// Point reads' connections: one per core (a Swift concurrency thread each), at most 8.
    static let pointReadersCount = min(max(1, ProcessInfo.processInfo.activeProcessorCount), 8)
    /// Threads (and connections) for the engine's reads.
    static let engineThreadCount = 2

    /// Opens the loop's reader connection, and a pool of up to `pooledReaders` for the rest.
    init(store: ReplicaStore, committer: GroupCommitter, loop: EventLoop, pooledReaders: Int = 8) throws {
        self.readers = StoreReaderPool(store: store, size: pooledReaders)
        self.pointReaders = StoreReaderPool(store: store, size: Self.pointReadersCount)
        self.engineReaders = StoreReaderPool(store: store, size: Self.engineThreadCount)
        self.engineThreads = NIOThreadPool(numberOfThreads: Self.engineThreadCount)
        self.engineThreads.start()
        self.committer = committer
        self.loop = loop
        self.loopReader = .makeBoxSendingValue(try store.reader(), eventLoop: loop)
    }

    // MARK: Reads

    /// For the engine: reads on one of its own threads, answers on the loop.
    func readForEngine<T: Sendable>(
        _ body: @escaping @Sendable (StoreReader) throws -> T,
        completion: @escaping (Result<T, StoreReadFailure>) -> Void
    ) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        engineThreads.submit { [engineReaders, loop] state in
            let answer: Result<T, StoreReadFailure> =
                state == .active
                ? Self.run(body, on: engineReaders) : .failure(StoreReadFailure("the node is stopping"))
            loop.execute { bound.value(answer) }
        }
    }

    /// Stops the engine's read threads (after the node drained: nothing asks any more).
    func shutdown() async {
        try? await engineThreads.shutdownGracefully()
    }

    /// For a client the shell answers: reads on a pool thread, and answers there.
    func readForClient<T>(
        _ body: @escaping @Sendable (StoreReader) throws -> T, reply: @escaping (Result<T, any Error>) -> Void
    ) {
        let answer = ClientReply(reply)
        NIOThreadPool.singleton.submit { [readers] (_: NIOThreadPool.WorkItemState) in
            answer.body(Result { try readers.read(body) })
        }
    }

    /// For a request task: awaits a read done on a pool thread.
    func read<T: Sendable>(_ body: @escaping @Sendable (StoreReader) throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { [readers] in try readers.read(body) }
    }

    /// For the API's read fast path: a point read on the calling thread (an API event
    /// loop) if one of the point connections is free; nil, with `body` not run, if none is.
    func readAtOnce<T>(_ body: (StoreReader) throws -> T) throws -> T? { try pointReaders.readIfFree(body) }

    /// For a request task: a point read (one payment by id), on the calling thread when
    /// one of the point connections is free, else on the pool (`read`), never waiting for
    /// a connection on a Swift concurrency thread.
    func readPoint<T: Sendable>(_ body: @escaping @Sendable (StoreReader) throws -> T) async throws -> T {
        if let answer = try readAtOnce(body) { return answer }
        return try await read(body)
    }

    /// The loop's exception: a few point reads, in place on the loop, on its own connection.
    func readInPlace<T>(_ body: (StoreReader) throws -> T) -> Result<T, StoreReadFailure> {
        do { return .success(try body(loopReader.value)) } catch {
            return .failure(StoreReadFailure(SQLiteShellStore.describe(error)))
        }
    }

    /// Blocks the calling thread on a pooled read: for checks and tests that are not on a
    /// request's path (the node's own `stateDigest` awaits `read`).
    func readBlocking<T>(_ body: (StoreReader) throws -> T) throws -> T { try readers.read(body) }

    // MARK: Writes

    /// Store work other than commits (compaction, probes, recovery), on the committer's
    /// thread in order with the commits around it; its value (or the error as thrown, so
    /// a caller can tell `GroupCommitter.CommitterStopped` from a failure) answers on the loop.
    func write<T: Sendable>(
        _ work: @escaping @Sendable (ReplicaStore) throws -> T,
        completion: @escaping (Result<T, any Error>) -> Void
    ) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        let slot = Slot<T>()
        committer.perform(
            { store in
                let value = try work(store)
                slot.value.withLock { $0 = value }
            },
            done: { [loop] result in
                let answer: Result<T, any Error> = result.map { slot.value.withLock { $0! } }
                loop.execute { bound.value(answer) }
            })
    }

    /// Tries a small write on the committer's thread (`GroupCommitter.probe`): true when
    /// the store takes writes again. Answers on the loop.
    func probe(completion: @escaping (Bool) -> Void) {
        let bound = NIOLoopBound(completion, eventLoop: loop)
        committer.probe { [loop] result in
            let ok = if case .success = result { true } else { false }
            loop.execute { bound.value(ok) }
        }
    }

    private static func run<T>(_ body: (StoreReader) throws -> T, on readers: StoreReaderPool) -> Result<
        T, StoreReadFailure
    > {
        do { return .success(try readers.read(body)) } catch {
            return .failure(StoreReadFailure(SQLiteShellStore.describe(error)))
        }
    }

    /// A value made on the committer's thread, read once its work is done.
    private final class Slot<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
    }

    /// A client's reply carried to a pool thread. The one unchecked crossing of the
    /// node's store work: the shell's reply type is not `Sendable` (paysim runs the same
    /// shell on one thread), but a node's client reply only completes a promise.
    private struct ClientReply<R>: @unchecked Sendable {
        let body: (R) -> Void
        init(_ body: @escaping (R) -> Void) { self.body = body }
    }
}
