import EntityModel
import KeyTables
import XCTest

@testable import EntityStore

/// Creates contacts <prefix>0@x.test … in batches of 1000; their ids by e-mail.
private func createContacts(_ store: EntityStore, count: Int, prefix: String) throws -> [String: RecordID] {
    var ids: [String: RecordID] = [:]
    for start in stride(from: 0, to: count, by: 1000) {
        let creates = (start..<min(start + 1000, count)).map { index in
            ServiceRequest.create(entity: "contact", id: nil, fields: ["emailaddress1": .string("\(prefix)\(index)@x.test"), "lastname": .string(prefix.uppercased())])
        }
        guard case .batch(false, let items) = try store.execute(.executeMultiple(creates, continueOnError: false, returnResponses: true)) else {
            throw ServiceError(.invalidArgument, "contacts were not created")
        }
        for (offset, item) in items.enumerated() { if case .created(let id)? = item.response { ids["\(prefix)\(start + offset)@x.test"] = id } }
    }
    return ids
}

/// Lookups that keep missing the cache read the target's whole key map once; a hit must be
/// the record SQLite would find and anything else must still fail as it did before.
final class LookupKeyMapTests: XCTestCase {
    private func contact(_ email: String) -> EntityReference {
        EntityReference("contact", keys: ["emailaddress1": .string(email)])
    }

    private func account(_ number: String) -> EntityReference {
        EntityReference("account", keys: ["accountnumber": .string(number)])
    }

    private func accountPointingAt(_ number: String, _ email: String) -> ServiceRequest {
        .upsert(account(number), fields: ["name": .string(number), "primarycontactid": .reference(contact(email))], mode: .createOrUpdate)
    }

