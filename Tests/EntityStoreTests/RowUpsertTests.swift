import EntityModel
import XCTest

@testable import EntityStore

/// `ServiceRequest.upsertRow` (positional values in a shared shape) must behave exactly like
/// `.upsert` with the same key and fields: same responses, same errors, same stored rows.
/// Each scenario runs step by step through both forms on two stores and compares them.
final class RowUpsertTests: XCTestCase {
    private typealias Step = (entity: String, keys: [(String, FieldValue)], fields: [(String, FieldValue)], mode: UpsertMode)

    private func step(_ keys: [(String, FieldValue)], _ fields: [(String, FieldValue)], _ mode: UpsertMode = .createOrUpdate) -> Step {
        ("account", keys, fields, mode)
    }

    private func widget(_ keys: [(String, FieldValue)], _ fields: [(String, FieldValue)]) -> Step {
        ("new_widget", keys, fields, .createOrUpdate)
    }

    /// What a step answered, without the ids a create issues (they differ between stores).
    private func outcome(_ store: EntityStore, _ request: ServiceRequest) -> String {
        do {
            switch try store.execute(request) {
            case .upserted(_, let created, let changed): return "upserted created=\(created) changed=\(changed)"
            case let other: return "unexpected \(other)"
            }
        } catch let error as ServiceError {
            return "error \(error.code.value) \(error.message) key=\(error.key ?? "-") entity=\(error.entity ?? "-")"
        } catch {
            return "error \(error)"
        }
    }

    /// The account and widget rows as text, lookups by the target's key, without ids and times.
    private func snapshot(_ store: EntityStore) throws -> [String] {
        let accounts = try store.execute(.retrieveMultiple(Query(entity: "account")))
        let widgets = try store.execute(.retrieveMultiple(Query(entity: "new_widget")))
        var lines: [String] = []
        for case .records(let page) in [accounts, widgets] {
            for record in page.records {
                let fields = record.fields.filter { !["accountid", "new_widgetid", "createdon", "modifiedon"].contains($0.key) }
                // lookups by the target's entity only: the two stores issue different ids
                let text = { (value: FieldValue) -> String in
                    if case .reference(let reference) = value { return "ref:\(reference.entity)" }
                    return value.displayText
                }
                lines.append("\(record.entity) " + fields.keys.sorted().map { "\($0)=\(text(fields[$0]!))" }.joined(separator: " "))
            }
        }
        return lines.sorted()
    }

    /// Runs the steps through both forms and compares them; returns, per step, how many
    /// upserts the positional store found unchanged from the values as given (0 or 1).
    @discardableResult
    private func check(_ steps: [Step], file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let general = try EntityStore(path: nil)
        let positional = try EntityStore(path: nil)
        for store in [general, positional] {
            try store.applySchemaFile(fixtureSchema)
            _ = try store.createExpansionTargets()  // user ada.corp, team Sales, contact grace@x.test
        }
        var shapes: [String: RowShape] = [:]
        var unchangedAsGiven: [Int] = []
        for (index, step) in steps.enumerated() {
            let reference = EntityReference(step.entity, keys: Dictionary(step.keys, uniquingKeysWith: { first, _ in first }))
            let fields = Dictionary(step.fields, uniquingKeysWith: { first, _ in first })
            let names = step.keys.map(\.0) + ["|"] + step.fields.map(\.0)
            let shape = shapes[names.joined(separator: ",")] ?? RowShape(keyColumns: step.keys.map(\.0), fieldColumns: step.fields.map(\.0))
            shapes[names.joined(separator: ",")] = shape
            let row = RowUpsert(entity: step.entity, shape: shape, keyValues: step.keys.map(\.1), values: step.fields.map(\.1), mode: step.mode)
            let expected = outcome(general, .upsert(reference, fields: fields, mode: step.mode))
            let before = positional.unchangedAsGiven
            let actual = outcome(positional, .upsertRow(row))
            unchangedAsGiven.append(positional.unchangedAsGiven - before)
            XCTAssertEqual(actual, expected, "step \(index)", file: file, line: line)
        }
        XCTAssertEqual(try snapshot(positional), try snapshot(general), file: file, line: line)
        XCTAssertEqual(try positional.currentVersion(), try general.currentVersion(), "versions issued", file: file, line: line)
        return unchangedAsGiven
    }

