import EntityModel
import EntityStore
import XCTest

/// SPEC-dataverse.md §5: ExecuteMultiple, ExecuteTransaction and the bulk messages.
final class BatchConformanceTests: XCTestCase {
    /// Six creates where #3 and #5 (1-based) duplicate an existing account number.
    private func sixCreates(_ store: EntityStore) throws -> [ServiceRequest] {
        try store.createAccount("TAKEN")
        return ["B1", "B2", "TAKEN", "B4", "TAKEN", "B6"].map {
            .create(entity: "account", id: nil, fields: ["name": .string($0), "accountnumber": .string($0)])
        }
    }

    private func run(_ store: EntityStore, continueOnError: Bool, returnResponses: Bool) throws -> (Bool, [BatchItem]) {
        let requests = try sixCreates(store)
        guard case .batch(let faulted, let items) = try store.execute(.executeMultiple(requests, continueOnError: continueOnError, returnResponses: returnResponses)) else {
            throw ServiceError(.invalidArgument, "unexpected response")
        }
        return (faulted, items)
    }

    func test_BT01_continueOnErrorWithResponses() throws {
        try forEachStore { store in
            let (faulted, items) = try run(store, continueOnError: true, returnResponses: true)
            XCTAssertTrue(faulted)
            XCTAssertEqual(items.map(\.requestIndex), [0, 1, 2, 3, 4, 5])
            XCTAssertEqual(items.compactMap { $0.fault?.requestIndex }, [2, 4])
            XCTAssertEqual(items[2].fault?.code.sdkErrorCode, -2147088238)
            XCTAssertEqual(try store.count("account"), 5)
        }
    }

    func test_BT02_stopOnError() throws {
        try forEachStore { store in
            let (_, items) = try run(store, continueOnError: false, returnResponses: true)
            XCTAssertEqual(items.map(\.requestIndex), [0, 1, 2])
            XCTAssertEqual(items.compactMap { $0.fault?.requestIndex }, [2])
            XCTAssertEqual(try store.count("account"), 3)
        }
    }

    func test_BT03_faultsOnly() throws {
        try forEachStore { store in
            let (_, items) = try run(store, continueOnError: true, returnResponses: false)
            XCTAssertEqual(items.map(\.requestIndex), [2, 4])
            XCTAssertEqual(try store.count("account"), 5)
        }
    }

    func test_BT04_minimal() throws {
        try forEachStore { store in
            let (_, items) = try run(store, continueOnError: false, returnResponses: false)
            XCTAssertEqual(items.map(\.requestIndex), [2])
            XCTAssertEqual(try store.count("account"), 3)
        }
    }

    func test_BT05_batchOverOneThousandRequestsRunsNothing() throws {
        try forEachStore { store in
            let requests = (0..<1001).map { ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string("n\($0)")]) }
            let error = assertServiceError(.invalidArgument) { try store.execute(.executeMultiple(requests, continueOnError: true, returnResponses: false)) }
            XCTAssertEqual(error?.details["MaxBatchSize"], "1000")
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    func test_BT06_nestedExecuteMultipleFaultsOnlyThatItem() throws {
        try forEachStore { store in
            let create = { (name: String) in ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string(name)]) }
            let requests = [create("a"), .executeMultiple([create("x")], continueOnError: true, returnResponses: true), create("b")]
            guard case .batch(_, let items) = try store.execute(.executeMultiple(requests, continueOnError: true, returnResponses: true)) else { return XCTFail() }
            XCTAssertNil(items[0].fault)
            XCTAssertNotNil(items[1].fault)
            XCTAssertNil(items[2].fault)
            XCTAssertEqual(try store.count("account"), 2)
        }
    }

    func test_BT07_transactionRollsBackEverythingAndNamesTheIndex() throws {
        try forEachStore { store in
            try store.createAccount("TAKEN")
            let requests = ["T1", "T2", "TAKEN", "T4", "T5"].map {
                ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string($0), "accountnumber": .string($0)])
            }
            let error = assertServiceError(.duplicateRecordEntityKey) { try store.execute(.executeTransaction(requests, returnResponses: true)) }
            XCTAssertEqual(error?.requestIndex, 2)
            XCTAssertEqual(error?.code.sdkErrorCode, -2147088238)
            XCTAssertEqual(try store.count("account"), 1)
        }
    }

    func test_BT08_nestedBatchInATransactionRunsNothing() throws {
        try forEachStore { store in
            let create = ServiceRequest.create(entity: "account", id: nil, fields: ["name": .string("a")])
            assertServiceError(.invalidArgument) {
                try store.execute(.executeTransaction([create, .executeMultiple([create], continueOnError: true, returnResponses: true)], returnResponses: true))
            }
            XCTAssertEqual(try store.count("account"), 0)
        }
    }

    func test_BT16_createMultipleReturnsIdsInOrder() throws {
        try forEachStore { store in
            let targets = ["one", "two", "three"].map { Record(entity: "account", fields: ["name": .string($0)]) }
            guard case .createdMany(let ids) = try store.execute(.createMultiple(entity: "account", targets: targets)) else { return XCTFail() }
            XCTAssertEqual(ids.count, 3)
            let names = try ids.map { try store.retrieve(EntityReference("account", id: $0), columns: ["name"])["name"] }
            XCTAssertEqual(names, [.string("one"), .string("two"), .string("three")])
        }
    }

    func test_BT17_bulkCreateIsAllOrNothing() throws {
        try forEachStore { store in
            try store.createAccount("TAKEN")
            let targets = ["X1", "TAKEN", "X3"].map { Record(entity: "account", fields: ["name": .string($0), "accountnumber": .string($0)]) }
            let error = assertServiceError(.duplicateRecordEntityKey) { try store.execute(.createMultiple(entity: "account", targets: targets)) }
            XCTAssertEqual(error?.requestIndex, 1)
            XCTAssertEqual(try store.count("account"), 1)
        }
    }

    func test_BT18_updateMultipleAppliesTheFirstTargetPerRecord() throws {
        try forEachStore { store in
            let a = try store.createAccount("A")
            let reference = EntityReference("account", id: a)
            _ = try store.execute(.updateMultiple(entity: "account", targets: [(reference, ["name": .string("first")]), (reference, ["name": .string("second")])]))
            XCTAssertEqual(try store.retrieve(reference, columns: ["name"])["name"], .string("first"))
        }
    }

    func test_BT19_upsertMultipleCreatesAndUpdatesAndRefusesDuplicates() throws {
        try forEachStore { store in
            try store.createAccount("M1", name: "old")
            _ = try store.execute(.upsertMultiple(entity: "account", targets: [(account("M1"), ["name": .string("m1")]), (account("M2"), ["name": .string("m2")])]))
            XCTAssertEqual(try store.retrieve(account("M1"), columns: ["name"])["name"], .string("m1"))
            XCTAssertEqual(try store.retrieve(account("M2"), columns: ["name"])["name"], .string("m2"))
            assertServiceError(.invalidArgument) {
                try store.execute(.upsertMultiple(entity: "account", targets: [(account("M3"), ["name": .string("a")]), (account("M3"), ["name": .string("b")])]))
            }
            XCTAssertNil(try store.find(account("M3")))
        }
    }
}
