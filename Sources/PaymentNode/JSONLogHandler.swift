import Foundation
import Logging
import PaymentsWire
import ReplicaCore

/// swift-log handler writing one JSON object per line to standard error, for a log
/// shipper (Loki, Elasticsearch, CloudWatch) to read without parsing text:
/// `{"ts":"2026-11-25T21:58:03.412Z","level":"info","logger":"paynode","msg":"…","region":"eu-west-1",…}`.
/// `ts` is RFC 3339 in UTC with milliseconds; metadata (the region, a request's
/// `request_id`, …) and an event's error (`error.message`, `error.type`) become
/// top-level string fields, sorted by key.
public struct JSONLogHandler: LogHandler {
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
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1_000))
        var line = "{\"ts\":\(JSONString.quote(RFC3339.format(millis: millis)))"
        line += ",\"level\":\(JSONString.quote(event.level.rawValue)),\"logger\":\(JSONString.quote(label))"
        line += ",\"msg\":\(JSONString.quote(event.message.description))"
        for key in fields.keys.sorted() where !["ts", "level", "logger", "msg"].contains(key) {
            line += ",\(JSONString.quote(key)):\(JSONString.quote(fields[key]!.description))"
        }
        write(line + "}\n")
    }

    /// Writes `line` to standard error in one `write(2)` (lines from several threads
    /// never interleave).
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}
