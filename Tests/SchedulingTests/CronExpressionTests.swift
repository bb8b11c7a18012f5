import Foundation
import XCTest
@testable import Scheduling

/// Cron parsing and next-fire times against hand-checked tables (UTC instants).
final class CronExpressionTests: XCTestCase {
    private func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    private func fires(_ expression: String, zone: String = "UTC", after: String, count: Int = 5) throws -> [String] {
        let cron = try CronExpression(expression)
        let formatter = ISO8601DateFormatter()
        return cron.nextFires(after: date(after), in: TimeZone(identifier: zone)!, count: count).map { formatter.string(from: $0) }
    }

    func test_fieldsAcceptNumbersNamesRangesStepsAndLists() throws {
        let cron = try CronExpression("5/20 8-10,22 */10 JAN-mar SUN,7,sat")
        XCTAssertEqual(cron.minute.values, [5, 25, 45])
        XCTAssertEqual(cron.hour.values, [8, 9, 10, 22])
        XCTAssertEqual(cron.dayOfMonth.values, [1, 11, 21, 31])
        XCTAssertEqual(cron.month.values, [1, 2, 3])
        XCTAssertEqual(cron.dayOfWeek.values, [0, 6], "7 is Sunday too")
        XCTAssertEqual(try CronExpression("0 0 * * 1-5/2").dayOfWeek.values, [1, 3, 5])
    }

    func test_shortcutsExpandToTheirFiveFields() throws {
        XCTAssertEqual(try fires("@hourly", after: "2026-05-01T10:20:00Z", count: 2), ["2026-05-01T11:00:00Z", "2026-05-01T12:00:00Z"])
        XCTAssertEqual(try fires("@daily", after: "2026-05-01T10:20:00Z", count: 1), ["2026-05-02T00:00:00Z"])
        XCTAssertEqual(try fires("@midnight", after: "2026-05-01T10:20:00Z", count: 1), ["2026-05-02T00:00:00Z"])
        XCTAssertEqual(try fires("@weekly", after: "2026-05-01T10:20:00Z", count: 1), ["2026-05-03T00:00:00Z"], "Sunday")
        XCTAssertEqual(try fires("@monthly", after: "2026-05-01T10:20:00Z", count: 1), ["2026-06-01T00:00:00Z"])
        XCTAssertEqual(try fires("@yearly", after: "2026-05-01T10:20:00Z", count: 1), ["2027-01-01T00:00:00Z"])
        XCTAssertEqual(try fires("@annually", after: "2026-05-01T10:20:00Z", count: 1), ["2027-01-01T00:00:00Z"])
    }

