/// A REPL command line (`.help`, `.describe account`, `\d account`, …) rather than Lua.
public enum ReplDirective: Equatable, Sendable {
    /// `.help`: the commands and how input works.
    case help
    /// `.entities` (or `\d` alone): entities with row counts.
    case entities
    /// `.describe ENTITY` / `\d ENTITY`: columns, keys, change tracking, states.
    case describe(String)
    /// `.mode MODE`: how tables are shown; nil shows the current mode.
    case mode(ReplDisplayMode?)
    /// `\x`: switches between table and expanded mode.
    case toggleExpanded
    /// `.quit`, `.exit`, `\q`: leaves the REPL.
    case quit
    /// A command line that is not right; the text says why.
    case invalid(String)

    /// Command names offered by completion.
    public static let names = [".help", ".entities", ".describe", ".mode", ".quit", ".exit", "\\d", "\\x", "\\q", "\\?"]
    /// Commands whose argument is an entity name.
    static let entityCommands: Set<String> = [".describe", "\\d"]

    /// The command on a line, or nil when the line is Lua (`.5` is a number, not a command).
    public static func parse(_ line: String) -> ReplDirective? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let name = words.first else { return nil }
        if name.hasPrefix("."), !(name.dropFirst().first?.isLetter ?? false) { return nil }
        guard name.hasPrefix(".") || name.hasPrefix("\\") else { return nil }
        let arguments = Array(words.dropFirst())
        switch (name, arguments.count) {
        case (".help", 0), ("\\?", 0), (".h", 0): return .help
        case (".entities", 0), ("\\d", 0), ("\\dt", 0): return .entities
        case (".describe", 1), ("\\d", 1), ("\\d+", 1): return .describe(arguments[0])
        case (".describe", _): return .invalid("usage: .describe ENTITY")
        case (".mode", 0): return .mode(nil)
        case (".mode", 1):
            guard let mode = ReplDisplayMode(rawValue: arguments[0]) else { return .invalid("usage: .mode table|expanded|lua") }
            return .mode(mode)
        case ("\\x", 0): return .toggleExpanded
        case (".quit", 0), (".exit", 0), ("\\q", 0), (".q", 0): return .quit
        default: return .invalid("unknown command \(name) (.help lists the commands)")
        }
    }

    /// The text `.help` prints.
    public static let helpText = """
        Type Lua: an expression's values are shown, statements run as typed. Each line is
        one statement: its writes are sent and committed before the next prompt, and a
        statement that fails (or is stopped with Ctrl-C) is rolled back. `local` variables
        last one statement; use globals to keep values. An unfinished function, table or
        string continues on a `>>` prompt.

          .help                     this text (also \\?)
          .entities                 entities with row counts, change tracking and keys (also \\d)
          .describe ENTITY          columns with types, keys with status, change tracking,
                                    state model (also \\d ENTITY)
          .mode table|expanded|lua  how tables are shown (\\x switches table/expanded)
          .quit                     leave (also \\q, Ctrl-D)

        Tab completes globals and fields (cds.<Tab>), entity names in the first argument of
        cds calls and column names in their field tables. Ctrl-R searches the history.
        Ctrl-C stops the running statement; Ctrl-D leaves.
        """
}
