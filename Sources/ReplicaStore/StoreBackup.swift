import Foundation
import ReplicaCore

/// Point-in-time copies of a store, taken while its node serves, and the way back from one.
///
/// A backup is a consistent SQLite file (`VACUUM INTO` inside one read transaction). A
/// restored store is marked as not holding its region's whole history: the region's
/// writes after the backup may live on at its peers, so it takes no write until every
/// peer has said which of its writes it holds and it has those back. It never numbers a
/// new write with a sequence number it used before.
public enum StoreBackup {
    /// What a backup (or store) file holds.
    public struct Summary: Sendable, CustomStringConvertible {
        /// The region the store belongs to (nil for a store no node ever claimed).
        public let region: String?
        public let payments: Int
        public let vector: VersionVector
        public let bytes: Int

        public var description: String {
            "region \(region ?? "(unclaimed)"), \(payments) payments, vector \(vector), \(bytes) bytes"
        }
    }

    /// Why a backup or restore was refused.
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Copies the store at `storePath` to `outPath` as of one moment, while its node
    /// writes (a read-only connection; WAL lets the writer go on). The copy is made at
    /// `<out>.partial`, checked (`PRAGMA integrity_check`), synced, then renamed: `outPath`
    /// never names a partial copy. An existing `outPath` is refused, never overwritten.
    public static func backup(storePath: String, to outPath: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: storePath) else { throw Refusal("no store at \(storePath)") }
        guard !FileManager.default.fileExists(atPath: outPath) else {
            throw Refusal("\(outPath) exists; a backup never overwrites a file")
        }
        let partial = outPath + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let source = try SQLiteDatabase(path: storePath, readOnly: true)
            let into = try source.prepare("VACUUM INTO ?")
            into.bind(1, partial)
            try into.run()
            let summary = try check(partial)
            try sync(partial)
            try FileManager.default.moveItem(atPath: partial, toPath: outPath)
            try sync(
                (outPath as NSString).deletingLastPathComponent.isEmpty
                    ? "." : (outPath as NSString).deletingLastPathComponent)
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// What the file at `path` holds, after SQLite's integrity check.
    public static func check(_ path: String) throws -> Summary {
        let db = try SQLiteDatabase(path: path, readOnly: true)
        guard try db.scalarText("PRAGMA integrity_check") == "ok" else {
            throw Refusal("\(path) fails SQLite's integrity check")
        }
        guard
            try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name IN ('payments', 'vector', 'meta', 'log')")
                == 4
        else {
            throw Refusal("\(path) is not a paynode store")
        }
        var vector = VersionVector()
        let rows = try db.prepare("SELECT origin, seq FROM vector ORDER BY origin")
        while try rows.step() {
            guard let name = rows.text(0), let origin = RegionID(name), rows.int(1) >= 0 else {
                throw Refusal("\(path) holds an invalid vector row")
            }
            vector[origin] = UInt64(rows.int(1))
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return Summary(
            region: try db.scalarText("SELECT region FROM identity WHERE id = 1"),
            payments: Int(try db.scalarInt("SELECT count(*) FROM payments") ?? 0), vector: vector, bytes: bytes)
    }

    /// Puts the backup at `backupPath` in place as region `region`'s store at `storePath`.
    /// Refused while a process holds the store, for a backup of another region, or one
    /// that fails the integrity check. A store already there is moved aside to
    /// `<store>.before-restore-<nowMillis>` (with its WAL): nothing is deleted.
    public static func restore(from backupPath: String, toStore storePath: String, region: RegionID, nowMillis: UInt64)
        throws -> Summary
    {
        let summary = try check(backupPath)
        if let owner = summary.region, owner != region.name {
            throw Refusal("\(backupPath) is a backup of region \(owner), not \(region)")
        }
        let lock = try StoreLock(storePath: storePath)  // no node may run on the store meanwhile
        let files = FileManager.default
        if files.fileExists(atPath: storePath) {
            let aside = "\(storePath).before-restore-\(nowMillis)"
            try files.moveItem(atPath: storePath, toPath: aside)
            for suffix in ["-wal", "-shm"] where files.fileExists(atPath: storePath + suffix) {
                try files.moveItem(atPath: storePath + suffix, toPath: aside + suffix)
            }
        }
        let partial = storePath + ".restoring"
        try? files.removeItem(atPath: partial)
        try files.copyItem(atPath: backupPath, toPath: partial)
        try markMissingOwnHistory(partial)
        try sync(partial)
        try files.moveItem(atPath: partial, toPath: storePath)
        try sync((storePath as NSString).deletingLastPathComponent)
        withExtendedLifetime(lock) {}
        return summary
    }

    /// Records that the store at `path` may lack some of its region's own writes. Its
    /// connection is closed before this returns, with no WAL left beside the file.
    static func markMissingOwnHistory(_ path: String) throws {
        let db = try SQLiteDatabase(path: path)
        _ = try db.scalarText("PRAGMA journal_mode = DELETE")
        try db.transaction { () throws(SQLiteError) in
            try db.execute(
                """
                INSERT INTO meta (key, value) VALUES ('own_history_complete', 0)
                ON CONFLICT (key) DO UPDATE SET value = 0
                """)
        }
    }

    /// fsync of a file or folder.
    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Refusal("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Refusal("fsync of \(path) failed: \(String(cString: strerror(errno)))") }
    }
}
