/// A map keyed by region, for the handful of regions a cluster has: the keys sorted in a
/// small array, found by a linear scan (two integer comparisons a key, no hashing).
/// Keys iterate in region order. A value is read and modified in place through the
/// subscript (setting nil removes the key), so mutating one copies none of its arrays.
struct RegionMap<Value> {
    /// The keys, sorted.
    private(set) var keys: [RegionID] = []
    /// `values[i]` is the value of `keys[i]`; nil only inside a modification.
    private var values: [Value?] = []

    init() {}

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }

    private func index(of key: RegionID) -> Int? {
        var i = 0
        while i < keys.count {
            if keys[i] == key { return i }
            i += 1
        }
        return nil
    }

    /// `body` of the value of `key` (nil when absent), read where it is: a value read
    /// through the subscript is copied whole first.
    func withValue<T>(_ key: RegionID, _ body: (borrowing Value) -> T) -> T? {
        guard let i = index(of: key) else { return nil }
        return values.withUnsafeBufferPointer { buffer in
            switch buffer[i] {
            case .some(let value): body(value)
            case .none: nil
            }
        }
    }

    /// Moves the value of `key` out (nil when absent), leaving `key` without one until it is
    /// set again. A copy would share the value's arrays with the map, and changing them
    /// would copy them; a value moved out changes in place. Until it is set back, `key`
    /// reads as absent.
    mutating func take(_ key: RegionID) -> Value? {
        guard let i = index(of: key) else { return nil }
        return values[i].take()
    }

    /// Whether `key` has a value (read through the subscript, the value is copied first).
    func contains(_ key: RegionID) -> Bool { index(of: key) != nil }

    subscript(key: RegionID) -> Value? {
        _read {
            if let i = index(of: key) { yield values[i] } else { yield nil }
        }
        _modify {
            let i: Int
            if let found = index(of: key) {
                i = found
            } else {
                i = keys.firstIndex { key < $0 } ?? keys.count
                keys.insert(key, at: i)
                values.insert(nil, at: i)
            }
            defer {
                if case .none = values[i] {
                    keys.remove(at: i)
                    values.remove(at: i)
                }
            }
            yield &values[i]
        }
    }
}

extension RegionMap: Sendable where Value: Sendable {}

extension RegionMap: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (RegionID, Value)...) {
        for (key, value) in elements { self[key] = value }
    }
}
