import EntityModel
import EntityStore
import Foundation
import GRDB
import XCTest

/// Schema files are read strictly: what the decoder would drop, or what would clash with the
/// store's own names, is `schema.invalid` naming the place, and nothing is applied.
final class SchemaRulesTests: XCTestCase {
    private func refused(_ store: EntityStore, _ yaml: String, saying expected: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try store.applySchemaFile(yaml), file: file, line: line) { error in
            let error = error as? ServiceError
            XCTAssertEqual(error?.code, .schemaInvalid, file: file, line: line)
            XCTAssertTrue(error?.message.contains(expected) == true, error?.message ?? "", file: file, line: line)
        }
    }

    /// A misspelt setting was ignored and its default applied (change tracking on, which
    /// cannot be undone; max_length 100; no key).
    func test_unknownSettingsAreRefusedAtEveryLevel() throws {
        let store = try EntityStore(path: nil)
        refused(store, "entitys: []\n", saying: "the file: unknown setting 'entitys'")
        refused(store, "entities:\n  - { name: typo, change_traking: false }\n", saying: "entity 'typo': unknown setting 'change_traking'")
        refused(store, "entities:\n  - name: typo\n    attributes:\n      - { name: code, type: string, max_lenght: 5 }\n",
                saying: "entity 'typo', column 'code': unknown setting 'max_lenght'")
        refused(store, "entities:\n  - name: typo\n    attributes:\n      - { name: c, type: choice, options: [ { value: 1, lable: A } ] }\n",
                saying: "unknown setting 'lable'")
        refused(store, "entities:\n  - name: typo\n    attributes: [ { name: code, type: string } ]\n    keys: [ { name: k, column: [code] } ]\n",
                saying: "key 'k': unknown setting 'column'")
        XCTAssertThrowsError(try store.definition(of: "typo"))
        // broken YAML says where (the parser's line and column), an empty file what it lacks
        refused(store, "entities:\n  - name: x\n    attributes: [ { name: a, type: string\n", saying: "not valid YAML: 4:1")
        refused(store, "", saying: "the file is empty or not a mapping")
        refused(store, "entities:\n  - { name: x, attributes: [ { name: a, type: string, max_length: abc } ] }\n", saying: "at .entities[0].attributes[0].max_length")
        // the settings themselves, and a YAML merge of an anchored mapping, are fine
        try store.applySchemaFile("""
            x-text: &text { type: string, max_length: 5 }
            entities:
              - name: fine
                change_tracking: false
                attributes: [ { name: code, <<: *text, required: true } ]
                keys: [ { name: ak_fine_code, columns: [code] } ]
            """, fileName: "ok.yaml")
        XCTAssertEqual(try store.definition(of: "fine").attribute("code")?.maxLength, 5)
    }

    /// Entity names that clash with the names the store gives its indexes made one key's index
    /// serve two entities (`pa` key `x__y` and `pa__x` key `y`: both ak_pa__x__y).
    func test_namesThatClashWithTheStoresOwnAreRefused() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("entities:\n  - { name: pa, state_model: false, attributes: [ { name: c, type: string } ], keys: [ { name: x__y, columns: [c] } ] }\n")
        refused(store, "entities:\n  - { name: pa__x, state_model: false, attributes: [ { name: c, type: string } ], keys: [ { name: y, columns: [c] } ] }\n",
                saying: "'__' is reserved")
        refused(store, "entities:\n  - { name: ak_account__ak_accountnumber, state_model: false }\n", saying: "names starting with 'ak_' are reserved")
        refused(store, "entities:\n  - { name: ix_pa_versionnumber, state_model: false }\n", saying: "names starting with 'ix_' are reserved")
        refused(store, "entities:\n  - { name: sqlite_stuff, state_model: false }\n", saying: "names starting with 'sqlite' are reserved")
        refused(store, "entities:\n  - { name: clone, set_name: accounts, state_model: false }\n", saying: "the entity set name 'accounts' is taken by 'account'")
        refused(store, "entities:\n  - { name: twice, state_model: false }\n  - { name: twice, state_model: false }\n", saying: "'twice' is listed twice")
        refused(store, "entities:\n  - name: contact\n    attributes: [ { name: parentcustomeridtype, type: string } ]\n",
                saying: "collides with the column that holds the target entity of lookup 'parentcustomerid'")
        XCTAssertThrowsError(try store.definition(of: "clone"))
        refused(store, "entities:\n  - { name: \(String(repeating: "n", count: 63)), state_model: false }\n", saying: "at most 62 characters")
        refused(store, "entities:\n  - { name: w, state_model: false, attributes: [ { name: q, type: integer, min_value: 5, max_value: 1 } ] }\n",
                saying: "min_value 5 is greater than max_value 1")
        refused(store, "entities:\n  - { name: w, state_model: false, attributes: [ { name: c, type: choice, options: [ { value: 1, label: A }, { value: 1, label: B } ] } ] }\n",
                saying: "the option value 1 is given twice")
        refused(store, "entities:\n  - { name: w, state_model: false, attributes: [ { name: s, type: state } ] }\n", saying: "a column of type state cannot be declared")
        XCTAssertThrowsError(try store.definition(of: "w"))
    }

    /// Another program's SQLite database given as the store is refused and left as it was
    /// (it used to get cdsync's tables and the starter entities, even for `schema show`).
    func test_anotherProgramsDatabaseIsLeftAlone() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)") }
        XCTAssertThrowsError(try EntityStore(path: path)) { error in
            XCTAssertEqual((error as? ServiceError)?.code, .notAStore)
            XCTAssertTrue((error as? ServiceError)?.message.contains("(customers)") == true, "\(error)")
        }
        let tables = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        XCTAssertEqual(tables, ["customers"])
        // an empty file is a new store, as before
        let empty = path + ".empty"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: empty + suffix) } }
        FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertNoThrow(try EntityStore(path: empty).definition(of: "account"))
    }

    /// Settings an apply changes on an existing entity are reported (they were "nothing to change").
    func test_changedSettingsOfAnExistingEntityAreReported() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("entities:\n  - { name: gadget, change_tracking: false, attributes: [ { name: a, type: string }, { name: b, type: string } ] }\n")
        let changed = try store.applySchemaFile("entities:\n  - { name: gadget, change_tracking: true, primary_name: b, attributes: [ { name: a, type: string }, { name: b, type: string } ] }\n")
        XCTAssertEqual(changed.changedSettings, ["gadget: change tracking turned on", "gadget: primary name column b"])
        XCTAssertFalse(changed.isEmpty)
        let again = try store.applySchemaFile("entities:\n  - { name: gadget, change_tracking: true, primary_name: b, attributes: [ { name: a, type: string }, { name: b, type: string } ] }\n")
        XCTAssertTrue(again.isEmpty, "\(again)")
    }

    /// Two processes applying schemas to one store: the second merges into the schema as the
    /// first left it, not as it was when the second opened the store (it used to save the
    /// entity without the first one's column, which then existed in SQL but not in the schema).
    func test_anApplyMergesIntoTheSchemaAnotherProcessLeft() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("race-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let first = try EntityStore(path: path)
        let second = try EntityStore(path: path)
        try first.applySchemaFile("entities:\n  - { name: account, attributes: [ { name: new_a1, type: string } ] }\n")
        try second.applySchemaFile("entities:\n  - { name: account, attributes: [ { name: new_a2, type: string } ] }\n")
        let reopened = try EntityStore(path: path)
        XCTAssertNotNil(try reopened.definition(of: "account").attribute("new_a1"))
        XCTAssertNotNil(try reopened.definition(of: "account").attribute("new_a2"))
        try first.close()
        try second.close()
        try reopened.close()
    }
}
