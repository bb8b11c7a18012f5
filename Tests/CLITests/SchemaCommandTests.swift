import XCTest

/// `cdsync schema` through the real binary.
final class SchemaCommandTests: XCTestCase {
    func test_showAccountPrintsTheStarterTableWithItsKey() throws {
        let directory = try temporaryDirectory()
        let result = try CLIRunner.run(["schema", "show", "account", "--db", "store.db"], in: directory)
        XCTAssertEqual(result.status, 0, result.stderr)
        let expectedLines = [
            "entity account  (set accounts, primary id accountid, primary name name)",
            "  name               string(160)                required",
            "  accountnumber      string(20)",
            "  primarycontactid   lookup -> contact",
            "  ownerid            owner -> systemuser, team",
            "  ak_accountnumber  accountnumber  Active",
            "  0 Active    default status 1  statuses: 1 Active",
        ]
        for line in expectedLines {
            XCTAssertTrue(result.stdout.contains(line + "\n"), "missing line: \(line)\n\(result.stdout)")
        }
    }

    func test_applyCreatesThenReportsNothingToChange() throws {
        let directory = try temporaryDirectory()
        let schema = CLIRunner.root.appendingPathComponent("examples/erp/schema.yaml").path
        let first = try CLIRunner.run(["schema", "apply", schema, "--db", "store.db"], in: directory)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("created entity region"), first.stdout)
        XCTAssertTrue(first.stdout.contains("added key region.ak_region_code: Active"), first.stdout)
        let second = try CLIRunner.run(["schema", "apply", schema, "--db", "store.db"], in: directory)
        XCTAssertEqual(second.stdout, "schema is up to date: nothing to change\n")
        let list = try CLIRunner.run(["schema", "show", "--db", "store.db"], in: directory)
        XCTAssertTrue(list.stdout.contains("region        regions        0     on        ak_region_code(code)"), list.stdout)
    }

    func test_badSchemaFileExitsWithItsNameAndNoCrash() throws {
        let directory = try temporaryDirectory()
        try "entities:\n  - name: new_x\n    attributes:\n      - { name: a, type: nosuch }\n".write(to: directory.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let result = try CLIRunner.run(["schema", "apply", "bad.yaml", "--db", "store.db"], in: directory)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("bad.yaml: error: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("[schema.invalid]"), result.stderr)
        XCTAssertFalse(result.stderr.contains("bad.yaml: error: bad.yaml"), "the name once: \(result.stderr)")
        let missing = try CLIRunner.run(["schema", "apply", "nope.yaml"], in: directory)
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.stderr.contains("cannot read nope.yaml: no such file"), missing.stderr)
        let folder = try CLIRunner.run(["schema", "apply", "."], in: directory)
        XCTAssertEqual(folder.status, 64)
        XCTAssertTrue(folder.stderr.contains("it is a directory"), folder.stderr)
    }

    /// A key that failed over duplicate rows is built again with `schema reactivate-key` once
    /// the rows are fixed (it used to stay Failed, and re-applying said "nothing to change").
    func test_aFailedKeyIsReactivatedOnceItsRowsAreFixed() throws {
        let directory = try temporaryDirectory()
        func write(_ text: String, _ name: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("entities:\n  - { name: gadget, state_model: false, attributes: [ { name: code, type: string } ] }\n", "one.yaml")
        try write("entities:\n  - { name: gadget, state_model: false, attributes: [ { name: code, type: string } ], keys: [ { name: ak_code, columns: [code] } ] }\n", "two.yaml")
        try write("cds.create('gadget', { code = 'same' }); cds.create('gadget', { code = 'same' })\n", "dupes.lua")
        try write("local rows = cds.query('gadget', { select = { 'code' } }); cds.update('gadget', rows[2].gadgetid, { code = 'other' })\n", "fix.lua")
        XCTAssertEqual(try CLIRunner.run(["schema", "apply", "one.yaml", "--db", "s.db"], in: directory).status, 0)
        XCTAssertEqual(try CLIRunner.run(["run", "dupes.lua", "--db", "s.db"], in: directory).status, 0)
        let failed = try CLIRunner.run(["schema", "apply", "two.yaml", "--db", "s.db"], in: directory)
        XCTAssertTrue(failed.stdout.contains("added key gadget.ak_code: Failed"), failed.stdout + failed.stderr)
        let stillDuplicate = try CLIRunner.run(["schema", "reactivate-key", "gadget", "ak_code", "--db", "s.db"], in: directory)
        XCTAssertEqual(stillDuplicate.status, 1)
        XCTAssertTrue(stillDuplicate.stdout.contains("key gadget.ak_code: Failed"), stillDuplicate.stdout)
        XCTAssertEqual(try CLIRunner.run(["run", "fix.lua", "--db", "s.db"], in: directory).status, 0)
        let reactivated = try CLIRunner.run(["schema", "reactivate-key", "gadget", "ak_code", "--db", "s.db"], in: directory)
        XCTAssertEqual(reactivated.status, 0, reactivated.stderr)
        XCTAssertEqual(reactivated.stdout, "key gadget.ak_code: Active\n")
        let again = try CLIRunner.run(["schema", "reactivate-key", "gadget", "ak_code", "--db", "s.db"], in: directory)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("[0x80060897]"), again.stderr)
    }
}
