import CEditLine
import Foundation
import SyncHost

/// Line editing for the interactive REPL through libedit's readline-compatible API: arrow
/// keys, Ctrl-R history search, a history file kept between sessions, Tab completion.
final class LineEditor {
    /// The completer libedit's C hook calls (C function pointers cannot capture context).
    nonisolated(unsafe) static var activeCompleter: ReplCompleter?

    private let historyPath: String?
    static let historyLimit: Int32 = 1000

    /// Sets up libedit and loads the history file (created on the first statement).
    init(historyPath: String?, completer: ReplCompleter) {
        self.historyPath = historyPath
        Self.activeCompleter = completer
        ceditline_configure()
        ceditline_set_getc(readCharacter)
        ceditline_set_completion(completionHook)
        using_history()
        stifle_history(Self.historyLimit)
        if let historyPath { _ = read_history(historyPath) }
    }

    /// What reading a line gave.
    enum Input: Equatable {
        /// A line (without its newline).
        case line(String)
        /// Ctrl-C while the line was being typed.
        case interrupted
        /// End of input (Ctrl-D on an empty line).
        case end
    }

    /// Set by `readCharacter` when Ctrl-C ended the read.
    nonisolated(unsafe) static var readWasInterrupted = false

    /// Reads one line with `prompt`.
    func readLine(prompt: String) -> Input {
        Self.readWasInterrupted = false
        let raw = readline(prompt)
        defer { free(raw) }
        if Self.readWasInterrupted { return .interrupted }
        return raw.map { .line(String(cString: $0)) } ?? .end
    }

    /// Adds a statement to the history and saves the history file.
    func remember(_ statement: String) {
        // a statement of several lines is kept as one line, unless joining would change it:
        // a `--` comment would swallow the lines after it, a long string would change its text
        let keepsLines = statement.contains("\n") && (statement.contains("--") || statement.contains("[[") || statement.contains("[="))
        let line = keepsLines ? statement : statement.split(separator: "\n").joined(separator: " ")
        guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        add_history(line)
        if let historyPath { _ = write_history(historyPath) }
    }

    /// The history file: `$CDSYNC_HISTORY`, else `~/.cdsync_history`; nil when neither is known.
    static func defaultHistoryPath() -> String? {
        if let configured = ProcessEnvironment.value("CDSYNC_HISTORY") { return configured }
        return ProcessEnvironment.value("HOME").map { ($0 as NSString).appendingPathComponent(".cdsync_history") }
    }

    /// The terminal's width in columns, or nil when standard output is not a terminal.
    static func terminalWidth() -> Int? {
        let columns = Int(ceditline_terminal_width(STDOUT_FILENO))
        if columns > 0 { return columns }
        return ProcessEnvironment.value("COLUMNS").flatMap(Int.init)
    }
}

/// How libedit reads a key: waits in short polls so that Ctrl-C (whose SIGINT may land on any
/// of the process's threads, leaving `read` uninterrupted) ends the line as end of input.
private let readCharacter: @convention(c) (UnsafeMutablePointer<FILE>?) -> Int32 = { stream in
    let descriptor = stream.map { fileno($0) } ?? STDIN_FILENO
    var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    while true {
        if ReplSession.interruptRequested {
            LineEditor.readWasInterrupted = true
            return EOF
        }
        let ready = poll(&poller, 1, 100)
        if ready < 0 && errno != EINTR { return EOF }
        guard ready > 0 else { continue }
        var byte: UInt8 = 0
        let count = read(descriptor, &byte, 1)
        if count == 1 { return Int32(byte) }
        if count < 0 && errno == EINTR { continue }
        return EOF
    }
}

/// libedit's completion hook: the whole line is in `rl_line_buffer`, the word libedit will
/// replace is `start..<end` (bytes). The completer's own word may start elsewhere, so each
/// candidate is rebased onto libedit's word.
private let completionHook: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { _, start, end in
    ceditline_completion_over()
    guard let completer = LineEditor.activeCompleter, let buffer = ceditline_line_buffer() else { return nil }
    let bytes = Array(String(cString: buffer).utf8.prefix(Int(end)))
    let prefix = String(decoding: bytes, as: UTF8.self)
    let completion = completer.complete(prefix)
    let ownStart = prefix.prefix(completion.start).utf8.count
    let wordStart = min(Int(start), bytes.count)
    let matches: [String] = completion.candidates.compactMap { candidate in
        if ownStart >= wordStart { return String(decoding: bytes[wordStart..<ownStart], as: UTF8.self) + candidate }
        let cut = wordStart - ownStart
        let utf8 = Array(candidate.utf8)
        return utf8.count >= cut ? String(decoding: utf8[cut...], as: UTF8.self) : nil
    }
    return completionArray(matches)
}

/// The NULL-terminated, malloc'd array libedit expects: the common prefix, then the matches.
private func completionArray(_ matches: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    guard !matches.isEmpty else { return nil }
    let entries = matches.count == 1 ? matches : [commonPrefix(matches)] + matches
    guard let array = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (entries.count + 1))?
        .bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: entries.count + 1) else { return nil }
    for (index, entry) in entries.enumerated() { array[index] = strdup(entry) }
    array[entries.count] = nil
    return array
}

private func commonPrefix(_ words: [String]) -> String {
    guard var prefix = words.first.map({ Array($0.utf8) }) else { return "" }
    for word in words.dropFirst() {
        prefix = Array(zip(prefix, word.utf8).prefix { $0 == $1 }.map(\.0))
    }
    return String(decoding: prefix, as: UTF8.self)
}
