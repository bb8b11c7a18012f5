import EntityModel
import EntityStore
import Foundation
import SyncHost
import WebAPI
import XCTest

/// Runs blocking work on its own thread, so a synchronous client never holds a thread of the
/// concurrency pool that the in-process server needs.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// The `DataService` client against a real server: the same requests, the same answers.
final class WebAPIClientTests: WebAPITestCase {
    private var client: WebAPIClient { WebAPIClient(root: server.root, token: TestServer.token) }

    func test_clientWritesAndReadsByIdAndByKey() async throws {
        let client = self.client
        let record = try await onThread { () -> Record in
            guard case .created(let id) = try client.execute(.create(entity: "account", id: nil, fields: [
                "name": .string("Contoso"), "accountnumber": .string("C1"), "revenue": .decimal(DecimalNumber("12.50")!),
            ])) else { throw CocoaError(.featureUnsupported) }
            guard case .upserted(_, let created, _) = try client.execute(.upsert(EntityReference("account", keys: ["accountnumber": .string("C1")]),
                                                                                  fields: ["telephone1": .string("555")], mode: .createOrUpdate)),
                  !created else { throw CocoaError(.featureUnsupported) }
            guard case .record(let record) = try client.execute(.retrieve(EntityReference("account", id: id), columns: nil)) else {
                throw CocoaError(.featureUnsupported)
            }
            return record
        }
        XCTAssertEqual(record["name"], .string("Contoso"))
        XCTAssertEqual(record["telephone1"], .string("555"))
        XCTAssertEqual(record["revenue"], .decimal(DecimalNumber("12.50")!))
        XCTAssertNotNil(record["versionnumber"])
    }

    func test_clientSurfacesTheServersErrorCodes() async throws {
        let client = self.client
        let error = try await onThread { () -> ServiceError? in
            do {
                _ = try client.execute(.retrieve(EntityReference("account", keys: ["accountnumber": .string("NOPE")]), columns: nil))
                return nil
            } catch let error as ServiceError { return error }
        }
        XCTAssertEqual(error?.code, .recordNotFoundByEntityKey)
    }

    func test_clientLookupsByKeyQueriesAndPaging() async throws {
        let client = self.client
        let (page1, page2, account) = try await onThread { () -> (QueryPage, QueryPage, Record) in
            _ = try client.execute(.create(entity: "contact", id: nil, fields: ["lastname": .string("C"), "emailaddress1": .string("c@x.test")]))
            for index in 1...3 {
                _ = try client.execute(.create(entity: "account", id: nil, fields: [
                    "name": .string("A\(index)"), "accountnumber": .string("N\(index)"),
                    "primarycontactid": .reference(EntityReference("contact", keys: ["emailaddress1": .string("c@x.test")])),
                ]))
            }
            let query = Query(entity: "account", columns: ["name", "primarycontactid"], filter: try FilterParser.parse("name ne 'zzz'"),
                              orderBy: [OrderBy("name", descending: true)], pageSize: 2)
            guard case .records(let first) = try client.execute(.retrieveMultiple(query)) else { throw CocoaError(.featureUnsupported) }
            var next = query
            next.pagingCookie = first.pagingCookie
            guard case .records(let second) = try client.execute(.retrieveMultiple(next)) else { throw CocoaError(.featureUnsupported) }
            guard case .record(let account) = try client.execute(.retrieve(EntityReference("account", keys: ["accountnumber": .string("N1")]),
                                                                            columns: ["primarycontactid"])) else { throw CocoaError(.featureUnsupported) }
            return (first, second, account)
        }
        XCTAssertEqual(page1.records.compactMap { $0["name"] }, [.string("A3"), .string("A2")])
        XCTAssertTrue(page1.moreRecords)
        XCTAssertEqual(page2.records.compactMap { $0["name"] }, [.string("A1")])
        XCTAssertFalse(page2.moreRecords)
        guard case .reference(let contact)? = account["primarycontactid"] else { return XCTFail("no lookup") }
        XCTAssertEqual(contact.entity, "contact")
    }

