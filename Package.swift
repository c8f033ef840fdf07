// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "paynode",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ReplicaCore", targets: ["ReplicaCore"]),
        .library(name: "LZ4", targets: ["LZ4"]),
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
        .testTarget(name: "ReplicaCoreTests", dependencies: ["ReplicaCore"]),
        .testTarget(name: "LZ4Tests", dependencies: ["LZ4"]),
    ]
)
