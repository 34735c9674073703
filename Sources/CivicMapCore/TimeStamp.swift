import Foundation

/// RFC 3339 UTC times with seconds (`2026-11-23T16:40:00Z`): what rows store, responses carry
/// as `timeStamp`, and reports as `generated_at`. One format for the whole program.
public enum TimeStamp {
    public static func string(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// The UTC date, `YYYY-MM-DD`.
    public static func today(_ date: Date = Date()) -> String { String(string(date).prefix(10)) }

    /// The UTC year (the validator's bound for founding years).
    public static var currentYear: Int { Int(today().prefix(4)) ?? 2026 }
}
