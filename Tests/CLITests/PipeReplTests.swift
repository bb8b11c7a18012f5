import Foundation
import XCTest

/// `cdsync repl` with standard input not a terminal: statements line by line, values on
/// stdout without prompts, errors on stderr, exit 1 when a statement failed.
final class PipeReplTests: XCTestCase {
    /// Runs `cdsync repl` on a fresh store with `input` piped in.
    /// (`directory`: the store's directory, kept; else a new one, removed afterwards)
    private func repl(_ input: String, environment: [String: String] = [:], arguments: [String] = [],
                      in directory: URL? = nil) throws -> CLIRunner.Result {
        try repl(bytes: Data(input.utf8), environment: environment, arguments: arguments, in: directory)
    }

    private func repl(bytes input: Data, environment: [String: String] = [:], arguments: [String] = [],
                      in given: URL? = nil) throws -> CLIRunner.Result {
        let directory = try given ?? temporaryDirectory()
        defer { if given == nil { try? FileManager.default.removeItem(at: directory) } }
        var inherited = ProcessInfo.processInfo.environment
        inherited["COLUMNS"] = nil
        let process = Process()
        process.executableURL = try CLIRunner.binary()
        process.arguments = ["repl", "--db", directory.appendingPathComponent("repl.db").path] + arguments
        process.currentDirectoryURL = directory
        process.environment = inherited.merging(environment) { _, new in new }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIRunner.Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                                stderr: String(decoding: err, as: UTF8.self))
    }

    private static let threeAccounts = """
        cds.create("account", {accountnumber = "A1", name = "Contoso", revenue = cds.decimal("1200.50")}, "00000000-0000-4000-8000-0000000000a1")
        cds.create("account", {accountnumber = "A2", name = "Fabrikam"}, "00000000-0000-4000-8000-0000000000a2")
        cds.create("account", {accountnumber = "A3", name = "Northwind Traders", revenue = 75}, "00000000-0000-4000-8000-0000000000a3")

        """

    func test_valuesArePrintedWithoutPromptsAndNilIsShown() throws {
        let result = try repl("1 + 1\nnil\nx = 'kept'\nx\nfunction f()\n  return 6 * 7\nend\nf()\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "2\nnil\n\"kept\"\n42\n")
        XCTAssertEqual(result.stderr, "")
    }

    func test_aFailedStatementIsReportedWithItsCodeAndTheExitCodeIsOne() throws {
        let result = try repl("cds.get('nope', { a = 1 })\n'after'\n")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "\"after\"\n")
        XCTAssertEqual(result.stderr, "repl:1: error: The entity 'nope' does not exist. [0x8006088a]\n")
    }

    /// A writer the statements left open is written out when the REPL ends; on a full disk
    /// that is an error and exit 1, not a file silently cut short.
    func test_aWriterLeftOpenThatCannotBeWrittenOutFailsTheSession() throws {
        try XCTSkipUnless(FileManager.default.isWritableFile(atPath: "/dev/full"), "needs /dev/full (Linux)")
        let result = try repl("w = json.writer('/dev/full')\nw:write({ a = 1 })\n'written'\n")
        XCTAssertEqual(result.stdout, "\"written\"\n")
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("No space left on device") && result.stderr.contains("[file.write_failed]"), result.stderr)
    }

    /// A line that is not UTF-8 is refused, not repaired into U+FFFD and written; CRLF line
    /// ends are read as lines.
    func test_aLineThatIsNotUTF8IsRefusedAndTheSessionGoesOn() throws {
        var input = Data("cds.create('account', { accountnumber = 'L1', name = 'caf".utf8)
        input.append(0xE9)
        input.append(contentsOf: Array("' })\r\n#cds.query('account', { select = { 'name' } })\r\n".utf8))
        let result = try repl(bytes: input)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "0\n")
        XCTAssertTrue(result.stderr.contains("input line 1 is not UTF-8 text") && result.stderr.contains("[text.invalid_utf8]"), result.stderr)
    }

    /// SIGTERM ends the REPL, waiting for input or in a statement (rolled back): the writers
    /// its statements left open are written out first, and the exit code is 75.
    func test_sigtermWritesOutOpenWritersAndExits75() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (statements, running) in [("w = csv.writer('idle.csv', { 'a' }); w:write({ a = 1 })", false),
                                      ("w = csv.writer('busy.csv', { 'a' }); w:write({ a = 2 })\ncds.create('account', { accountnumber = 'T1', name = 'x' }); while true do end", true)] {
            let process = Process()
            process.executableURL = try CLIRunner.binary()
            process.arguments = ["repl", "--db", "repl.db"]
            process.currentDirectoryURL = directory
            let stdin = Pipe(), stderr = Pipe()
            process.standardInput = stdin
            process.standardOutput = FileHandle.nullDevice
            process.standardError = stderr
            try process.run()
            stdin.fileHandleForWriting.write(Data((statements + "\n").utf8))
            Thread.sleep(forTimeInterval: 1.5)
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(process.terminationReason, .exit, errors)
            XCTAssertEqual(process.terminationStatus, 75, errors)
            XCTAssertTrue(errors.contains("ended by SIGTERM"), errors)
            let file = running ? "busy.csv" : "idle.csv"
            XCTAssertEqual(try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8), running ? "a\r\n2\r\n" : "a\r\n1\r\n")
        }
        let check = try repl("cds.get('account', { accountnumber = 'T1' })\n", in: directory)
        XCTAssertEqual(check.stdout, "nil\n", "the interrupted statement's write was rolled back")
    }

    /// A line that is not UTF-8 inside a statement of several lines refuses that whole
    /// statement: the lines after it are not run on their own (here a guarded delete).
    func test_anUnreadableLineRefusesItsWholeStatementNotJustTheLine() throws {
        var input = Data("cds.create('account', { accountnumber = 'KEEP', name = 'k' }) ~= nil\nif false then\n  -- Gr".utf8)
        input.append(contentsOf: [0xFC, 0xDF])
        input.append(contentsOf: Array("e: disabled clean-up\n  cds.delete('account', { accountnumber = 'KEEP' })\nend\ncds.get('account', { accountnumber = 'KEEP' }).name\n".utf8))
        let result = try repl(bytes: input)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "true\n\"k\"\n", result.stderr)
        XCTAssertTrue(result.stderr.contains("input line 3 is not UTF-8 text; its statement was not run"), result.stderr)
    }

    /// A syntax error stops piped input: where the broken statement ends is unknown, so the
    /// lines after it (a delete meant to stay inside the `if`) are not run.
    func test_aSyntaxErrorStopsPipedInput() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try repl("""
            cds.create('account', { accountnumber = 'KEEP', name = 'k' }) ~= nil
            if true then
              y = = 1
              cds.delete('account', { accountnumber = 'KEEP' })
            end
            'never'

            """, in: directory)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "true\n")
        XCTAssertTrue(result.stderr.contains("repl:2: error: unexpected symbol near '='"), result.stderr)
        XCTAssertTrue(result.stderr.contains("the input after line 3 was not run"), result.stderr)
        let check = try repl("cds.get('account', { accountnumber = 'KEEP' }) ~= nil\n", in: directory)
        XCTAssertEqual(check.stdout, "true\n", "the store kept the record: the delete did not run")
    }

    /// The expression after the last `;` between statements is shown; a `;` inside a
    /// string, a long string, a comment or a table constructor separates nothing.
    func test_theExpressionAfterTheLastSemicolonIsShown() throws {
        let result = try repl("""
            x = 1; math.max(x, 2)
            s = "a"; s .. ";b"
            s = "a;" .. "b"
            s
            t = {1; 2}; #t
            y = [[;]]; y
            x = 3 -- ; y
            x
            n = 0; for i = 1, 3 do n = n + i; end
            n
            for i = 1, 3 do n = n + i; n = n + 0 end
            n
            k = 0; while k < 3 do k = k + 1; end
            k
            repeat k = k - 1; until k == 0
            k
            function f() local a = 1; return a + 1 end
            f()
            if k == 0 then k = 5; k = k + 1 end
            k

            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        // (a `;` in a block's body is no place for the shown expression: the loops ran in full)
        XCTAssertEqual(result.stdout, "2\n\"a;b\"\n\"a;b\"\n2\n\";\"\n3\n6\n12\n3\n0\n2\n6\n")
    }

    /// A module that does not compile fails its statement (`script.syntax`), but the
    /// statement itself parsed: piped input goes on.
    func test_aBrokenModuleFailsItsStatementAndInputGoesOn() throws {
        let directory = try temporaryDirectory()
        try "local x =\n".write(to: directory.appendingPathComponent("broken.lua"), atomically: true, encoding: .utf8)
        let result = try repl("require('broken')\n1 + 1\n", arguments: ["--module-path", directory.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "2\n")
        XCTAssertTrue(result.stderr.contains("[script.syntax]"), result.stderr)
        XCTAssertFalse(result.stderr.contains("was not run"), result.stderr)
    }

    /// A statement stuck in a library call, where `--timeout` cannot reach it between Lua
    /// instructions, ends the REPL a few seconds after its timeout (it ran on for good).
    func test_aStatementStuckInALibraryCallEndsTheREPLAfterItsTimeout() throws {
        let started = Date()
        let result = try repl(#"("a"):rep(5000):find(".-.-.-b")"# + "\n'never'\n", arguments: ["--timeout", "1"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("[script.timeout]"), result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
    }

    func test_inputEndingInsideAStatementFails() throws {
        let result = try repl("function f()\n")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("[script.syntax]"), result.stderr)
    }

    func test_describeAccountGolden() throws {
        let result = try repl(".describe account\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, """
            entity account  (set accounts, primary id accountid, primary name name)
            change tracking: enabled   ownership: user

            columns:
              accountid          uniqueidentifier
              name               string(160)                required
              accountnumber      string(20)
              telephone1         string(50)
              emailaddress1      string(100)
              address1_city      string(80)
              description        memo(2000)
              revenue            money(2)
              numberofemployees  integer
              primarycontactid   lookup -> contact
              parentaccountid    lookup -> account
              ownerid            owner -> systemuser, team
              statecode          state
              statuscode         status
              versionnumber      integer
              createdon          datetime
              modifiedon         datetime

            keys:
              ak_accountnumber  accountnumber  Active

            states:
              0 Active    default status 1  statuses: 1 Active
              1 Inactive  default status 2  statuses: 2 Inactive

            """)
    }

    func test_threeRecordTableGolden() throws {
        let query = "cds.query('account', {select = {'accountnumber', 'name', 'revenue'}, orderby = 'accountnumber'})\n"
        let result = try repl(".mode lua\n" + Self.threeAccounts + ".mode table\n" + query)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasSuffix("""
            display mode: table
            accountid                             accountnumber  name               revenue  versionnumber
            ------------------------------------  -------------  -----------------  -------  -------------
            00000000-0000-4000-8000-0000000000a1  A1             Contoso            1200.50  1
            00000000-0000-4000-8000-0000000000a2  A2             Fabrikam                    2
            00000000-0000-4000-8000-0000000000a3  A3             Northwind Traders  75.00    3
            (3 rows)

            """), result.stdout)
    }

    func test_aWideTableIsCutToColumnsAndExpandedModeShowsEverything() throws {
        let query = "cds.query('account', {select = {'accountnumber', 'name'}, orderby = 'accountnumber'})\n"
        let narrow = try repl(Self.threeAccounts + query, environment: ["COLUMNS": "60"])
        XCTAssertEqual(narrow.status, 0, narrow.stderr)
        let table = narrow.stdout.split(separator: "\n").drop { !$0.hasPrefix("accountid ") }
        XCTAssertEqual(table.count, 6, narrow.stdout)
        XCTAssertTrue(table.allSatisfy { $0.count <= 60 }, narrow.stdout)
        XCTAssertTrue(narrow.stdout.contains("  Northwind Tra…  "), narrow.stdout)
        let expanded = try repl(Self.threeAccounts + "\\x\n" + query, environment: ["COLUMNS": "60"])
        XCTAssertTrue(expanded.stdout.contains("-[ RECORD 3 ]"), expanded.stdout)
        XCTAssertTrue(expanded.stdout.contains("name           Northwind Traders\n"), expanded.stdout)
    }

    func test_entitiesListsRowCountsAfterWrites() throws {
        let result = try repl("cds.upsert('contact', { emailaddress1 = 'a@contoso.test' }, { lastname = 'A' }).created\n.entities\n")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("true\nENTITY"), result.stdout)
        XCTAssertTrue(result.stdout.contains("contact       contacts       1     on"), result.stdout)
    }

    func test_unknownCommandsFail() throws {
        let result = try repl(".frobnicate\n.quit\n'not reached'\n")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "error: unknown command .frobnicate (.help lists the commands)\n")
    }
}
