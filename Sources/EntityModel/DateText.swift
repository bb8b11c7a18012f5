import Foundation

/// Date-time text as cdsync reads and writes it: ISO 8601 in the proleptic Gregorian calendar
/// (the store's days are counted so; Foundation's calendar switches to the Julian one before
/// 1582-10-15, which read a stored 1000-01-01 back as 0999-12-27), in UTC, with milliseconds
/// when the value has them (a date-time column keeps them).
public enum DateText {
    /// `2024-02-29T23:59:59Z`, or `…59.999Z` when the instant has milliseconds.
    public static func string(from date: Date) -> String {
        // any instant is written, never a trap: a damaged store may hold milliseconds far
        // past the years a column takes (they are then written with more year digits)
        let scaled = (date.timeIntervalSince1970 * 1000).rounded()
        let millis: Int64 = scaled.isNaN ? 0 : scaled >= 9.223_372_036_854_775_807e18 ? .max
            : scaled <= -9.223_372_036_854_775_807e18 ? .min : Int64(scaled)
        var days = millis >= 0 ? millis / 86_400_000 : (millis + 1) / 86_400_000 - 1
        // (wrapping: the true difference is within a day even where days × 86,400,000 is not an Int64)
        let msOfDay = Int(millis &- days &* 86_400_000)
        // civil from days (H. Hinnant's algorithm)
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = Int(days - era * 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shifted + 2) / 5 + 1
        let month = shifted < 10 ? shifted + 3 : shifted - 9
        let year = Int(era) * 400 + yearOfEra + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(year < 0 ? "-" : "")\(pad(abs(year), 4))-\(pad(month, 2))-\(pad(day, 2))T"
        text += "\(pad(msOfDay / 3_600_000, 2)):\(pad(msOfDay / 60_000 % 60, 2)):\(pad(msOfDay / 1_000 % 60, 2))"
        if msOfDay % 1_000 != 0 { text += ".\(pad(msOfDay % 1_000, 3))" }
        return text + "Z"
    }

    /// Parses ISO 8601 date-time text, strictly: `2026-11-27` (midnight UTC), or a date and a
    /// time (`T` or a space between) with a zone: `2026-11-27T10:00:00Z`, `…T10:00Z`,
    /// `…T10:00:00.250+01:00`. Nil for anything else, including dates that do not exist
    /// (`2026-02-30`), times past 23:59:59, years outside 0001–9999 and a time without a zone
    /// (which the formatter used before read as the date alone, dropping the time).
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var position = 0
        func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<(position + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            position += count
            return value
        }
        func skip(_ character: Character) -> Bool {
            guard position < bytes.count, bytes[position] == character.asciiValue else { return false }
            position += 1
            return true
        }
        guard let year = digits(4), year >= 1, skip("-"), let month = digits(2), (1...12).contains(month), skip("-"),
              let day = digits(2), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if position == bytes.count { return Date(timeIntervalSince1970: seconds) }
        guard skip("T") || skip("t") || skip(" "), let hour = digits(2), hour <= 23, skip(":"),
              let minute = digits(2), minute <= 59 else { return nil }
        var second = 0.0
        if skip(":") {
            guard let whole = digits(2), whole <= 59 else { return nil }
            second = Double(whole)
            if skip(".") {
                let start = position
                // the fraction as whole nanoseconds (digits past the ninth are read and left out),
                // rounded to the millisecond a column keeps, half up on the time line: with
                // floating-point seconds, 23:59:59.0005 on 1969-12-31 went down and on 2026-11-27 up
                var nanos = 0
                while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                    if position - start < 9 { nanos = nanos * 10 + Int(bytes[position] - UInt8(ascii: "0")) }
                    position += 1
                }
                guard position > start else { return nil }
                for _ in min(position - start, 9)..<9 { nanos *= 10 }
                second += Double((nanos + 500_000) / 1_000_000) / 1_000
            }
        }
        seconds += Double(hour * 3_600 + minute * 60) + second
        if skip("Z") || skip("z") {
            // UTC
        } else if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
            let sign = bytes[position] == UInt8(ascii: "-") ? -1.0 : 1.0
            position += 1
            guard let offsetHours = digits(2), offsetHours <= 23, skip(":"), let offsetMinutes = digits(2), offsetMinutes <= 59 else {
                return nil
            }
            seconds -= sign * Double(offsetHours * 3_600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard position == bytes.count else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
