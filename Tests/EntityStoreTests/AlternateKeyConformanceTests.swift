import EntityModel
import EntityStore
import XCTest

/// SPEC-dataverse.md §1: alternate keys.
final class AlternateKeyConformanceTests: XCTestCase {
    func test_AK01_newKeyIsPendingUntilTheIndexJobRunsThenActive() throws {
        try forEachStore { store in
            try store.createKey(entity: "new_widget", name: "ak_tmp", columns: ["new_name"])
            let pending = try store.definition(of: "new_widget").keys.first { $0.name == "ak_tmp" }
            XCTAssertEqual(pending?.status, .pending)
            XCTAssertEqual(pending?.columns, ["new_name"])
            let results = try store.processKeyJobs()
            XCTAssertEqual(results["new_widget.ak_tmp"], .active)
            XCTAssertEqual(try store.definition(of: "new_widget").keys.first { $0.name == "ak_tmp" }?.status, .active)
        }
    }

    func test_AK01_pendingKeyCannotAddressRecords() throws {
        try forEachStore { store in
            try store.createKey(entity: "new_widget", name: "ak_tmp", columns: ["new_name"])
            assertServiceError(.entityKeyNotDefined) {
                try store.retrieve(EntityReference("new_widget", keys: ["new_name": .string("x")]), columns: nil)
            }
        }
    }

    func test_AK02_keyOnMemoColumnIsRejected() throws {
        try forEachStore { store in
            assertServiceError(.invalidEntityKeyOperation) {
                try store.createKey(entity: "account", name: "ak_description", columns: ["description"])
            }
            XCTAssertFalse(try store.definition(of: "account").keys.contains { $0.name == "ak_description" })
        }
    }

    func test_AK02_keysOnMoneyBooleanFloatAndStateAreRejected() throws {
        try forEachStore { store in
            for column in ["revenue", "statecode", "ownerid"] {
                assertServiceError(.invalidEntityKeyOperation) {
                    try store.createKey(entity: "account", name: "ak_bad", columns: [column])
                }
            }
        }
    }

    func test_AK03_eleventhKeyIsRejected() throws {
        try forEachStore { store in
            let columns = (1...9).map { "new_c\($0)" }
            try store.applySchemaFile("""
                entities:
                  - name: new_widget
                    attributes: [\(columns.map { "{ name: \($0), type: integer }" }.joined(separator: ", "))]
                """)
            for (index, column) in columns.prefix(8).enumerated() {
                try store.createKey(entity: "new_widget", name: "ak_k\(index)", columns: [column])
            }
            XCTAssertEqual(try store.definition(of: "new_widget").keys.count, 10)
            assertServiceError(.invalidEntityKeyOperation) {
                try store.createKey(entity: "new_widget", name: "ak_eleven", columns: ["new_c9"])
            }
            XCTAssertEqual(try store.definition(of: "new_widget").keys.count, 10)
        }
    }

    func test_AK03_keyWithSeventeenColumnsIsRejected() throws {
        try forEachStore { store in
            let columns = (1...17).map { "new_i\($0)" }
            try store.applySchemaFile("""
                entities:
                  - name: new_log
                    attributes: [\(columns.map { "{ name: \($0), type: integer }" }.joined(separator: ", "))]
                """)
            assertServiceError(.invalidEntityKeyOperation) {
                try store.createKey(entity: "new_log", name: "ak_wide", columns: columns)
            }
            try store.createKey(entity: "new_log", name: "ak_sixteen", columns: Array(columns.prefix(16)))
        }
    }

    func test_AK04_keyOverNineHundredBytesIsRejected() throws {
        try forEachStore { store in
            try store.applySchemaFile("""
                entities:
                  - name: new_log
                    attributes:
                      - { name: new_a, type: string, max_length: 300 }
                      - { name: new_b, type: string, max_length: 300 }
                """)
            assertServiceError(.indexSizeConstraintViolated) {
                try store.createKey(entity: "new_log", name: "ak_ab", columns: ["new_a", "new_b"])
            }
        }
    }

