/// How a node's SQLite file is opened.
public struct StoreOptions: Sendable {
    /// SQLite's durability setting. `full` (the default) fsyncs the WAL on every commit:
    /// an acknowledged write survives `kill -9` and power loss. `normal` survives a
    /// process crash but may lose the last commits on power loss.
    public enum Synchronous: String, Sendable {
        case full = "FULL"
        case normal = "NORMAL"
    }

    public var path: String
    public var synchronous: Synchronous = .full
    /// Requests per group commit, at most (one transaction, one fsync).
    public var groupRequestsMax = 4_096
    /// SQLite's page cache of the writing connection, in MiB (readers keep SQLite's
    /// default 2 MiB each). The file's pages also sit in the OS page cache, outside the
    /// process; this only saves system calls for the hottest index pages.
    public var cacheMegabytes = 16
    /// Changes the change feed keeps (the newest); older ones are trimmed with the log,
    /// and a cursor that needs them gets a clear refusal.
    public var eventsKept = 1_000_000
    /// WAL pages (4 KiB) that start a checkpoint, which runs on a thread of its own; the
    /// writer checkpoints inline only past four times this (`WALCheckpointer`).
    public var checkpointPages = 10_000
    /// Log entries, and change-feed rows, one compaction step deletes at most: a backlog
    /// of millions goes in many short transactions with commits between them, not one
    /// that holds the writer for minutes (`ReplicaStore.compactLog(through:)`).
    public var compactionStepRows = 50_000

    public init(path: String) { self.path = path }
}
