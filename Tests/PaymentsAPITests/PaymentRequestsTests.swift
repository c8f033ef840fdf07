import Foundation
import HTTPTypes
import PaymentsWire
import ReplicaCore
import XCTest

@testable import PaymentsAPI

/// Request bodies to engine commands, session tokens, RFC 3339 times and error bodies.
final class PaymentRequestsTests: XCTestCase {
    static let fullCreate = #"""
        {"merchant_id":"m_1","order_id":"1001","amount":1250,"currency":"EUR","method":"card",
         "payment_key":"tok_1","customer_id":"cus_1","description":"Order 1001","metadata":{"channel":"web","cart":"c-9"}}
        """#

    func json(_ text: String) throws -> JSONValue { try PaymentRequests.parseBody(Array(text.utf8)) }

    func create(_ text: String) throws -> CreatePayment { try PaymentRequests.create(json(text)) }
    func patch(_ text: String) throws -> PaymentPatch { try PaymentRequests.patch(json(text)) }

    /// Asserts `body` throws an APIError with this status, field and (optionally) code.
    func assertAPIError(
        _ body: @autoclosure () throws -> Any, status: Int, field: String?, code: String? = nil,
        _ label: String = "", file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), label, file: file, line: line) { error in
            guard let error = error as? APIError else {
                return XCTFail("\(label): not an APIError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.status.code, status, "\(label): \(error)", file: file, line: line)
            XCTAssertEqual(error.field, field, "\(label): \(error)", file: file, line: line)
            if let code { XCTAssertEqual(error.code, code, "\(label): \(error)", file: file, line: line) }
        }
    }

    /// The full create body with `key` replaced by `value` (raw JSON), or removed when nil.
    func createBody(_ key: String, _ value: String?) -> String {
        var fields = [
            ("merchant_id", #""m_1""#), ("order_id", #""1001""#), ("amount", "1250"), ("currency", #""EUR""#),
            ("method", #""card""#),
        ].filter { $0.0 != key }
        if let value { fields.append((key, value)) }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    // MARK: Create

    func testFullCreateBody() throws {
        XCTAssertEqual(
            try create(Self.fullCreate),
            CreatePayment(
                merchantID: "m_1", orderID: "1001", amount: 1_250, currency: "EUR", method: .card, paymentKey: "tok_1",
                customerID: "cus_1", description: "Order 1001", metadata: ["channel": "web", "cart": "c-9"]))
    }

    func testMinimalCreateBodyAndNulls() throws {
        let minimal = try create(createBody("method", #""bank_transfer""#))
        XCTAssertEqual(
            minimal,
            CreatePayment(
                merchantID: "m_1", orderID: "1001", amount: 1_250, currency: "EUR",
                method: .bankTransfer))
        let nulls = try create(
            #"{"merchant_id":"m","order_id":"o","amount":1,"currency":"USD","method":"card","#
                + #""payment_key":null,"customer_id":null,"description":null,"metadata":null}"#)
        XCTAssertNil(nulls.paymentKey)
        XCTAssertNil(nulls.customerID)
        XCTAssertNil(nulls.description)
        XCTAssertNil(nulls.metadata)
    }

    func testNonIntegerAmountsAreRefused() {
        for amount in ["12.5", "-0.5", #""12""#, "true", "[12]", "{}", "99999999999999999999", "1e-1"] {
            assertAPIError(
                try create(createBody("amount", amount)), status: 422, field: "amount", code: "invalid_field", amount)
        }
        assertAPIError(try create(createBody("amount", nil)), status: 422, field: "amount", "missing")
        assertAPIError(try create(createBody("amount", "null")), status: 422, field: "amount", "null")
    }

    /// README "HTTP API": "a literal that is exactly an integer (`1250.0`) is that integer".
    func testAmountLiteralsThatAreExactlyIntegersAreAccepted() throws {
        XCTAssertEqual(try create(createBody("amount", "12.0")).amount, 12)
        XCTAssertEqual(try create(createBody("amount", "1e3")).amount, 1_000)
        XCTAssertEqual(try create(createBody("amount", "1250.00")).amount, 1_250)
    }

    func testMissingOrMistypedRequiredFields() {
        for key in ["merchant_id", "order_id", "currency", "method"] {
            assertAPIError(
                try create(createBody(key, nil)), status: 422, field: key, code: "invalid_field", "missing \(key)")
            assertAPIError(
                try create(createBody(key, "7")), status: 422, field: key, code: "invalid_field", "\(key): 7")
        }
        assertAPIError(
            try create(createBody("merchant_id", "null")), status: 422, field: "merchant_id", "null merchant_id")
        assertAPIError(try create(createBody("description", "5")), status: 422, field: "description", "description: 5")
        assertAPIError(try create(createBody("payment_key", "false")), status: 422, field: "payment_key", "payment_key")
    }

    func testUnknownFieldIsNamed() {
        assertAPIError(try create(createBody("colour", #""red""#)), status: 422, field: "colour", code: "invalid_field")
        // Even a field a patch could name is unknown to a create.
        assertAPIError(try create(createBody("status", #""pending""#)), status: 422, field: "status")
    }

    func testUnknownMethodIsRefused() {
        assertAPIError(
            try create(createBody("method", #""cash""#)), status: 422, field: "method", code: "invalid_field")
        assertAPIError(try create(createBody("method", #""Card""#)), status: 422, field: "method")
    }

    func testMetadataMustBeAnObjectOfStrings() {
        assertAPIError(try create(createBody("metadata", #"{"a":"1","b":2}"#)), status: 422, field: "metadata")
        assertAPIError(try create(createBody("metadata", #"{"a":null}"#)), status: 422, field: "metadata")
        assertAPIError(try create(createBody("metadata", #"["a"]"#)), status: 422, field: "metadata")
        assertAPIError(try create(createBody("metadata", #""a=1""#)), status: 422, field: "metadata")
    }

    func testBodyThatIsNotAnObjectIsA400() {
        for body in ["[]", #"[{"merchant_id":"m"}]"#, #""text""#, "12", "null"] {
            assertAPIError(try create(body), status: 400, field: nil, code: "malformed_request", body)
            assertAPIError(try patch(body), status: 400, field: nil, code: "malformed_request", body)
        }
    }

    /// Whatever PaymentsWire's parser refuses is a 400 `malformed_request` naming the byte.
    func testBodyThatIsNotJSONIsA400() throws {
        for body in ["", "{bad", #"{"a":1,"a":2}"#, "{} x"] {
            assertAPIError(try create(body), status: 400, field: nil, code: "malformed_request", body)
        }
        XCTAssertThrowsError(try json("{bad")) { error in
            XCTAssertEqual((error as? APIError)?.message, "the body is not valid JSON (at byte 1)")
        }
    }

    // MARK: Patch

    func testPatchStatus() throws {
        XCTAssertEqual(try patch(#"{"status":"authorized"}"#), PaymentPatch(status: .authorized))
        XCTAssertEqual(
            try patch(#"{"status":"refunded","description":"late"}"#),
            PaymentPatch(status: .refunded, description: .set("late")))
    }

    func testPatchNullClearsAndValuesSet() throws {
        XCTAssertEqual(try patch(#"{"payment_key":null}"#), PaymentPatch(paymentKey: .clear))
        XCTAssertEqual(try patch(#"{"payment_key":"tok_2"}"#), PaymentPatch(paymentKey: .set("tok_2")))
        XCTAssertEqual(try patch(#"{"description":null}"#), PaymentPatch(description: .clear))
        XCTAssertEqual(try patch(#"{"metadata":null}"#), PaymentPatch(metadata: .clear))
        XCTAssertEqual(try patch(#"{"metadata":{"k":"v"}}"#), PaymentPatch(metadata: .set(["k": "v"])))
        XCTAssertEqual(try patch(#"{"metadata":{}}"#), PaymentPatch(metadata: .set([:])))
    }

    func testPatchOfAnImmutableFieldIsNamed() {
        for key in ["amount", "merchant_id", "currency", "id", "created_at", "region"] {
            assertAPIError(try patch("{\"\(key)\":1}"), status: 422, field: key, code: "immutable_field", key)
        }
        assertAPIError(
            try patch(#"{"status":"completed","amount":5}"#), status: 422, field: "amount", code: "immutable_field")
    }

    func testInvalidPatches() {
        assertAPIError(try patch("{}"), status: 422, field: "status", code: "invalid_field", "empty patch")
        assertAPIError(try patch(#"{"status":"settled"}"#), status: 422, field: "status", code: "invalid_field")
        assertAPIError(try patch(#"{"status":null}"#), status: 422, field: "status")
        assertAPIError(try patch(#"{"status":1}"#), status: 422, field: "status")
        assertAPIError(try patch(#"{"colour":"red"}"#), status: 422, field: "colour", code: "invalid_field")
        assertAPIError(try patch(#"{"payment_key":5}"#), status: 422, field: "payment_key")
        assertAPIError(try patch(#"{"metadata":{"k":1}}"#), status: 422, field: "metadata")
    }

    // MARK: Session tokens

    func testSessionTokenRoundTrips() throws {
        let tokyo = RegionID("ap-northeast-1")!
        let virginia = RegionID("us-east-1")!
        let ireland = RegionID("eu-west-1")!
        let vector = VersionVector([virginia: 5, tokyo: 7, ireland: UInt64.max])
        let text = SessionToken.format(vector)
        XCTAssertEqual(text, "ap-northeast-1:7,eu-west-1:18446744073709551615,us-east-1:5")
        XCTAssertEqual(try SessionToken.parse(text), vector)
        XCTAssertEqual(try SessionToken.parse("us-east-1:1"), VersionVector([virginia: 1]))
    }

    func testMalformedSessionTokensAreA400() {
        for text in [
            "x", "us-east-1:", "UPPER:1", "", ":1", "us-east-1:1,", ",us-east-1:1", "us-east-1:-1", "us-east-1:+1",
            "us-east-1:1:2", "us-east-1: 1", "us-east-1:18446744073709551616", "us-east-1:0x1",
        ] {
            assertAPIError(try SessionToken.header(text), status: 400, field: nil, code: "invalid_session_token", text)
        }
        assertAPIError(
            try SessionToken.header(String(repeating: "a", count: 5_000)), status: 400, field: nil,
            code: "malformed_request", "too long")
    }

    /// SessionToken.parse documents "a region named twice counts with its highest seq".
    func testRegionNamedTwiceKeepsItsHighestSeq() throws {
        XCTAssertEqual(try SessionToken.parse("us-east-1:1,us-east-1:2"), VersionVector([RegionID("us-east-1")!: 2]))
        XCTAssertEqual(try SessionToken.parse("us-east-1:9,us-east-1:2"), VersionVector([RegionID("us-east-1")!: 9]))
    }

    // MARK: Error bodies

    func testPaymentErrorStatuses() {
        let cases: [(PaymentError.Code, Int)] = [
            (.invalidField, 422), (.immutableField, 422), (.invalidStatusTransition, 409),
            (.idempotencyKeyReused, 409), (.notFound, 404), (.regionRecovering, 503),
            (.clockOutOfBound, 503),
        ]
        for (code, status) in cases {
            let error = APIError(PaymentError(code, "why", field: "f"))
            XCTAssertEqual(error.status.code, status, code.rawValue)
            XCTAssertEqual(error.code, code.rawValue)
            XCTAssertEqual(error.message, "why")
            XCTAssertEqual(error.field, "f")
        }
    }

    func errorObject(_ error: APIError) throws -> [String: Any] {
        let top = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(error.json.utf8)) as? [String: Any])
        XCTAssertEqual(Set(top.keys), ["error"])
        return try XCTUnwrap(top["error"] as? [String: Any])
    }

    func testErrorBodyShape() throws {
        let withField = try errorObject(
            APIError(PaymentError(.immutableField, "amount \"cannot\" change\n", field: "amount")))
        XCTAssertEqual(Set(withField.keys), ["code", "message", "field"])
        XCTAssertEqual(withField["code"] as? String, "immutable_field")
        XCTAssertEqual(withField["message"] as? String, "amount \"cannot\" change\n")
        XCTAssertEqual(withField["field"] as? String, "amount")

        let without = try errorObject(APIError(PaymentError(.notFound, "no payment pay_x")))
        XCTAssertEqual(Set(without.keys), ["code", "message"])
        XCTAssertEqual(without["code"] as? String, "not_found")
        XCTAssertEqual(without["message"] as? String, "no payment pay_x")
    }
}
