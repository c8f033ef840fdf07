import Yams

/// A YAML mapping read key by key with typed accessors; every error names the file and
/// the dotted key, and `finish()` rejects keys nobody asked for (a typo is an error, not
/// a silently ignored setting).
final class YAMLSection {
    let file: String
    let path: String
    private var values: [String: Node] = [:]
    private var order: [String] = []
    private var used: Set<String> = []

    init(file: String, path: String, node: Node?) throws(NodeConfigError) {
        self.file = file
        self.path = path
        guard let node else { return }
        guard let mapping = node.mapping else {
            throw NodeConfigError(file: file, key: path, problem: "expected a mapping of keys to values")
        }
        for (key, value) in mapping {
            guard let name = key.string else {
                throw NodeConfigError(file: file, key: path, problem: "keys must be strings")
            }
            if values[name] != nil {
                throw NodeConfigError(file: file, key: qualified(name), problem: "appears twice")
            }
            values[name] = value
            order.append(name)
        }
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ problem: String) -> NodeConfigError {
        NodeConfigError(file: file, key: qualified(key), problem: problem)
    }

    /// Keys present, in file order.
    var keys: [String] { order }

    func node(_ key: String) -> Node? {
        used.insert(key)
        return values[key]
    }

    func string(_ key: String) throws(NodeConfigError) -> String? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else { throw error(key, "expected a string") }
        return scalar.string
    }

    func requiredString(_ key: String) throws(NodeConfigError) -> String {
        guard let value = try string(key), !value.isEmpty else { throw error(key, "is required") }
        return value
    }

    func integer(_ key: String, in range: ClosedRange<Int64>) throws(NodeConfigError) -> Int64? {
        guard let node = node(key) else { return nil }
        guard let text = node.scalar?.string, let value = Int64(text) else { throw error(key, "expected an integer") }
        guard range.contains(value) else {
            throw error(key, "\(value) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return value
    }

    func strings(_ key: String) throws(NodeConfigError) -> [String]? {
        guard let node = node(key) else { return nil }
        guard let sequence = node.sequence else { throw error(key, "expected a list of strings") }
        var result: [String] = []
        for item in sequence {
            guard let s = item.scalar?.string else { throw error(key, "expected a list of strings") }
            result.append(s)
        }
        return result
    }

    func section(_ key: String) throws(NodeConfigError) -> YAMLSection {
        try YAMLSection(file: file, path: qualified(key), node: node(key))
    }

    /// Throws on the first key that was never read.
    func finish() throws(NodeConfigError) {
        for key in order where !used.contains(key) {
            throw error(key, "unknown setting")
        }
    }
}
