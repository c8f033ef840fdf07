import Foundation
import Logging

/// swift-log handler writing one text line per event to standard error, in the format of
/// swift-log's `StreamLogHandler`:
/// `2026-11-25T21:58:03+0000 info paynode: region=eu-west-1 request_id=… [PaymentNode] message`.
///
/// The one difference is when the metadata is formatted: `StreamLogHandler` sorts and
/// formats all of a logger's metadata every time a key is set, and the API sets three per
/// request (Hummingbird's request id, `key_id`, `request_id`), which was 5% of a node's
/// time serving reads, for lines mostly never written. This handler formats metadata when
/// it writes a line, and only then.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let write: @Sendable (String) -> Void

    /// A handler for `label` writing to standard error (or to `write`, in tests).
    public init(label: String, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = event.fields(over: metadata)
        var line = Self.timestamp() + " \(event.level)" + (label.isEmpty ? "" : " ") + label + ":"
        for key in fields.keys.sorted() { line += " \(key)=\(fields[key]!)" }
        line += " [\(event.source)] \(event.message)\n"
        write(line)
    }

    /// Local time to the second with its offset, as `StreamLogHandler` writes it.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension LogEvent {
    /// What a line shows: a handler's metadata, this event's own over it, and its error
    /// as `error.message` and `error.type` (as swift-log's `StreamLogHandler` writes it).
    /// Both of the node's formats write these.
    func fields(over base: Logger.Metadata) -> Logger.Metadata {
        var fields = base
        if let extra = metadata { fields.merge(extra) { $1 } }
        if let error {
            fields["error.message"] = "\(error)"
            fields["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return fields
    }
}
