import DataFiles
import EntityModel
import Foundation
import XCTest

/// `$batch` and the bulk actions over HTTP (SPEC §5).
final class BatchOverHTTPTests: WebAPITestCase {
    private func part(_ method: String, _ url: String, _ body: String? = nil, contentID: String? = nil) -> String {
        var text = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
        if let contentID { text += "Content-ID: \(contentID)\r\n" }
        text += "\r\n\(method) \(url) HTTP/1.1\r\n"
        if let body { text += "Content-Type: application/json; type=entry\r\n\r\n\(body)\r\n" } else { text += "\r\n" }
        return text
    }

    private func batch(_ entries: [String], headers: [String: String] = [:], lineEnding: String = "\r\n") async throws -> HTTPResult {
        var body = entries.map { "--batch_AAA\r\n" + $0 }.joined() + "--batch_AAA--\r\n"
        if lineEnding == "\n" { body = body.replacingOccurrences(of: "\r\n", with: "\n") }
        return try await server.send("POST", "$batch", body: body,
                                     headers: headers.merging(["Content-Type": "multipart/mixed; boundary=batch_AAA"]) { first, _ in first })
    }

    private func changeSet(_ parts: [String]) -> String {
        "Content-Type: multipart/mixed; boundary=changeset_BBB\r\n\r\n" + parts.map { "--changeset_BBB\r\n" + $0 }.joined() + "--changeset_BBB--\r\n"
    }

    private let longName = String(repeating: "x", count: 161)

