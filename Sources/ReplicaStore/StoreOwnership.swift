import Foundation
import ReplicaCore

/// Why a store cannot be opened for this node.
public enum StoreOwnershipError: Error, Equatable, CustomStringConvertible {
    /// Another process holds the store's lock.
    case inUse(path: String, holder: String)
    /// The store was written by another region.
    case otherRegion(path: String, stored: String, configured: String)
    /// The lock file could not be opened.
    case lockFailed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .inUse(let path, let holder):
            "\(path) is in use by another paynode process (\(holder)): one process per store, or two would number writes alike"
        case .otherRegion(let path, let stored, let configured):
            "\(path) holds the data of region \(stored), but the configuration says \(configured)"
        case .lockFailed(let path, let errno):
            "cannot open the lock file \(path): \(String(cString: strerror(errno)))"
        }
    }
}

/// An exclusive lock on a store, held for the process's life: `<store>.lock`, locked with
/// `flock` (released by the kernel when the process dies, even by SIGKILL), holding the
/// holder's pid for the message a second process gets.
final class StoreLock {
    private let fd: Int32

    init(storePath: String) throws(StoreOwnershipError) {
        let path = storePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .lockFailed(path: path, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid =
                n > 0
                ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw .inUse(path: storePath, holder: "pid \(pid)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        self.fd = fd
    }

    deinit { close(fd) }  // closing the descriptor releases the lock
}
