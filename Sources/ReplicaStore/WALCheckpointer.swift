import CSQLite
import Foundation
import Synchronization

/// Copies the store's write-ahead log back into the database file on a thread and a
/// connection of its own, so the committing thread only appends to the log.
///
/// SQLite's own automatic checkpoint runs inside the COMMIT that crosses the threshold,
/// on the committing thread: that one commit (and every write waiting behind it) waited
/// while 40 MB of pages were copied and the file fsynced, 80-140 ms on this machine,
/// every two seconds at 1,000 creates/s. Here the writer's WAL hook only wakes this
/// thread, which runs a PASSIVE checkpoint: it copies what no reader still needs and
/// never blocks the writer or a reader. Should it fall behind anyway (readers holding old
/// snapshots, a slow disk), the writer checkpoints inline once the log passes
/// `backstopPages`, as SQLite would have, so the log stays bounded.
///
/// The log's file keeps the size of its largest transaction unless told otherwise: a
/// catch-up's last transaction (the list indexes built at once) left 1.7 GB of it at 10 M
/// payments. The writer's `journal_size_limit` is the backstop's size, so the first commit
/// after a checkpoint lets the log start over cuts the file back to that.
///
/// A checkpoint is as crash-safe here as in SQLite's own: it may be cut anywhere and the
/// next one starts over. One that fails (the disk) is counted and tried again at the next
/// commit past the threshold.
final class WALCheckpointer: @unchecked Sendable {
    /// Log pages (4 KiB each) that wake the checkpointing thread.
    let startPages: Int
    /// Log pages past which the writer checkpoints inline.
    let backstopPages: Int
    /// Closed by the thread when it stops, so the writer's close is the last and may
    /// remove the log.
    private var db: SQLiteDatabase?
    private let condition = NSCondition()
    private var wanted = false
    private var running = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)
    private let finished = Atomic<UInt64>(0)
    private let failed = Atomic<UInt64>(0)
    private let inline = Atomic<UInt64>(0)

    /// Checkpoints so far: run on this thread, run inline by the writer, failed.
    var counts: WALCheckpointCounts {
        WALCheckpointCounts(
            background: finished.load(ordering: .relaxed), inline: inline.load(ordering: .relaxed),
            failed: failed.load(ordering: .relaxed))
    }

    /// True when no checkpoint is asked for or under way (tests wait on it instead of on time).
    var idle: Bool { condition.withLock { !wanted && !running } }

    /// Opens its own connection to the store at `path` and installs itself as `writer`'s
    /// WAL hook (replacing SQLite's automatic checkpoint on that connection).
    init(path: String, synchronous: StoreOptions.Synchronous, writer: SQLiteDatabase, startPages: Int) throws {
        precondition(startPages > 0)
        self.startPages = startPages
        backstopPages = startPages * 4
        let db = try SQLiteDatabase(path: path)
        // The checkpoint's own fsyncs follow the store's durability setting.
        try db.execute("PRAGMA synchronous = \(synchronous.rawValue)")
        try db.execute("PRAGMA wal_autocheckpoint = 0")
        try writer.execute("PRAGMA journal_size_limit = \(backstopPages * 4_096)")
        self.db = db
        // Nothing may throw from here on: the thread holds `self` unowned.
        let t = Thread { [unowned self] in self.loop() }
        t.name = "paynode-checkpoint"
        t.start()
        sqlite3_wal_hook(writer.handle, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Called from the writer's WAL hook after each commit, with the log's size in pages.
    fileprivate func committed(pages: Int, writer: OpaquePointer?) {
        if pages >= backstopPages {
            inline.add(1, ordering: .relaxed)
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        } else if pages >= startPages {
            condition.withLock {
                wanted = true
                condition.signal()
            }
        }
    }

    /// Stops the thread (after a checkpoint under way) and removes the hook from `writer`.
    /// Called before the writer's connection closes.
    func stop(writer: SQLiteDatabase) {
        sqlite3_wal_hook(writer.handle, nil, nil)
        condition.withLock {
            stopping = true
            condition.signal()
        }
        exited.wait()
    }

    private func loop() {
        while true {
            let go: Bool = condition.withLock {
                while !wanted && !stopping { condition.wait() }
                wanted = false
                running = !stopping
                return !stopping
            }
            guard go else { break }
            let rc = sqlite3_wal_checkpoint_v2(db?.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            // BUSY: another checkpoint (the writer's, past the backstop) was running; not a failure.
            if rc == SQLITE_OK {
                finished.add(1, ordering: .relaxed)
            } else if rc & 0xFF != SQLITE_BUSY {
                failed.add(1, ordering: .relaxed)
            }
            condition.withLock { running = false }
        }
        db = nil
        exited.signal()
    }
}

/// How many WAL checkpoints a store ran, and where (`ReplicaStore.walCheckpoints`).
public struct WALCheckpointCounts: Sendable, Equatable {
    /// Run by the checkpointing thread.
    public let background: UInt64
    /// Run by the writer inside a commit, because the log passed the backstop: the
    /// checkpointing thread is not keeping up (a reader holding an old snapshot, a slow disk).
    public let inline: UInt64
    /// Checkpoints of the thread that failed (tried again at the next commit past the threshold).
    public let failed: UInt64
}

/// SQLite's WAL hook for the writer's connection: hands the log's size to the checkpointer.
private func walHook(
    _ context: UnsafeMutableRawPointer?, _ db: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ pages: Int32
) -> Int32 {
    guard let context else { return SQLITE_OK }
    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(pages: Int(pages), writer: db)
    return SQLITE_OK
}
