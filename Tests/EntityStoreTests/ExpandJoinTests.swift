import EntityModel
import XCTest

@testable import EntityStore

/// The change feed's joined expansion, forced on for small tables (the store only joins
/// targets of 50,000 rows or more): the same related records as reading them by id.
final class ExpandJoinTests: XCTestCase {
    func test_joinedExpansionMatchesReadingByIdForSingleAndTypedLookups() throws {
        try forEachStore { store in
            let (user, team, contact) = try store.createExpansionTargets()
            try store.createAccount("K0")
            try store.createAccount("K1", extra: ["primarycontactid": .reference(contact), "ownerid": .reference(user)])
            try store.createAccount("K2", extra: ["ownerid": .reference(team)])
            // "name" exists on team and (as a column) not on systemuser: owners of both kinds join
            let expand = ["primarycontactid": ["lastname"], "ownerid": ["domainname"]]
            let byID = try related(store, expand: ["primarycontactid": ["lastname"]])
            store.expandJoinMinimumRows = 0
            let joined = try related(store, expand: ["primarycontactid": ["lastname"]])
            XCTAssertEqual(joined, byID)
            XCTAssertEqual(joined["K1"], "Hopper")
            XCTAssertNil(joined["K0"] ?? nil)
            // the typed owner joins systemuser and team separately; a team has no domainname,
            // and K2 is owned by one: the same error as without the join
            assertServiceError(.unknownProperty) { try self.related(store, expand: expand) }
            _ = try store.execute(.delete(EntityReference("account", keys: ["accountnumber": .string("K2")]), ifVersion: nil))
            let owners = try store.allChanges("account", token: nil, columns: ["accountnumber"], expand: expand).items
            let k1 = owners.compactMap { item -> Record? in
                if case .newOrUpdated(let record) = item, record.fields["accountnumber"] == .string("K1") { return record } else { return nil }
            }.first
            XCTAssertEqual(k1?.related["ownerid"]?.fields["domainname"], .string("ada.corp"))
            XCTAssertEqual(k1?.related["primarycontactid"]?.fields["lastname"], .string("Hopper"))
        }
    }

    /// account number → the expanded contact's last name, over all change pages of 2.
    private func related(_ store: EntityStore, expand: [String: [String]]) throws -> [String: String?] {
        var result: [String: String?] = [:]
        for item in try store.allChanges("account", token: nil, columns: ["accountnumber"], expand: expand, pageSize: 2).items {
            guard case .newOrUpdated(let record) = item, case .string(let number)? = record.fields["accountnumber"] else { continue }
            if case .string(let name)? = record.related["primarycontactid"]?.fields["lastname"] { result[number] = name } else { result[number] = .some(nil) }
        }
        return result
    }
}