    func test_AK05_duplicateKeyDefinitionsAreRejected() throws {
        try forEachStore { store in
            assertServiceError(.entityKeyWithSelectedAttributesExists) {
                try store.createKey(entity: "new_widget", name: "ak_other", columns: ["new_code", "new_region"])
            }
            assertServiceError(.entityKeyNameExists) {
                try store.createKey(entity: "new_widget", name: "ak_region_code", columns: ["new_name"])
            }
        }
    }

    func test_AK06_retrieveBySingleKey() throws {
        try forEachStore { store in
            let id = try store.createAccount("ABC123")
            let record = try store.retrieve(account("ABC123"), columns: ["name"])
            XCTAssertEqual(record.id, id)
            XCTAssertEqual(record["name"], .string("Contoso"))
            XCTAssertNil(record["telephone1"], "only selected columns come back")
        }
    }

    func test_AK07_retrieveByCompositeKey() throws {
        try forEachStore { store in
            guard case .created(let id) = try store.execute(.create(entity: "new_widget", id: nil, fields: [
                "new_name": .string("W1"), "new_region": .integer(7), "new_code": .string("X-1")])) else { return XCTFail() }
            let record = try store.retrieve(EntityReference("new_widget", keys: ["new_region": .integer(7), "new_code": .string("X-1")]), columns: nil)
            XCTAssertEqual(record.id, id)
        }
    }

    func test_AK08_nonKeyColumnIsAnInvalidKey() throws {
        try forEachStore { store in
            try store.createAccount("ABC123")
            let error = assertServiceError(.invalidKey) {
                try store.retrieve(EntityReference("account", keys: ["name": .string("Contoso")]), columns: nil)
            }
            XCTAssertEqual(error?.message, "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.account'.")
        }
    }

    func test_AK09_partialCompositeKeyIsAnInvalidKey() throws {
        try forEachStore { store in
            let error = assertServiceError(.invalidKey) {
                try store.retrieve(EntityReference("new_widget", keys: ["new_code": .string("X-1")]), columns: nil)
            }
            XCTAssertTrue(error?.message.contains("'Microsoft.Dynamics.CRM.new_widget'") ?? false)
        }
    }

    func test_AK10_missingKeyIsRecordNotFoundByEntityKey() throws {
        try forEachStore { store in
            let error = assertServiceError(.recordNotFoundByEntityKey) { try store.retrieve(account("NOPE"), columns: nil) }
            XCTAssertEqual(error?.code.httpStatus, 404)
            XCTAssertEqual(error?.key, "accountnumber='NOPE'")
        }
    }

    func test_AK11_duplicateKeyValueOnCreateIsRejected() throws {
        try forEachStore { store in
            try store.createAccount("ABC123")
            let error = assertServiceError(.duplicateRecordEntityKey) { try store.createAccount("ABC123", name: "Dup") }
            XCTAssertEqual(error?.code.httpStatus, 412)
            XCTAssertTrue(error?.message.hasPrefix("Entity Key ak_accountnumber violated.") ?? false)
            let page = try store.runQuery(Query(entity: "account", filter: try FilterParser.parse("accountnumber eq 'ABC123'")))
            XCTAssertEqual(page.records.count, 1)
        }
    }

    func test_AK11_keyValuesDifferingOnlyInCaseCollide() throws {
        try forEachStore { store in
            try store.createAccount("abc123")
            assertServiceError(.duplicateRecordEntityKey) { try store.createAccount("ABC123") }
        }
    }

