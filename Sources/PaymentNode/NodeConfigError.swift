/// A configuration problem, naming the file, the key and what is wrong with it:
/// `config/us-east-1.yaml: tls.ca: file not found: config/dev/certs/ca.pem`.
public struct NodeConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public let file: String
    /// Dotted key path (`tuning.batch_entries_max`), or empty for the file as a whole.
    public let key: String
    public let problem: String

    public init(file: String, key: String, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var description: String { key.isEmpty ? "\(file): \(problem)" : "\(file): \(key): \(problem)" }
}
