import Foundation
import Logging
import PaymentsWire
import ReplicaCore
import Testing

@testable import PaymentNode

/// The JSON log format: one object per line, RFC 3339 UTC with milliseconds, metadata as
/// top-level fields, text escaped.
@Suite struct JSONLogTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test func eachEventIsOneJSONObjectWithTimestampLevelMessageAndMetadata() throws {
        let lines = Lines()
        var handler = JSONLogHandler(label: "paynode") { lines.append($0) }
        handler.logLevel = .info
        handler[metadataKey: "region"] = "eu-west-1"
        var logger = Logger(label: "paynode") { _ in handler }
        logger[metadataKey: "request_id"] = "abc-1"
        logger.debug("not at this level")
        logger.warning("store failed: \"disk\"\nfull", metadata: ["store.down_ms": "250"])
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "warning" && object["logger"] == "paynode")
        #expect(object["msg"] == "store failed: \"disk\"\nfull")
        #expect(object["region"] == "eu-west-1" && object["request_id"] == "abc-1" && object["store.down_ms"] == "250")
        let ts = try #require(object["ts"])
        #expect(ts.count == 24 && ts.hasSuffix("Z"), "\(ts)")
        let parsed = try #require(ISO8601DateFormatter.withMillis.date(from: ts))
        #expect(abs(parsed.timeIntervalSinceNow) < 60)
    }

    /// An error logged with an event is in its line, as the text format writes it.
    @Test func anEventsErrorBecomesFields() throws {
        struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }
        let lines = Lines()
        let logger = Logger(label: "paynode") { _ in JSONLogHandler(label: "paynode") { lines.append($0) } }
        logger.error("commit failed", error: DiskFull())
        let line = try #require(lines.all.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["error.message"] == "disk full")
        #expect(object["error.type"]?.hasSuffix("DiskFull") == true, "\(object)")
    }

    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(RFC3339.format(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(millis: 1_764_107_883_412) == "2025-11-25T21:58:03.412Z")
    }
}

extension ISO8601DateFormatter {
    static var withMillis: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
