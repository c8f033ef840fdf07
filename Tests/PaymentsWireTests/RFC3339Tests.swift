import PaymentsWire
import XCTest

/// RFC 3339 as the API, `/v1/cluster` and the JSON log write it, and as list filters are
/// read: the calendar's real days only, every form RFC 3339 allows and no other.
final class RFC3339Tests: XCTestCase {
    func testRFC3339Format() {
        XCTAssertEqual(RFC3339.format(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(RFC3339.format(millis: 1_795_387_420_701), "2026-11-22T22:43:40.701Z")
        XCTAssertEqual(RFC3339.format(millis: 1_709_208_000_000), "2024-02-29T12:00:00.000Z")
        XCTAssertEqual(RFC3339.format(millis: 951_782_400_000), "2000-02-29T00:00:00.000Z")
        XCTAssertEqual(RFC3339.format(millis: 946_684_799_999), "1999-12-31T23:59:59.999Z")
        XCTAssertEqual(
            RFC3339.format(millis: 1_764_000_000_123), "2025-11-24T16:00:00.123Z", "exact, never through a Double")
        XCTAssertEqual(RFC3339.format(millis: 253_402_300_799_999), "9999-12-31T23:59:59.999Z", "the last 4-digit year")
        XCTAssertEqual(
            RFC3339.format(millis: 253_402_300_800_000), "10000-01-01T00:00:00.000Z", "years past 9999 widen")
    }

    func testRFC3339Parse() {
        XCTAssertEqual(RFC3339.parse("2026-11-22T22:43:40.701Z"), 1_795_387_420_701)
        XCTAssertEqual(RFC3339.parse("2026-11-22T23:43:40+01:00"), 1_795_387_420_000)
        XCTAssertEqual(RFC3339.parse("2026-11-22T20:13:40-02:30"), 1_795_387_420_000)
        XCTAssertEqual(RFC3339.parse("2026-11-22t22:43:40.7019z"), 1_795_387_420_701, "extra fraction digits are cut")
        XCTAssertEqual(RFC3339.parse("2024-02-29T12:00:00Z"), 1_709_208_000_000)
        XCTAssertEqual(RFC3339.parse("2026-11-22 22:43:40Z"), 1_795_387_420_000, "RFC 3339 allows a space for T")
        XCTAssertEqual(
            RFC3339.parse("2016-12-31T23:59:60Z"), RFC3339.parse("2016-12-31T23:59:59Z"),
            "a leap second is its second's 59th")
        XCTAssertEqual(RFC3339.parse("1970-01-01T00:00:00Z"), 0)
        for millis: UInt64 in [0, 1, 951_782_400_000, 1_709_208_000_000, 1_795_387_420_701, 4_102_444_800_000] {
            XCTAssertEqual(RFC3339.parse(RFC3339.format(millis: millis)), millis)
        }
    }

    func testRFC3339ParseRefusesMalformedText() {
        for text in ["2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z", "2025-02-29T00:00:00Z"] {
            XCTAssertNil(RFC3339.parse(text), "\(text) is not a day of the calendar")
        }
        for text in [
            "yesterday", "", "2026-11-22", "2026-11-22T22:43:40", "2026-11-22T22:43:40.Z", "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z", "2026-11-22T22:60:00Z", "2026-11-22T22:43:40+0100", "2026-11-22T22:43:40Zjunk",
            "2026/11/22T22:43:40Z", "2026-11-00T00:00:00Z",
        ] {
            XCTAssertNil(RFC3339.parse(text), text)
        }
    }
}
