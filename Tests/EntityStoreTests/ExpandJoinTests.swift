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

    /// Rows of one page that point at different records, of both owner kinds, each get the
    /// related record their own lookup points at (read by id and joined).
    func test_eachRowGetsTheRelatedRecordItsLookupPointsAt() throws {
        try forEachStore { store in
            let (user, team, _) = try store.createExpansionTargets()
            let other = EntityReference("systemuser", keys: ["domainname": .string("bob.corp")])
            _ = try store.execute(.upsert(other, fields: ["fullname": .string("Bob")], mode: .createOrUpdate))
            let owners = [user, team, other, team, user, other, team]
            for (index, owner) in owners.enumerated() { try store.createAccount("M\(index)", extra: ["ownerid": .reference(owner)]) }
            for joinFrom: Int64 in [50_000, 0] {
                store.expandJoinMinimumRows = joinFrom
                for pageSize in [3, 100] {
                    let items = try store.allChanges("account", token: nil, columns: ["accountnumber", "ownerid"],
                                                     expand: ["ownerid": ["createdon"]], pageSize: pageSize).items
                    var checked = 0
                    for item in items {
                        guard case .newOrUpdated(let record) = item, case .reference(let owner)? = record.fields["ownerid"] else { continue }
                        XCTAssertEqual(record.related["ownerid"]?.entity, owner.entity, "\(record.fields["accountnumber"]!)")
                        XCTAssertEqual(record.related["ownerid"]?.id, owner.id, "\(record.fields["accountnumber"]!)")
                        checked += 1
                    }
                    XCTAssertEqual(checked, owners.count, "join from \(joinFrom), pages of \(pageSize)")
                }
            }
        }
    }

    /// A change page's rows as one page of values (what a script's change loop reads) hold
    /// exactly the records the page gives otherwise: every column type and null, lookups
    /// expanded by id and joined, typed owners of both kinds, and deletions after the rows,
    /// over pages of every size from 1 to more than the changes.
    func test_rowPagesHoldTheSameRecordsAsRecordPages() throws {
        try forEachStore { store in
            let (user, team, contact) = try store.createExpansionTargets()
            let since = try store.allChanges("account", token: nil).token
            try store.createAccount("R0")
            try store.createAccount("R1", extra: [
                "primarycontactid": .reference(contact), "ownerid": .reference(user), "revenue": .decimal(DecimalNumber("1234.5")!),
                "numberofemployees": .integer(42), "description": .string("Long text"), "statecode": .integer(1),
            ])
            try store.createAccount("R2", extra: ["ownerid": .reference(team), "address1_city": .string("Lyon")])
            try store.createAccount("R3", extra: ["parentaccountid": .reference(account("R1"))])
            _ = try store.execute(.delete(account("R0"), ifVersion: nil))
            let expands: [[String: [String]]] = [[:], ["primarycontactid": ["lastname", "emailaddress1"], "ownerid": ["businessunitid"]],
                                                 ["parentaccountid": ["accountnumber"]]]
            for joinFrom: Int64 in [50_000, 0] {
                store.expandJoinMinimumRows = joinFrom
                for expand in expands {
                    for pageSize in [1, 2, 3, 5, 100] {
                        let records = try store.allChanges("account", token: since, expand: expand, pageSize: pageSize)
                        let rows = try store.allChanges("account", token: since, expand: expand, pageSize: pageSize, asRowPage: true)
                        XCTAssertEqual(rows.items.map(\.updatedID), records.items.map(\.updatedID), "\(expand), pages of \(pageSize)")
                        XCTAssertEqual(rows.items.map(\.deletedID), records.items.map(\.deletedID), "\(expand), pages of \(pageSize)")
                        let recordValues = records.items.compactMap { item -> Record? in if case .newOrUpdated(let record) = item { record } else { nil } }
                        let rowValues = rows.items.compactMap { item -> Record? in if case .newOrUpdated(let record) = item { record } else { nil } }
                        XCTAssertEqual(rowValues, recordValues, "\(expand), pages of \(pageSize)")
                        XCTAssertEqual(recordValues.count, 3)
                        XCTAssertEqual(records.items.count, 4)
                    }
                }
                // a team has no fullname, and R2 is owned by one: the same error both ways
                let records = assertServiceError(.unknownProperty) { try store.allChanges("account", token: since, expand: ["ownerid": ["fullname"]]) }
                let rows = assertServiceError(.unknownProperty) {
                    try store.allChanges("account", token: since, expand: ["ownerid": ["fullname"]], asRowPage: true)
                }
                XCTAssertEqual(rows?.message, records?.message)
            }
            // what the comparison covers: values of each kind, and related rows of each kind
            let rows = try store.allChanges("account", token: since, expand: expands[1], asRowPage: true).items
            let r1 = rows.compactMap { item -> Record? in
                if case .newOrUpdated(let record) = item, record.fields["accountnumber"] == .string("R1") { record } else { nil }
            }.first
            XCTAssertEqual(r1?.fields["revenue"], .decimal(DecimalNumber("1234.5")!))
            XCTAssertEqual(r1?.fields["numberofemployees"], .integer(42))
            XCTAssertEqual(r1?.fields["telephone1"], .null)
            XCTAssertEqual(r1?.related["primarycontactid"]?.fields["lastname"], .string("Hopper"))
            XCTAssertEqual(r1?.related["ownerid"]?.entity, "systemuser")
            XCTAssertEqual(r1?.related["ownerid"]?.id, try store.find(user)?.id)
            let r2 = rows.compactMap { item -> Record? in
                if case .newOrUpdated(let record) = item, record.fields["accountnumber"] == .string("R2") { record } else { nil }
            }.first
            XCTAssertEqual(r2?.related["ownerid"]?.entity, "team")
            XCTAssertEqual(r2?.related["ownerid"]?.id, try store.find(team)?.id)
        }
    }

    /// A page keeps the lookup values whose ids repeat row after row (`RepeatedReferences`).
    /// Over 1,300 rows — owners repeating, a user and a team with the same GUID (told apart
    /// only by the owner's type), and a contact of its own per row (ids that stop being kept
    /// after the first rows) — each row still reads its own lookups, its related record, and
    /// the joined contact's id.
    func test_repeatedLookupIdsKeepTheirTypeAndNewIdsStayRight() throws {
        try forEachStore { store in
            let shared = RecordID(UUID())
            _ = try store.execute(.create(entity: "systemuser", id: shared, fields: ["domainname": .string("same.corp"), "fullname": .string("U")]))
            _ = try store.execute(.create(entity: "team", id: shared, fields: ["name": .string("Same")]))
            let owners = [EntityReference("systemuser", id: shared), EntityReference("team", id: shared)]
            var contacts: [RecordID] = []
            for index in 0..<1_300 {
                guard case .created(let contact) = try store.execute(.create(entity: "contact", id: nil, fields: [
                    "emailaddress1": .string("c\(index)@x.test"), "lastname": .string("L\(index)"),
                ])) else { return XCTFail("contact not created") }
                contacts.append(contact)
                // owners in runs of three: user, user, user, team, team, team, …
                try store.createAccount("S\(index)", extra: ["ownerid": .reference(owners[index / 3 % 2]),
                                                              "primarycontactid": .reference(EntityReference("contact", id: contact))])
            }
            for joinFrom: Int64 in [50_000, 0] {
                store.expandJoinMinimumRows = joinFrom
                let items = try store.allChanges("account", token: nil, columns: ["accountnumber", "ownerid", "primarycontactid"],
                                                 expand: ["primarycontactid": ["lastname"], "ownerid": ["createdon"]],
                                                 pageSize: 5000, asRowPage: true).items
                var checked = 0
                for item in items {
                    guard case .newOrUpdated(let record) = item, case .string(let number)? = record.fields["accountnumber"],
                          let index = Int(number.dropFirst()) else { continue }
                    guard case .reference(let owner)? = record.fields["ownerid"],
                          case .reference(let contact)? = record.fields["primarycontactid"] else { return XCTFail("\(number): lookups lost") }
                    XCTAssertEqual(owner.entity, owners[index / 3 % 2].entity, number)
                    XCTAssertEqual(owner.id, shared, number)
                    XCTAssertEqual(record.related["ownerid"]?.entity, owner.entity, number)
                    XCTAssertEqual(contact.id, contacts[index], number)
                    XCTAssertEqual(record.related["primarycontactid"]?.id, contacts[index], number)
                    XCTAssertEqual(record.related["primarycontactid"]?.fields["lastname"], .string("L\(index)"), number)
                    checked += 1
                }
                XCTAssertEqual(checked, 1_300, "join from \(joinFrom)")
            }
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
