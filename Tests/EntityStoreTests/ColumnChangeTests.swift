import EntityModel
import EntityStore
import XCTest

/// Applying a schema that states other settings for an existing column: the store changes
/// them in place when every stored value still fits, refuses with the column, the reason and
/// the rows otherwise, and refuses what it cannot change (type, lookup targets, decimal
/// places). These used to be ignored without a word.
final class ColumnChangeTests: XCTestCase {
    private func schema(_ columns: String, keys: String = "[]") -> String {
        "entities:\n  - { name: gadget, state_model: false, attributes: [ \(columns) ], keys: \(keys) }\n"
    }

    private func create(_ store: EntityStore, _ fields: [String: FieldValue]) throws {
        _ = try store.execute(.create(entity: "gadget", id: nil, fields: fields))
    }

    private func refusal(_ store: EntityStore, _ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        assertServiceError(.schemaInvalid, file: file, line: line) { try store.applySchemaFile(text) }?.message ?? ""
    }

    func test_aLongerTextIsAppliedAndAShorterOneOnlyWhenTheStoredValuesFit() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile(schema("{ name: a, type: string, max_length: 10 }"))
        try create(store, ["a": .string("0123456789")])
        assertServiceError(.stringTooLong) { try self.create(store, ["a": .string(String(repeating: "x", count: 20))]) }
        // lengths count as Dataverse counts: UTF-16 code units (an emoji is 2, e + a combining accent 2)
        try create(store, ["a": .string(String(repeating: "😀", count: 5))])
        assertServiceError(.stringTooLong) { try self.create(store, ["a": .string(String(repeating: "😀", count: 6))]) }
        assertServiceError(.stringTooLong) { try self.create(store, ["a": .string(String(repeating: "e\u{301}", count: 6))]) }

        let longer = try store.applySchemaFile(schema("{ name: a, type: string, max_length: 30 }"))
        XCTAssertEqual(longer.changedSettings, ["gadget: column a max_length 10 → 30"])
        XCTAssertEqual(try store.definition(of: "gadget").attribute("a")?.maxLength, 30)
        try create(store, ["a": .string(String(repeating: "é", count: 20))])  // 20 characters, 40 bytes
        XCTAssertTrue(try store.applySchemaFile(schema("{ name: a, type: string, max_length: 30 }")).isEmpty)
        // a setting left out keeps its value
        XCTAssertTrue(try store.applySchemaFile(schema("{ name: a, type: string }")).isEmpty)