    /// A key map's ids are parsed from the stored GUID text: exactly the canonical form, in
    /// either case, and nothing else.
    func test_guidsParseAsRecordIDsParseThem() {
        let texts = [
            "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a6b", "8E1D0F7C-3A52-4E2B-9A51-1C2D3E4F5A6B", "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a6", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a6b0",
            "8e1d0f7cx3a52-4e2b-9a51-1c2d3e4f5a6b", "8e1d0f7c-3a52-4e2b-9a51_1c2d3e4f5a6b", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a6g",
            "g e1d0f7c3a52-4e2b-9a51-1c2d3e4f5a6b", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a/b", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a:b",
            "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a@b", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5a`b", "8e1d0f7c-3a52-4e2b-9a51-1c2d3e4f5aGb",
        ]
        for text in texts {
            var bytes = [UInt8](repeating: 0xAA, count: 16)
            let parsed = Array(text.utf8).withUnsafeBytes { EntityStore.parseGUID($0, into: &bytes) }
            let expected = RecordID(text)
            XCTAssertEqual(parsed, expected != nil, text)
            if let expected {
                XCTAssertEqual(bytes.withUnsafeBytes { RecordID(bytes: $0) }, expected, text)
            }
        }
    }

    /// 5000 contacts, then 5000 accounts each pointing at one by email (in batches of 1000).
    private func loadContactsAndAccounts(_ store: EntityStore) throws -> [String: RecordID] {
        let contactIDs = try createContacts(store, count: 5000, prefix: "c")
        _ = try store.execute(.create(entity: "contact", id: nil, fields: ["emailaddress1": .string("odd/key@x.test"), "lastname": .string("O")]))
        for start in stride(from: 0, to: 5000, by: 1000) {
            let upserts = (start..<start + 1000).map { accountPointingAt("A\($0)", "c\($0)@x.test") }
            guard case .batch(false, _) = try store.execute(.executeMultiple(upserts, continueOnError: false, returnResponses: false)) else {
                throw ServiceError(.invalidArgument, "accounts were not written")
            }
        }
        return contactIDs
    }

    func test_aKeyMapGivesEachKeyItsOwnIDWhateverTheOrderOfLookups() {
        // more keys than the map keeps recent ids for, so that entries share slots
        let count = LookupKeyMap.recentSlots * 3 + 7
        var table = ByteKeyTable(payloadSize: 16, capacity: count)
        var expected: [String: RecordID] = [:]
        for index in 0..<count {
            let key = "k\(index)@x.test"
            var bytes = [UInt8](repeating: 0, count: 16)
            withUnsafeBytes(of: UInt64(index * 7919 + 1).bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
            let id = bytes.withUnsafeBytes { RecordID(bytes: $0) }
            expected[key] = id
            bytes.withUnsafeBytes { _ = table.insert(key, payload: $0) }
        }
        let map = LookupKeyMap(column: "emailaddress1", table: table)
        var order = Array(expected.keys).sorted()
        for round in 0..<3 {
            if round == 1 { order.reverse() }
            if round == 2 { order = order.enumerated().sorted { ($0.offset * 31) % count < ($1.offset * 31) % count }.map(\.element) }
            for key in order {
                XCTAssertEqual(map.id(for: key), expected[key], "\(key) in round \(round)")
                XCTAssertEqual(map.id(for: key), expected[key], "\(key) again in round \(round)")
            }
        }
        XCTAssertNil(map.id(for: "absent@x.test"))
    }

    func test_manyLookupMissesReadTheKeyMapAndEveryLookupStillFindsItsOwnRecord() throws {
        try forEachStore { store in
            let contactIDs = try loadContactsAndAccounts(store)
            XCTAssertNotNil(try store.table("contact").keyMap, "5000 misses on 5001 contacts should read the key map")
            // accounts written after the map was read point at the right contacts too
            for index in [0, 1, 4095, 4096, 4097, 4999] {
                let record = try store.retrieve(account("A\(index)"), columns: ["primarycontactid"])
                XCTAssertEqual(record["primarycontactid"], .reference(EntityReference("contact", id: contactIDs["c\(index)@x.test"]!)), "A\(index)")
            }
        }
    }

    func test_withAKeyMapOtherSpellingsMissingTargetsAndForbiddenCharactersBehaveAsWithout() throws {
        try forEachStore { store in
            let contactIDs = try loadContactsAndAccounts(store)
            XCTAssertNotNil(try store.table("contact").keyMap)
            // keys compare ignoring case in the store: the map misses, SQL finds it
            _ = try store.execute(accountPointingAt("B1", "C7@X.TEST"))
            XCTAssertEqual(try store.retrieve(account("B1"), columns: ["primarycontactid"])["primarycontactid"],
                           .reference(EntityReference("contact", id: contactIDs["c7@x.test"]!)))
            let missing = assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.accountPointingAt("B2", "nobody@x.test")) }
            XCTAssertEqual(missing?.entity, "contact")
            // a stored value a key may not hold is still refused as a key
            assertServiceError(.invalidKey) { try store.execute(self.accountPointingAt("B3", "odd/key@x.test")) }
            XCTAssertNil(try store.find(account("B2")))
            XCTAssertNil(try store.find(account("B3")))
        }
    }

    func test_writingTheTargetDropsItsKeyMap() throws {
        try forEachStore { store in
            _ = try loadContactsAndAccounts(store)
            XCTAssertNotNil(try store.table("contact").keyMap)
            _ = try store.execute(.update(contact("c8@x.test"), fields: ["emailaddress1": .string("c8b@x.test")], ifVersion: nil))
            XCTAssertNil(try store.table("contact").keyMap)
            assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.accountPointingAt("D1", "c8@x.test")) }
            _ = try store.execute(accountPointingAt("D2", "c8b@x.test"))
            _ = try store.execute(.delete(contact("c9@x.test"), ifVersion: nil))
            assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.accountPointingAt("D3", "c9@x.test")) }
        }
    }

    func test_afterASchemaChangeLookupsUseTheTargetsNewTableAndItsWrites() throws {
        try forEachStore { store in
            _ = try loadContactsAndAccounts(store)
            let before = try store.table("contact")
            XCTAssertNotNil(before.keyMap)
            try store.applySchemaFile("""
                entities:
                  - name: contact
                    attributes:
                      - { name: new_nickname, type: string, max_length: 50 }
                """)
            XCTAssertFalse(try store.table("contact") === before, "the schema change compiles a new table")
            // lookups after the change read the new table (and build its key map)
            for start in stride(from: 0, to: 5000, by: 1000) {
                let upserts = (start..<start + 1000).map { accountPointingAt("S\($0)", "c\($0)@x.test") }
                _ = try store.execute(.executeMultiple(upserts, continueOnError: false, returnResponses: false))
            }
            XCTAssertNotNil(try store.table("contact").keyMap)
            // a write to the new table is seen by the next lookup
            _ = try store.execute(.delete(contact("c9@x.test"), ifVersion: nil))
            assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.accountPointingAt("S9b", "c9@x.test")) }
            _ = try store.execute(accountPointingAt("S10b", "c10@x.test"))
        }
    }

    func test_aKeyMapReadInsideATransactionThatRollsBackIsDropped() throws {
        try forEachStore { store in
            let contactIDs = try createContacts(store, count: 5000, prefix: "r")
            // a run transaction whose lookups read the map, then rolls back: all of it is undone
            try store.beginRunTransaction()
            for start in stride(from: 0, to: 5000, by: 1000) {
                let upserts = (start..<start + 1000).map { accountPointingAt("T\($0)", "r\($0)@x.test") }
                _ = try store.execute(.executeMultiple(upserts, continueOnError: false, returnResponses: false))
            }
            XCTAssertNotNil(try store.table("contact").keyMap, "the map was read inside the transaction")
            try store.endRunTransaction(commit: false)
            XCTAssertEqual(try store.count("account"), 0)
            // the map belonged to the rolled-back transaction's epoch: it is gone, and lookups still work
            _ = try store.execute(accountPointingAt("U1", "r4999@x.test"))
            XCTAssertNil(try store.table("contact").keyMap)
            XCTAssertEqual(try store.retrieve(account("U1"), columns: ["primarycontactid"])["primarycontactid"],
                           .reference(EntityReference("contact", id: contactIDs["r4999@x.test"]!)))
        }
    }

    func test_aRolledBackBatchDropsTheKeyMapAndItsContactsAreGone() throws {
        try forEachStore { store in
            _ = try loadContactsAndAccounts(store)
            XCTAssertNotNil(try store.table("contact").keyMap)
            // the transaction creates a contact, points an account at it, then fails: all undone
            assertServiceError(.recordNotFoundByEntityKey) {
                try store.execute(.executeTransaction([
                    .create(entity: "contact", id: nil, fields: ["emailaddress1": .string("temp@x.test")]),
                    self.accountPointingAt("E1", "temp@x.test"),
                    self.accountPointingAt("E2", "nobody@x.test"),
                ], returnResponses: false))
            }
            assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.accountPointingAt("E3", "temp@x.test")) }
            _ = try store.execute(accountPointingAt("E4", "c10@x.test"))
            XCTAssertNil(try store.find(account("E1")))
        }
    }
}

/// What group commit asks the store: whether an open transaction outgrew the page cache.
final class RunTransactionSpillTests: XCTestCase {
    func test_aTransactionLargerThanThePageCacheIsReportedOnceAsOutgrowingIt() throws {
        let store = try EntityStore(path: try temporaryStorePath())
        try store.beginRunTransaction()
        XCTAssertFalse(store.runTransactionOutgrewCache())
        _ = try store.execute(.create(entity: "account", id: nil, fields: ["name": .string("small")]))
        XCTAssertFalse(store.runTransactionOutgrewCache(), "one row fits")
        // 32 pages, set after the first create (which gives the connection its whole cache)
        try store.queue.inDatabase { try $0.execute(sql: "PRAGMA cache_size = 32") }
        let creates = (0..<1000).map { index in  // names of 120 characters (the column allows 160)
            ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string(String(repeating: "x", count: 120)), "accountnumber": .string("S\(index)")])
        }
        _ = try store.execute(.executeMultiple(creates, continueOnError: false, returnResponses: false))
        XCTAssertTrue(store.runTransactionOutgrewCache(), "1000 rows of 120 characters do not fit 32 pages")
        XCTAssertFalse(store.runTransactionOutgrewCache(), "the count starts again after each question")
        try store.endRunTransaction(commit: true)
        XCTAssertEqual(try store.count("account"), 1001)
    }
}

/// A large target's key map is read on a connection and thread of its own while lookups go on
/// through SQL; a map that may not hold what the store's connection sees is never used.
final class KeyMapReadApartTests: XCTestCase {
    private func contact(_ email: String) -> EntityReference {
        EntityReference("contact", keys: ["emailaddress1": .string(email)])
    }

    private func pointingAt(_ number: String, _ email: String) -> ServiceRequest {
        .upsert(account(number), fields: ["name": .string(number), "primarycontactid": .reference(contact(email))], mode: .createOrUpdate)
    }

    private func contactOf(_ store: EntityStore, _ number: String) throws -> FieldValue? {
        try store.retrieve(account(number), columns: ["primarycontactid"])["primarycontactid"]
    }

    /// A store file with 3000 committed contacts c0@x.test … c2999@x.test, whose contact maps
    /// are read apart (the threshold lowered from 16,384 rows).
    private func storeWithContacts(at path: String? = nil) throws -> (EntityStore, [String: RecordID]) {
        let store = try EntityStore(path: try path ?? temporaryStorePath())
        store.keyMapReadApartMinimumRows = 1000
        return (store, try createContacts(store, count: 3000, prefix: "c"))
    }

    /// Upserts account P<i> pointing at c<i>@x.test for each index, in batches of 1000.
    private func pointAccounts(_ store: EntityStore, _ prefix: String, _ indexes: [Int]) throws {
        for start in stride(from: 0, to: indexes.count, by: 1000) {
            let upserts = indexes[start..<min(start + 1000, indexes.count)].map { pointingAt("\(prefix)\($0)", "c\($0)@x.test") }
            guard case .batch(false, _) = try store.execute(.executeMultiple(upserts, continueOnError: false, returnResponses: false)) else {
                throw ServiceError(.invalidArgument, "accounts were not written")
            }
        }
    }

    func test_aLargeTargetsKeyMapIsReadApartAndEveryLookupFindsItsOwnRecord() throws {
        let (store, ids) = try storeWithContacts()
        try pointAccounts(store, "A", Array(0..<3000))
        XCTAssertEqual(store.keyMapReads.started, 1, "16 misses on 3000 rows start one read apart")
        XCTAssertEqual(store.keyMapReads.used, 1)
        XCTAssertNotNil(try store.table("contact").keyMap)
        for index in [0, 15, 16, 17, 255, 256, 1500, 2999] {
            XCTAssertEqual(try contactOf(store, "A\(index)"), .reference(EntityReference("contact", id: ids["c\(index)@x.test"]!)), "A\(index)")
        }
        try store.close()
    }

    func test_aTargetWrittenWhileItsMapIsReadIsNotAnsweredFromThatRead() throws {
        let (store, ids) = try storeWithContacts()
        let reading = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        KeyMapRead.testGate.withLock { $0 = { reading.signal(); release.wait() } }
        defer { KeyMapRead.testGate.withLock { $0 = nil } }
        // 20 lookups start the read; it stops after its first row, its snapshot taken
        try pointAccounts(store, "A", Array(20..<40))
        XCTAssertEqual(reading.wait(timeout: .now() + 60), .success, "the read did not start")
        KeyMapRead.testGate.withLock { $0 = nil }
        // meanwhile one contact changes its e-mail and another is deleted (both committed)
        _ = try store.execute(.update(contact("c8@x.test"), fields: ["emailaddress1": .string("c8b@x.test")], ifVersion: nil))
        _ = try store.execute(.delete(contact("c9@x.test"), ifVersion: nil))
        release.signal()
        try pointAccounts(store, "B", Array(20..<3000))
        XCTAssertGreaterThanOrEqual(store.keyMapReads.dropped, 1, "the read from before the writes is dropped")
        XCTAssertEqual(store.keyMapReads.used, 1, "a read begun after the writes is used")
        XCTAssertNotNil(try store.table("contact").keyMap)
        // the old e-mail and the deleted contact are not found; the new e-mail is
        assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.pointingAt("C8", "c8@x.test")) }
        assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.pointingAt("C9", "c9@x.test")) }
        _ = try store.execute(pointingAt("C8b", "c8b@x.test"))
        XCTAssertEqual(try contactOf(store, "C8b"), .reference(EntityReference("contact", id: ids["c8@x.test"]!)))
        try store.close()
    }

    func test_aTargetWithUncommittedWritesIsReadOnTheStoresOwnConnection() throws {
        let (store, ids) = try storeWithContacts()
        try store.beginRunTransaction()
        // written in the open transaction: another connection would still see c8@x.test
        _ = try store.execute(.update(contact("c8@x.test"), fields: ["emailaddress1": .string("c8b@x.test")], ifVersion: nil))
        try pointAccounts(store, "A", Array(0..<8) + Array(9..<3000))
        XCTAssertEqual(store.keyMapReads.started, 0)
        XCTAssertNotNil(try store.table("contact").keyMap, "read on the store's connection once the misses justify it")
        assertServiceError(.recordNotFoundByEntityKey) { try store.execute(self.pointingAt("C8", "c8@x.test")) }
        _ = try store.execute(pointingAt("C8b", "c8b@x.test"))
        XCTAssertEqual(try contactOf(store, "C8b"), .reference(EntityReference("contact", id: ids["c8@x.test"]!)))
        try store.endRunTransaction(commit: true)
        try store.close()
    }

    func test_aStoreInMemoryReadsItsMapsOnItsOwnConnection() throws {
        let store = try EntityStore(path: nil)
        store.keyMapReadApartMinimumRows = 1000
        _ = try createContacts(store, count: 3000, prefix: "c")
        try pointAccounts(store, "A", Array(0..<3000))
        XCTAssertEqual(store.keyMapReads.started, 0, "no other connection can open a store in memory")
        XCTAssertNotNil(try store.table("contact").keyMap)
        XCTAssertEqual(try store.count("account"), 3000)
    }

    func test_closingTheStoreWhileAMapIsReadLetsTheReadGo() throws {
        let path = try temporaryStorePath()
        do {
            let (store, _) = try storeWithContacts(at: path)
            try pointAccounts(store, "A", Array(0..<20))
            XCTAssertEqual(store.keyMapReads.started, 1)
            try store.close()
        }
        let reopened = try EntityStore(path: path)
        XCTAssertEqual(try reopened.integrityCheck(), ["ok"])
        XCTAssertEqual(try reopened.count("account"), 20)
        try reopened.close()
    }
}