    func test_AK12_forbiddenCharacterCannotAddressButFilterFindsTheRecord() throws {
        try forEachStore { store in
            guard case .created(let id) = try store.execute(.create(entity: "contact", id: nil, fields: ["emailaddress1": .string("a&b@x.com")])) else { return XCTFail() }
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("a&b@x.com")])
            assertServiceError(.invalidKey) { try store.retrieve(contact, columns: nil) }
            assertServiceError(.invalidKey) { try store.execute(.upsert(contact, fields: ["firstname": .string("x")], mode: .createOrUpdate)) }
            let page = try store.runQuery(Query(entity: "contact", columns: ["contactid"], filter: try FilterParser.parse("emailaddress1 eq 'a&b@x.com'")))
            XCTAssertEqual(page.records.map(\.id), [id])
        }
    }

    func test_AK12_everyForbiddenCharacterIsRefusedAndOthersAreNot() throws {
        try forEachStore { store in
            for character in ["/", "<", ">", "*", "%", "&", ":", "\\", "?", "+"] {
                let reference = EntityReference("contact", keys: ["emailaddress1": .string("a\(character)b@x.test")])
                assertServiceError(.invalidKey) { try store.retrieve(reference, columns: nil) }
            }
            for character in ["@", ".", "-", "_", "#", "é", "~", " ", "!", "="] {
                let reference = EntityReference("contact", keys: ["emailaddress1": .string("a\(character)b@x.test")])
                assertServiceError(.recordNotFoundByEntityKey) { try store.retrieve(reference, columns: nil) }
            }
        }
    }

    func test_AK14_lookupColumnInAKey() throws {
        try forEachStore { store in
            let accountID = try store.createAccount("A1")
            guard case .created(let widget) = try store.execute(.create(entity: "new_widget", id: nil, fields: [
                "new_accountid": .reference(EntityReference("account", id: accountID)), "new_code": .string("K")])) else { return XCTFail() }
            let byLookupValue = EntityReference("new_widget", keys: ["_new_accountid_value": .guid(accountID), "new_code": .string("K")])
            XCTAssertEqual(try store.retrieve(byLookupValue, columns: nil).id, widget)
            let byAccountKey = EntityReference("new_widget", keys: ["new_accountid": .reference(account("A1")), "new_code": .string("K")])
            XCTAssertEqual(try store.retrieve(byAccountKey, columns: nil).id, widget)
        }
    }

    func test_AK15_failedIndexThenReactivation() throws {
        try forEachStore { store in
            for _ in 0..<2 { _ = try store.execute(.create(entity: "new_widget", id: nil, fields: ["new_name": .string("same")])) }
            try store.createKey(entity: "new_widget", name: "ak_name", columns: ["new_name"])
            XCTAssertEqual(try store.processKeyJobs()["new_widget.ak_name"], .failed)
            _ = try store.execute(.create(entity: "new_widget", id: nil, fields: ["new_name": .string("same")]))
            let rows = try store.runQuery(Query(entity: "new_widget", filter: try FilterParser.parse("new_name eq 'same'"))).records
            XCTAssertEqual(rows.count, 3, "a failed key does not enforce uniqueness")
            for row in rows.dropFirst() {
                _ = try store.execute(.update(EntityReference("new_widget", id: row.id!), fields: ["new_name": .string("other \(row.id!)")], ifVersion: nil))
            }
            try store.reactivateKey(entity: "new_widget", name: "ak_name")
            XCTAssertEqual(try store.processKeyJobs()["new_widget.ak_name"], .active)
            assertServiceError(.reactivateEntityKeyOnlyForFailedJobs) { try store.reactivateKey(entity: "new_widget", name: "ak_name") }
        }
    }

    func test_AK16_keyAttributesCarryingThePrimaryKeyActLikeAnId() throws {
        try forEachStore { store in
            let id = try store.createAccount("A1")
            let reference = EntityReference("account", keys: ["accountid": .guid(id)])
            XCTAssertEqual(try store.retrieve(reference, columns: nil).id, id)
            _ = try store.execute(.update(reference, fields: ["name": .string("renamed")], ifVersion: nil))
            XCTAssertEqual(try store.retrieve(EntityReference("account", id: id), columns: ["name"])["name"], .string("renamed"))
        }
    }

    func test_nullKeyValueCannotAddressAndNullKeysDoNotCollide() throws {
        try forEachStore { store in
            try store.createAccount(nil, name: "first")
            try store.createAccount(nil, name: "second")
            assertServiceError(.invalidKey) { try store.retrieve(EntityReference("account", keys: ["accountnumber": .null]), columns: nil) }
        }
    }

    func test_deletingAKeyStopsItsUniqueness() throws {
        try forEachStore { store in
            try store.deleteKey(entity: "account", name: "ak_accountnumber")
            try store.createAccount("SAME")
            try store.createAccount("SAME")
            assertServiceError(.invalidKey) { try store.retrieve(account("SAME"), columns: nil) }
        }
    }
}
