import Foundation
import Logging
import Testing

@testable import PaymentNode

/// The text log format is swift-log's `StreamLogHandler`'s, line for line, though this
/// handler formats metadata only when it writes a line.
@Suite struct TextLogTests {
    /// A stream `StreamLogHandler` can write to, kept for the test to read.
    final class Collected: TextOutputStream, @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func write(_ string: String) { lock.withLock { text += string } }
        var lines: [String] { lock.withLock { text.split(separator: "\n").map(String.init) } }
    }

    /// A line without its leading timestamp (two handlers may write in different seconds).
    static func untimed(_ line: String) -> String { String(line.drop { $0 != " " }) }

    @Test func linesMatchStreamLogHandlerWhateverTheMetadata() throws {
        let theirs = Collected()
        let ours = JSONLogTests.Lines()
        var stream = StreamLogHandler(label: "paynode", stream: theirs, metadataProvider: nil)
        var text = TextLogHandler(label: "paynode") { ours.append($0) }
        stream.logLevel = .info
        text.logLevel = .info
        for handler in [stream as any LogHandler, text] {
            var logger = Logger(label: "paynode") { _ in handler }
            logger[metadataKey: "region"] = "eu-west-1"
            logger[metadataKey: "request_id"] = "abc-1"
            logger[metadataKey: "key_id"] = "ops"
            logger.debug("not at this level")
            logger.info("plain")
            logger.warning("store failed", metadata: ["store.down_ms": "250", "region": "us-east-1"])
            var bare = Logger(label: "paynode") { _ in handler }
            bare.logLevel = .info
            bare.error("no metadata")
        }
        #expect(ours.all.allSatisfy { $0.hasSuffix("\n") && !$0.dropLast().contains("\n") })
        let mine = ours.all.map { String($0.dropLast()) }
        #expect(mine.count == 3 && theirs.lines.count == 3)
        #expect(mine.map(Self.untimed) == theirs.lines.map(Self.untimed))
        let expected =
            " key_id=ops region=us-east-1 request_id=abc-1 store.down_ms=250 [NodeIntegrationTests] store failed"
        #expect(mine[1].contains(expected))
        #expect(mine[0].prefix(while: { $0 != " " }).count == theirs.lines[0].prefix(while: { $0 != " " }).count)
    }
}
