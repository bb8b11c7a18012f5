import EntityModel
import EntityStore
import Foundation
import XCTest

/// SPEC-dataverse.md §3: change tracking.
final class ChangeTrackingConformanceTests: XCTestCase {
    func test_CT01_initialSyncReturnsEveryRowWithSelectedColumns() throws {
        try forEachStore { store in
            for number in ["A", "B", "C"] { try store.createAccount(number) }
            let (items, token) = try store.allChanges("account", token: nil, columns: ["name"])
            XCTAssertEqual(items.count, 3)
            for case .newOrUpdated(let record) in items {
                XCTAssertEqual(record["name"], .string("Contoso"))
                XCTAssertNil(record["telephone1"])
                XCTAssertNotNil(record.id)
            }
            XCTAssertNotNil(ChangeToken(token))
        }
    }

    func test_CT02_deltaHasCreatedAndUpdatedRowsThenTheDeletion() throws {
        try forEachStore { store in
            let u = try store.createAccount("U")
            let x = try store.createAccount("X")
            let (_, first) = try store.allChanges("account", token: nil)
            let n = try store.createAccount("N")
            _ = try store.execute(.update(account("U"), fields: ["name": .string("changed")], ifVersion: nil))
            _ = try store.execute(.delete(account("X"), ifVersion: nil))
            let (items, second) = try store.allChanges("account", token: first)
            XCTAssertEqual(items.compactMap(\.updatedID), [n, u])
            XCTAssertEqual(items.compactMap(\.deletedID), [x])
            XCTAssertNotNil(items.last?.deletedID)
            XCTAssertNotEqual(first, second)
        }
    }

    func test_CT03_noChangesGivesAnEmptyPageAndANewToken() throws {
        try forEachStore { store in
            try store.createAccount("A")
            let (_, token) = try store.allChanges("account", token: nil)
            let (items, next) = try store.allChanges("account", token: token)
            XCTAssertTrue(items.isEmpty)
            XCTAssertNotNil(ChangeToken(next))
        }
    }

    func test_CT04_doubleUpdateCoalesces() throws {
        try forEachStore { store in
            try store.createAccount("U")
            let (_, token) = try store.allChanges("account", token: nil)
            for name in ["v1", "v2"] { _ = try store.execute(.update(account("U"), fields: ["name": .string(name)], ifVersion: nil)) }
            let (items, _) = try store.allChanges("account", token: token, columns: ["name"])
            XCTAssertEqual(items.count, 1)
            guard case .newOrUpdated(let record)? = items.first else { return XCTFail() }
            XCTAssertEqual(record["name"], .string("v2"))
        }
    }

    func test_CT05_createdThenDeletedIsReportedAsADeletion() throws {
        try forEachStore { store in
            let (_, token) = try store.allChanges("account", token: nil)
            let z = try store.createAccount("Z")
            _ = try store.execute(.delete(account("Z"), ifVersion: nil))
            let (items, _) = try store.allChanges("account", token: token)
            XCTAssertEqual(items.compactMap(\.deletedID), [z])
            XCTAssertTrue(items.compactMap(\.updatedID).isEmpty)
        }
    }

    func test_CT06_rowsComeBeforeDeletionsInVersionOrder() throws {
        try forEachStore { store in
            for number in ["U1", "U2", "D1", "D2"] { try store.createAccount(number) }
            let (_, token) = try store.allChanges("account", token: nil)
            _ = try store.execute(.delete(account("D1"), ifVersion: nil))
            _ = try store.execute(.update(account("U2"), fields: ["name": .string("x")], ifVersion: nil))
            _ = try store.execute(.delete(account("D2"), ifVersion: nil))
            _ = try store.execute(.update(account("U1"), fields: ["name": .string("y")], ifVersion: nil))
            let (items, _) = try store.allChanges("account", token: token, pageSize: 1)
            XCTAssertEqual(items.count, 4)
            XCTAssertNotNil(items[0].updatedID)
            XCTAssertNotNil(items[1].updatedID)
            XCTAssertNotNil(items[2].deletedID)
            XCTAssertNotNil(items[3].deletedID)
            let ids = { (number: String) in try store.find(account(number))?.id }
            XCTAssertEqual(items[0].updatedID, try ids("U2"))
            XCTAssertEqual(items[1].updatedID, try ids("U1"))
            XCTAssertEqual(items.compactMap(\.deletedID).count, 2)
        }
    }

