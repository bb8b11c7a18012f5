import Foundation

/// A wall-clock minute in some time zone.
struct WallMinute: Equatable, Comparable {
    var year: Int, month: Int, day: Int, hour: Int, minute: Int

    /// Seconds since 1970 as if this wall time were UTC.
    var naiveSeconds: Int {
        (CivilDate.days(year: year, month: month, day: day) * 24 + hour) * 3600 + minute * 60
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    /// The wall time of an instant in a zone (seconds dropped).
    init(_ date: Date, in zone: TimeZone) {
        let local = Int(floor(date.timeIntervalSince1970)) + zone.secondsFromGMT(for: date)
        let minutes = Int(floor(Double(local) / 60))
        let days = Int(floor(Double(minutes) / 1440))
        let (year, month, day) = CivilDate.date(days: days)
        let minuteOfDay = minutes - days * 1440
        self.init(year: year, month: month, day: day, hour: minuteOfDay / 60, minute: minuteOfDay % 60)
    }

    static func < (lhs: WallMinute, rhs: WallMinute) -> Bool { lhs.naiveSeconds < rhs.naiveSeconds }

    /// The next minute, rolling over hours, days, months and years.
    func addingMinute() -> WallMinute {
        var next = self
        next.minute += 1
        if next.minute == 60 { next.minute = 0; next = next.addingHour(keepMinute: true) }
        return next
    }

    func addingHour(keepMinute: Bool = false) -> WallMinute {
        var next = self
        if !keepMinute { next.minute = 0 }
        next.hour += 1
        if next.hour == 24 { next.hour = 0; next = next.nextDay(keepTime: true) }
        return next
    }

    func nextDay(keepTime: Bool = false) -> WallMinute {
        var next = self
        if !keepTime { next.hour = 0; next.minute = 0 }
        next.day += 1
        if next.day > CivilDate.daysInMonth(year: year, month: month) { next.day = 1; next = next.nextMonth(keepDayAndTime: true) }
        return next
    }

    func nextMonth(keepDayAndTime: Bool = false) -> WallMinute {
        var next = self
        if !keepDayAndTime { next.day = 1; next.hour = 0; next.minute = 0 }
        next.month += 1
        if next.month == 13 { next.month = 1; next.year += 1 }
        return next
    }

    /// The instant this wall time names in a zone. In a gap (spring forward) it is the
    /// first instant after the gap; when it occurs twice (fall back), the first occurrence.
    func instant(in zone: TimeZone) -> Date {
        var later = self
        for _ in 0..<(48 * 60) {
            if let instant = later.validInstant(in: zone) { return instant }
            later = later.addingMinute()
        }
        return Date(timeIntervalSince1970: Double(naiveSeconds - zone.secondsFromGMT()))
    }

    /// The earliest instant whose wall time in `zone` is this one; nil inside a gap.
    private func validInstant(in zone: TimeZone) -> Date? {
        let naive = naiveSeconds
        // Offsets a day either side cover both sides of any transition near this time.
        let offsets = Set([-86_400, 0, 86_400].map { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(naive + $0))) })
        let valid = offsets.map { naive - $0 }.filter { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double($0))) == naive - $0 }
        return valid.min().map { Date(timeIntervalSince1970: Double($0)) }
    }
}

extension CronExpression {
    /// How far ahead `nextFire` looks before deciding an expression never fires (Feb 30).
    static let searchYears = 30

    /// The first instant strictly after `date` at which the schedule fires in `zone`.
    ///
    /// Wall times are matched in `zone`. A matching time that does not exist (the hour
    /// skipped when clocks go forward) fires once, at the first instant after the gap. A
    /// time that occurs twice (clocks go back) fires only at its first occurrence.
    /// Returns nil when the expression never fires (e.g. `0 0 30 2 *`).
    public func nextFire(after date: Date, in zone: TimeZone) -> Date? {
        var wall = WallMinute(date, in: zone).addingMinute()
        let limitYear = wall.year + Self.searchYears
        while wall.year <= limitYear {
            guard month.contains(wall.month) else { wall = wall.nextMonth(); continue }
            guard matches(year: wall.year, month: wall.month, day: wall.day) else { wall = wall.nextDay(); continue }
            guard hour.contains(wall.hour) else { wall = wall.addingHour(); continue }
            guard minute.contains(wall.minute) else { wall = wall.addingMinute(); continue }
            let instant = wall.instant(in: zone)
            if instant > date { return instant }
            wall = wall.addingMinute()
        }
        return nil
    }

    /// The next `count` fire times after `date`.
    public func nextFires(after date: Date, in zone: TimeZone, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let next = nextFire(after: cursor, in: zone) {
            result.append(next)
            cursor = next
        }
        return result
    }
}
