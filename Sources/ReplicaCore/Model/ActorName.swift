/// Who made a change: the id of the API key a client write came with, replicated with the
/// change so that every region can say who changed a payment (never the key itself).
/// 1-64 characters of `A-Z a-z 0-9 _ . -`: it is shown in logs, metrics labels and JSON
/// unescaped, and a peer's value is checked against the same rule.
public enum ActorName {
    /// The longest actor name, in bytes.
    public static let bytesMax = 64

    /// Why `name` cannot be an actor name (nil when it can).
    public static func problem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= bytesMax else { return "an actor name is 1-\(bytesMax) characters" }
        guard name.utf8.allSatisfy(isAllowed) else { return "an actor name is made of A-Z, a-z, 0-9, _, . and -" }
        return nil
    }

    static func isAllowed(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E
            || c == 0x2D
    }
}
