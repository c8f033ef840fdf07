import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PaymentsAPI
import ReplicaCore
import Synchronization

/// Keys, requests and captured log lines for the access-control tests.
enum Access {
    /// A key `id` whose secret is `secret-<id>`.
    static func key(
        _ id: String, _ scopes: Set<APIScope>, merchants: Set<String>? = nil, expiresAtMillis: UInt64? = nil,
        ratePerSecond: Double? = nil, burst: Int? = nil, streamsMax: Int = APIKey.streamsMaxDefault
    ) -> APIKey {
        APIKey(
            id: id, sha256: SHA256.hash(Array("secret-\(id)".utf8)), scopes: scopes, merchants: merchants,
            expiresAtMillis: expiresAtMillis, ratePerSecond: ratePerSecond, burst: burst, streamsMax: streamsMax)
    }

    /// The headers of a request made with key `id` (`contentType` JSON).
    static func headers(_ id: String, _ extra: HTTPFields = [:]) -> HTTPFields {
        var fields: HTTPFields = [.authorization: "Bearer secret-\(id)", .contentType: "application/json"]
        fields.append(contentsOf: extra)
        return fields
    }

    /// The router over `service`, with its log lines captured in `logs`.
    static func withRouter(
        _ service: InMemoryPaymentService, logs: LogCapture = LogCapture(),
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = Application(router: PaymentsRouter.router(service), logger: logs.logger)
        try await app.test(.router) { client in try await body(client) }
    }

    /// Creates a payment of `merchant` with the dev key; its id.
    static func create(_ merchant: String, order: String, on client: any TestClientProtocol) async throws -> String {
        let body = ByteBuffer(
            string:
                #"{"merchant_id":"\#(merchant)","order_id":"\#(order)","amount":100,"currency":"EUR","method":"card"}"#)
        let response = try await client.execute(
            uri: "/v1/payments", method: .post, headers: RouteTests.devHeaders, body: body)
        guard response.status == .created, let id = RouteTests.json(response)["id"] as? String else {
            throw Unexpected(description: "create for \(merchant): \(response.status) \(String(buffer: response.body))")
        }
        return id
    }

    /// The `error` object of a JSON error body.
    static func error(_ response: TestResponse) -> [String: String] {
        (RouteTests.json(response)["error"] as? [String: String]) ?? [:]
    }

    /// The data rows of a page.
    static func rows(_ response: TestResponse) -> [[String: Any]] {
        RouteTests.json(response)["data"] as? [[String: Any]] ?? []
    }

    struct Unexpected: Error, CustomStringConvertible {
        let description: String
    }
}

extension RouteTests {
    /// The development key's headers (every scope).
    static let devHeaders: HTTPFields = [.authorization: "Bearer paynode-dev-key", .contentType: "application/json"]
}

/// A logger whose lines (message and metadata, flattened to text) are kept in memory.
final class LogCapture: Sendable {
    private let captured = Mutex<[String]>([])

    var lines: [String] { captured.withLock { $0 } }

    var logger: Logger {
        Logger(label: "paynode-test") { _ in Handler(capture: self) }
    }

    fileprivate func append(_ line: String) { captured.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
            let fields = all.keys.sorted().map { "\($0)=\(all[$0]!)" }.joined(separator: " ")
            capture.append("\(event.message) \(fields)")
        }
    }
}
