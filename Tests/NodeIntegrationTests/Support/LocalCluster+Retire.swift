import Foundation
import ReplicaCore

extension LocalCluster {
    /// Moves `r` from `peers` to `retired` in each of `regions`' config files (reload them
    /// to apply).
    func retireInConfigs(_ r: RegionID, at regions: [RegionID]) throws {
        for other in regions {
            var lines = try String(contentsOf: configURL(other), encoding: .utf8).split(
                separator: "\n", omittingEmptySubsequences: false
            ).map(String.init)
            lines.removeAll { $0.hasPrefix("  \(r.name): ") }
            lines.append("retired: [\(r.name)]")
            try lines.joined(separator: "\n").write(to: configURL(other), atomically: true, encoding: .utf8)
        }
    }

    /// Runs `paynode` with `arguments` (the region's environment) until it exits, within
    /// `timeout` seconds; returns its exit status and what it printed.
    func paynode(_ arguments: [String], as r: RegionID, timeout: Double = 60) async throws -> (
        status: Int32, output: String
    ) {
        let binary = try ProcessInfo.processInfo.environment["PAYNODE_BINARY"] ?? Binaries.path("paynode")
        let out = dir.appendingPathComponent("\(r.name)-\(arguments.first ?? "run")-\(UUID().uuidString).out")
        guard FileManager.default.createFile(atPath: out.path, contents: nil) else {
            throw ClusterError("cannot create \(out.path)")
        }
        let handle = try FileHandle(forWritingTo: out)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment[r] ?? [:]) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        do {
            try await eventually("paynode \(arguments.joined(separator: " ")) exits", timeout: timeout) {
                !process.isRunning
            }
        } catch {
            process.terminate()
            throw ClusterError("\(error): \((try? String(contentsOf: out, encoding: .utf8)) ?? "")")
        }
        return (process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }
}