    func test_createThenUnchangedThenChanged() throws {
        let number = ("accountnumber", FieldValue.string("A1"))
        try check([
            step([number], [("name", .string("Contoso")), ("revenue", .decimal(DecimalNumber("12.50")!)), ("address1_city", .string("Oslo"))]),
            step([number], [("name", .string("Contoso")), ("revenue", .decimal(DecimalNumber("12.50")!)), ("address1_city", .string("Oslo"))]),
            step([number], [("name", .string("Contoso AS")), ("revenue", .decimal(DecimalNumber("12.50")!)), ("address1_city", .string("Oslo"))]),
            step([number], [("address1_city", .null)]),
        ])
    }

    func test_unchangedRowsAreComparedAsStoredValuesCompare() throws {
        let key = ("accountnumber", FieldValue.string("N1"))
        try check([
            step([key], [("name", .string("Zürich")), ("statecode", .integer(1)), ("numberofemployees", .integer(5)), ("address1_city", .string(""))]),
            // canonically equivalent text (decomposed ü) compares equal, as Swift strings do
            step([key], [("name", .string("Zu\u{308}rich")), ("statecode", .integer(1)), ("numberofemployees", .integer(5)), ("address1_city", .string(""))]),
            // the same state again: its default status is what is stored, so nothing changes
            step([key], [("statecode", .integer(1))]),
            step([key], [("numberofemployees", .integer(6))]),
            step([key], [("address1_city", .null)]),
            step([key], [("address1_city", .null), ("name", .string("ZÜRICH"))]),
            step([key], [("revenue", .integer(12)), ("description", .string(String(repeating: "ä", count: 40)))]),
            step([key], [("revenue", .decimal(DecimalNumber("12.00")!)), ("description", .string(String(repeating: "ä", count: 40)))]),
        ])
    }

    func test_stateStatusAndLookupsByKey() throws {
        let contact = FieldValue.reference(EntityReference("contact", keys: ["emailaddress1": .string("grace@x.test")]))
        let missing = FieldValue.reference(EntityReference("contact", keys: ["emailaddress1": .string("nobody@x.test")]))
        try check([
            step([("accountnumber", .string("S1"))], [("name", .string("a")), ("statecode", .integer(1)), ("primarycontactid", contact)]),
            step([("accountnumber", .string("S1"))], [("name", .string("a")), ("statecode", .integer(0)), ("primarycontactid", contact)]),
            step([("accountnumber", .string("S1"))], [("statecode", .integer(1)), ("statuscode", .integer(100000001))]),
            step([("accountnumber", .string("S1"))], [("statecode", .null)]),
            step([("accountnumber", .string("S1"))], [("statuscode", .integer(100000002))]),
            step([("accountnumber", .string("S2"))], [("name", .string("b")), ("primarycontactid", missing)]),
            step([("accountnumber", .string("S1"))], [("primarycontactid", .null)]),
        ])
    }

    func test_modesAndKeyColumnsAmongTheFields() throws {
        let key = ("accountnumber", FieldValue.string("M1"))
        try check([
            step([key], [("name", .string("x"))], .updateOnly),
            step([key], [("name", .string("x"))], .createOnly),
            step([key], [("name", .string("y"))], .createOnly),
            step([key], [("name", .string("z")), ("accountnumber", .string("M1"))]),
            // a key column among the fields addresses the row; an update does not change it
            step([key], [("accountnumber", .string("OTHER")), ("name", .string("w"))]),
            step([("accountnumber", .string("M2"))], [("accountnumber", .string("M2")), ("name", .string("v"))]),
            step([("accountnumber", .string("M3"))], []),
        ])
    }