    func test_CT09_untrackedEntityIsRejected() throws {
        try forEachStore { store in
            let error = assertServiceError(.changeTrackingNotEnabled) { try store.changes(ChangesRequest(entity: "new_log")) }
            XCTAssertEqual(error?.code.sdkErrorCode, -2147015535)
        }
    }

    func test_CT10_pagedInitialSyncPutsTheTokenOnTheLastPageOnly() throws {
        try forEachStore { store in
            let requests = (0..<23).map { ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string("a\($0)")]) }
            _ = try store.execute(.executeTransaction(requests, returnResponses: false))
            let deleted = try store.runQuery(Query(entity: "account", top: 3)).records
            for record in deleted { _ = try store.execute(.delete(EntityReference("account", id: record.id!), ifVersion: nil)) }
            var pages: [EntityChanges] = []
            var cookie: String?
            repeat {
                let page = try store.changes(ChangesRequest(entity: "account", columns: ["name"], pageSize: 8, pagingCookie: cookie))
                pages.append(page)
                cookie = page.pagingCookie
            } while pages.last!.moreRecords
            XCTAssertEqual(pages.map(\.changes.count), [8, 8, 4])
            XCTAssertEqual(pages.map(\.moreRecords), [true, true, false])
            XCTAssertEqual(pages.map { $0.dataToken == nil }, [true, true, false])
            XCTAssertTrue(pages.flatMap(\.changes).allSatisfy { $0.updatedID != nil }, "initial sync returns no deletions")
        }
    }

    func test_CT11_deltaAfterInitialSync() throws {
        try forEachStore { store in
            for number in ["A", "B", "C"] { try store.createAccount(number) }
            let (_, token) = try store.allChanges("account", token: nil)
            _ = try store.execute(.update(account("A"), fields: ["name": .string("n")], ifVersion: nil))
            let b = try store.retrieve(account("B"), columns: nil).id!
            _ = try store.execute(.delete(account("B"), ifVersion: nil))
            let page = try store.changes(ChangesRequest(entity: "account", token: token))
            XCTAssertEqual(page.changes.count, 2)
            XCTAssertFalse(page.moreRecords)
            XCTAssertNotNil(page.changes[0].updatedID)
            guard case .removedOrDeleted(let removed) = page.changes[1] else { return XCTFail() }
            XCTAssertEqual(removed.entity, "account")
            XCTAssertEqual(removed.id, b)
            XCTAssertNotNil(page.dataToken)
        }
    }

    func test_CT12_tokenOlderThanTheRetentionWindowExpires() throws {
        try forEachStore { store in
            try store.createAccount("A")
            let (_, token) = try store.allChanges("account", token: nil)
            let start = Date()
            store.clock = { start.addingTimeInterval(8 * 86_400) }
            let error = assertServiceError(.expiredVersionStamp) { try store.allChanges("account", token: token) }
            XCTAssertEqual(error?.message, "Version stamp associated with the client has expired. Please perform a full sync.")
            store.clock = { start.addingTimeInterval(6 * 86_400) }
            XCTAssertNoThrow(try store.allChanges("account", token: token))
        }
    }

    func test_CT12_malformedAndFutureTokensExpire() throws {
        try forEachStore { store in
            assertServiceError(.expiredVersionStamp) { try store.allChanges("account", token: "garbage") }
            let future = ChangeToken(version: 999_999, issued: Date()).text
            assertServiceError(.expiredVersionStamp) { try store.allChanges("account", token: future) }
        }
    }

    func test_CT12_purgedTombstonesExpireOlderTokens() throws {
        try forEachStore { store in
            try store.createAccount("A")
            let (_, token) = try store.allChanges("account", token: nil)
            _ = try store.execute(.delete(account("A"), ifVersion: nil))
            let start = Date()
            store.changeRetentionDays = 1
            store.clock = { start.addingTimeInterval(2 * 86_400) }
            try store.purgeExpiredTombstones()
            store.changeRetentionDays = 7
            assertServiceError(.expiredVersionStamp) { try store.allChanges("account", token: token) }
        }
    }

    func test_CT13_trackingFlagIsInTheMetadata() throws {
        try forEachStore { store in
            let tracked = try store.entityDefinitions().filter(\.changeTracking).map(\.name)
            XCTAssertTrue(tracked.contains("account"))
            XCTAssertTrue(tracked.contains("contact"))
            XCTAssertTrue(tracked.contains("new_widget"))
            XCTAssertFalse(tracked.contains("new_log"))
        }
    }

    func test_CT14_trackingCannotBeDisabled() throws {
        try forEachStore { store in
            assertServiceError(.schemaInvalid) { try store.setChangeTracking(entity: "account", enabled: false) }
            XCTAssertTrue(try store.definition(of: "account").changeTracking)
            try store.setChangeTracking(entity: "new_log", enabled: true)
            XCTAssertTrue(try store.definition(of: "new_log").changeTracking)
        }
    }

    func test_CT15_aChangeToAnUnselectedColumnIsStillAChange() throws {
        try forEachStore { store in
            try store.createAccount("U")
            let (_, token) = try store.allChanges("account", token: nil, columns: ["name"])
            _ = try store.execute(.update(account("U"), fields: ["telephone1": .string("555")], ifVersion: nil))
            let (items, _) = try store.allChanges("account", token: token, columns: ["name"])
            XCTAssertEqual(items.count, 1)
            guard case .newOrUpdated(let record)? = items.first else { return XCTFail() }
            XCTAssertNotNil(record["name"])
            XCTAssertNil(record["telephone1"])
        }
    }

    func test_unchangedWritesProduceNoChanges() throws {
        try forEachStore { store in
            try store.createAccount("U", name: "same")
            let (_, token) = try store.allChanges("account", token: nil)
            _ = try store.execute(.upsert(account("U"), fields: ["name": .string("same")], mode: .createOrUpdate))
            XCTAssertTrue(try store.allChanges("account", token: token).items.isEmpty)
        }
    }

    func test_removedLinksGetTheirOwnVersionsSoPagingMissesNone() throws {
        try forEachStore { store in
            let parent = try store.createAccount("P")
            for index in 0..<7 { try store.createAccount("C\(index)", extra: ["parentaccountid": .guid(parent)]) }
            let (_, token) = try store.allChanges("account", token: nil)
            _ = try store.execute(.delete(account("P"), ifVersion: nil))
            let (items, _) = try store.allChanges("account", token: token, pageSize: 3)
            XCTAssertEqual(items.compactMap(\.updatedID).count, 7, "every child whose parent link was cleared is a change")
            XCTAssertEqual(Set(items.compactMap(\.updatedID)).count, 7)
            XCTAssertEqual(items.compactMap(\.deletedID), [parent])
        }
    }

    func test_deletionsCarryTheirKeyAsPeopleReadIt() throws {
        try forEachStore { store in
            try store.applySchemaFile("""
                entities:
                  - name: new_price
                    attributes: [ { name: new_amount, type: decimal, precision: 2 }, { name: new_code, type: string, max_length: 10 } ]
                    keys: [ { name: ak_amount_code, columns: [new_amount, new_code] } ]
                """)
            let reference = EntityReference("new_price", keys: ["new_amount": .decimal(DecimalNumber("1.5")!), "new_code": .string("X")])
            _ = try store.execute(.upsert(reference, fields: [:], mode: .createOrUpdate))
            let (_, token) = try store.allChanges("new_price", token: nil)
            guard case .deleted(let id) = try store.execute(.delete(reference, ifVersion: nil)) else { return XCTFail() }
            let page = try store.changes(ChangesRequest(entity: "new_price", token: token))
            XCTAssertEqual(page.deletedKeys[id], ["new_amount": "1.50", "new_code": "X"])
        }
    }

    func test_deleteAndRecreateWithTheSameKeyGivesDeletionAndNewRow() throws {
        try forEachStore { store in
            let old = try store.createAccount("R")
            let (_, token) = try store.allChanges("account", token: nil)
            _ = try store.execute(.delete(account("R"), ifVersion: nil))
            let new = try store.createAccount("R")
            let (items, _) = try store.allChanges("account", token: token)
            XCTAssertEqual(items.compactMap(\.updatedID), [new])
            XCTAssertEqual(items.compactMap(\.deletedID), [old])
        }
    }
}
