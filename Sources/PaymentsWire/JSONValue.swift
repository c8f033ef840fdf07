/// A parsed JSON document. Integers stay apart from numbers with a fractional part, so an
/// amount like `12.5` is refused, never rounded: money is integers on the wire. A literal
/// that denotes an integer exactly (`12.0`, `1e3`, as JSON Schema's `integer` allows) is
/// that integer, worked out on its digits. Nesting deeper than `depthMax` and duplicate keys are
/// refused too. The API reads request bodies with it (a body it refuses is a 400).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A number with a fractional part, or outside Int64 (kept as text).
    case nonInteger(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The deepest nesting read (arrays and objects inside one another).
    public static let depthMax = 32

    /// Parses a whole document (surrounding white space allowed, nothing after it).
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == bytes.count else { throw ParseError(at: parser.at) }
        return value
    }

    /// What the value is, as a refusal names it (`an integer`, `a string`, ...).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .nonInteger: "a number with a fractional part (or beyond 64 bits)"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// Text that is not a JSON document (or nests too deep, or repeats a key).
    public struct ParseError: Error, Sendable, Equatable {
        /// The byte offset where reading stopped.
        public let at: Int
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
        }

        mutating func expect(_ literal: String) throws(ParseError) {
            for b in literal.utf8 {
                guard at < bytes.count, bytes[at] == b else { throw ParseError(at: at) }
                at += 1
            }
        }

        mutating func value(depth: Int) throws(ParseError) -> JSONValue {
            guard depth <= JSONValue.depthMax, at < bytes.count else { throw ParseError(at: at) }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            default: return try number()
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> JSONValue {
            at += 1
            var fields: [String: JSONValue] = [:]
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
                at += 1
                return .object(fields)
            }
            while true {
                skipSpace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw ParseError(at: at) }
                let keyAt = at
                let key = try string()
                skipSpace()
                try expect(":")
                skipSpace()
                guard fields[key] == nil else { throw ParseError(at: keyAt) }
                fields[key] = try value(depth: depth + 1)
                skipSpace()
                guard at < bytes.count else { throw ParseError(at: at) }
                if bytes[at] == UInt8(ascii: ",") {
                    at += 1
                    continue
                }
                if bytes[at] == UInt8(ascii: "}") {
                    at += 1
                    return .object(fields)
                }
                throw ParseError(at: at)
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> JSONValue {
            at += 1
            var items: [JSONValue] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
                at += 1
                return .array(items)
            }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw ParseError(at: at) }
                if bytes[at] == UInt8(ascii: ",") {
                    at += 1
                    continue
                }
                if bytes[at] == UInt8(ascii: "]") {
                    at += 1
                    return .array(items)
                }
                throw ParseError(at: at)
            }
        }

        mutating func number() throws(ParseError) -> JSONValue {
            let start = at
            var integral = true
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard at < bytes.count, isDigit(bytes[at]) else { throw ParseError(at: at) }
            if bytes[at] == UInt8(ascii: "0") {
                at += 1
            } else {
                while at < bytes.count, isDigit(bytes[at]) { at += 1 }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                integral = false
                at += 1
                guard at < bytes.count, isDigit(bytes[at]) else { throw ParseError(at: at) }
                while at < bytes.count, isDigit(bytes[at]) { at += 1 }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                integral = false
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard at < bytes.count, isDigit(bytes[at]) else { throw ParseError(at: at) }
                while at < bytes.count, isDigit(bytes[at]) { at += 1 }
            }
            let text = String(decoding: bytes[start..<at], as: UTF8.self)
            if integral, let n = Int64(text) { return .integer(n) }
            if !integral, let n = Self.exactInteger(text) { return .integer(n) }
            return .nonInteger(text)
        }

        /// The integer a number literal like `12.0`, `1.5e3` or `1e3` denotes exactly, if it
        /// denotes one within Int64 (worked out on the digits, never through a Double).
        static func exactInteger(_ literal: String) -> Int64? {
            var text = Substring(literal)
            let negative = text.hasPrefix("-")
            if negative { text = text.dropFirst() }
            var exponent = 0
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                guard let x = Int(text[text.index(after: e)...]), abs(x) <= 40 else { return nil }
                exponent = x
                text = text[..<e]
            }
            let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
            var digits = String(pieces[0])
            if pieces.count == 2 {
                digits += pieces[1]
                exponent -= pieces[1].count
            }
            if digits.allSatisfy({ $0 == "0" }) { return 0 }
            if exponent < 0 {
                let dropped = digits.suffix(min(-exponent, digits.count))
                guard dropped.allSatisfy({ $0 == "0" }), -exponent <= digits.count else { return nil }
                digits = String(digits.dropLast(-exponent))
            } else {
                digits += String(repeating: "0", count: exponent)
            }
            if digits.isEmpty { digits = "0" }
            return Int64((negative ? "-" : "") + digits)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        mutating func string() throws(ParseError) -> String {
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let b = bytes[at]
                if b == UInt8(ascii: "\"") {
                    at += 1
                    guard let s = String(validating: out, as: UTF8.self) else { throw ParseError(at: at) }
                    return s
                }
                guard b >= 0x20 else { throw ParseError(at: at) }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    at += 1
                    continue
                }
                at += 1
                guard at < bytes.count else { throw ParseError(at: at) }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        try expect("\\u")
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw ParseError(at: at) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw ParseError(at: at) }
                    out += Array(String(Character(u)).utf8)
                default: throw ParseError(at: at - 1)
                }
            }
            throw ParseError(at: at)
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            guard at + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
            else {
                throw ParseError(at: at)
            }
            at += 4
            return v
        }
    }
}
