import EntityModel
import EntityStore
import Foundation
import SyncHost
import XCTest

/// The REPL's testable half: statement completeness, evaluation against a real (in-memory)
/// store, result formatting and completion.
final class ReplTests: XCTestCase {
    private func makeSession() throws -> (ReplSession, EntityStore) {
        let store = try EntityStore(path: nil)
        let options = stdlibOptions()
        return (try ReplSession(service: store, tokens: store, options: options), store)
    }

    private func values(_ session: ReplSession, _ source: String, file: StaticString = #filePath, line: UInt = #line) -> [ReplValue] {
        switch session.evaluate(source) {
        case .values(let values): return values
        case .failure(let failure):
            XCTFail("statement failed: \(failure.text)", file: file, line: line)
            return []
        }
    }

    private func failure(_ session: ReplSession, _ source: String, file: StaticString = #filePath, line: UInt = #line) -> ReplFailure? {
        guard case .failure(let failure) = session.evaluate(source) else {
            XCTFail("statement did not fail", file: file, line: line)
            return nil
        }
        return failure
    }

    // MARK: - Completeness

    func test_unfinishedFunctionTableAndLongStringAskForMoreLines() throws {
        let (session, _) = try makeSession()
        XCTAssertEqual(session.completeness(of: "function f()"), .incomplete)
        XCTAssertEqual(session.completeness(of: "function f()\n  return 1"), .incomplete)
        XCTAssertEqual(session.completeness(of: "function f()\n  return 1\nend"), .complete)
        XCTAssertEqual(session.completeness(of: "t = {"), .incomplete)
        XCTAssertEqual(session.completeness(of: "s = [[first line"), .incomplete)
        XCTAssertEqual(session.completeness(of: "cds.get(\"account\","), .incomplete)
        XCTAssertEqual(session.completeness(of: "s = \"first line\\"), .incomplete)
    }

    func test_wholeStatementsAndHopelessErrorsAreComplete() throws {
        let (session, _) = try makeSession()
        XCTAssertEqual(session.completeness(of: "1 + 1"), .complete)
        XCTAssertEqual(session.completeness(of: "x = 1"), .complete)
        XCTAssertEqual(session.completeness(of: "x = = 1"), .complete)
        XCTAssertEqual(session.completeness(of: "s = \"unfinished"), .complete)
        XCTAssertEqual(session.completeness(of: "x = 1 x"), .complete)
    }

    // MARK: - Evaluation

    func test_expressionValuesNilAndStatementsAreDistinct() throws {
        let (session, _) = try makeSession()
        XCTAssertEqual(values(session, "1 + 1"), [.integer(2)])
        XCTAssertEqual(values(session, "nil"), [.nil])
        XCTAssertEqual(values(session, "x = 41"), [])
        XCTAssertEqual(values(session, "x + 1, 'a'"), [.integer(42), .string("a")])
        XCTAssertEqual(values(session, "cds.decimal('12.50')"), [.text("12.50")])
        XCTAssertEqual(values(session, "t = { n = 1 }; t.n = t.n + 1; t.n"), [.integer(2)])
        XCTAssertEqual(values(session, "t = {}; t.self = t; t"), [.table([(key: "self", value: .text("<cycle>"))])])
    }

    func test_errorsCarryTheirCodeAndTheSessionGoesOn() throws {
        let (session, _) = try makeSession()
        let missing = failure(session, "cds.get('nope', { a = 1 })")
        XCTAssertEqual(missing?.code, ErrorCode.resourceNotFound.value)
        XCTAssertEqual(missing?.text.hasPrefix("repl:1: error: "), true, missing?.text ?? "")
        XCTAssertEqual(failure(session, "error({ code = 'x.custom', message = 'nope' })")?.text, "repl:1: error: nope [x.custom]")
        XCTAssertEqual(failure(session, "x = = 1")?.code, "script.syntax")
        XCTAssertEqual(values(session, "2 * 21"), [.integer(42)])
    }

