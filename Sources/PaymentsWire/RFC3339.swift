/// RFC 3339 times: written in UTC with milliseconds (`2026-11-22T22:30:07.123Z`), read
/// in any form RFC 3339 allows. The API's times, `/v1/cluster`'s, the JSON log's and the
/// expiry times of API keys in a node's configuration.
///
/// Integer arithmetic on the calendar, not Foundation's `ISO8601FormatStyle`, which on
/// this toolchain (Swift 6.3, Linux) takes 2026-02-30 as March 2nd, `24:00` and a `+0530`
/// offset; refuses the lower-case `t`/`z` and the space separator RFC 3339 allows; and
/// writes 1764000000123 ms as `.122Z` (it goes through a `Double`). A filter time that
/// is not a real instant is refused here, never moved.
public enum RFC3339 {
    /// `millis` since 1970 as `YYYY-MM-DDThh:mm:ss.mmmZ`.
    public static func format(millis: UInt64) -> String {
        let time = CivilTime(millis: millis)
        return String(unsafeUninitializedCapacity: time.count) { time.write(into: $0) }
    }

    /// `millis` since 1970 as `YYYY-MM-DDThh:mm:ss.mmmZ`, appended to `bytes` (a body
    /// written as bytes, with no String between).
    public static func append(millis: UInt64, to bytes: inout [UInt8]) {
        let time = CivilTime(millis: millis)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: time.count))
        bytes.withUnsafeMutableBufferPointer {
            _ = time.write(into: UnsafeMutableBufferPointer(rebasing: $0[start...]))
        }
    }

    /// A UTC instant's calendar fields, and their text.
    private struct CivilTime {
        let year: Int, month: Int, day: Int, secondOfDay: Int, ms: Int
        /// Years past 9999 take more digits.
        let yearDigits: Int
        var count: Int { yearDigits + 20 }

        init(millis: UInt64) {
            let seconds = Int64(millis / 1_000)
            ms = Int(millis % 1_000)
            var days = seconds / 86_400
            secondOfDay = Int(seconds % 86_400)
            // Civil-from-days (Howard Hinnant's algorithm).
            days += 719_468
            let era = days / 146_097
            let doe = days - era * 146_097
            let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            day = Int(doy - (153 * mp + 2) / 5 + 1)
            month = Int(mp < 10 ? mp + 3 : mp - 9)
            year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
            yearDigits = year <= 9_999 ? 4 : String(year).utf8.count
        }

        /// Writes the text in place (each response carries two of these; joining twelve
        /// small strings was 1% of a node serving reads) and returns its length.
        func write(into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
            func put(_ value: Int, _ width: Int, at start: Int) {
                var n = value
                for i in stride(from: start + width - 1, through: start, by: -1) {
                    out[i] = UInt8(truncatingIfNeeded: 0x30 + n % 10)
                    n /= 10
                }
            }
            let y = yearDigits
            put(year, y, at: 0)
            out[y] = 0x2D
            put(month, 2, at: y + 1)
            out[y + 3] = 0x2D
            put(day, 2, at: y + 4)
            out[y + 6] = 0x54
            put(secondOfDay / 3_600, 2, at: y + 7)
            out[y + 9] = 0x3A
            put(secondOfDay / 60 % 60, 2, at: y + 10)
            out[y + 12] = 0x3A
            put(secondOfDay % 60, 2, at: y + 13)
            out[y + 15] = 0x2E
            put(ms, 3, at: y + 16)
            out[y + 19] = 0x5A
            return y + 20
        }
    }

    /// Parses an RFC 3339 date-time (`2026-11-22T10:00:00Z`, any fraction, any offset)
    /// to milliseconds since 1970; times before 1970 give 0. nil when malformed.
    public static func parse(_ text: String) -> UInt64? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for i in at..<(at + n) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
            let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(11, 2),
            b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var at = 19
        var millis = 0
        if at < b.count, b[at] == 0x2E {
            at += 1
            var scale = 100
            let start = at
            while at < b.count, b[at] >= 0x30 && b[at] <= 0x39 {
                millis += Int(b[at] - 0x30) * scale
                scale /= 10
                at += 1
            }
            guard at > start else { return nil }
        }
        guard at < b.count else { return nil }
        var offsetMinutes = 0
        if b[at] == 0x5A || b[at] == 0x7A {
            at += 1
        } else if b[at] == 0x2B || b[at] == 0x2D, let oh = digits(at + 1, 2), at + 3 < b.count, b[at + 3] == 0x3A,
            let om = digits(at + 4, 2), oh < 24, om < 60
        {
            offsetMinutes = (oh * 60 + om) * (b[at] == 0x2D ? -1 : 1)
            at += 6
        } else {
            return nil
        }
        guard at == b.count else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthDays[month - 1] else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        let total = seconds * 1_000 + millis
        return total <= 0 ? 0 : UInt64(total)
    }
}
