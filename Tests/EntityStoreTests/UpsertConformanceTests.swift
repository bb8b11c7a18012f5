import EntityModel
import EntityStore
import XCTest

/// SPEC-dataverse.md §2: upsert.
final class UpsertConformanceTests: XCTestCase {
    private func upsert(_ store: EntityStore, _ reference: EntityReference, _ fields: [String: FieldValue],
                        mode: UpsertMode = .createOrUpdate) throws -> (id: RecordID, created: Bool, changed: Bool) {
        guard case .upserted(let id, let created, let changed) = try store.execute(.upsert(reference, fields: fields, mode: mode)) else {
            throw ServiceError(.invalidArgument, "unexpected response")
        }
        return (id, created, changed)
    }

    func test_UP01_upsertCreatesAndCopiesTheKeyFromTheReference() throws {
        try forEachStore { store in
            let result = try upsert(store, account("U1"), ["name": .string("Upsert one")])
            XCTAssertTrue(result.created)
            let record = try store.retrieve(account("U1"), columns: ["name", "accountnumber"])
            XCTAssertEqual(record["name"], .string("Upsert one"))
            XCTAssertEqual(record["accountnumber"], .string("U1"))
        }
    }

    func test_UP02_upsertUpdatesTheSameRecord() throws {
        try forEachStore { store in
            let first = try upsert(store, account("U1"), ["name": .string("Upsert one")])
            let second = try upsert(store, account("U1"), ["name": .string("Upsert two")])
            XCTAssertFalse(second.created)
            XCTAssertEqual(first.id, second.id)
            XCTAssertEqual(try store.count("account"), 1)
            XCTAssertEqual(try store.retrieve(account("U1"), columns: ["name"])["name"], .string("Upsert two"))
        }
    }

    func test_UP03_secondUpsertChangesTheVersion() throws {
        try forEachStore { store in
            _ = try upsert(store, account("U3"), ["name": .string("a")])
            let before = try store.retrieve(account("U3"), columns: nil)["versionnumber"]
            _ = try upsert(store, account("U3"), ["name": .string("b")])
            let after = try store.retrieve(account("U3"), columns: nil)["versionnumber"]
            XCTAssertNotEqual(before, after)
        }
    }

    func test_UP04_updateOnlyDoesNotCreate() throws {
        try forEachStore { store in
            assertServiceError(.recordNotFoundByEntityKey) { try upsert(store, account("U4"), ["name": .string("x")], mode: .updateOnly) }
            XCTAssertNil(try store.find(account("U4")))
        }
    }

    func test_UP05_createOnlyDoesNotUpdate() throws {
        try forEachStore { store in
            _ = try upsert(store, account("U5"), ["name": .string("keep")])
            let error = assertServiceError(.duplicateRecord) { try upsert(store, account("U5"), ["name": .string("overwrite")], mode: .createOnly) }
            XCTAssertEqual(error?.message, "A record with matching key values already exists.")
            XCTAssertEqual(try store.retrieve(account("U5"), columns: ["name"])["name"], .string("keep"))
        }
    }

    func test_UP06_createOnlySucceedsWhenAbsent() throws {
        try forEachStore { store in
            XCTAssertTrue(try upsert(store, account("U6"), ["name": .string("new")], mode: .createOnly).created)
            XCTAssertNotNil(try store.find(account("U6")))
        }
    }

    func test_UP07_keyInTheFieldsIsIgnoredOnUpdate() throws {
        try forEachStore { store in
            _ = try upsert(store, account("U7"), ["name": .string("old")])
            _ = try upsert(store, account("U7"), ["accountnumber": .string("U7-NEW"), "name": .string("n")])
            XCTAssertEqual(try store.retrieve(account("U7"), columns: ["name"])["name"], .string("n"))
            XCTAssertNil(try store.find(account("U7-NEW")))
        }
    }

    func test_UP07_keyInTheFieldsWinsOnCreate() throws {
        try forEachStore { store in
            _ = try upsert(store, account("URL"), ["accountnumber": .string("BODY"), "name": .string("n")])
            XCTAssertNotNil(try store.find(account("BODY")))
            XCTAssertNil(try store.find(account("URL")))
        }
    }

    func test_UP08_upsertByGuidCreatesWithThatId() throws {
        try forEachStore { store in
            let id = RecordID("11111111-1111-1111-1111-111111111111")!
            let result = try upsert(store, EntityReference("account", id: id), ["name": .string("G")])
            XCTAssertTrue(result.created)
            XCTAssertEqual(result.id, id)
            XCTAssertEqual(try store.retrieve(EntityReference("account", id: id), columns: ["name"])["name"], .string("G"))
        }
    }

    func test_UP09_recordCreatedIsTrueThenFalseWithTheSameId() throws {
        try forEachStore { store in
            let first = try upsert(store, account("S9"), ["name": .string("a")])
            let second = try upsert(store, account("S9"), ["name": .string("a")])
            XCTAssertTrue(first.created)
            XCTAssertFalse(second.created)
            XCTAssertEqual(first.id, second.id)
        }
    }

