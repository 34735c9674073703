import Foundation

/// RFC 3339 UTC times with seconds (`2026-11-23T16:40:00Z`): what rows store, responses carry
/// as `timeStamp`, and reports as `generated_at`. One format for the whole program.
public enum TimeStamp {
    /// Calendar days from one date (YYYY-MM-DD) to another, both counted; nil for a malformed date.
    public static func daysInclusive(from start: String, to end: String) -> Int? {
        func day(_ d: String) -> Int? {
            let parts = d.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3 else { return nil }
            // Days since 0000-03-01 (the civil-from-days algorithm), exact for the Gregorian calendar.
            let y = parts[1] <= 2 ? parts[0] - 1 : parts[0], m = parts[1], dd = parts[2]
            let era = y / 400, yoe = y - era * 400
            let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1
            return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy
        }
        guard let a = day(start), let b = day(end), b >= a else { return nil }
        return b - a + 1
    }

    /// Computed from the seconds since 1970 (the proleptic Gregorian calendar, days to civil
    /// date as in Hinnant's `civil_from_days`): a new ISO8601DateFormatter per response was 5%
    /// of a map request's time.
    public static func string(_ date: Date = Date()) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yyyy = year < 1000 ? String(repeating: "0", count: 4 - "\(year)".count) + "\(year)" : "\(year)"
        return "\(yyyy)-\(two(month))-\(two(day))T\(two(inDay / 3600)):\(two(inDay % 3600 / 60)):\(two(inDay % 60))Z"
    }

    /// Whether `text` is in this format, so that two such times compare as text.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 20 && bytes.indices.allSatisfy { i in
            switch i {
            case 4, 7: bytes[i] == UInt8(ascii: "-")
            case 10: bytes[i] == UInt8(ascii: "T")
            case 13, 16: bytes[i] == UInt8(ascii: ":")
            case 19: bytes[i] == UInt8(ascii: "Z")
            default: (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i])
            }
        }
    }

    /// A time a person typed: `YYYY-MM-DD` (that day's first second, or with `endOfDay` its last,
    /// UTC) or a time in this format. Nil for anything else, and for dates no calendar has (02-30).
    public static func parse(_ text: String, endOfDay: Bool = false) -> String? {
        let full = text.utf8.count == 10 ? text + (endOfDay ? "T23:59:59Z" : "T00:00:00Z") : text
        guard isValid(full) else { return nil }
        let n = Array(full.utf8).map { Int64($0) - 48 }
        func number(_ range: Range<Int>) -> Int64 { range.reduce(0) { $0 * 10 + n[$1] } }
        let (year, month, day) = (number(0..<4), number(5..<7), number(8..<10))
        // Hinnant's days_from_civil; a date that does not exist comes back as another one.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + number(11..<13) * 3600 + number(14..<16) * 60 + number(17..<19)
        let parsed = string(Date(timeIntervalSince1970: TimeInterval(seconds)))
        return parsed == full ? parsed : nil
    }

    /// The UTC date, `YYYY-MM-DD`.
    public static func today(_ date: Date = Date()) -> String { String(string(date).prefix(10)) }

    /// The UTC year (the validator's bound for founding years).
    public static var currentYear: Int { Int(today().prefix(4)) ?? 2026 }
}
