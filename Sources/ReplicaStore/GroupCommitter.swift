import Foundation
import ReplicaCore
import Synchronization

/// Group commit: many writers hand in persist requests; one thread commits everything
/// waiting in one transaction (one fsync) and then answers every writer of the group.
/// A writer is answered only after its transaction committed. Requests commit in the
/// order they were submitted, as the engine requires.
///
/// After a failed transaction the committer refuses everything queued behind it, and
/// everything submitted later, with that error (a later request's vector includes the
/// failed one's entries), until `probe` finds the store writable again.
public final class GroupCommitter: @unchecked Sendable {
    /// How a submitted request (or a `perform`'s work) ended; runs on the committing thread.
    public typealias Completion = @Sendable (Result<Void, Error>) -> Void
    /// Told of each committed transaction: its requests, and the time from its start
    /// until the commit (the fsync) returned. Runs on the committing thread before the
    /// group's writers are answered: it must be quick (record into a metric, no more).
    public typealias Observer = @Sendable (_ requests: Int, _ duration: Duration) -> Void
    /// A completion told also how many requests the transaction held (0 when refused
    /// without one).
    public typealias GroupCompletion = @Sendable (Result<Void, Error>, _ groupRequests: Int) -> Void
    private typealias Item = (
        requests: [PreparedRequest], work: (@Sendable (ReplicaStore) throws -> Void)?, done: GroupCompletion
    )

    private let store: ReplicaStore
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var stopping = false
    private var stopped = false
    /// The error of the last failed transaction, until a probe succeeds.
    private var failure: Error?
    private var thread: Thread?
    private let observer: Observer?
    /// Transactions committed so far.
    public private(set) var groupsCommitted: UInt64 = 0
    /// Requests committed so far.
    public private(set) var requestsCommitted: UInt64 = 0
    private let changes = Atomic<UInt64>(0)

    /// How many transactions (commits and other work) the committer has run, read from
    /// any thread. Every change to the store goes through the committer, so a reader that
    /// sees the same count before two reads knows the store did not change between them
    /// (it may have changed after the count was read, which a later count shows).
    public var storeChanges: UInt64 { changes.load(ordering: .acquiring) }

    /// Starts the committing thread over `store`; from now on only it writes to `store`.
    /// `observer` is told of every committed transaction.
    public init(store: ReplicaStore, observer: Observer? = nil) {
        self.store = store
        self.observer = observer
        let t = Thread { [unowned self] in self.loop() }
        t.name = "paynode-group-commit"
        thread = t
        t.start()
    }

    /// Queues `requests`; `done` runs on the committing thread once they are durable.
    public func submit(_ requests: [PersistRequest], done: @escaping Completion) {
        submit(requests, reportingGroupSize: { result, _ in done(result) })
    }

    /// `submit`, whose `done` also gets the number of requests committed in the same
    /// transaction (the group), for traces. The requests' rows are computed here, on the
    /// caller's thread (`PreparedRequest`): the committing thread only writes them.
    public func submit(_ requests: [PersistRequest], reportingGroupSize done: @escaping GroupCompletion) {
        let requests = requests.map(PreparedRequest.init)
        condition.lock()
        let refusal: Error? = stopping ? CommitterStopped() : failure
        if refusal == nil {
            queue.append((requests, nil, done))
            condition.signal()
        }
        condition.unlock()
        if let refusal { done(.failure(refusal), 0) }
    }

    /// Runs other store work (log compaction) on the committing thread, in queue order
    /// with the commits around it, in a transaction of its own.
    public func perform(_ work: @escaping @Sendable (ReplicaStore) throws -> Void, done: @escaping Completion) {
        condition.lock()
        let refused = stopping
        if !refused {
            queue.append(([], work, { result, _ in done(result) }))
            condition.signal()
        }
        condition.unlock()
        // Outside the lock: `done` may hand in more work.
        if refused { done(.failure(CommitterStopped())) }
    }

    /// Tries a small write transaction on the committing thread, in order with the
    /// commits around it; when it succeeds the committer takes commits again. `done`
    /// gets whether it did.
    public func probe(done: @escaping @Sendable (Result<Void, Error>) -> Void) {
        perform(
            { [unowned self] store in
                try store.probeWritable()
                condition.lock()
                failure = nil
                condition.unlock()
            }, done: done)
    }

    /// Commits `requests` and returns once they are durable.
    public func commit(_ requests: [PersistRequest]) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            submit(requests) { c.resume(with: $0) }
        }
    }

    /// Commits what is queued, then stops the thread. Later submissions fail.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// The committer was shut down.
    public struct CommitterStopped: Error {}

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
            if let work = queue[0].work {
                let item = queue.removeFirst()
                condition.unlock()
                let result = Result { try work(store) }
                changes.add(1, ordering: .releasing)
                item.done(result, 0)
                continue
            }
            var taken = 0
            var count = 0
            while taken < queue.count, queue[taken].work == nil,
                taken == 0 || count + queue[taken].requests.count <= store.options.groupRequestsMax
            {
                count += queue[taken].requests.count
                taken += 1
            }
            let group = Array(queue[0..<taken])
            queue.removeFirst(taken)
            condition.unlock()

            let result: Result<Void, Error>
            do {
                let requests = group.flatMap(\.requests)
                let start = ContinuousClock.now
                try store.commit(prepared: requests)
                observer?(count, start.duration(to: .now))
                groupsCommitted += 1
                requestsCommitted += UInt64(count)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            changes.add(1, ordering: .releasing)
            var refused: [Item] = []
            if case .failure(let error) = result {
                condition.lock()
                failure = error
                refused = queue.filter { $0.work == nil }
                queue.removeAll { $0.work == nil }
                condition.unlock()
            }
            for item in group { item.done(result, count) }
            for item in refused { item.done(result, 0) }
        }
    }
}
