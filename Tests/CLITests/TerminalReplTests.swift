import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `cdsync repl` at a real pseudo-terminal: keystrokes go in, screen text comes out.
/// `setsid -c` makes the terminal the REPL's controlling terminal, so Ctrl-C raises SIGINT
/// as it does for a person at a shell.
final class TerminalReplTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try temporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func start() throws -> TerminalSession {
        let session = try TerminalSession(
            arguments: ["repl", "--db", directory.appendingPathComponent("repl.db").path,
                        "--history", directory.appendingPathComponent("history").path],
            directory: directory, environment: ["TERM": "xterm", "HOME": directory.path, "COLUMNS": "100"])
        try session.waitFor("cdsync> ")
        return session
    }

    func test_anUnfinishedFunctionContinuesOnTheContinuationPrompt() throws {
        let terminal = try start()
        defer { terminal.hangUp() }
        try terminal.type("function f()\r")
        try terminal.waitFor(">> ")
        try terminal.type("return 6 * 7\r")
        try terminal.waitFor(">> ")
        try terminal.type("end\r")
        try terminal.waitFor("cdsync> ")
        try terminal.type("f()\r")
        try terminal.waitFor("42\r\n")
    }

    func test_historyFromOneSessionIsOfferedByUpArrowInTheNext() throws {
        let first = try start()
        try first.type("'hist' .. 'ory' .. 42\r")
        try first.waitFor("\"history42\"")
        try first.type("\u{04}")
        XCTAssertTrue(first.waitForHangUp(), "Ctrl-D did not end the REPL; screen:\n\(first.screen.debugDescription)")
        first.hangUp()

        let second = try start()
        defer { second.hangUp() }
        try second.type("\u{1b}[A")
        try second.waitFor("'hist' .. 'ory' .. 42")
        try second.type("\r")
        try second.waitFor("\"history42\"")
    }

    /// A statement of several lines with a `--` comment comes back from the history as it
    /// was typed: joined into one line, the comment would swallow the loop's body.
    func test_aMultiLineStatementWithACommentIsRecalledWhole() throws {
        let terminal = try start()
        defer { terminal.hangUp() }
        try terminal.type("n = 0\r")
        try terminal.type("for i = 1, 3 do -- add\r")
        try terminal.type("n = n + i\r")
        try terminal.type("end\r")
        try terminal.type("'n=' .. n\r")
        try terminal.waitFor("\"n=6\"")
        try terminal.type("\u{1b}[A\u{1b}[A")
        try terminal.waitFor("-- add")
        try terminal.type("\r")
        try terminal.type("'m=' .. n\r")
        try terminal.waitFor("\"m=12\"")
    }

    func test_ctrlRFindsAnEarlierStatement() throws {
        let terminal = try start()
        defer { terminal.hangUp() }
        try terminal.type("'need' .. 'le' .. 1\r")
        try terminal.waitFor("\"needle1\"")
        try terminal.type("2 + 2\r")
        try terminal.waitFor("4\r\n")
        try terminal.type("\u{12}'need")
        try terminal.waitFor("'need' .. 'le' .. 1")
        terminal.send("\r")
        try terminal.waitFor("\"needle1\"")
    }

    func test_tabCompletesCdsFunctionsAndEntityNames() throws {
        let terminal = try start()
        defer { terminal.hangUp() }
        try terminal.type("cds.ups\t")
        try terminal.waitFor("ert")
        try terminal.type("\r")
        try terminal.waitFor("<function>")
        try terminal.type("cds.describe('acc\t")
        try terminal.waitFor("ount")
        try terminal.type("').primary_id\r")
        try terminal.waitFor("\"accountid\"")
    }

    func test_ctrlCStopsARunningStatementAndTheReplGoesOn() throws {
        let terminal = try start()
        defer { terminal.hangUp() }
        try terminal.type("while true do end\r")
        try terminal.waitForLineEditor(active: false)
        terminal.send("\u{03}")
        try terminal.waitFor("statement interrupted; its writes were rolled back [script.interrupted]")
        try terminal.waitFor("cdsync> ")
        try terminal.type("40 + 2\r")
        try terminal.waitFor("42\r\n")
        try terminal.type("\u{04}")
        XCTAssertTrue(terminal.waitForHangUp(), "Ctrl-D did not end the REPL; screen:\n\(terminal.screen.debugDescription)")
    }

    func test_ctrlCAtThePromptDropsTheLineAndCtrlDLeaves() throws {
        let terminal = try start()
        defer { terminal.hangUp() }
        try terminal.type("this is not lua")
        try terminal.waitFor("not lua")
        try terminal.type("\u{03}")
        try terminal.waitFor("cdsync> ")
        try terminal.type("1 + 1\r")
        try terminal.waitFor("2\r\n")
        try terminal.type("\u{04}")
        XCTAssertTrue(terminal.waitForHangUp(), "Ctrl-D did not end the REPL; screen:\n\(terminal.screen.debugDescription)")
        XCTAssertFalse(terminal.screen.contains("error"), terminal.screen)
    }
}

