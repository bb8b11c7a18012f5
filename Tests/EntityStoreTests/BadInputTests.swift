import Foundation
import EntityModel
import EntityStore
import GRDB
import XCTest

/// Bad input gets its documented error, never a crash, and leaves the store as it was.
final class BadInputTests: XCTestCase {
    func test_unknownEntityIsResourceNotFound() throws {
        try forEachStore { store in
            assertServiceError(.resourceNotFound) { try store.execute(.create(entity: "nosuch", id: nil, fields: [:])) }
            assertServiceError(.resourceNotFound) { try store.retrieve(EntityReference("Account", keys: ["accountnumber": .string("A")]), columns: nil) }
        }
    }

    /// An update, or an upsert finding its record, cannot give the record another primary key:
    /// refused (it used to be ignored, and the write reported as done); its own id is fine.
    func test_anUpdateThatChangesThePrimaryKeyIsRefused() throws {
        try forEachStore { store in
            let id = try store.createAccount("PK", name: "kept")
            let other = RecordID(UUID())
            for request: ServiceRequest in [.update(account("PK"), fields: ["accountid": .guid(other), "name": .string("x")], ifVersion: nil),
                                            .upsert(account("PK"), fields: ["accountid": .guid(other)], mode: .createOrUpdate)] {
                let error = assertServiceError(.invalidArgument) { try store.execute(request) }
                XCTAssertTrue(error?.message.contains("primary key 'accountid'") ?? false, error?.message ?? "")
            }
            _ = try store.execute(.update(account("PK"), fields: ["accountid": .guid(id), "name": .string("same id")], ifVersion: nil))
            XCTAssertEqual(try store.retrieve(account("PK"), columns: ["name"]).fields["name"], .string("same id"))
        }
    }