    func test_BT09_plainBatchAnswersOnePartPerRequest() async throws {
        let result = try await batch((1...3).map { part("POST", "/api/data/v9.2/accounts", #"{"name":"T\#($0)"}"#) })
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertTrue(result.header("Content-Type")?.contains("boundary=batchresponse_") ?? false)
        XCTAssertEqual(result.text.components(separatedBy: "HTTP/1.1 204 No Content").count - 1, 3)
        XCTAssertEqual(result.text.components(separatedBy: "OData-EntityId: ").count - 1, 3)
        XCTAssertEqual(try server.store.count("account"), 3)
    }

    func test_BT10_batchStopsAtTheFirstError() async throws {
        let result = try await batch([part("POST", "/api/data/v9.2/accounts", #"{"name":"\#(longName)"}"#),
                                      part("POST", "/api/data/v9.2/accounts", #"{"name":"ok1"}"#),
                                      part("POST", "accounts", #"{"name":"ok2"}"#)])
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.text.components(separatedBy: "HTTP/1.1 ").count - 1, 1)
        XCTAssertTrue(result.text.contains("HTTP/1.1 400 Bad Request") && result.text.contains("0x80044331"), result.text)
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    func test_BT11_continueOnErrorRunsEveryPart() async throws {
        let result = try await batch([part("POST", "/api/data/v9.2/accounts", #"{"name":"\#(longName)"}"#),
                                      part("POST", "/api/data/v9.2/accounts", #"{"name":"ok1"}"#),
                                      part("POST", "\(server.root.absoluteString)accounts", #"{"name":"ok2"}"#)],
                                     headers: ["Prefer": "odata.continue-on-error"])
        XCTAssertEqual(result.status, 200)
        XCTAssertEqual(result.text.components(separatedBy: "HTTP/1.1 204").count - 1, 2)
        XCTAssertEqual(try server.store.count("account"), 2)
    }

    func test_BT12_contentIDReferencesInsideAChangeSet() async throws {
        let result = try await batch([changeSet([
            part("POST", "/api/data/v9.2/contacts", #"{"lastname":"C"}"#, contentID: "1"),
            part("POST", "/api/data/v9.2/accounts", #"{"name":"X","primarycontactid@odata.bind":"$1"}"#, contentID: "2"),
            part("PATCH", "$2", #"{"telephone1":"555"}"#, contentID: "3"),
        ])])
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertTrue(result.text.contains("boundary=changesetresponse_"))
        for id in 1...3 { XCTAssertTrue(result.text.contains("Content-ID: \(id)"), result.text) }
        let accounts = try server.store.runQuery(Query(entity: "account"))
        let account = try XCTUnwrap(accounts.records.first)
        let contact = try XCTUnwrap(try server.store.runQuery(Query(entity: "contact")).records.first)
        XCTAssertEqual(account["primarycontactid"], .reference(EntityReference("contact", id: contact.id!)))
        XCTAssertEqual(account["telephone1"], .string("555"))
    }

    func test_BT13_failedChangeSetRollsBackAndIsOnePart() async throws {
        _ = try await server.create("accounts", #"{"name":"A","accountnumber":"USED"}"#)
        let result = try await batch([changeSet([
            part("POST", "/api/data/v9.2/accounts", #"{"name":"CS1"}"#, contentID: "1"),
            part("POST", "/api/data/v9.2/accounts", #"{"name":"CS2"}"#, contentID: "2"),
            part("POST", "/api/data/v9.2/accounts", #"{"name":"CS3","accountnumber":"USED"}"#, contentID: "3"),
        ])])
        XCTAssertEqual(result.status, 412, result.text)
        XCTAssertTrue(result.text.contains("0x80060892"))
        XCTAssertFalse(result.text.contains("changesetresponse_"))
        XCTAssertEqual(try server.store.count("account"), 1)
    }

    func test_BT14_forwardContentIDReferenceIs400() async throws {
        let result = try await batch([changeSet([
            part("POST", "/api/data/v9.2/accounts", #"{"name":"X","primarycontactid@odata.bind":"$1"}"#, contentID: "2"),
            part("POST", "/api/data/v9.2/contacts", #"{"lastname":"C"}"#, contentID: "1"),
        ])])
        XCTAssertEqual(result.status, 400)
        XCTAssertTrue(result.text.contains("Content-ID Reference: '$1' does not exist in the batch context."), result.text)
        XCTAssertEqual(try server.store.count("contact"), 0)
    }

    /// Two requests of a change set with the same Content-ID: `$n` could name either, so the
    /// change set is refused and nothing of it is written.
    func test_aContentIDUsedTwiceInAChangeSetIsRejected() async throws {
        let result = try await batch([changeSet([
            part("POST", "/api/data/v9.2/contacts", #"{"lastname":"C1"}"#, contentID: "1"),
            part("POST", "/api/data/v9.2/contacts", #"{"lastname":"C2"}"#, contentID: "1"),
            part("POST", "/api/data/v9.2/accounts", #"{"name":"X","primarycontactid@odata.bind":"$1"}"#, contentID: "2"),
        ])])
        XCTAssertEqual(result.status, 400, result.text)
        XCTAssertTrue(result.text.contains("used by more than one request"), result.text)
        XCTAssertEqual(try server.store.count("contact"), 0)
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    func test_BT15_getInAChangeSetIsRejected() async throws {
        let result = try await batch([changeSet([
            part("POST", "/api/data/v9.2/accounts", #"{"name":"X"}"#, contentID: "1"),
            part("GET", "/api/data/v9.2/accounts", contentID: "2"),
        ])])
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    /// A batch with far more parts than the limit is refused before its parts are parsed
    /// (the message then says "more than"), and nothing of it is written.
    func test_aBatchFarOverTheLimitIsRefusedBeforeItsPartsAreParsed() async throws {
        let result = try await batch((1...4000).map { _ in part("POST", "/api/data/v9.2/accounts", #"{"name":"x"}"#) })
        XCTAssertEqual(result.status, 400)
        XCTAssertTrue(result.text.contains("more than 1000 requests"), result.text)
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    func test_BT20_batchOverAThousandRequestsIsRejected() async throws {
        let result = try await batch((1...1001).map { _ in part("POST", "/api/data/v9.2/accounts", #"{"name":"x"}"#) })
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    func test_batchAcceptsLFLineEndingsAndGets() async throws {
        _ = try await server.create("accounts", #"{"name":"A","accountnumber":"L1"}"#)
        let result = try await batch([part("GET", "/api/data/v9.2/accounts(accountnumber='L1')?$select=name")], lineEnding: "\n")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertTrue(result.text.contains("HTTP/1.1 200 OK") && result.text.contains("\"name\":\"A\""), result.text)
    }

    func test_malformedBatchIs400AndTheServerKeepsServing() async throws {
        let noClose = try await server.send("POST", "$batch", body: "--batch_AAA\r\nContent-Type: application/http\r\n\r\nGET accounts HTTP/1.1\r\n",
                                            headers: ["Content-Type": "multipart/mixed; boundary=batch_AAA"])
        XCTAssertEqual(noClose.status, 400)
        let noBoundary = try await server.send("POST", "$batch", body: "x", headers: ["Content-Type": "multipart/mixed"])
        XCTAssertEqual(noBoundary.status, 400)
        let after = try await server.get("accounts")
        XCTAssertEqual(after.status, 200)
    }

    func test_BT16_createMultipleReturnsIdsInOrderAndNeedsTheType() async throws {
        let body = #"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"a"},{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"b"},{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"c"}]}"#
        let result = try await server.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", body)
        XCTAssertEqual(result.status, 200, result.text)
        let ids = (result.json?["Ids"]?.arrayValue ?? []).compactMap(\.stringValue)
        XCTAssertEqual(ids.count, 3)
        var names: [String] = []
        for id in ids { names.append(try await server.get("accounts(\(id))").json?["name"]?.stringValue ?? "") }
        XCTAssertEqual(names, ["a", "b", "c"])
        let untyped = try await server.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", #"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"d"},{"name":"e"}]}"#)
        XCTAssertEqual(untyped.status, 400)
        XCTAssertEqual(try server.store.count("account"), 3)
    }

    func test_BT17_bulkIsAllOrNothing() async throws {
        _ = try await server.create("accounts", #"{"name":"A","accountnumber":"DUP"}"#)
        let body = #"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"a"},{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"b","accountnumber":"DUP"},{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"c"}]}"#
        let result = try await server.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", body)
        XCTAssertEqual(result.errorCode, "0x80060892")
        XCTAssertEqual(try server.store.count("account"), 1)
    }

    func test_BT18_updateMultipleFirstTargetWins() async throws {
        let id = try await server.create("accounts", #"{"name":"A"}"#)
        let body = #"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"\#(id)","name":"first"},{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"\#(id)","name":"second"}]}"#
        let result = try await server.post("accounts/Microsoft.Dynamics.CRM.UpdateMultiple", body)
        XCTAssertEqual(result.status, 204, result.text)
        let name = try await server.get("accounts(\(id))").json?["name"]?.stringValue
        XCTAssertEqual(name, "first")
    }

    func test_BT19_upsertMultipleByODataID() async throws {
        _ = try await server.create("accounts", #"{"name":"old","accountnumber":"M1"}"#)
        let body = #"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","@odata.id":"accounts(accountnumber='M1')","name":"m1"},{"@odata.type":"Microsoft.Dynamics.CRM.account","@odata.id":"accounts(accountnumber='M2')","name":"m2"}]}"#
        let result = try await server.post("accounts/Microsoft.Dynamics.CRM.UpsertMultiple", body)
        XCTAssertEqual(result.status, 204, result.text)
        XCTAssertTrue(result.body.isEmpty)
        let m1 = try await server.get("accounts(accountnumber='M1')").json?["name"]?.stringValue
        XCTAssertEqual(m1, "m1")
        let m2 = try await server.get("accounts(accountnumber='M2')").status
        XCTAssertEqual(m2, 200)
        let duplicates = #"{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","@odata.id":"accounts(accountnumber='M3')","name":"a"},{"@odata.type":"Microsoft.Dynamics.CRM.account","@odata.id":"accounts(accountnumber='M3')","name":"b"}]}"#
        let failed = try await server.post("accounts/Microsoft.Dynamics.CRM.UpsertMultiple", duplicates)
        XCTAssertGreaterThanOrEqual(failed.status, 400)
        let m3 = try await server.get("accounts(accountnumber='M3')").status
        XCTAssertEqual(m3, 404)
    }
}
