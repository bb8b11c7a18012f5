import Foundation

/// A cron schedule: five fields (minute hour day-of-month month day-of-week) or a shortcut
/// such as `@daily`, read with Vixie cron's rules.
///
/// When both day fields are restricted (neither starts with `*`), a day matches if either
/// matches; otherwise both must.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The text as written in the jobs file.
    public let text: String
    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField

    /// The shortcuts and the five fields they stand for.
    public static let shortcuts: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Parses an expression.
    /// - Throws: `CronError` naming the field and the part that is wrong.
    public init(_ text: String) throws {
        self.text = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var fieldsText = trimmed
        if trimmed.hasPrefix("@") {
            guard let expanded = Self.shortcuts[trimmed.lowercased()] else {
                throw CronError("unknown shortcut '\(trimmed)' (known: \(Self.shortcuts.keys.sorted().joined(separator: ", ")))")
            }
            fieldsText = expanded
        }
        let fields = fieldsText.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError("expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        minute = try CronField(fields[0], kind: .minute)
        hour = try CronField(fields[1], kind: .hour)
        dayOfMonth = try CronField(fields[2], kind: .dayOfMonth)
        month = try CronField(fields[3], kind: .month)
        dayOfWeek = try CronField(fields[4], kind: .dayOfWeek)
    }

    public var description: String { text }

    /// Whether both day fields are restricted, so either one matching is enough.
    var daysMatchEither: Bool { !dayOfMonth.startsWithStar && !dayOfWeek.startsWithStar }

    /// Whether the expression allows this calendar day.
    func matches(year: Int, month: Int, day: Int) -> Bool {
        guard self.month.contains(month) else { return false }
        let byMonthDay = dayOfMonth.contains(day)
        let byWeekDay = dayOfWeek.contains(CivilDate.weekday(year: year, month: month, day: day))
        return daysMatchEither ? (byMonthDay || byWeekDay) : (byMonthDay && byWeekDay)
    }

    /// The field values, for printing in other schedulers' syntax.
    var fieldValues: (minutes: [Int], hours: [Int], days: [Int], months: [Int], weekdays: [Int]) {
        (minute.values, hour.values, dayOfMonth.values, month.values, dayOfWeek.values)
    }

    /// Whether each field allows every value.
    var fullFields: (days: Bool, months: Bool, weekdays: Bool) { (dayOfMonth.isFull, month.isFull, dayOfWeek.isFull) }
}
