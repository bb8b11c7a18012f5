/// One of the five fields of a cron expression: the set of values it allows.
struct CronField: Sendable, Equatable {
    /// Which field this is, with its range and names.
    enum Kind: Sendable {
        case minute, hour, dayOfMonth, month, dayOfWeek

        var label: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day of month"
            case .month: "month"
            case .dayOfWeek: "day of week"
            }
        }

        /// The values a field may name; day of week accepts 7 for Sunday.
        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var names: [String: Int] {
            switch self {
            case .month:
                ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
                 "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
            case .dayOfWeek: ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
            default: [:]
            }
        }
    }

    let kind: Kind
    /// The allowed values, sorted; for day of week 7 is folded into 0.
    let values: [Int]
    /// Whether the field was written starting with `*` (Vixie's rule for day fields).
    let startsWithStar: Bool

    /// Parses a field: `*`, numbers, names, ranges `a-b`, steps `*/n`, `a-b/n`, `a/n`, lists.
    /// - Throws: `CronError` naming the field and the faulty part.
    init(_ text: String, kind: Kind) throws {
        self.kind = kind
        startsWithStar = text.hasPrefix("*")
        var set = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            set.formUnion(try Self.parsePart(String(part), kind: kind))
        }
        if kind == .dayOfWeek, set.remove(7) != nil { set.insert(0) }
        values = set.sorted()
    }

    func contains(_ value: Int) -> Bool { values.contains(value) }

    /// Whether every value of the range is allowed.
    var isFull: Bool {
        let range = kind.range
        return values.count == (kind == .dayOfWeek ? 7 : range.count)
    }

    private static func parsePart(_ part: String, kind: Kind) throws -> [Int] {
        guard !part.isEmpty else { throw CronError("empty list element in the \(kind.label) field") }
        let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { throw CronError("'\(part)' has more than one '/' in the \(kind.label) field") }
        var step = 1
        if pieces.count == 2 {
            guard let parsed = Int(pieces[1]), parsed > 0 else {
                throw CronError("step '\(pieces[1])' in the \(kind.label) field must be a positive number")
            }
            step = parsed
        }
        let base = String(pieces[0])
        var lower: Int
        var upper: Int
        if base == "*" {
            lower = kind.range.lowerBound
            upper = kind == .dayOfWeek ? 6 : kind.range.upperBound
        } else if let dash = base.firstIndex(of: "-") {
            lower = try value(String(base[..<dash]), kind: kind)
            upper = try value(String(base[base.index(after: dash)...]), kind: kind)
            guard lower <= upper else { throw CronError("range '\(base)' in the \(kind.label) field runs backwards") }
        } else {
            lower = try value(base, kind: kind)
            // `a/n` means from a to the end of the range, every n (as cronie reads it).
            upper = pieces.count == 2 ? (kind == .dayOfWeek ? 6 : kind.range.upperBound) : lower
        }
        if step > 1 && upper - lower < 0 { return [] }
        return Array(stride(from: lower, through: upper, by: step))
    }

    private static func value(_ text: String, kind: Kind) throws -> Int {
        if let number = Int(text), text.allSatisfy(\.isNumber) {
            guard kind.range.contains(number) else {
                throw CronError("\(number) is outside \(kind.range.lowerBound)-\(kind.range.upperBound) in the \(kind.label) field")
            }
            return number
        }
        if let named = kind.names[text.uppercased()] { return named }
        throw CronError("'\(text)' is not a valid \(kind.label)")
    }
}

/// A cron expression that cannot be parsed; the message says which part is wrong.
public struct CronError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