    func test_UP10_changeAKeyByPrimaryKeyAndDuplicateIsRejected() throws {
        try forEachStore { store in
            let a = try store.createAccount("K1")
            try store.createAccount("K2")
            _ = try store.execute(.update(EntityReference("account", id: a), fields: ["accountnumber": .string("K3")], ifVersion: nil))
            XCTAssertEqual(try store.retrieve(account("K3"), columns: nil).id, a)
            assertServiceError(.duplicateRecordEntityKey) {
                try store.execute(.update(EntityReference("account", id: a), fields: ["accountnumber": .string("K2")], ifVersion: nil))
            }
            XCTAssertEqual(try store.retrieve(account("K3"), columns: nil).id, a)
        }
    }

    func test_UP11_staleVersionIsRejectedAndCurrentVersionSucceeds() throws {
        try forEachStore { store in
            let a = try store.createAccount("E1")
            guard case .integer(let stale)? = try store.retrieve(account("E1"), columns: nil)["versionnumber"] else { return XCTFail() }
            _ = try store.execute(.update(account("E1"), fields: ["name": .string("someone else")], ifVersion: nil))
            assertServiceError(.concurrencyVersionMismatch) {
                try store.execute(.update(EntityReference("account", id: a), fields: ["name": .string("mine")], ifVersion: stale))
            }
            XCTAssertEqual(try store.retrieve(account("E1"), columns: ["name"])["name"], .string("someone else"))
            guard case .integer(let current)? = try store.retrieve(account("E1"), columns: nil)["versionnumber"] else { return XCTFail() }
            _ = try store.execute(.update(EntityReference("account", id: a), fields: ["name": .string("mine")], ifVersion: current))
            XCTAssertEqual(try store.retrieve(account("E1"), columns: ["name"])["name"], .string("mine"))
        }
    }

    func test_UP13_deleteWithStaleVersionIsRejected() throws {
        try forEachStore { store in
            let a = try store.createAccount("E2")
            guard case .integer(let stale)? = try store.retrieve(account("E2"), columns: nil)["versionnumber"] else { return XCTFail() }
            _ = try store.execute(.update(account("E2"), fields: ["name": .string("changed")], ifVersion: nil))
            assertServiceError(.concurrencyVersionMismatch) { try store.execute(.delete(EntityReference("account", id: a), ifVersion: stale)) }
            XCTAssertNotNil(try store.find(account("E2")))
        }
    }

    func test_UP14_updateByMissingKeyFailsAndCreatesNothing() throws {
        try forEachStore { store in
            assertServiceError(.recordNotFoundByEntityKey) {
                try store.execute(.update(account("S14"), fields: ["name": .string("x")], ifVersion: nil))
            }
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    func test_unchangedUpsertWritesNothingAndKeepsTheVersion() throws {
        try forEachStore { store in
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("c@x.test")])
            _ = try upsert(store, contact, ["lastname": .string("C")])
            _ = try upsert(store, account("N1"), ["name": .string("n"), "revenue": .decimal(DecimalNumber("12.50")!),
                                                  "primarycontactid": .reference(contact), "statecode": .integer(1)])
            let version = try store.currentVersion()
            let again = try upsert(store, account("N1"), ["name": .string("n"), "revenue": .decimal(DecimalNumber("12.5")!),
                                                          "primarycontactid": .reference(contact), "statecode": .integer(1)])
            XCTAssertFalse(again.changed)
            XCTAssertEqual(try store.currentVersion(), version)
        }
    }

    func test_caseOnlyChangeIsAChange() throws {
        try forEachStore { store in
            _ = try upsert(store, account("C1"), ["name": .string("acme")])
            XCTAssertTrue(try upsert(store, account("C1"), ["name": .string("Acme")]).changed)
            XCTAssertEqual(try store.retrieve(account("C1"), columns: ["name"])["name"], .string("Acme"))
        }
    }

    func test_lookupByAlternateKeyIsResolvedInTheSameCall() throws {
        try forEachStore { store in
            let user = EntityReference("systemuser", keys: ["domainname": .string("u1@contoso.test")])
            _ = try upsert(store, user, ["fullname": .string("U One")])
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("c@x.test")])
            _ = try upsert(store, contact, ["lastname": .string("C")])
            _ = try upsert(store, account("L1"), ["name": .string("n"), "primarycontactid": .reference(contact), "ownerid": .reference(user)])
            let record = try store.retrieve(account("L1"), columns: ["primarycontactid", "ownerid"])
            let contactID = try store.retrieve(contact, columns: nil).id!
            let userID = try store.retrieve(user, columns: nil).id!
            XCTAssertEqual(record["primarycontactid"], .reference(EntityReference("contact", id: contactID)))
            XCTAssertEqual(record["ownerid"], .reference(EntityReference("systemuser", id: userID)))
        }
    }

    func test_missingLookupTargetNamesTheEntityAndKey() throws {
        try forEachStore { store in
            let missing = EntityReference("contact", keys: ["emailaddress1": .string("nobody@x.test")])
            let error = assertServiceError(.recordNotFoundByEntityKey) {
                try upsert(store, account("L2"), ["name": .string("n"), "primarycontactid": .reference(missing)])
            }
            XCTAssertEqual(error?.entity, "contact")
            XCTAssertEqual(error?.key, "emailaddress1='nobody@x.test'")
            XCTAssertTrue(error?.message.contains("nobody@x.test") ?? false)
            XCTAssertNil(try store.find(account("L2")))
        }
    }
}