    func test_clientBatchesTransactionsAndChanges() async throws {
        let client = self.client
        let (batch, transactionError, changes, count) = try await onThread { () -> (ServiceResponse, ServiceError?, EntityChanges, Int) in
            let start = try client.execute(.retrieveChanges(ChangesRequest(entity: "account", tokenOnly: true)))
            guard case .changes(let tokenPage) = start else { throw CocoaError(.featureUnsupported) }
            let creates: [ServiceRequest] = ["B1", "B1", "B2"].map {
                .create(entity: "account", id: nil, fields: ["name": .string($0), "accountnumber": .string($0)])
            }
            let batch = try client.execute(.executeMultiple(creates, continueOnError: true, returnResponses: true))
            var transactionError: ServiceError?
            do {
                _ = try client.execute(.executeTransaction([
                    .create(entity: "account", id: nil, fields: ["name": .string("T1"), "accountnumber": .string("T1")]),
                    .create(entity: "account", id: nil, fields: ["name": .string("T2"), "accountnumber": .string("B2")]),
                ], returnResponses: true))
            } catch let error as ServiceError { transactionError = error }
            guard case .changes(let changes) = try client.execute(.retrieveChanges(ChangesRequest(entity: "account", columns: ["name"], token: tokenPage.dataToken))) else {
                throw CocoaError(.featureUnsupported)
            }
            guard case .records(let all) = try client.execute(.retrieveMultiple(Query(entity: "account", includeCount: true))) else {
                throw CocoaError(.featureUnsupported)
            }
            return (batch, transactionError, changes, all.totalCount ?? -1)
        }
        guard case .batch(let faulted, let items) = batch else { return XCTFail("not a batch response") }
        XCTAssertTrue(faulted)
        XCTAssertEqual(items.map(\.requestIndex), [0, 1, 2])
        XCTAssertEqual(items[1].fault?.code, .duplicateRecordEntityKey)
        XCTAssertEqual(transactionError?.code, .duplicateRecordEntityKey)
        XCTAssertEqual(transactionError?.requestIndex, 1)
        XCTAssertEqual(count, 2)
        XCTAssertEqual(changes.changes.count, 2)
        XCTAssertNotNil(changes.dataToken)
    }

    func test_clientReadsEntityDefinitions() async throws {
        let client = self.client
        let definitions = try await onThread { try client.entityDefinitions() }
        let widget = try XCTUnwrap(definitions.first { $0.name == "new_widget" })
        XCTAssertEqual(widget.setName, "new_widgets")
        XCTAssertEqual(Set(widget.keys.map(\.name)), ["ak_region_code", "ak_account_code"])
        XCTAssertEqual(widget.attribute("new_accountid")?.targets, ["account"])
        XCTAssertEqual(definitions.first { $0.name == "new_log" }?.changeTracking, false)
    }

    func test_aLuaScriptRunsUnchangedAgainstTheServer() async throws {
        let client = self.client
        let tokens = try EntityStore(path: nil)
        let script = """
            cds.upsert("contact", { emailaddress1 = "pat@x.test" }, { lastname = "Pat" })
            for i = 1, 3 do
              cds.upsert("account", { accountnumber = "S" .. i }, {
                name = "Scripted " .. i,
                revenue = cds.decimal("10.25"),
                primarycontactid = cds.ref("contact", { emailaddress1 = "pat@x.test" }),
              })
            end
            cds.transaction(function()
              cds.update("account", { accountnumber = "S1" }, { statecode = 1 })
            end)
            local row = cds.get("account", { accountnumber = "S1" })
            assert(row.name == "Scripted 1", "name")
            assert(row.statecode == 1 and row.statuscode == 2, "state")
            local n = 0
            for change in cds.changes("account", { columns = { "name" }, token = "to-warehouse" }) do n = n + 1 end
            assert(n == 3, "changes " .. n)
            """
        let report = try await onThread { try ScriptHost(service: client, tokens: tokens, options: RunOptions()).run(source: script, chunkName: "job.lua") }
        XCTAssertEqual(report.outcome, .succeeded, report.error ?? "")
        XCTAssertEqual(try server.store.count("account"), 3)
        XCTAssertNotNil(try tokens.token(named: "to-warehouse"))
    }

    func test_clientExpandsLookupsOfQueriesAndOfChangePages() async throws {
        _ = try await server.create("contacts", #"{"lastname":"Smith","emailaddress1":"ann@x.com"}"#)
        _ = try await server.create("accounts", #"{"name":"A","primarycontactid@odata.bind":"/contacts(emailaddress1='ann@x.com')"}"#)
        _ = try await server.create("accounts", #"{"name":"B"}"#)
        let client = self.client
        let expand = ["primarycontactid": ["emailaddress1"]]
        let (queried, changed) = try await onThread { () -> ([Record], [Record]) in
            guard case .records(let page) = try client.execute(.retrieveMultiple(Query(entity: "account", columns: ["name"], orderBy: [OrderBy("name")],
                                                                                       expand: expand))),
                  case .changes(let changes) = try client.execute(.retrieveChanges(ChangesRequest(entity: "account", columns: ["name"], expand: expand)))
            else { throw CocoaError(.featureUnsupported) }
            return (page.records, changes.changes.compactMap { if case .newOrUpdated(let record) = $0 { return record } else { return nil } })
        }
        for records in [queried, changed] {
            XCTAssertEqual(records.count, 2)
            let withContact = records.first { $0["name"] == .string("A") }
            XCTAssertEqual(withContact?.related["primarycontactid"]?["emailaddress1"], .string("ann@x.com"))
            XCTAssertNil(records.first { $0["name"] == .string("B") }?.related["primarycontactid"])
        }
    }
}
