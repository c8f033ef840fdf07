import Foundation

/// A few `StoreReader`s shared by request handlers: each read borrows one connection,
/// so reads run in parallel with each other and with the writer (WAL).
public final class StoreReaderPool: @unchecked Sendable {
    private let store: ReplicaStore
    private let condition = NSCondition()
    private var idle: [StoreReader] = []
    private var opened = 0
    /// Connections opened at most.
    public let size: Int

    public init(store: ReplicaStore, size: Int = 8) {
        self.store = store
        self.size = max(1, size)
    }

    /// Runs `body` with a reader, opening one if none is idle and fewer than `size` exist,
    /// else waiting for one to come back.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        guard let reader = try borrow(waiting: true) else { preconditionFailure("a waiting borrow returns a reader") }
        defer { giveBack(reader) }
        return try body(reader)
    }

    /// Runs `body` with a reader only if one is idle or may still be opened; nil (and
    /// `body` not run) when all `size` are busy. For callers that must not wait for a
    /// connection (a Swift concurrency thread), and go elsewhere instead.
    public func readIfFree<T>(_ body: (StoreReader) throws -> T) throws -> T? {
        guard let reader = try borrow(waiting: false) else { return nil }
        defer { giveBack(reader) }
        return try body(reader)
    }

    /// A reader, opened if none is idle and fewer than `size` exist; when all are busy,
    /// waits for one to come back, or returns nil when not `waiting`.
    private func borrow(waiting: Bool) throws -> StoreReader? {
        condition.lock()
        while idle.isEmpty && opened >= size {
            guard waiting else {
                condition.unlock()
                return nil
            }
            condition.wait()
        }
        if let reader = idle.popLast() {
            condition.unlock()
            return reader
        }
        opened += 1
        condition.unlock()
        do {
            return try store.reader()
        } catch {
            condition.lock()
            opened -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func giveBack(_ reader: StoreReader) {
        condition.lock()
        idle.append(reader)
        condition.signal()
        condition.unlock()
    }
}