    func test_invalidExpressionsNameTheFaultyField() {
        let cases: [(String, String)] = [
            ("* * * *", "expected 5 fields"), ("60 * * * *", "outside 0-59 in the minute field"),
            ("* 24 * * *", "hour field"), ("* * 0 * *", "day of month field"), ("* * * 13 *", "month field"),
            ("* * * * 8", "day of week field"), ("* * * FOO *", "'FOO' is not a valid month"),
            ("5-1 * * * *", "runs backwards"), ("*/0 * * * *", "positive number"), ("1,,2 * * * *", "empty list element"),
            ("@reboot", "unknown shortcut"), ("* * * * MON-FOO", "not a valid day of week"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try CronExpression(text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
            }
        }
    }

    func test_everyFifteenMinutesCrossesHourAndDayBoundaries() throws {
        XCTAssertEqual(try fires("*/15 * * * *", after: "2026-12-31T23:31:10Z", count: 3),
                       ["2026-12-31T23:45:00Z", "2027-01-01T00:00:00Z", "2027-01-01T00:15:00Z"])
    }

    func test_monthEndsSkipMonthsWithoutTheDay() throws {
        XCTAssertEqual(try fires("0 0 31 * *", after: "2026-01-31T00:00:00Z", count: 4),
                       ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z"])
        XCTAssertEqual(try fires("0 12 29 2 *", after: "2026-01-01T00:00:00Z", count: 2),
                       ["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"])
        XCTAssertEqual(try fires("30 23 28-31 * *", after: "2026-02-27T00:00:00Z", count: 3),
                       ["2026-02-28T23:30:00Z", "2026-03-28T23:30:00Z", "2026-03-29T23:30:00Z"])
    }

    func test_anExpressionThatNeverFiresHasNoNextTime() throws {
        XCTAssertEqual(try fires("0 0 30 2 *", after: "2026-01-01T00:00:00Z"), [])
        XCTAssertEqual(try fires("0 0 31 4,6,9,11 *", after: "2026-01-01T00:00:00Z"), [])
    }

    func test_restrictedDayOfMonthAndDayOfWeekMatchEither() throws {
        // June 2026 starts on a Monday.
        XCTAssertEqual(try fires("0 9 1,15 * MON", after: "2026-06-01T09:00:00Z"),
                       ["2026-06-08T09:00:00Z", "2026-06-15T09:00:00Z", "2026-06-22T09:00:00Z",
                        "2026-06-29T09:00:00Z", "2026-07-01T09:00:00Z"])
    }

    func test_aDayFieldStartingWithStarMakesBothDayFieldsApply() throws {
        XCTAssertEqual(try fires("0 0 */2 * MON", after: "2026-05-31T00:00:00Z", count: 3),
                       ["2026-06-01T00:00:00Z", "2026-06-15T00:00:00Z", "2026-06-29T00:00:00Z"])
        XCTAssertEqual(try fires("0 6 * * 1-5", after: "2026-06-05T07:00:00Z", count: 2),
                       ["2026-06-08T06:00:00Z", "2026-06-09T06:00:00Z"], "Friday evening → Monday")
    }

    func test_berlinSpringForwardFiresAMissingTimeOnceAfterTheGap() throws {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist.
        XCTAssertEqual(try fires("30 2 * * *", zone: "Europe/Berlin", after: "2026-03-28T12:00:00Z", count: 3),
                       ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"])
        XCTAssertEqual(try fires("*/30 * * * *", zone: "Europe/Berlin", after: "2026-03-29T00:40:00Z", count: 3),
                       ["2026-03-29T01:00:00Z", "2026-03-29T01:30:00Z", "2026-03-29T02:00:00Z"],
                       "02:00, 02:30 and 03:00 all land on 03:00 CEST and fire once")
    }

    func test_berlinFallBackDoesNotFireTwice() throws {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 happens twice.
        XCTAssertEqual(try fires("30 2 * * *", zone: "Europe/Berlin", after: "2026-10-24T12:00:00Z", count: 2),
                       ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        XCTAssertEqual(try fires("*/30 * * * *", zone: "Europe/Berlin", after: "2026-10-24T23:50:00Z", count: 4),
                       ["2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"])
        XCTAssertEqual(try fires("15 2 * * *", zone: "Europe/Berlin", after: "2026-10-25T01:05:00Z", count: 1),
                       ["2026-10-26T01:15:00Z"], "started in the repeated hour: its second 02:15 does not fire")
    }

    func test_newYorkTransitions() throws {
        // 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC). 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC).
        XCTAssertEqual(try fires("0 2 * * *", zone: "America/New_York", after: "2026-03-07T12:00:00Z", count: 2),
                       ["2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"])
        XCTAssertEqual(try fires("30 1 * * *", zone: "America/New_York", after: "2026-10-31T12:00:00Z", count: 2),
                       ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        XCTAssertEqual(try fires("0 * * * *", zone: "America/New_York", after: "2026-11-01T04:30:00Z", count: 4),
                       ["2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z", "2026-11-01T09:00:00Z"],
                       "01:00 EDT fires, 01:00 EST (06:00 UTC) does not")
    }

    func test_civilDateArithmetic() {
        XCTAssertEqual(CivilDate.weekday(year: 2026, month: 11, day: 27), 5, "a Friday")
        XCTAssertEqual(CivilDate.weekday(year: 2000, month: 1, day: 1), 6)
        XCTAssertEqual(CivilDate.daysInMonth(year: 1900, month: 2), 28)
        XCTAssertEqual(CivilDate.daysInMonth(year: 2000, month: 2), 29)
        let days = CivilDate.days(year: 2026, month: 3, day: 29)
        XCTAssertEqual(CivilDate.date(days: days).month, 3)
        XCTAssertEqual(CivilDate.date(days: days).day, 29)
    }
}