    func test_writesAreVisibleOnTheNextStatement() throws {
        let (session, store) = try makeSession()
        _ = values(session, "cds.upsert('account', { accountnumber = 'A1' }, { name = 'Contoso' })")
        XCTAssertEqual(try store.count("account"), 1)
        XCTAssertEqual(values(session, "cds.get('account', { accountnumber = 'A1' }).name"), [.string("Contoso")])
    }

    func test_aFailedStatementIsRolledBackWhole() throws {
        let (session, store) = try makeSession()
        let result = failure(session, "cds.upsert('account', { accountnumber = 'A1' }, { name = 'Contoso' }); cds.flush(); error('stop here')")
        XCTAssertEqual(result?.text, "repl:1: error: stop here [script.runtime]")
        XCTAssertEqual(try store.count("account"), 0)
        // its write is not counted either (cds.stats() said created 1)
        XCTAssertEqual(values(session, "cds.stats().created"), [.integer(0)])
        _ = values(session, "cds.upsert('account', { accountnumber = 'A2' }, { name = 'kept' }); cds.flush()")
        XCTAssertEqual(values(session, "cds.stats().created"), [.integer(1)])
        // a result kept from a rolled-back statement no longer reports its write done
        _ = failure(session, "r = cds.upsert('account', { accountnumber = 'A3' }, { name = 'gone' }); cds.flush(); error('undo')")
        XCTAssertEqual(values(session, "r.error.code"), [.string("batch.not_sent")])
        XCTAssertEqual(values(session, "(pcall(function() return r.id end))"), [.boolean(false)])
        // and one from a statement that committed still does
        _ = values(session, "k = cds.upsert('account', { accountnumber = 'A4' }, { name = 'kept' }); cds.flush()")
        XCTAssertEqual(values(session, "k.created"), [.boolean(true)])
    }

    func test_anInterruptedStatementIsRolledBackAndTheNextOneRuns() throws {
        let (session, store) = try makeSession()
        session.interruptHandle.interrupt()
        let result = failure(session, "cds.upsert('account', { accountnumber = 'A1' }, { name = 'C' }); cds.flush(); while true do end")
        XCTAssertEqual(result?.interrupted, true)
        XCTAssertEqual(result?.code, "script.interrupted")
        XCTAssertEqual(try store.count("account"), 0)
        XCTAssertEqual(values(session, "'still here'"), [.string("still here")])
    }

    func test_aRejectedRowIsReportedWithItsKeyAndDoesNotStickToLaterStatements() throws {
        let (session, _) = try makeSession()
        let result = failure(session, "cds.upsert('account', { accountnumber = 'A1' }, { bogus = 1 })")
        XCTAssertEqual(result?.text.contains("bogus"), true, result?.text ?? "")
        XCTAssertEqual(result?.text.hasPrefix("repl:1: error: "), true, result?.text ?? "")
        XCTAssertEqual(values(session, "cds.upsert('account', { accountnumber = 'A2' }, { name = 'ok' }).created"), [.boolean(true)])
    }

    // MARK: - Formatting

    private let threeAccounts: ReplValue = .list([
        .table([(key: "accountnumber", value: .string("A1")), (key: "name", value: .string("Contoso")), (key: "revenue", value: .text("12.50"))]),
        .table([(key: "accountnumber", value: .string("A2")), (key: "name", value: .string("Fabrikam"))]),
        .table([(key: "accountnumber", value: .string("A3")), (key: "name", value: .string("Northwind Traders")), (key: "revenue", value: .text("7"))]),
    ])

    func test_aListOfRecordsPrintsAsAnAlignedTable() {
        XCTAssertEqual(ReplFormatter().format(threeAccounts), """
            accountnumber  name               revenue
            -------------  -----------------  -------
            A1             Contoso            12.50
            A2             Fabrikam
            A3             Northwind Traders  7
            (3 rows)
            """)
    }

