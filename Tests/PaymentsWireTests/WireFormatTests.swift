import PaymentsWire
import ReplicaCore
import Testing

/// The session token, the list cursor's text and a field value's JSON, as PaymentsWire
/// writes and reads them (the API's answers to bad ones: `PaymentRequestsTests`, `RouteTests`).
struct WireFormatTests {
    @Test func sessionTokensRoundTripAndSayWhyTheyAreRefused() throws {
        let vector = VersionVector([RegionID("us-east-1")!: 5, RegionID("eu-west-1")!: 7])
        #expect(SessionToken.format(vector) == "eu-west-1:7,us-east-1:5")
        #expect(try SessionToken.parse("eu-west-1:7,us-east-1:5") == vector)
        #expect(SessionToken.format(VersionVector()) == "", "a client that has not written sends none")
        #expect(throws: SessionToken.ParseError.malformed) { try SessionToken.parse("") }
        #expect(throws: SessionToken.ParseError.malformed) { try SessionToken.parse("us-east-1:") }
        let long = String(repeating: "a", count: SessionToken.bytesMax + 1)
        #expect(throws: SessionToken.ParseError.tooLong) { try SessionToken.parse(long) }
    }

    @Test func listCursorsRoundTripAndRefuseWhatTheyDidNotWrite() {
        let id = PaymentID.derived(merchantID: "m", idempotencyKey: "k")
        let cursor = ListCursor(createdMillis: 1_764_107_883_412, id: id)
        #expect(cursor.text == "1764107883412_\(id.rawValue)")
        #expect(ListCursor(text: cursor.text) == cursor)
        for bad in [
            "", "_", "1764107883412", "_\(id.rawValue)", "12a_\(id.rawValue)", "1234567890123456_\(id.rawValue)",
            "-1_\(id.rawValue)", "1_pay_short",
        ] {
            #expect(ListCursor(text: bad) == nil, "\(bad)")
        }
    }

    @Test func fieldValuesAsJSON() {
        #expect(PaymentJSON.value(.absent) == "null")
        #expect(PaymentJSON.value(.integer(-12)) == "-12")
        #expect(PaymentJSON.value(.text("a\"b\\c\n\u{1}")) == #""a\"b\\c\n\u0001""#)
        let pairs = [MetadataPair(key: "b", value: "2"), MetadataPair(key: "a", value: "\"")]
        #expect(PaymentJSON.value(.metadata(pairs)) == #"{"b":"2","a":"\""}"#, "in the pairs' order")
        #expect(PaymentJSON.metadata(pairs) == PaymentJSON.value(.metadata(pairs)))
        #expect(PaymentJSON.optional(nil) == "null" && PaymentJSON.optional("x") == #""x""#)
    }

    @Test func aChangesFieldsLeaveTheRequestFingerprintOut() {
        let entry = LogEntry(
            origin: RegionID("us-east-1")!, seq: 1, hlc: HLCTimestamp(wallMillis: 1, counter: 0),
            paymentID: PaymentID.derived(merchantID: "m", idempotencyKey: "k"),
            changes: [
                FieldChange(field: .status, value: .text("authorized"), base: nil),
                FieldChange(field: .requestFingerprint, value: .text("f"), base: nil),
                FieldChange(field: .amount, value: .integer(5), base: nil),
            ])
        #expect(PaymentJSON.changes(entry) == #"{"status":"authorized","amount":5}"#)
    }

    /// A payment's JSON, byte for byte: every field in the contract's order, what must
    /// be escaped escaped (a NUL included), absent optionals as null.
    @Test func aPaymentsJSON_isTheContracts() throws {
        let region = RegionID("eu-west-1")!
        func payment(_ create: CreatePayment) throws -> Payment {
            let id = PaymentID.derived(merchantID: create.merchantID, idempotencyKey: "k")
            var record = PaymentRecord(id: id)
            let stamp = Stamp(time: HLCTimestamp(wallMillis: 1_764_000_000_123, counter: 7), region: region)
            for (field, value) in create.fieldValues + [(.requestFingerprint, .text(create.fingerprint))] {
                record.merge(FieldRegister(value: value, stamp: stamp, base: nil), into: field)
            }
            return try #require(Payment(record))
        }
        let full = try payment(
            CreatePayment(
                merchantID: "m_1", orderID: "o-1", amount: 1250, currency: "EUR", method: .bankTransfer,
                paymentKey: "pk", customerID: "c\"1", description: "line\nbreak é \u{0}",
                metadata: ["a": "1", "b": "\"q\""]))
        let id = full.id.rawValue
        #expect(
            PaymentJSON.payment(full)
                == #"{"id":"\#(id)","merchant_id":"m_1","order_id":"o-1","amount":1250,"currency":"EUR","#
                + #""method":"bank_transfer","status":"pending","payment_key":"pk","customer_id":"c\"1","#
                + #""description":"line\nbreak é \u0000","metadata":{"a":"1","b":"\"q\""},"#
                + #""created_at":"2025-11-24T16:00:00.123Z","updated_at":"2025-11-24T16:00:00.123Z","#
                + #""region":"eu-west-1","version":"1764000000123.7"}"#)
        let bare = try payment(
            CreatePayment(
                merchantID: "m_2", orderID: "o-2", amount: 1, currency: "JPY", method: .card, paymentKey: nil,
                customerID: nil, description: nil, metadata: nil))
        #expect(
            PaymentJSON.payment(bare).contains(
                #""payment_key":null,"customer_id":null,"description":null,"metadata":null,"#))
    }
}
