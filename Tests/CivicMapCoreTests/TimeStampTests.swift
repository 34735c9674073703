import Foundation
import Testing

@testable import CivicMapCore

@Suite struct TimeStampTests {
    @Test(arguments: [
        0.0, 59.9, 951_782_400 /* 2000-02-29 */, 951_868_799, 4_107_542_400 /* 2100-03-01 */, 1_796_300_000,
        -1.0, -86_401, -2_208_988_800 /* 1900-01-01 */, 253_402_300_799 /* 9999-12-31T23:59:59 */,
    ])
    func agreesWithFoundationsFormatter(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        #expect(TimeStamp.string(date) == formatter.string(from: date))
    }

    @Test func everyDayOfALeapYearAndTheNext() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        for day in 0..<(366 + 365) {
            let date = Date(timeIntervalSince1970: 1_704_067_200 + Double(day) * 86_400 + 45_296)  // 2024-01-01T12:34:56Z
            #expect(TimeStamp.string(date) == formatter.string(from: date))
        }
    }

    @Test func parsesWhatPeopleTypeAndRefusesDaysNoCalendarHas() {
        #expect(TimeStamp.parse("2026-12-07") == "2026-12-07T00:00:00Z")
        #expect(TimeStamp.parse("2026-12-07", endOfDay: true) == "2026-12-07T23:59:59Z")
        #expect(TimeStamp.parse("2026-12-07T09:30:00Z") == "2026-12-07T09:30:00Z")
        #expect(TimeStamp.parse("2024-02-29") == "2024-02-29T00:00:00Z")
        #expect(TimeStamp.parse("2000-02-29") != nil)
        for wrong in ["2025-02-29", "1900-02-29", "2026-02-30", "2026-04-31", "2026-13-01", "2026-00-10", "2026-12-00",
                      "2026-12-07T24:00:00Z", "2026-12-07T23:60:00Z", "2026-12-07T09:30:00", "2026-12-07T09:30:00+03:00",
                      "07.12.2026", "2026-1-7", "", "yesterday"] {
            #expect(TimeStamp.parse(wrong) == nil, "\(wrong)")
        }
    }
}
