import PaymentsWire
import XCTest

/// The strict JSON parser request bodies go through (the API answers what it refuses
/// with a 400 `malformed_request`: `PaymentRequestsTests`).
final class JSONValueTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    /// Asserts `bytes` is refused, at a byte inside them (or just past the end).
    func assertRefused(_ bytes: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONValue.parse(bytes), label, file: file, line: line) { error in
            guard let error = error as? JSONValue.ParseError else {
                return XCTFail("\(label): not a JSONValue.ParseError: \(error)", file: file, line: line)
            }
            XCTAssertTrue((0...bytes.count).contains(error.at), label, file: file, line: line)
        }
    }

    func assertRefused(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRefused(Array(text.utf8), text, file: file, line: line)
    }

    // MARK: Values

    func testObjectsArraysAndNesting() throws {
        XCTAssertEqual(try parse("{}"), .object([:]))
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(
            try parse(#" { "a" : 1 , "b" : [ true , false , null ] } "#),
            .object(["a": .integer(1), "b": .array([.bool(true), .bool(false), .null])]))
        XCTAssertEqual(
            try parse(#"{"outer":{"inner":{"list":[{"x":"y"},[],{}]}}}"#),
            .object([
                "outer": .object([
                    "inner": .object([
                        "list": .array([
                            .object(["x": .string("y")]), .array([]),
                            .object([:]),
                        ])
                    ])
                ])
            ]))
        XCTAssertEqual(try parse("\t\r\n[1,\n2]\n"), .array([.integer(1), .integer(2)]))
    }

    func testLiterals() throws {
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("null"), .null)
        assertRefused("tru")
        assertRefused("nul")
        assertRefused("True")
    }

    func testStringsWithEscapes() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\n\t\r\b\f""#), .string("a\"b\\c/d\n\t\r\u{08}\u{0C}"))
        XCTAssertEqual(try parse(#""caf\u00e9""#), .string("café"))
        XCTAssertEqual(try parse(#""\u00E9""#), .string("é"))
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse(#""x\uD83D\uDE00y""#), .string("x😀y"))
        XCTAssertEqual(try parse("\"naïve ☕\""), .string("naïve ☕"), "raw UTF-8 passes through")
        XCTAssertEqual(try parse(#""""#), .string(""))
    }

    func testIntegers() throws {
        XCTAssertEqual(try parse("0"), .integer(0))
        XCTAssertEqual(try parse("1250"), .integer(1_250))
        XCTAssertEqual(try parse("-42"), .integer(-42))
        XCTAssertEqual(try parse("9223372036854775807"), .integer(.max))
        XCTAssertEqual(try parse("-9223372036854775808"), .integer(.min))
    }

    func testNumbersWithAFractionOrBeyond64BitsAreNonInteger() throws {
        XCTAssertEqual(try parse("12.5"), .nonInteger("12.5"))
        XCTAssertEqual(try parse("-0.5"), .nonInteger("-0.5"))
        XCTAssertEqual(try parse("1e-1"), .nonInteger("1e-1"))
        XCTAssertEqual(try parse("9223372036854775808"), .nonInteger("9223372036854775808"))
        XCTAssertEqual(try parse("-9223372036854775809"), .nonInteger("-9223372036854775809"))
        XCTAssertEqual(try parse("1e40"), .nonInteger("1e40"))
        XCTAssertEqual(try parse("[12.25]"), .array([.nonInteger("12.25")]))
    }

    /// Documented (JSONValue, README "HTTP API"): a literal that denotes an integer exactly
    /// is that integer, worked out on its digits.
    func testLiteralsThatAreExactlyIntegersAreIntegers() throws {
        XCTAssertEqual(try parse("12.0"), .integer(12))
        XCTAssertEqual(try parse("1250.000"), .integer(1_250))
        XCTAssertEqual(try parse("1e3"), .integer(1_000))
        XCTAssertEqual(try parse("1E+3"), .integer(1_000))
        XCTAssertEqual(try parse("1.5e3"), .integer(1_500))
        XCTAssertEqual(try parse("-2.50e1"), .integer(-25))
        XCTAssertEqual(try parse("1200e-2"), .integer(12))
        XCTAssertEqual(try parse("9.223372036854775807e18"), .integer(.max))
        XCTAssertEqual(try parse("9.223372036854775808e18"), .nonInteger("9.223372036854775808e18"))
    }

    // MARK: Refusals

    func testNotJSONIsA400() {
        assertRefused("")
        assertRefused("   ")
        assertRefused("{bad")
        assertRefused("{")
        assertRefused("[1,]")
        assertRefused(#"{"a":1,}"#)
        assertRefused(#"{"a" 1}"#)
        assertRefused("{a:1}")
        assertRefused("'x'")
        assertRefused(#""unterminated"#)
    }

    func testTrailingGarbageIsRefused() {
        assertRefused("{} x")
        assertRefused("{}{}")
        assertRefused("1 2")
        assertRefused("[] ,")
    }

    func testDuplicateKeysAreRefused() {
        assertRefused(#"{"a":1,"a":2}"#)
        assertRefused(#"{"a":null,"a":null}"#)
        assertRefused(#"{"o":{"k":"v","k":"v"}}"#)
        XCTAssertNoThrow(try parse(#"{"a":{"a":1}}"#), "the same key at two levels is fine")
    }

    func testMalformedNumbersAreRefused() {
        for text in ["01", "-01", "00", "[01]", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "--1"] {
            assertRefused(text)
        }
    }

    func testRawControlCharactersInStringsAreRefused() {
        assertRefused([0x22, 0x61, 0x0A, 0x62, 0x22], "raw newline")
        assertRefused([0x22, 0x09, 0x22], "raw tab")
        assertRefused([0x22, 0x00, 0x22], "raw NUL")
        assertRefused([0x7B, 0x22, 0x1F, 0x22, 0x3A, 0x31, 0x7D], "raw control char in a key")
        XCTAssertEqual(try JSONValue.parse([0x22, 0x7F, 0x22]), .string("\u{7F}"), "DEL is not a control char in JSON")
    }

    func testBadEscapesAndBadUTF8AreRefused() {
        assertRefused(#""\x""#)
        assertRefused(#""\u00""#)
        assertRefused(#""\u00zz""#)
        assertRefused(#""\""#)
        assertRefused([0x22, 0xFF, 0x22], "invalid UTF-8")
        assertRefused([0x22, 0xC3, 0x22], "truncated UTF-8 sequence")
    }

    func testLoneSurrogatesAreRefused() {
        assertRefused(#""\ud83d""#)
        assertRefused(#""\ud83dx""#)
        assertRefused(#""\ud83d\u0041""#)
        assertRefused(#""\ude00""#)
        assertRefused(#""\ude00\ud83d""#)
    }

    func testNestingDeeperThanDepthMaxIsRefused() throws {
        let max = JSONValue.depthMax
        // The outermost value is at depth 0: `max` arrays put the scalar at depth `max`.
        func arrays(_ n: Int) -> String { String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n) }
        func objects(_ n: Int) -> String {
            String(repeating: #"{"k":"#, count: n) + "1" + String(repeating: "}", count: n)
        }
        XCTAssertNoThrow(try parse(arrays(max)))
        XCTAssertNoThrow(try parse(objects(max)))
        assertRefused(arrays(max + 1))
        assertRefused(objects(max + 1))
        assertRefused(arrays(10_000))
        assertRefused(String(repeating: "[", count: 100_000))
    }

    func testTypeNames() throws {
        XCTAssertEqual(try parse("12.5").typeName, "a number with a fractional part (or beyond 64 bits)")
        XCTAssertEqual(try parse("12").typeName, "an integer")
        XCTAssertEqual(try parse(#""s""#).typeName, "a string")
        XCTAssertEqual(try parse("{}").typeName, "an object")
    }
}
