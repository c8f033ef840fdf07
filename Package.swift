// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "paynode",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ReplicaCore", targets: ["ReplicaCore"]),
        .library(name: "LZ4", targets: ["LZ4"]),
        .library(name: "ReplicaShell", targets: ["ReplicaShell"]),
        .library(name: "ReplicaStore", targets: ["ReplicaStore"]),
        .library(name: "RegionSim", targets: ["RegionSim"]),
        .library(name: "PaymentsClient", targets: ["PaymentsClient"]),
        .executable(name: "paysim", targets: ["paysim"]),
        .executable(name: "paybench", targets: ["paybench"]),
        .executable(name: "paynode", targets: ["paynode"]),
        .executable(name: "payctl", targets: ["payctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP/HTTP only: the default traits would also build gRPC (grpc-swift 2, NIOHTTP2).
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Core: the pure replication engine and the payment model. No I/O, no clocks, no
        // randomness, no Tasks.
        .target(name: "ReplicaCore"),
        // Wire: the text and JSON formats the API, the client, the node, the store and the
        // simulator share (RFC 3339, JSON strings and the strict parser, a payment's and a
        // field value's JSON, session tokens, the list cursor's text). Pure: the standard
        // library and ReplicaCore's model types only; the engine never needs it.
        .target(name: "PaymentsWire", dependencies: ["ReplicaCore"]),
        // Shell: the directive interpreter the node and paysim share, generic over store,
        // peer bus and clock: tickets, waiting writes, session waits, commits, failure,
        // recovery, drain.
        .target(name: "ReplicaShell", dependencies: ["ReplicaCore"]),
        // Store: the system SQLite (Debian: libsqlite3-dev) and the node's durable store on
        // it. Its JSON columns (conflict values, metadata) hold the API's JSON, written by
        // PaymentsWire.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "ReplicaStore", dependencies: ["ReplicaCore", "PaymentsWire", "CSQLite"]),
        // Transport: liblz4's frame API, as a system library (Debian: liblz4-dev), a thin
        // Swift wrapper over it, and the peer connections: mutual TLS, length-prefixed
        // frames, LZ4 deltas, reconnect.
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        .target(name: "LZ4", dependencies: ["CLZ4"]),
        .target(
            name: "ReplicaTransport",
            dependencies: [
                "ReplicaCore", "LZ4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
            ]),
        // One region's node: configuration, the engine's owner, store and transport wiring.
        .target(
            name: "PaymentNode",
            dependencies: [
                "ReplicaCore", "ReplicaShell", "ReplicaStore", "ReplicaTransport", "PaymentsWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // `paynode serve`'s traces: swift-otel's tracer and its exporting service.
        .target(
            name: "NodeTracing",
            dependencies: [
                "PaymentNode",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]),
        // API: the HTTP routes (Hummingbird): auth, JSON, request metrics, over a
        // `PaymentService` it declares. No store, node, transport or TLS below it.
        .target(
            name: "PaymentsAPI",
            dependencies: [
                "ReplicaCore", "PaymentsWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ], resources: [.embedInCode("openapi.yaml")]),
        // Server: a node behind the API: `ReplicaNode` as a `PaymentService`, its
        // scrape-time metrics, and the HTTP(S) server with certificates a reload replaces.
        .target(
            name: "PaymentsServer",
            dependencies: [
                "PaymentsAPI", "PaymentNode", "PaymentsWire", "ReplicaCore", "ReplicaStore", "ReplicaTransport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Client: the nearest-region client library.
        .target(
            name: "PaymentsClient",
            dependencies: [
                "ReplicaCore", "PaymentsWire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Tools. Development helpers, imported by no production library: a CA and
        // certificates (swift-certificates), the YAML and free ports of scratch clusters on
        // loopback. For `paynode demo` and `paynode certs`, paybench and the tests.
        .target(
            name: "PaymentDevKit",
            dependencies: [
                "ReplicaCore", "ReplicaShell", "PaymentNode",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        .executableTarget(
            name: "paynode",
            dependencies: [
                "PaymentNode", "PaymentsServer", "PaymentDevKit", "NodeTracing", "ReplicaCore", "ReplicaStore",
                "ReplicaTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        // The client's command line.
        .executableTarget(
            name: "payctl",
            dependencies: [
                "PaymentsClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Benchmarks (tables, never test assertions) and the crash test's writer.
        .executableTarget(
            name: "paybench",
            dependencies: [
                "ReplicaCore", "ReplicaShell", "ReplicaStore", "ReplicaTransport", "LZ4", "PaymentNode",
                "PaymentDevKit", "PaymentsAPI", "PaymentsServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        // The deterministic simulator: the same engine in a virtual world (its JSON
        // report is written with PaymentsWire's strings).
        .target(
            name: "RegionSim", dependencies: ["ReplicaCore", "ReplicaShell", "PaymentsWire"],
            path: "Simulations/RegionSim"),
        .executableTarget(
            name: "paysim",
            dependencies: [
                "RegionSim", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], path: "Simulations/paysim"),
        .testTarget(name: "ReplicaCoreTests", dependencies: ["ReplicaCore"]),
        .testTarget(name: "RegionSimTests", dependencies: ["RegionSim", "ReplicaCore"]),
        .testTarget(name: "ReplicaShellTests", dependencies: ["ReplicaShell", "ReplicaCore"]),
        .testTarget(name: "ReplicaStoreTests", dependencies: ["ReplicaStore", "ReplicaCore", "PaymentsWire"]),
        .testTarget(name: "PaymentsWireTests", dependencies: ["PaymentsWire", "ReplicaCore"]),
        .testTarget(name: "LZ4Tests", dependencies: ["LZ4"]),
        .testTarget(
            name: "ReplicaTransportTests",
            dependencies: [
                "ReplicaTransport", "ReplicaCore", "LZ4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        // Route tests on an in-memory service: no certificates, SQLite or sockets.
        .testTarget(
            name: "PaymentsAPITests",
            dependencies: [
                "PaymentsAPI", "PaymentsWire", "ReplicaCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),
        // The API over a real node in the test process (SQLite, development certificates).
        .testTarget(
            name: "PaymentsServerTests",
            dependencies: [
                "PaymentsServer", "PaymentsAPI", "PaymentNode", "PaymentDevKit", "PaymentsWire", "ReplicaCore",
                "ReplicaStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "NodeIntegrationTests",
            dependencies: [
                "ReplicaCore", "PaymentNode", "PaymentDevKit", "ReplicaTransport", "LZ4", "PaymentsClient",
                "NodeTracing", "PaymentsWire",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
    ]
)