    func test_badValuesFailTheSameWay() throws {
        try check([
            step([("accountnumber", .string("B/1"))], [("name", .string("x"))]),
            step([("accountnumber", .null)], [("name", .string("x"))]),
            step([("accountnumber", .string("B1"))], [("name", .string(String(repeating: "n", count: 161)))]),
            step([("accountnumber", .string("B1"))], [("numberofemployees", .string("many"))]),
            step([("accountnumber", .string("B1"))], [("nosuchcolumn", .string("x"))]),
            step([("accountnumber", .string("B1"))], [("versionnumber", .integer(3))]),
            step([("accountnumber", .string("B1"))], [("_primarycontactid_value", .null), ("name", .string("alias"))]),
            step([("name", .string("B1"))], [("address1_city", .string("x"))]),
            step([("accountid", .string("8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a6b"))], [("name", .string("by id"))]),
            step([("accountnumber", .string("B1"))], [("name", .string("fine"))]),
        ])
    }

    func test_ownersOfEitherTargetType() throws {
        let user = FieldValue.reference(EntityReference("systemuser", key: "domainname", value: .string("ada.corp")))
        let team = FieldValue.reference(EntityReference("team", keys: ["name": .string("Sales")]))
        let key = ("accountnumber", FieldValue.string("O1"))
        try check([
            step([key], [("name", .string("o")), ("ownerid", user)]),
            step([key], [("name", .string("o")), ("ownerid", user)]),
            step([key], [("name", .string("o")), ("ownerid", team)]),
            step([key], [("ownerid", team)]),
            step([key], [("ownerid", .reference(EntityReference("contact", key: "emailaddress1", value: .string("grace@x.test"))))]),
            step([key], [("ownerid", .null)]),
        ])
    }

    func test_moreShapesThanThePlanCacheHolds() throws {
        // 70 shapes (more than a table keeps plans for), used twice over: evicted plans are rebuilt
        let columns = ["name", "telephone1", "emailaddress1", "address1_city", "description", "numberofemployees", "revenue"]
        var steps: [Step] = []
        for round in 0..<2 {
            for shape in 0..<70 {
                var fields: [(String, FieldValue)] = []
                for (bit, column) in columns.enumerated() where shape & (1 << bit) != 0 {
                    fields.append((column, column == "numberofemployees" || column == "revenue" ? .integer(Int64(shape + round)) : .string("\(column)-\(shape)-\(round)")))
                }
                steps.append(step([("accountnumber", .string("S\(shape % 9)"))], fields))
            }
        }
        try check(steps)
    }

