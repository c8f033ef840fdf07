/// JSON string literals, for the JSON this package writes by hand rather than through
/// `JSONEncoder` (so field order and number formats stay exactly the contract's): the
/// API's bodies (payments, pages, the change feed, histories, errors), the store's
/// columns that hold JSON, the node's JSON log and the simulator's reports.
public enum JSONString {
    /// `s` as a quoted JSON string, escaping quotes, backslashes and control characters.
    public static func quote(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { return "\"" + s + "\"" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