        let message = refusal(store, schema("{ name: a, type: string, max_length: 15 }"))
        XCTAssertTrue(message.contains("'a' holds 1 value(s) longer than 15 characters (UTF-16 code units, as Dataverse counts), the longest 20 (one of them: gadgetid "), message)
        XCTAssertEqual(try store.definition(of: "gadget").attribute("a")?.maxLength, 30, "nothing applied")
        let shorter = try store.applySchemaFile(schema("{ name: a, type: string, max_length: 20 }"))
        XCTAssertEqual(shorter.changedSettings, ["gadget: column a max_length 30 → 20"])
        assertServiceError(.stringTooLong) { try self.create(store, ["a": .string(String(repeating: "x", count: 21))]) }
    }

    func test_boundsOptionsAndRequirementChangeOnlyWhenTheStoredValuesFit() throws {
        let store = try EntityStore(path: nil)
        let options = "options: [ { value: 1, label: A }, { value: 2, label: B }, { value: 3, label: C } ]"
        try store.applySchemaFile(schema("{ name: n, type: integer, min_value: 0, max_value: 100 }, { name: c, type: choice, \(options) }, { name: t, type: string }"))
        try create(store, ["n": .integer(50), "c": .integer(2)])
        try create(store, ["n": .integer(7), "c": .integer(1), "t": .string("x")])

        var message = refusal(store, schema("{ name: n, type: integer, max_value: 40 }"))
        XCTAssertTrue(message.contains("'n' holds 1 value(s) outside 0–40, from 50 to 50 (one of them: gadgetid "), message)
        let bounds = try store.applySchemaFile(schema("{ name: n, type: integer, max_value: 60 }"))
        XCTAssertEqual(bounds.changedSettings, ["gadget: column n bounds 0–100 → 0–60"])
        assertServiceError(.invalidArgument) { try self.create(store, ["n": .integer(70)]) }

        message = refusal(store, schema("{ name: c, type: choice, options: [ { value: 1, label: A }, { value: 3, label: C } ] }"))
        XCTAssertTrue(message.contains("'c' holds the value(s) 2 (1 row(s)), which the new options leave out (one of them: gadgetid "), message)
        let options4 = "options: [ { value: 1, label: A }, { value: 2, label: Bee }, { value: 3, label: C }, { value: 4, label: D } ]"
        XCTAssertEqual(try store.applySchemaFile(schema("{ name: c, type: choice, \(options4) }")).changedSettings,
                       ["gadget: column c options 1, 2, 3 → 1, 2, 3, 4"])
        try create(store, ["c": .integer(4)])

        message = refusal(store, schema("{ name: t, type: string, required: true }"))
        XCTAssertTrue(message.contains("'t' is empty in 2 row(s) (one of them: gadgetid "), message)
        XCTAssertEqual(try store.definition(of: "gadget").attribute("t")?.isRequired, false)
    }

    func test_typeTargetsAndDecimalPlacesAreRefusedAndALongerKeyColumnMustFitTheIndex() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile(schema("{ name: d, type: decimal, precision: 2 }, { name: k, type: string, max_length: 400 }, { name: owner2, type: lookup, targets: [account] }",
                                         keys: "[ { name: bykey, columns: [k] } ]"))
        var message = refusal(store, schema("{ name: d, type: decimal, precision: 4 }"))
        XCTAssertTrue(message.contains("'d' stores its values with 2 decimal places"), message)
        message = refusal(store, schema("{ name: owner2, type: lookup, targets: [account, contact] }"))
        XCTAssertTrue(message.contains("'owner2' points at account in the store"), message)
        message = refusal(store, schema("{ name: d, type: integer }"))
        XCTAssertTrue(message.contains("'d' is decimal in the store"), message)
        let tooLong = assertServiceError(.indexSizeConstraintViolated) { try store.applySchemaFile(self.schema("{ name: k, type: string, max_length: 500 }")) }
        XCTAssertTrue(tooLong?.message.contains("the key 'bykey' would need 1000 bytes (k 1000)") == true, tooLong?.message ?? "")
        XCTAssertEqual(try store.definition(of: "gadget").attribute("k")?.maxLength, 400)
        XCTAssertEqual(try store.applySchemaFile(schema("{ name: k, type: string, max_length: 450 }")).changedSettings,
                       ["gadget: column k max_length 400 → 450"])
    }

    /// Keys are checked with every new length of the file at once: two columns grown together
    /// can be over the limit though each fits with the other's old length, and a shorter one
    /// can make room for a longer one.
    func test_aKeyIsCheckedWithAllTheNewLengthsOfTheFile() throws {
        let store = try EntityStore(path: nil)
        let base = "{ name: s1, type: string, max_length: 100 }, { name: s2, type: string, max_length: 200 }"
        try store.applySchemaFile(schema(base, keys: "[ { name: k12, columns: [s1, s2] } ]"))
        let grown = assertServiceError(.indexSizeConstraintViolated) {
            try store.applySchemaFile(self.schema("{ name: s1, type: string, max_length: 250 }, { name: s2, type: string, max_length: 350 }"))
        }
        XCTAssertTrue(grown?.message.contains("the key 'k12' would need 1200 bytes (s1 500, s2 700)") == true, grown?.message ?? "")
        XCTAssertEqual(try store.definition(of: "gadget").attribute("s1")?.maxLength, 100)
        let swapped = try store.applySchemaFile(schema("{ name: s1, type: string, max_length: 50 }, { name: s2, type: string, max_length: 400 }"))
        XCTAssertEqual(swapped.changedSettings, ["gadget: column s1 max_length 100 → 50", "gadget: column s2 max_length 200 → 400"])
    }

    /// Settings a column's type has no use for are refused (they were kept but never
    /// enforced), on new and existing columns; a system column listed with its own type keeps
    /// its settings and reports nothing; `options: []` takes any number, so it never leaves a
    /// stored value out; settings are checked before the stored values.
    func test_settingsMustApplyToTheColumnsTypeAndSystemColumnsKeepTheirs() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile(schema("{ name: t, type: string }, { name: c, type: choice, options: [ { value: 1, label: A } ] }, { name: m, type: money }"))
        try create(store, ["t": .string("hello"), "c": .integer(1)])
        for (column, setting) in [("t", "options: [ { value: 1, label: A } ]"), ("t", "targets: [account]"), ("t", "precision: 2"),
                                  ("m", "max_value: 100"), ("c", "max_length: 5")] {
            let type = column == "t" ? "string" : column == "m" ? "money" : "choice"
            let message = refusal(store, schema("{ name: \(column), type: \(type), \(setting) }"))
            XCTAssertTrue(message.contains("'\(column)' is a \(type) column; \(setting.prefix { $0 != ":" }) does not apply to it"), message)
        }
        let fresh = try EntityStore(path: nil)
        XCTAssertTrue(refusal(fresh, "entities:\n  - { name: w, state_model: false, attributes: [ { name: n, type: integer, max_length: 5 } ] }\n")
            .contains("'n' is an integer column; max_length does not apply to it"))

        XCTAssertTrue(try store.applySchemaFile(schema("{ name: versionnumber, type: integer }, { name: createdon, type: datetime }")).isEmpty)
        XCTAssertEqual(try store.applySchemaFile(schema("{ name: c, type: choice, options: [] }")).changedSettings, ["gadget: column c options 1 → any"])
        try create(store, ["c": .integer(99)])

        XCTAssertTrue(refusal(store, schema("{ name: t, type: string, max_length: 0 }")).contains("'t': max_length must be 1–4000"))
        XCTAssertTrue(refusal(store, schema("{ name: c, type: choice, min_value: 60, max_value: 40 }")).contains("min_value 60 is greater than max_value 40"))
    }

    /// A new state model is refused while stored rows have a state, or a status of their
    /// state, that it no longer has (naming the pair, how many rows and one of them); one
    /// that keeps every stored pair is applied.
    func test_aStateModelThatDropsAStoredStateOrStatusIsRefused() throws {
        try forEachStore { store in
            func states(_ lines: String) -> String {
                "entities:\n  - name: ticket\n    attributes: [ { name: title, type: string } ]\n    states:\n\(lines)"
            }
            let full = """
                      - { value: 0, label: Open, default_status: 1, statuses: [ { value: 1, label: Open } ] }
                      - { value: 1, label: Closed, default_status: 2, statuses: [ { value: 2, label: Done }, { value: 3, label: Dropped } ] }

                """
            try store.applySchemaFile(states(full))
            _ = try store.execute(.create(entity: "ticket", id: nil, fields: ["title": .string("a"), "statecode": .integer(1), "statuscode": .integer(3)]))
            _ = try store.execute(.create(entity: "ticket", id: nil, fields: ["title": .string("b")]))
            let withoutClosed = assertServiceError(.schemaInvalid) {
                try store.applySchemaFile(states("      - { value: 0, label: Open, default_status: 1, statuses: [ { value: 1, label: Open } ] }\n"))
            }?.message ?? ""
            XCTAssertTrue(withoutClosed.contains("statecode 1 with statuscode 3, which 1 stored row(s) have"), withoutClosed)
            let withoutDropped = assertServiceError(.schemaInvalid) {
                try store.applySchemaFile(states("""
                          - { value: 0, label: Open, default_status: 1, statuses: [ { value: 1, label: Open } ] }
                          - { value: 1, label: Closed, default_status: 2, statuses: [ { value: 2, label: Done } ] }

                    """))
            }?.message ?? ""
            XCTAssertTrue(withoutDropped.contains("statuscode 3"), withoutDropped)
            XCTAssertEqual(try store.definition(of: "ticket").states.count, 2, "nothing was applied")
            let changes = try store.applySchemaFile(states(full + "      - { value: 2, label: Parked, default_status: 4, statuses: [ { value: 4, label: Parked } ] }\n"))
            XCTAssertEqual(changes.changedSettings, ["ticket: state model replaced"])
            XCTAssertEqual(try store.definition(of: "ticket").states.count, 3)
        }
    }
}
