import Foundation

/// How the REPL shows tables: `.mode table|expanded|lua`.
public enum ReplDisplayMode: String, Sendable, CaseIterable {
    /// A record as aligned name/value lines, a list of records as a table with columns.
    case table
    /// A list of records as one block per record (psql's `\x`).
    case expanded
    /// Every value as a Lua literal.
    case lua
}

/// Turns the values a statement returned into the text the REPL prints.
public struct ReplFormatter: Sendable {
    /// How tables are shown.
    public var mode: ReplDisplayMode
    /// The terminal's width in characters; nil means do not truncate (pipes).
    public var width: Int?

    /// The narrowest a truncated column gets before columns are dropped instead.
    static let minimumColumnWidth = 6

    /// Creates a formatter.
    public init(mode: ReplDisplayMode = .table, width: Int? = nil) {
        self.mode = mode
        self.width = width
    }

    /// The text for all values of one statement, one value after another; "" for none.
    public func format(_ values: [ReplValue]) -> String {
        values.map(format).joined(separator: "\n")
    }

    /// The text for one value.
    public func format(_ value: ReplValue) -> String {
        if mode != .lua {
            if let fields = value.recordFields { return record(fields) }
            if case .list(let items) = value, !items.isEmpty {
                let records = items.compactMap(\.recordFields)
                if records.count == items.count {
                    return mode == .expanded ? expanded(records) : table(records)
                }
            }
        }
        return LuaLiteral.render(value, width: width ?? 100)
    }

    /// Aligned `name  value` lines.
    func record(_ fields: [(key: String, value: ReplValue)]) -> String {
        let nameWidth = fields.map(\.key.count).max() ?? 0
        return fields.map { field in
            let name = field.key.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            return "\(name)  \(Self.cell(field.value))".trimmingTrailingSpaces
        }.joined(separator: "\n")
    }

    /// One block per record, headed `-[ RECORD n ]-`.
    func expanded(_ records: [[(key: String, value: ReplValue)]]) -> String {
        records.enumerated().map { index, fields in
            "-[ RECORD \(index + 1) ]" + String(repeating: "-", count: 20) + "\n" + record(fields)
        }.joined(separator: "\n")
    }

    /// A table with a header, a rule, one line per record and a row count.
    func table(_ records: [[(key: String, value: ReplValue)]]) -> String {
        var columns: [String] = []
        var seen = Set<String>()
        for fields in records {
            for field in fields where seen.insert(field.key).inserted { columns.append(field.key) }
        }
        let rows = records.map { fields -> [String] in
            let values = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            return columns.map { values[$0].map(Self.cell) ?? "" }
        }
        var widths = columns.indices.map { index in max(columns[index].count, rows.map { $0[index].count }.max() ?? 0) }
        let shown = fit(&widths)
        var lines = [line(columns, widths, shown), widths.prefix(shown).map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map { line($0, widths, shown) }
        var footer = "(\(records.count) \(records.count == 1 ? "row" : "rows"))"
        if shown < columns.count {
            let hidden = columns.count - shown
            footer += "  \(hidden) more \(hidden == 1 ? "column" : "columns") not shown; .mode expanded shows all"
        }
        return (lines + [footer]).joined(separator: "\n")
    }

    /// Narrows the widest columns until the table fits; returns how many columns are shown.
    func fit(_ widths: inout [Int]) -> Int {
        guard let width else { return widths.count }
        func total(_ count: Int) -> Int { widths.prefix(count).reduce(0, +) + 2 * max(count - 1, 0) }
        while total(widths.count) > width {
            guard let widest = widths.indices.max(by: { widths[$0] < widths[$1] }),
                  widths[widest] > Self.minimumColumnWidth else { break }
            widths[widest] -= 1
        }
        var shown = widths.count
        while shown > 1 && total(shown) > width { shown -= 1 }
        return shown
    }

    private func line(_ cells: [String], _ widths: [Int], _ shown: Int) -> String {
        (0..<shown).map { index in
            Self.truncate(cells[index], to: widths[index]).padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ").trimmingTrailingSpaces
    }

    /// Cuts text to `width` characters, ending in "…" when something was cut.
    static func truncate(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        return String(text.prefix(max(width - 1, 0))) + "…"
    }

    /// A scalar as a table cell: strings unquoted, control characters escaped.
    static func cell(_ value: ReplValue) -> String {
        switch value {
        case .string(let text):
            return text.contains(where: { $0.isNewline || $0 == "\t" }) ? LuaLiteral.escape(text) : text
        default: return LuaLiteral.render(value, width: Int.max)
        }
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
