import EntityModel
import EntityStore
import XCTest

/// SPEC-dataverse.md §4: owner, state/status and parents through plain update.
final class StateConformanceTests: XCTestCase {
    private func state(_ store: EntityStore, _ number: String) throws -> [FieldValue?] {
        let record = try store.retrieve(account(number), columns: ["statecode", "statuscode"])
        return [record["statecode"], record["statuscode"]]
    }

    private func update(_ store: EntityStore, _ number: String, _ fields: [String: FieldValue]) throws {
        _ = try store.execute(.update(account(number), fields: fields, ifVersion: nil))
    }

    func test_newRecordStartsInTheFirstStateWithItsDefaultStatus() throws {
        try forEachStore { store in
            try store.createAccount("A")
            XCTAssertEqual(try state(store, "A"), [.integer(0), .integer(1)])
        }
    }

    func test_SU01_statecodeAloneTakesTheDefaultStatus() throws {
        try forEachStore { store in
            try store.createAccount("A", extra: ["statuscode": .integer(100000002)])
            XCTAssertEqual(try state(store, "A"), [.integer(0), .integer(100000002)])
            try update(store, "A", ["statecode": .integer(1)])
            XCTAssertEqual(try state(store, "A"), [.integer(1), .integer(2)])
        }
    }

    func test_SU02_validPairIsStored() throws {
        try forEachStore { store in
            try store.createAccount("A")
            try update(store, "A", ["statecode": .integer(1), "statuscode": .integer(100000001)])
            XCTAssertEqual(try state(store, "A"), [.integer(1), .integer(100000001)])
        }
    }

    func test_SU03_invalidPairIsRejected() throws {
        try forEachStore { store in
            try store.createAccount("A")
            assertServiceError(.invalidStateCodeStatusCode) { try update(store, "A", ["statecode": .integer(1), "statuscode": .integer(1)]) }
            XCTAssertEqual(try state(store, "A"), [.integer(0), .integer(1)])
        }
    }

    func test_SU04_unknownStateIsRejected() throws {
        try forEachStore { store in
            try store.createAccount("A")
            assertServiceError(.invalidStateCodeStatusCode) { try update(store, "A", ["statecode": .integer(5), "statuscode": .integer(2)]) }
        }
    }

    func test_SU05_reactivateTakesTheActiveDefault() throws {
        try forEachStore { store in
            try store.createAccount("A", extra: ["statecode": .integer(1)])
            XCTAssertEqual(try state(store, "A"), [.integer(1), .integer(2)])
            try update(store, "A", ["statecode": .integer(0)])
            XCTAssertEqual(try state(store, "A"), [.integer(0), .integer(1)])
        }
    }

    func test_SU06_assignThroughUpdate() throws {
        try forEachStore { store in
            guard case .created(let user) = try store.execute(.create(entity: "systemuser", id: nil, fields: ["domainname": .string("u2@x.test")])) else { return XCTFail() }
            try store.createAccount("A")
            try update(store, "A", ["ownerid": .reference(EntityReference("systemuser", id: user))])
            XCTAssertEqual(try store.retrieve(account("A"), columns: ["_ownerid_value"])["ownerid"],
                           .reference(EntityReference("systemuser", id: user)))
            guard case .created(let team) = try store.execute(.create(entity: "team", id: nil, fields: ["name": .string("Sales")])) else { return XCTFail() }
            try update(store, "A", ["ownerid": .reference(EntityReference("team", keys: ["name": .string("Sales")]))])
            XCTAssertEqual(try store.retrieve(account("A"), columns: ["ownerid"])["ownerid"], .reference(EntityReference("team", id: team)))
        }
    }

    func test_SU07_mixedUpdateIsOneChange() throws {
        try forEachStore { store in
            try store.createAccount("A")
            let (_, token) = try store.allChanges("account", token: nil)
            let before = try store.currentVersion()
            try update(store, "A", ["name": .string("n"), "statecode": .integer(1), "statuscode": .integer(2)])
            XCTAssertEqual(try store.currentVersion(), before + 1)
            let (items, _) = try store.allChanges("account", token: token)
            XCTAssertEqual(items.count, 1)
            XCTAssertEqual(try state(store, "A"), [.integer(1), .integer(2)])
            XCTAssertEqual(try store.retrieve(account("A"), columns: ["name"])["name"], .string("n"))
        }
    }

    func test_SU08_requiredColumnCannotBeSetToNull() throws {
        try forEachStore { store in
            try store.createAccount("A")
            let error = assertServiceError(.invalidArgument) { try update(store, "A", ["name": .null]) }
            XCTAssertEqual(error?.message, "Attribute: name cannot be set to NULL")
        }
    }

    func test_SU10_statuscodeOfAnotherStateAloneIsRejected() throws {
        try forEachStore { store in
            try store.createAccount("A")
            assertServiceError(.invalidStateCodeStatusCode) { try update(store, "A", ["statuscode": .integer(2)]) }
            XCTAssertEqual(try state(store, "A"), [.integer(0), .integer(1)])
            try update(store, "A", ["statuscode": .integer(100000002)])
            XCTAssertEqual(try state(store, "A"), [.integer(0), .integer(100000002)])
        }
    }

    func test_parentChangesThroughPlainUpdate() throws {
        try forEachStore { store in
            let parent = try store.createAccount("P")
            try store.createAccount("C")
            try update(store, "C", ["parentaccountid": .reference(account("P"))])
            XCTAssertEqual(try store.retrieve(account("C"), columns: ["parentaccountid"])["parentaccountid"],
                           .reference(EntityReference("account", id: parent)))
            try update(store, "C", ["parentaccountid": .null])
            XCTAssertEqual(try store.retrieve(account("C"), columns: ["parentaccountid"])["parentaccountid"], .null)
        }
    }
}
