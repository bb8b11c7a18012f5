import Foundation

/// What completion needs to know about the running session.
public protocol ReplCompletionSource {
    /// Names in the global table (empty path) or in the table a dotted path names.
    func fieldNames(path: [String]) -> [String]
    /// Every entity's logical name.
    func entityNames() -> [String]
    /// An entity's column names; empty for an unknown entity.
    func columnNames(of entity: String) -> [String]
}

extension ReplSession: ReplCompletionSource {}

/// Completions for the text before the cursor: the word they replace starts at `start`
/// (a character offset) and each candidate is the whole replacement word.
public struct ReplCompletion: Equatable, Sendable {
    /// Where the replaced word starts, in characters from the start of the line.
    public var start: Int
    /// Replacement words, sorted, without duplicates.
    public var candidates: [String]

    /// Creates a completion.
    public init(start: Int, candidates: [String]) {
        self.start = start
        self.candidates = candidates
    }
}

/// Tab completion: dot commands, Lua globals and fields (`cds.` then its functions), entity
/// names in the first argument of `cds` calls, column names in their field tables.
public struct ReplCompleter {
    let source: ReplCompletionSource

    /// Creates a completer over a session (or any other source).
    public init(source: ReplCompletionSource) {
        self.source = source
    }

    /// Completions for `prefix`, the line up to the cursor.
    public func complete(_ prefix: String) -> ReplCompletion {
        if let completion = command(prefix) ?? entityArgument(prefix) ?? column(prefix) { return completion }
        return luaName(prefix)
    }

    /// `.de` → `.describe`; `.describe ac` / `\d ac` → entity names.
    func command(_ prefix: String) -> ReplCompletion? {
        let trimmed = prefix.drop { $0 == " " }
        guard let first = trimmed.first, first == "." || first == "\\" else { return nil }
        let offset = prefix.count - trimmed.count
        if let space = trimmed.firstIndex(of: " ") {
            let name = String(trimmed[..<space])
            guard ReplDirective.entityCommands.contains(name) else { return ReplCompletion(start: prefix.count, candidates: []) }
            let word = trimmed[space...].drop { $0 == " " }
            return ReplCompletion(start: prefix.count - word.count, candidates: matching(source.entityNames(), String(word)))
        }
        return ReplCompletion(start: offset, candidates: matching(ReplDirective.names, String(trimmed)))
    }

    /// `cds.get("acc` → entity names.
    func entityArgument(_ prefix: String) -> ReplCompletion? {
        guard let match = lastMatch(#"cds\.[A-Za-z_]+\(\s*["']([A-Za-z0-9_]*)$"#, in: prefix) else { return nil }
        return ReplCompletion(start: prefix.count - match[1].count, candidates: matching(source.entityNames(), match[1]))
    }

    /// `cds.upsert("account", { accountnu` (or `{"na` in a select list) → column names.
    func column(_ prefix: String) -> ReplCompletion? {
        guard let brace = openBrace(in: prefix),
              let word = lastMatch(#"(^|[{,\s"'])([A-Za-z0-9_]*)$"#, in: String(prefix[prefix.index(after: brace)...])),
              let call = lastMatch(#"cds\.[A-Za-z_]+\(\s*["']([A-Za-z0-9_]+)["']"#, in: String(prefix[..<brace]))
        else { return nil }
        let columns = source.columnNames(of: call[1])
        guard !columns.isEmpty else { return nil }
        return ReplCompletion(start: prefix.count - word[2].count, candidates: matching(columns, word[2]))
    }

    /// `cds.ups` → `cds.upsert`; `pri` → `print`.
    func luaName(_ prefix: String) -> ReplCompletion {
        let word = lastMatch(#"[A-Za-z_][A-Za-z0-9_.:]*$"#, in: prefix)?[0] ?? ""
        let start = prefix.count - word.count
        if let before = prefix.dropLast(word.count).last, before == "." || before == ":" || before.isNumber {
            return ReplCompletion(start: start, candidates: [])
        }
        var parts = word.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let last = parts.removeLast()
        if let colon = last.firstIndex(of: ":") {
            // `text:up`: methods of strings (or of a table's fields)
            let method = String(last[last.index(after: colon)...])
            let head = String(word.dropLast(method.count))
            let names = source.fieldNames(path: parts + [String(last[..<colon])])
            return ReplCompletion(start: start, candidates: matching(names, method).map { head + $0 })
        }
        let names = parts.isEmpty ? source.fieldNames(path: []) + LuaLiteral.keywords : source.fieldNames(path: parts)
        let head = parts.isEmpty ? "" : parts.joined(separator: ".") + "."
        return ReplCompletion(start: start, candidates: matching(names, last).map { head + $0 })
    }

    private func matching(_ names: [String], _ partial: String) -> [String] {
        Array(Set(names.filter { $0.hasPrefix(partial) && !$0.hasPrefix("_cdsync") })).sorted()
    }

    /// The innermost `{` not closed before the end (strings are not tracked: good enough for typing).
    private func openBrace(in text: String) -> String.Index? {
        var open: [String.Index] = []
        var index = text.startIndex
        while index < text.endIndex {
            switch text[index] {
            case "{": open.append(index)
            case "}": _ = open.popLast()
            default: break
            }
            index = text.index(after: index)
        }
        return open.last
    }

    /// The capture groups of the last match of `pattern` anchored as written.
    private func lastMatch(_ pattern: String, in text: String) -> [String]? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).last else { return nil }
        return (0..<match.numberOfRanges).map { index in
            Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
        }
    }
}
