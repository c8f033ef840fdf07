import Foundation
import PaymentNode
import Prometheus

/// `/metrics` gauges about the node's process, files and certificates, read at each
/// scrape: what an operator alerts on before the node itself fails.
///
/// `paynode_build_info{version}`, `paynode_process_resident_memory_bytes`,
/// `paynode_process_open_fds`,
/// `paynode_store_bytes{file="database|wal"}`, `paynode_data_dir_free_bytes`,
/// `paynode_certificate_expiry_seconds{certificate="peer|ca|api"}` (seconds left on the
/// certificates in use, which a reload replaces; negative once expired).
enum NodeResourceMetrics {
    /// The version `paynode_build_info` reports.
    static let version = "0.3.0"

    static func update(
        _ registry: PrometheusCollectorRegistry, config: NodeConfig, credentials: NodeCredentials, nowSeconds: Double
    ) {
        registry.gauge(
            named: "paynode_build_info", labels: [("version", version)],
            help: "Always 1; the version in its label"
        ).set(Int64(1))
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int64(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        {
            registry.gauge(
                named: "paynode_process_resident_memory_bytes", help: "Resident memory of the node's process"
            )
            .set(kib * 1_024)
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            registry.gauge(named: "paynode_process_open_fds", help: "File descriptors the node's process holds open")
                .set(Int64(fds.count))
        }
        for (file, path) in [("database", config.databasePath), ("wal", config.databasePath + "-wal")] {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            registry.gauge(named: "paynode_store_bytes", labels: [("file", file)], help: "Size of the store's files")
                .set(Int64(size))
        }
        var fs = statvfs()
        if statvfs(config.dataDirectory, &fs) == 0 {
            registry.gauge(
                named: "paynode_data_dir_free_bytes", help: "Free space for the store on the data folder's filesystem"
            )
            .set(Int64(fs.f_bavail) * Int64(fs.f_frsize))
        }
        // The certificates in use (after a reload, the new ones), not whatever the files hold now.
        for (name, expires) in credentials.expiries {
            registry.gauge(
                named: "paynode_certificate_expiry_seconds", labels: [("certificate", name)],
                help: "Seconds until the certificate in use expires (negative once it has)"
            )
            .set(expires.timeIntervalSince1970 - nowSeconds)
        }
    }

    /// CPU time the process has used, user and system, in clock ticks (`/proc/self/stat`).
    static func cpuTicks() -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "(comm)" the fields start at the 3rd (state); utime and stime are the 14th and 15th.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
    }

    /// Clock ticks per second.
    static var ticksPerSecond: Double { max(1, Double(sysconf(Int32(_SC_CLK_TCK)))) }
}
