import EntityModel
import EntityStore
import Foundation
import SyncHost

/// The REPL's read-evaluate-print loop over a terminal (libedit) or a pipe: gathers lines
/// into statements, runs dot commands, prints values on stdout and errors on stderr.
final class ReplShell {
    let store: EntityStore
    let session: ReplSession
    private var formatter: ReplFormatter
    /// Statements and commands that failed so far.
    private(set) var failures = 0
    private var buffer: [String] = []
    /// True at a terminal: an interrupted statement's error goes after the echoed ^C.
    private var interactive = false
    /// True when the last statement evaluated did not compile.
    private var syntaxFailed = false

    static let prompt = "cdsync> "
    static let continuationPrompt = ">> "

    /// What a line did.
    enum Step: Equatable {
        /// The statement is not finished: read another line.
        case more
        /// A statement or command ran (the text is what history keeps; nil for a blank line).
        case ran(String?)
        /// Leave the REPL.
        case quit
    }

    /// Ends the REPL when a statement stuck in a library call outlives its `--timeout` (or
    /// Ctrl-C) by a few seconds, as `cdsync run` does: Lua's hooks cannot reach it there.
    private let hardStop: HardStop

    init(store: EntityStore, session: ReplSession, mode: ReplDisplayMode, timeout: Double? = nil) {
        self.store = store
        self.session = session
        formatter = ReplFormatter(mode: mode, width: nil)
        hardStop = HardStop(timeout: timeout, script: "repl", watching: false)
        hardStop.start()
    }

    deinit { hardStop.finish() }

    /// Reads statements from the terminal until `.quit` or Ctrl-D; returns true (statement
    /// errors are shown, not fatal).
    func runInteractive(_ editor: LineEditor) -> Bool {
        interactive = true
        write("cdsync repl: Lua with cds loaded. .help for commands, .quit or Ctrl-D to leave.\n")
        while true {
            formatter.width = LineEditor.terminalWidth()
            ReplSession.clearInterrupt()
            let line: String
            switch editor.readLine(prompt: buffer.isEmpty ? Self.prompt : Self.continuationPrompt) {
            case .line(let text): line = text  // a Ctrl-C from here on stops the statement at once
            case .interrupted:
                if ReplSession.terminationRequested { return true }
                // Ctrl-C at the prompt drops the statement being typed, as in psql
                buffer.removeAll()
                write("^C\n")
                continue
            case .end:
                write("\n")
                return true
            }
            switch accept(line) {
            case .more: continue
            case .ran(let text): if let text { editor.remember(text) }
            case .quit: return true
            }
            if ReplSession.terminationRequested { return true }
        }
    }

    /// Reads statements from standard input without prompts; false if any failed.
    ///
    /// Where a statement ends is only known from text that parses. So a syntax error stops
    /// the input: the lines after it may belong to the broken statement (a `cds.delete` inside
    /// an `if false then … end` whose line 2 is mistyped would otherwise run on its own). A
    /// line that is not UTF-8 text is read as repaired text only to find where its statement
    /// ends; that whole statement is refused, not run.
    func runPiped() -> Bool {
        formatter.width = LineEditor.terminalWidth()
        var input = InputLines(descriptor: STDIN_FILENO)
        var number = 0
        /// The first line of the statement being gathered that is not UTF-8 text.
        var unreadable: Int?
        while let bytes = input.next() {
            number += 1
            // `Swift.readLine` would turn bytes that are not UTF-8 into U+FFFD, and the
            // statement would write the repaired text without a word
            var line: String
            if let text = String(validating: bytes, as: UTF8.self) {
                line = text
            } else {
                unreadable = unreadable ?? number
                line = String(decoding: bytes, as: UTF8.self)
                // (a line on its own that looks like a dot command is still part of the text)
                if buffer.isEmpty && line.trimmingCharacters(in: .whitespaces).hasPrefix(".") { line = "--" + line }
            }
            if let first = unreadable {
                switch gather(line) {
                case .more: continue
                case .invalid(let error):
                    writeError(error)
                    return stopInput(after: number)
                case .complete:
                    rejectUnreadable(line: first)
                    unreadable = nil
                    continue
                }
            }
            switch accept(line) {
            case .quit: return failures == 0
            case .ran(_) where syntaxFailed: return stopInput(after: number)
            default: break
            }
            if ReplSession.terminationRequested { return false }
        }
        if ReplSession.terminationRequested { return false }
        if !buffer.isEmpty {
            if let first = unreadable {
                rejectUnreadable(line: first)
            } else {
                // input ended inside a statement: run it to report why it is incomplete
                evaluate(buffer.joined(separator: "\n"))
            }
            buffer.removeAll()
        }
        return failures == 0
    }