    /// An empty key value addresses nothing (Dataverse keeps no empty text): every row of an
    /// export with empty keys used to become one record, each overwriting the last.
    func test_anEmptyKeyValueIsRefusedOnEveryPath() throws {
        try forEachStore { store in
            let byKey = EntityReference("account", keys: ["accountnumber": .string("")])
            let error = assertServiceError(.invalidKey) { try store.execute(.upsert(byKey, fields: ["name": .string("first")], mode: .createOrUpdate)) }
            XCTAssertTrue(error?.message.contains("is empty; an empty key cannot address a record") == true, error?.message ?? "")
            let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["name"])
            assertServiceError(.invalidKey) {
                try store.execute(.upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string("")], values: [.string("second")], mode: .createOrUpdate)))
            }
            assertServiceError(.invalidKey) { try store.retrieve(byKey, columns: nil) }
            assertServiceError(.invalidKey) {
                try store.execute(.create(entity: "contact", id: nil, fields: ["lastname": .string("x"), "parentcustomerid": .reference(byKey)]))
            }
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    /// Money and decimal values beyond Dataverse's supported range are refused (they were
    /// stored while they fit an Int64 once scaled, so a load passed here and failed there).
    func test_moneyAndDecimalBeyondDataversesRangeAreRefused() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("entities:\n  - { name: gadget, state_model: false, attributes: [ { name: m, type: money, precision: 4 }, { name: d, type: decimal, precision: 2 } ] }\n")
        func create(_ column: String, _ text: String) throws {
            _ = try store.execute(.create(entity: "gadget", id: nil, fields: [column: .decimal(DecimalNumber(text)!)]))
        }
        try create("m", "922337203685477")
        try create("m", "-922337203685477.0000")
        try create("d", "100000000000")
        for (column, text) in [("m", "922337203685477.0001"), ("m", "-922337203685478"), ("d", "100000000000.01"), ("d", "-100000000001")] {
            let error = assertServiceError(.invalidArgument) { try create(column, text) }
            XCTAssertTrue(error?.message.contains("is outside the range of this \(column == "m" ? "money" : "decimal") column") == true, error?.message ?? "")
        }
        XCTAssertEqual(try store.count("gadget"), 3)
        // with 10 decimal places a 64-bit significand holds less than the supported range: the
        // message gives the range this column holds (it gave ±100000000000, which 999999999 is in)
        try store.applySchemaFile("entities:\n  - { name: fine, state_model: false, attributes: [ { name: d, type: decimal, precision: 10 } ] }\n")
        _ = try store.execute(.create(entity: "fine", id: nil, fields: ["d": .decimal(DecimalNumber("922337203.6854775807")!)]))
        let error = assertServiceError(.invalidArgument) { try store.execute(.create(entity: "fine", id: nil, fields: ["d": .integer(999_999_999)])) }
        XCTAssertTrue(error?.message.contains("with 10 decimal places (-922337203.6854775807 to 922337203.6854775807)") == true, error?.message ?? "")
    }

    func test_unknownColumnIsNamed() throws {
        try forEachStore { store in
            let error = assertServiceError(.unknownProperty) { try store.createAccount("A", extra: ["Name": .string("x")]) }
            XCTAssertTrue(error?.message.contains("Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'") ?? false)
            assertServiceError(.unknownProperty) { try store.runQuery(Query(entity: "account", columns: ["Name"])) }
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    func test_wrongTypeIsAPayloadError() throws {
        try forEachStore { store in
            assertServiceError(.payloadError) { try store.createAccount("A", extra: ["numberofemployees": .string("many")]) }
            assertServiceError(.payloadError) { try store.createAccount("A", extra: ["revenue": .string("12.5")]) }
            assertServiceError(.payloadError) { try store.createAccount("A", extra: ["primarycontactid": .integer(3)]) }
            assertServiceError(.payloadError) { try store.createAccount("A", extra: ["versionnumber": .integer(3)]) }
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    func test_textWithANULCharacterIsRefusedNotStoredCutShort() throws {
        try forEachStore { store in
            let error = assertServiceError(.payloadError) { try store.createAccount("A", name: "before\u{0}after") }
            XCTAssertTrue(error?.message.contains("'name'") ?? false, error?.message ?? "")
            assertServiceError(.payloadError) { try store.createAccount("B\u{0}") }
            assertServiceError(.payloadError) { try store.createAccount("D", extra: ["description": .string("\u{0}")]) }
            XCTAssertEqual(try store.count("account"), 0)
            // empty text stays empty text (not NULL)
            _ = try store.createAccount("C", name: "")
            XCTAssertEqual(try store.retrieve(EntityReference("account", keys: ["accountnumber": .string("C")]), columns: ["name"])["name"], .string(""))
        }
    }

    func test_overLongStringIsRejectedWithTheLimitInTheMessage() throws {
        try forEachStore { store in
            let error = assertServiceError(.stringTooLong) { try store.createAccount("A", name: String(repeating: "x", count: 161)) }
            XCTAssertEqual(error?.message, "A validation error occurred.  The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'.")
            try store.createAccount("A", name: String(repeating: "é", count: 160))
        }
    }

    func test_lookupToAnEntityTheColumnDoesNotAllowIsRejected() throws {
        try forEachStore { store in
            try store.createAccount("P")
            assertServiceError(.payloadError) { try store.createAccount("A", extra: ["primarycontactid": .reference(account("P"))]) }
        }
    }

    func test_decimalsAreExactAndRoundToThePrecision() throws {
        try forEachStore { store in
            try store.createAccount("A", extra: ["revenue": .decimal(DecimalNumber("49999999.99")!)])
            XCTAssertEqual(try store.retrieve(account("A"), columns: ["revenue"])["revenue"]?.displayText, "49999999.99")
            _ = try store.execute(.update(account("A"), fields: ["revenue": .decimal(DecimalNumber("0.005")!)], ifVersion: nil))
            XCTAssertEqual(try store.retrieve(account("A"), columns: ["revenue"])["revenue"], .decimal(DecimalNumber("0.01")!))
            assertServiceError(.invalidArgument) { try store.createAccount("B", extra: ["revenue": .decimal(DecimalNumber("999999999999999999")!)]) }
        }
    }

    func test_invalidSchemaIsRejectedAndNothingIsApplied() throws {
        try forEachStore { store in
            assertServiceError(.schemaInvalid) { try store.applySchemaFile("entities:\n  - name: Bad Name\n") }
            assertServiceError(.schemaInvalid) { try store.applySchemaFile("entities:\n  - name: new_x\n    attributes:\n      - { name: new_l, type: lookup, targets: [nosuch] }\n") }
            assertServiceError(.schemaInvalid) { try store.applySchemaFile("entities: [ { name: new_y, attributes: [ { name: a, type: nosuchtype } ] } ]") }
            assertServiceError(.schemaInvalid) { try store.applySchemaFile(": : :") }
            XCTAssertThrowsError(try store.definition(of: "new_x"))
        }
    }

    func test_schemaApplyIsIdempotentAndAddsColumns() throws {
        try forEachStore { store in
            let schema = """
                entities:
                  - name: region
                    primary_name: name
                    attributes:
                      - { name: code, type: string, max_length: 20, required: true }
                      - { name: name, type: string, max_length: 100 }
                    keys:
                      - { name: ak_region_code, columns: [code] }
                  - name: account
                    attributes:
                      - { name: regionid, type: lookup, targets: [region] }
                """
            let first = try store.applySchemaFile(schema)
            XCTAssertEqual(first.createdEntities, ["region"])
            XCTAssertEqual(first.addedColumns, ["account.regionid"])
            XCTAssertEqual(first.addedKeys["region.ak_region_code"], .active)
            XCTAssertTrue(try store.applySchemaFile(schema).isEmpty)
            _ = try store.execute(.upsert(EntityReference("region", keys: ["code": .string("NW")]), fields: ["name": .string("North West")], mode: .createOrUpdate))
            try store.createAccount("A", extra: ["regionid": .reference(EntityReference("region", keys: ["code": .string("NW")]))])
        }
    }

    func test_deletingARecordClearsLookupsThatPointAtIt() throws {
        try forEachStore { store in
            try store.createAccount("P")
            try store.createAccount("C", extra: ["parentaccountid": .reference(account("P"))])
            _ = try store.execute(.delete(account("P"), ifVersion: nil))
            XCTAssertEqual(try store.retrieve(account("C"), columns: ["parentaccountid"])["parentaccountid"], .null)
        }
    }

    func test_lookupsSeeDeletesAndKeyChangesEarlierInTheSameTransaction() throws {
        try forEachStore { store in
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("c@x.test")])
            let renamed = EntityReference("contact", keys: ["emailaddress1": .string("new@x.test")])
            let create = { (number: String, target: EntityReference) in
                ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string(number), "accountnumber": .string(number), "primarycontactid": .reference(target)])
            }
            let afterDelete = assertServiceError(.recordNotFoundByEntityKey) {
                try store.execute(.executeTransaction([
                    .upsert(contact, fields: ["lastname": .string("C")], mode: .createOrUpdate),
                    create("A1", contact), .delete(contact, ifVersion: nil), create("A2", contact),
                ], returnResponses: false))
            }
            XCTAssertEqual(afterDelete?.requestIndex, 3)
            let afterRename = assertServiceError(.recordNotFoundByEntityKey) {
                try store.execute(.executeTransaction([
                    .upsert(contact, fields: ["lastname": .string("C")], mode: .createOrUpdate),
                    create("B1", contact), .update(contact, fields: ["emailaddress1": .string("new@x.test")], ifVersion: nil),
                    create("B2", renamed), create("B3", contact),
                ], returnResponses: false))
            }
            XCTAssertEqual(afterRename?.requestIndex, 4)
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    func test_aLookupTargetCreatedInARolledBackTransactionIsNotFoundAfterwards() throws {
        try forEachStore { store in
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("gone@x.test")])
            let account = { (number: String) in
                ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string(number), "accountnumber": .string(number), "primarycontactid": .reference(contact)])
            }
            assertServiceError(.recordNotFoundByEntityKey) {
                try store.execute(.executeTransaction([
                    .upsert(contact, fields: ["lastname": .string("G")], mode: .createOrUpdate),
                    account("R1"), .delete(EntityReference("account", keys: ["accountnumber": .string("nobody")]), ifVersion: nil),
                ], returnResponses: false))
            }
            XCTAssertEqual(try store.count("contact"), 0)
            assertServiceError(.recordNotFoundByEntityKey) { try store.execute(account("R2")) }
        }
    }

    func test_lookupsSeeWritesMadeThroughAnotherConnectionBetweenTransactions() throws {
        let path = try temporaryStorePath()
        let first = try EntityStore(path: path)
        let second = try EntityStore(path: path)
        let contact = EntityReference("contact", keys: ["emailaddress1": .string("moved@x.test")])
        let account = { (number: String) in
            ServiceRequest.upsert(EntityReference("account", keys: ["accountnumber": .string(number)]),
                                  fields: ["name": .string(number), "primarycontactid": .reference(contact)], mode: .createOrUpdate)
        }
        _ = try first.execute(.upsert(contact, fields: ["lastname": .string("M")], mode: .createOrUpdate))
        _ = try first.execute(account("X1"))  // resolves and remembers the contact
        _ = try second.execute(.delete(contact, ifVersion: nil))
        assertServiceError(.recordNotFoundByEntityKey) { try first.execute(account("X2")) }
        guard case .upserted(let newID, true, _) = try second.execute(.upsert(contact, fields: ["lastname": .string("N")], mode: .createOrUpdate)) else {
            return XCTFail("the contact was not created again")
        }
        _ = try first.execute(account("X3"))
        XCTAssertEqual(try first.retrieve(EntityReference("account", keys: ["accountnumber": .string("X3")]), columns: ["primarycontactid"])["primarycontactid"],
                       .reference(EntityReference("contact", id: newID)))
    }

    func test_aLookupResolvedThroughAKeyOnALookupColumnFollowsTheInnerKeyAfterItChanges() throws {
        try forEachStore { store in
            try store.applySchemaFile("""
                entities:
                  - name: new_contract
                    state_model: false
                    attributes:
                      - { name: new_customerid, type: lookup, targets: [account] }
                    keys:
                      - { name: ak_customer, columns: [new_customerid] }
                  - name: new_line
                    state_model: false
                    attributes:
                      - { name: new_contractid, type: lookup, targets: [new_contract] }
                """)
            let contract = EntityReference("new_contract", keys: ["new_customerid": .reference(account("K1"))])
            let line = { ServiceRequest.create(entity: "new_line", id: nil, fields: ["new_contractid": .reference(contract)]) }
            try store.createAccount("K1")
            _ = try store.execute(.upsert(contract, fields: [:], mode: .createOrUpdate))
            _ = try store.execute(.executeMultiple([line()], continueOnError: false, returnResponses: true))
            // A1 is renamed and a new K1 created: the contract still belongs to the renamed account
            _ = try store.execute(.update(account("K1"), fields: ["accountnumber": .string("K9")], ifVersion: nil))
            try store.createAccount("K1")
            guard case .batch(let faulted, let items) = try store.execute(.executeMultiple([line()], continueOnError: false, returnResponses: true)) else {
                return XCTFail("no batch response")
            }
            XCTAssertTrue(faulted)
            XCTAssertEqual(items.first?.fault?.code, .recordNotFoundByEntityKey)
        }
    }

    func test_lookupsInABatchMatchCaseLikeTheStoreAndSeeDeletesInTheBatch() throws {
        try forEachStore { store in
            _ = try store.execute(.upsert(EntityReference("contact", keys: ["emailaddress1": .string("Ada@X.test")]),
                                          fields: ["lastname": .string("A")], mode: .createOrUpdate))
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("ada@x.TEST")])
            let create = { (number: String) in
                ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string(number), "accountnumber": .string(number), "primarycontactid": .reference(contact)])
            }
            guard case .batch(let faulted, let items) = try store.execute(.executeMultiple([
                create("PF1"), .delete(contact, ifVersion: nil), create("PF2"),
            ], continueOnError: true, returnResponses: true)) else { return XCTFail("no batch response") }
            XCTAssertTrue(faulted)
            XCTAssertNil(items[0].fault)
            XCTAssertEqual(items[2].fault?.code, .recordNotFoundByEntityKey)
            XCTAssertNotNil(try store.find(account("PF1")))
            XCTAssertNil(try store.find(account("PF2")))
        }
    }

    /// A store damaged by hand (date-times far past the years a column takes, the version
    /// counter at its largest) is read and written without a trap: the dates come back as
    /// text with more year digits, and a write past the counter is `store.not_a_store`.
    func test_outOfRangeValuesInADamagedStoreNeverTrap() throws {
        let path = try temporaryStorePath()
        var store: EntityStore? = try EntityStore(path: path)
        let id = try store!.createAccount("D1", name: "damaged")
        store = nil
        for (stored, text) in [("9223372036854775807", "292278994-08-17T07:12:55.807Z"), ("-9223372036854775808", "-292275055-05-16T16:47:04.192Z")] {
            try DatabaseQueue(path: path).write { db in try db.execute(sql: "UPDATE account SET createdon = \(stored), modifiedon = \(stored)") }
            let reopened = try EntityStore(path: path)
            let record = try reopened.retrieve(EntityReference("account", id: id), columns: ["createdon"])
            guard case .dateTime(let date)? = record.fields["createdon"] else { return XCTFail("\(record.fields)") }
            XCTAssertEqual(DateText.string(from: date), text)
            XCTAssertEqual(try reopened.runQuery(Query(entity: "account")).records.count, 1)
        }
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "UPDATE _cdsync_meta SET value = 9223372036854775807 WHERE key = 'version'") }
        let reopened = try EntityStore(path: path)
        assertServiceError(.notAStore) { try reopened.createAccount("D2") }
        XCTAssertEqual(try reopened.count("account"), 1)
    }

    /// A file that is not a database, or a store cut short, is `store.not_a_store` (not worth
    /// retrying), not `store.unavailable` about a PRAGMA; a directory that does not exist says
    /// what SQLite needs.
    func test_aFileThatIsNoDatabaseIsNotAStoreAndAMissingDirectoryIsExplained() throws {
        let path = try temporaryStorePath()
        try "hello, not a database\n".write(toFile: path, atomically: true, encoding: .utf8)
        let text = assertServiceError(.notAStore) { try EntityStore(path: path) }?.message ?? ""
        XCTAssertTrue(text.contains("is not a cdsync store, or it is damaged"), text)
        let missing = assertServiceError(.storeUnavailable) { try EntityStore(path: path + ".d/nowhere/store.db") }?.message ?? ""
        XCTAssertTrue(missing.contains("cannot be opened or created"), missing)
    }
}