/// The REPL running on the slave side of a pseudo-terminal, driven from the master side.
final class TerminalSession {
    private let master: Int32
    private let process: Process
    /// Everything the REPL has written so far.
    private(set) var screen = ""
    /// Where the next `waitFor` starts looking.
    private var mark: String.Index

    init(arguments: [String], directory: URL, environment: [String: String]) throws {
        master = PseudoTerminal.openMaster(O_RDWR | O_NOCTTY)
        guard master >= 0, PseudoTerminal.grant(master) == 0, PseudoTerminal.unlock(master) == 0,
              let name = PseudoTerminal.slaveName(master) else {
            throw CocoaError(.fileNoSuchFile)
        }
        let slave = open(String(cString: name), O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw CocoaError(.fileNoSuchFile) }
        Self.resetToCookedMode(slave)
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        process.arguments = ["-c", "-w", try CLIRunner.binary().path] + arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.run()
        try terminal.close()
        mark = screen.startIndex
    }

    /// A new pseudo-terminal may keep the modes its number's last user left (a REPL killed in
    /// raw mode); libedit turns editing off when echo is off, so start from a shell's modes.
    private static func resetToCookedMode(_ descriptor: Int32) {
        var modes = termios()
        guard tcgetattr(descriptor, &modes) == 0 else { return }
        modes.c_iflag |= tcflag_t(ICRNL)
        modes.c_oflag |= tcflag_t(OPOST | ONLCR)
        modes.c_lflag |= tcflag_t(ECHO | ECHOE | ECHOK | ICANON | ISIG | IEXTEN)
        _ = tcsetattr(descriptor, TCSANOW, &modes)
    }

    /// Types keys once libedit is reading them (raw mode), as a person would.
    func type(_ keys: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try waitForLineEditor(active: true, file: file, line: line)
        send(keys)
    }

    /// Waits until libedit is reading a line (`active`, the terminal out of canonical mode) or
    /// until it has handed the line over (canonical mode again: a statement is running).
    /// Keys sent in between would be echoed twice or, for Ctrl-D, lost.
    func waitForLineEditor(active: Bool, timeout: TimeInterval = 20, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var modes = termios()
        while Date() < deadline {
            if tcgetattr(master, &modes) == 0, (modes.c_lflag & tcflag_t(ICANON) == 0) == active { return }
            _ = readSome(waitMilliseconds: 10)
        }
        XCTFail("the line editor did not become \(active ? "active" : "inactive"); screen:\n\(screen.debugDescription)", file: file, line: line)
        throw CocoaError(.fileReadUnknown)
    }

    /// Sends bytes now (a string of characters and escape sequences).
    func send(_ keys: String) {
        let bytes = Array(keys.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads the screen until `text` appears after the previous match; fails after `timeout`.
    func waitFor(_ text: String, timeout: TimeInterval = 20, file: StaticString = #filePath, line: UInt = #line) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let range = screen[mark...].range(of: text) {
                mark = range.upperBound
                return
            }
            guard Date() < deadline, readSome(waitMilliseconds: 100) else {
                XCTFail("\(text.debugDescription) did not appear; screen so far:\n\(screen.debugDescription)", file: file, line: line)
                throw CocoaError(.fileReadUnknown)
            }
        }
    }

    /// Reads until the REPL has closed the terminal (it exited); false after `timeout`.
    /// (`setsid` may fork, so the REPL's own exit status is not observable here.)
    func waitForHangUp(timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !readSome(waitMilliseconds: 100) { return true }
        }
        return false
    }

    /// Reads what is available; false once the terminal is closed.
    private func readSome(waitMilliseconds: Int32) -> Bool {
        var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, waitMilliseconds) >= 0 else { return false }
        if poller.revents & Int16(POLLHUP) != 0 && poller.revents & Int16(POLLIN) == 0 { return false }
        guard poller.revents & Int16(POLLIN) != 0 else { return true }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(master, &buffer, buffer.count)
        guard count > 0 else { return false }
        let offset = screen.distance(from: screen.startIndex, to: mark)
        screen += String(decoding: buffer[..<count], as: UTF8.self)
        mark = screen.index(screen.startIndex, offsetBy: offset)
        return true
    }

    /// Ends the REPL if it still runs and releases the terminal.
    func hangUp() {
        close(master)  // the REPL sees its terminal hang up
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        }
    }
}

/// glibc's pseudo-terminal calls. Swift's Glibc module hides them (they need _XOPEN_SOURCE),
/// so they are looked up by name in the C library.
enum PseudoTerminal {
    private static func function<T>(_ name: String, as type: T.Type) -> T {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { fatalError("libc has no \(name)") }
        return unsafeBitCast(symbol, to: type)
    }

    static let openMaster = function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
    static let grant = function("grantpt", as: (@convention(c) (Int32) -> Int32).self)
    static let unlock = function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
    static let slaveName = function("ptsname", as: (@convention(c) (Int32) -> UnsafeMutablePointer<CChar>?).self)
}
