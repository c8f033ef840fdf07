import Foundation

/// Runs numbered jobs on worker threads and hands each result back on the calling
/// thread in job order, as soon as it and every job before it are done: a block of
/// seeds prints exactly what one thread would print, only sooner. Each job must be
/// independent (a simulation shares nothing with another).
public enum InOrderPool {
    /// Runs `work(0..<count)` on `threads` threads (on the calling thread when 1) and
    /// calls `deliver` with each result in index order.
    public static func run<T: Sendable>(
        count: Int, threads: Int, _ work: @escaping @Sendable (Int) -> T, deliver: (Int, T) -> Void
    ) {
        guard threads > 1, count > 1 else {
            for i in 0..<count { deliver(i, work(i)) }
            return
        }
        let board = Board<T>(count: count)
        for _ in 0..<min(threads, count) {
            let thread = Thread {
                while let i = board.take() { board.put(i, work(i)) }
            }
            // A simulation runs as deep on a worker as on the main thread.
            thread.stackSize = 16 << 20
            thread.start()
        }
        for i in 0..<count { deliver(i, board.wait(for: i)) }
    }

    /// The jobs not yet taken and the results not yet handed back, behind one condition.
    private final class Board<T: Sendable>: @unchecked Sendable {
        private let condition = NSCondition()
        private var next = 0
        private let count: Int
        private var results: [T?]

        init(count: Int) {
            self.count = count
            self.results = Array(repeating: nil, count: count)
        }

        /// The next job to run, or nil when every job has been taken.
        func take() -> Int? {
            condition.withLock {
                guard next < count else { return nil }
                defer { next += 1 }
                return next
            }
        }

        func put(_ i: Int, _ result: T) {
            condition.withLock {
                results[i] = result
                condition.broadcast()
            }
        }

        /// Blocks until job `i` is done; its result, released from the board.
        func wait(for i: Int) -> T {
            condition.withLock {
                while results[i] == nil { condition.wait() }
                defer { results[i] = nil }
                return results[i]!
            }
        }
    }
}