    /// What the gathered lines plus `line` are, for a statement that will not be run.
    private enum Gathered {
        case more
        case complete
        case invalid(String)
    }

    private func gather(_ line: String) -> Gathered {
        buffer.append(line)
        let source = buffer.joined(separator: "\n")
        if session.completeness(of: source) == .incomplete { return .more }
        buffer.removeAll()
        if let failure = session.syntaxError(of: source) {
            failures += 1
            return .invalid(failure.text)
        }
        return .complete
    }

    /// Ends piped input after a syntax error at `line`: where its statement ends is unknown.
    private func stopInput(after line: Int) -> Bool {
        failures += 1
        writeError("error: the input after line \(line) was not run: a syntax error leaves unknown where its statement ends [script.syntax]")
        return false
    }

    /// A statement with a line that is not UTF-8 text: refused, and counts as failed.
    func rejectUnreadable(line: Int) {
        failures += 1
        buffer.removeAll()
        writeError("error: input line \(line) is not UTF-8 text; its statement was not run [text.invalid_utf8]")
    }

    /// Takes one input line: a command, part of a statement, or the line that completes one.
    func accept(_ line: String) -> Step {
        if buffer.isEmpty {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return .ran(nil) }
            if let directive = ReplDirective.parse(trimmed) { return perform(directive) ? .ran(trimmed) : .quit }
        }
        buffer.append(line)
        let source = buffer.joined(separator: "\n")
        if session.completeness(of: source) == .incomplete { return .more }
        buffer.removeAll()
        evaluate(source)
        return .ran(source)
    }

    private func evaluate(_ source: String) {
        syntaxFailed = false
        hardStop.watch()
        let outcome = session.evaluate(source)
        hardStop.pause()
        switch outcome {
        case .values(let values):
            if !values.isEmpty { write(formatter.format(values) + "\n") }
        case .failure(let failure):
            failures += 1
            syntaxFailed = failure.didNotCompile
            if failure.interrupted && interactive { write("\n") }
            writeError(failure.text)
        }
    }

    /// Runs a dot command; false means leave.
    private func perform(_ directive: ReplDirective) -> Bool {
        switch directive {
        case .help: write(ReplDirective.helpText + "\n")
        case .entities: show { try SchemaPrinter.list(store) }
        case .describe(let entity): show { SchemaPrinter.describe(try store.definition(of: entity)) }
        case .mode(let mode):
            if let mode { formatter.mode = mode }
            write("display mode: \(formatter.mode.rawValue)\n")
        case .toggleExpanded:
            formatter.mode = formatter.mode == .expanded ? .table : .expanded
            write("display mode: \(formatter.mode.rawValue)\n")
        case .quit: return false
        case .invalid(let message):
            failures += 1
            writeError("error: \(message)")
        }
        return true
    }

    private func show(_ text: () throws -> String) {
        do { write(try text() + "\n") } catch let error as ServiceError {
            failures += 1
            writeError("error: \(error.message) [\(error.code.value)]")
        } catch {
            failures += 1
            writeError("error: \(error)")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    private func writeError(_ line: String) {
        ErrorReport.writeStandardError(line)
    }
}

/// Lines of a file descriptor as bytes (without their `\n` or `\r\n`), read in blocks.
struct InputLines {
    private let descriptor: Int32
    private var pending: [UInt8] = []
    private var start = 0
    /// Where to look for the next `\n`: the bytes before it were searched already (a long
    /// line arriving in many blocks is searched once, not once per block).
    private var searched = 0
    private var ended = false

    init(descriptor: Int32) { self.descriptor = descriptor }

    mutating func next() -> [UInt8]? {
        while true {
            if let newline = pending[max(start, searched)...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start && pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = Array(pending[start..<end])
                start = newline + 1
                searched = start
                return line
            }
            searched = pending.count
            if ended {
                guard start < pending.count else { return nil }
                let line = Array(pending[start...])
                start = pending.count
                return line
            }
            pending.removeFirst(start)
            searched -= start
            start = 0
            // waits in short polls: SIGTERM may land on another of the process's threads,
            // leaving `read` uninterrupted, and must still end the input
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ReplSession.terminationRequested { return nil }
            if ready == 0 || (ready < 0 && errno == EINTR) { continue }
            var block = [UInt8](repeating: 0, count: 65_536)
            let count = block.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR {
                // SIGTERM interrupts the read: the input ends there (a line not finished is not read)
                if ReplSession.terminationRequested { return nil }
                continue
            }
            if count <= 0 { ended = true } else { pending += block[0..<count] }
        }
    }
}