    func test_aWideTableIsTruncatedToTheTerminalWidth() {
        let text = ReplFormatter(mode: .table, width: 30).format(threeAccounts)
        XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.count <= 30 }, text)
        XCTAssertTrue(text.contains("Northwind…"), text)
        let narrow = ReplFormatter(mode: .table, width: 16).format(threeAccounts)
        XCTAssertTrue(narrow.contains("not shown; .mode expanded shows all"), narrow)
    }

    func test_aRecordPrintsAsNameValueLinesAndExpandedModeAsBlocks() {
        guard case .list(let items) = threeAccounts else { return }
        XCTAssertEqual(ReplFormatter().format(items[0]), "accountnumber  A1\nname           Contoso\nrevenue        12.50")
        let expanded = ReplFormatter(mode: .expanded).format(.list(Array(items.prefix(2))))
        XCTAssertEqual(expanded, """
            -[ RECORD 1 ]--------------------
            accountnumber  A1
            name           Contoso
            revenue        12.50
            -[ RECORD 2 ]--------------------
            accountnumber  A2
            name           Fabrikam
            """)
    }

    func test_luaModeAndScalarsPrintAsLuaLiterals() {
        let formatter = ReplFormatter(mode: .lua)
        XCTAssertEqual(formatter.format([.nil, .boolean(true), .number(5), .string("a\"b\n")]), "nil\ntrue\n5.0\n\"a\\\"b\\n\"")
        XCTAssertEqual(formatter.format(.table([(key: "end", value: .integer(1)), (key: "name", value: .list([.integer(1), .integer(2)]))])),
                       "{[\"end\"] = 1, name = {1, 2}}")
    }

    // MARK: - Completion

    func test_completionOffersCdsFunctionsEntitiesAndColumns() throws {
        let (session, _) = try makeSession()
        let completer = ReplCompleter(source: session)
        XCTAssertEqual(completer.complete("cds.ups"), ReplCompletion(start: 0, candidates: ["cds.upsert", "cds.upserted_keys"]))
        XCTAssertEqual(completer.complete("cds.dele"), ReplCompletion(start: 0, candidates: ["cds.delete"]))
        XCTAssertTrue(completer.complete("x = cds.").candidates.contains("cds.query"))
        XCTAssertEqual(completer.complete("pri").candidates, ["print"])
        XCTAssertEqual(completer.complete("cds.get(\"acc"), ReplCompletion(start: 9, candidates: ["account"]))
        XCTAssertEqual(completer.complete("cds.upsert('account', { accountnu").candidates, ["accountnumber"])
        XCTAssertEqual(completer.complete("cds.upsert('account', { accountnumber = 'A1' }, { name = 'x', reve").candidates, ["revenue"])
        XCTAssertEqual(completer.complete(".de"), ReplCompletion(start: 0, candidates: [".describe"]))
        XCTAssertEqual(completer.complete("\\d con").candidates, ["contact"])
        XCTAssertEqual(completer.complete("('x'):up").candidates, [])
    }

    func test_dotCommandsParseAndLuaNumbersAreNotCommands() {
        XCTAssertEqual(ReplDirective.parse(".describe account"), .describe("account"))
        XCTAssertEqual(ReplDirective.parse("\\d account"), .describe("account"))
        XCTAssertEqual(ReplDirective.parse(".entities"), .entities)
        XCTAssertEqual(ReplDirective.parse(".mode expanded"), .mode(.expanded))
        XCTAssertEqual(ReplDirective.parse(".mode wide"), .invalid("usage: .mode table|expanded|lua"))
        XCTAssertEqual(ReplDirective.parse(".quit"), .quit)
        XCTAssertNil(ReplDirective.parse(".5 + 1"))
        XCTAssertNil(ReplDirective.parse("x = 1"))
    }
}
