// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "paynode",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ReplicaCore", targets: ["ReplicaCore"]),
        .library(name: "LZ4", targets: ["LZ4"]),
        .library(name: "ReplicaStore", targets: ["ReplicaStore"]),
        .library(name: "RegionSim", targets: ["RegionSim"]),
        .executable(name: "paysim", targets: ["paysim"]),
        .executable(name: "paybench", targets: ["paybench"]),
    ],
    targets: [
        // The pure replication engine: no I/O, no clocks, no randomness, no Tasks.
        .target(name: "ReplicaCore"),
        // liblz4's frame API, as a system library (Debian: liblz4-dev).
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // A thin Swift wrapper over the LZ4 frame format.
        .target(name: "LZ4", dependencies: ["CLZ4"]),
        // The system SQLite (Debian: libsqlite3-dev) and the node's durable store on it.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "ReplicaStore", dependencies: ["ReplicaCore", "CSQLite"]),
        // Benchmarks (tables, never test assertions) and the crash test's writer.
        .executableTarget(name: "paybench", dependencies: ["ReplicaCore", "ReplicaStore"]),
        // The deterministic simulator: the same engine in a virtual world.
        .target(name: "RegionSim", dependencies: ["ReplicaCore"], path: "Simulations/RegionSim"),
        .executableTarget(name: "paysim", dependencies: ["RegionSim"], path: "Simulations/paysim"),
        .testTarget(name: "ReplicaCoreTests", dependencies: ["ReplicaCore"]),
        .testTarget(name: "RegionSimTests", dependencies: ["RegionSim", "ReplicaCore"]),
        .testTarget(name: "ReplicaStoreTests", dependencies: ["ReplicaStore", "ReplicaCore"]),
        .testTarget(name: "LZ4Tests", dependencies: ["LZ4"]),
    ]
)