    func test_insideBatchesAndTransactions() throws {
        func requests(_ positional: Bool) -> [ServiceRequest] {
            let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["name", "numberofemployees"])
            let rows: [(String, FieldValue, FieldValue)] = [("T1", .string("a"), .integer(1)), ("T2", .string("b"), .string("bad")),
                                                             ("T1", .string("c"), .integer(3)), ("T/3", .string("d"), .integer(4))]
            return rows.map { key, name, count in
                positional ? .upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string(key)], values: [name, count], mode: .createOrUpdate))
                           : .upsert(account(key), fields: ["name": name, "numberofemployees": count], mode: .createOrUpdate)
            }
        }
        func describe(_ response: ServiceResponse) -> String {
            guard case .batch(let faulted, let items) = response else { return "\(response)" }
            return "faulted=\(faulted) " + items.map { item in
                if let fault = item.fault { return "\(item.requestIndex): \(fault.code.value) \(fault.message)" }
                if case .upserted(_, let created, let changed)? = item.response { return "\(item.requestIndex): \(created) \(changed)" }
                return "\(item.requestIndex): ?"
            }.joined(separator: "; ")
        }
        for continueOnError in [true, false] {
            var outcomes: [String] = []
            for positional in [false, true] {
                let store = try EntityStore(path: nil)
                try store.applySchemaFile(fixtureSchema)
                let batch = try store.execute(.executeMultiple(requests(positional), continueOnError: continueOnError, returnResponses: true))
                var transaction = "ok"
                do { _ = try store.execute(.executeTransaction(requests(positional), returnResponses: true)) } catch let error as ServiceError {
                    transaction = "\(error.code.value) \(error.requestIndex ?? -1) \(error.message)"
                }
                outcomes.append(describe(batch) + " | " + transaction + " | \(try snapshot(store))")
            }
            XCTAssertEqual(outcomes[1], outcomes[0])
        }
    }

    /// A daily full export: most rows come again as they are stored, lookups by keys the
    /// targets' key maps answer. Those are found unchanged from the values as given, with
    /// nothing encoded; every other row (a value that differs, would not encode, or a lookup
    /// the map does not answer) takes the encoding path, and both forms still agree.
    func test_unchangedRowsFromALoadWithKeyMappedLookups() throws {
        var steps: [Step] = []
        for index in 0..<40 {
            steps.append(("contact", [("emailaddress1", .string("c\(index)@x.test"))], [("lastname", .string("L\(index)"))], .createOrUpdate))
        }
        for index in 0..<20 {
            steps.append(("systemuser", [("domainname", .string("u\(index).corp"))], [("fullname", .string("U\(index)"))], .createOrUpdate))
        }
        let contact = { (index: Int) in FieldValue.reference(EntityReference("contact", key: "emailaddress1", value: .string("c\(index)@x.test"))) }
        let user = { (index: Int) in FieldValue.reference(EntityReference("systemuser", key: "domainname", value: .string("u\(index).corp"))) }
        let team = FieldValue.reference(EntityReference("team", key: "name", value: .string("Sales")))
        func row(_ index: Int, name: String? = nil, contact given: FieldValue? = nil, owner: FieldValue? = nil, state: Int64? = nil,
                 revenue: String? = nil, city: String = "Zürich") -> Step {
            step([("accountnumber", .string("A\(index)"))], [
                ("name", .string(name ?? "Account \(index)")), ("primarycontactid", given ?? contact(index)),
                ("ownerid", owner ?? user(index % 20)), ("statecode", .integer(state ?? Int64(index % 2))),
                ("revenue", .decimal(DecimalNumber(revenue ?? "\(index).50")!)), ("address1_city", .string(city)),
            ])
        }
        let load = (0..<40).map { row($0) }
        var changed = load
        changed[1] = row(1, contact: contact(2))
        changed[3] = row(3, owner: team)
        changed[5] = row(5, state: 0)
        changed[7] = row(7, name: "ACCOUNT 7")
        changed[9] = row(9, revenue: "9.51")
        changed[11] = row(11, contact: .null)
        changed[15] = row(15, city: "Zu\u{308}rich")                       // "Zürich" with a combining accent
        changed[17] = row(17, owner: user(18))
        changed[19] = row(19, revenue: "19.5")                              // the same decimal
        // (last: a failed write empties the lookup caches and key maps)
        let refused = row(23, name: String(repeating: "n", count: 161))
        steps += load + load + changed + changed + [refused]
        let counts = try check(steps)
        XCTAssertEqual(counts.last, 0, "a value that would not encode is left to the general path, which refuses it")
        let passes = stride(from: 60, to: steps.count - 1, by: 40).map { Array(counts[$0..<$0 + 40]) }
        XCTAssertEqual(passes[0].reduce(0, +), 0, "the first load creates")
        XCTAssertEqual(passes[1], Array(repeating: 1, count: 40), "the same export again: every row unchanged as given")
        var expected = Array(repeating: 1, count: 40)
        // differing values; text canonically equal to what is stored (the general path finds it
        // unchanged, as Swift compares text); and the row after the team owner, whose owner
        // column last resolved a team (its map is not consulted until the general path runs)
        for index in [1, 3, 4, 5, 7, 9, 11, 15, 17] { expected[index] = 0 }
        XCTAssertEqual(passes[2], expected, "changed rows, and rows the general path decides, are not")
        expected = Array(repeating: 1, count: 40)
        // the changed rows are now stored as given, but for the team owner and the row after it,
        // and the decomposed text
        for index in [3, 4, 15] { expected[index] = 0 }
        XCTAssertEqual(passes[3], expected, "the changed export again")
    }

    func test_compositeKeys() throws {
        let region = ("new_region", FieldValue.integer(7)), code = ("new_code", FieldValue.string("X"))
        try check([
            widget([region, code], [("new_name", .string("first"))]),
            widget([code, region], [("new_name", .string("first"))]),
            widget([code, region], [("new_name", .string("second"))]),
            widget([region], [("new_name", .string("partial key"))]),
            widget([("new_accountid", .reference(EntityReference("account", keys: ["accountnumber": .string("none")]))), code],
                 [("new_name", .string("lookup key"))]),
        ])
    }
}
