import ReplicaCore

/// The list cursor's text, as `GET /v1/payments` gives it (`next_cursor`) and takes it
/// back (`cursor`): `<created ms>_<payment id>`. The one reader and writer of that text.
extension ListCursor {
    /// Reads `text`; nil unless it is 1-15 digits, `_`, and a payment id.
    public init?(text: String) {
        guard let underscore = text.firstIndex(of: "_") else { return nil }
        let millis = text[..<underscore]
        guard (1...15).contains(millis.count), millis.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let created = Int64(millis),
            let id = PaymentID(String(text[text.index(after: underscore)...]))
        else { return nil }
        self.init(createdMillis: created, id: id)
    }

    /// `<created ms>_<payment id>`.
    public var text: String { "\(createdMillis)_\(id.rawValue)" }
}
