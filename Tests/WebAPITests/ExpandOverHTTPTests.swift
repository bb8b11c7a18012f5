import DataFiles
import XCTest

/// `$expand` of single-valued navigation properties (lookups) on records and collections.
final class ExpandOverHTTPTests: WebAPITestCase {
    private func accountWithContact() async throws -> (account: String, contact: String) {
        let contact = try await server.create("contacts", #"{"lastname":"Smith","fullname":"Ann Smith","emailaddress1":"ann@x.com"}"#)
        let account = try await server.create("accounts", #"{"name":"A","primarycontactid@odata.bind":"/contacts(emailaddress1='ann@x.com')"}"#)
        return (account, contact)
    }

    func test_expandInlinesTheRelatedRecordNextToTheLookupValue() async throws {
        let (account, contact) = try await accountWithContact()
        let result = try await server.get("accounts(\(account))?$select=name,_primarycontactid_value&$expand=primarycontactid($select=emailaddress1,fullname)")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.json?["_primarycontactid_value"]?.stringValue, contact)
        let related = try XCTUnwrap(result.json?["primarycontactid"])
        XCTAssertEqual(related["emailaddress1"]?.stringValue, "ann@x.com")
        XCTAssertEqual(related["fullname"]?.stringValue, "Ann Smith")
        XCTAssertEqual(related["contactid"]?.stringValue, contact)
        XCTAssertNil(related["lastname"])
        XCTAssertTrue(result.json?["@odata.context"]?.stringValue?.hasSuffix("#accounts(name,_primarycontactid_value,primarycontactid(emailaddress1,fullname))/$entity") == true,
                      result.text)
        guard case .object(let members)? = result.json else { return XCTFail(result.text) }
        let names = members.map(\.0)
        XCTAssertEqual(names.firstIndex(of: "primarycontactid"), names.firstIndex(of: "_primarycontactid_value").map { $0 + 1 }, result.text)
    }

    func test_expandWithoutSelectShowsThePrimaryKeyAndPrimaryName() async throws {
        let (account, contact) = try await accountWithContact()
        let result = try await server.get("accounts(\(account))?$select=name&$expand=primarycontactid")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.json?["_primarycontactid_value"]?.stringValue, contact, "the lookup comes with its expansion")
        XCTAssertEqual(result.json?["primarycontactid"]?["contactid"]?.stringValue, contact)
        XCTAssertEqual(result.json?["primarycontactid"]?["fullname"]?.stringValue, "Ann Smith")
        XCTAssertNil(result.json?["primarycontactid"]?["emailaddress1"])
    }

    func test_expandOnACollectionGivesNullForAnEmptyLookup() async throws {
        _ = try await accountWithContact()
        _ = try await server.create("accounts", #"{"name":"B"}"#)
        let result = try await server.get("accounts?$select=name&$orderby=name&$expand=primarycontactid($select=emailaddress1)")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.rows.count, 2)
        XCTAssertEqual(result.rows[0]["primarycontactid"]?["emailaddress1"]?.stringValue, "ann@x.com")
        XCTAssertEqual(result.rows[1]["primarycontactid"], .null)
        XCTAssertTrue(result.json?["@odata.context"]?.stringValue?.hasSuffix("#accounts(name,primarycontactid(emailaddress1))") == true, result.text)
    }

    func test_expandSurvivesPaging() async throws {
        _ = try await accountWithContact()
        _ = try await server.create("accounts", #"{"name":"B","primarycontactid@odata.bind":"/contacts(emailaddress1='ann@x.com')"}"#)
        let first = try await server.get("accounts?$select=name&$expand=primarycontactid($select=emailaddress1)", headers: ["Prefer": "odata.maxpagesize=1"])
        let next = try XCTUnwrap(first.json?["@odata.nextLink"]?.stringValue, first.text)
        let second = try await server.get(next, headers: ["Prefer": "odata.maxpagesize=1"])
        XCTAssertEqual(second.rows.first?["primarycontactid"]?["emailaddress1"]?.stringValue, "ann@x.com", second.text)
    }

    func test_UP12_conditionalGetWithExpandIsNever304() async throws {
        let (account, _) = try await accountWithContact()
        let first = try await server.get("accounts(\(account))?$select=name")
        let etag = try XCTUnwrap(first.json?["@odata.etag"]?.stringValue)
        let request = "GET /api/data/v9.2/accounts(\(account))?$select=name&$expand=primarycontactid($select=fullname) HTTP/1.1\r\nHost: x\r\n"
            + "Authorization: Bearer \(TestServer.token)\r\nIf-None-Match: \(etag)\r\nConnection: close\r\n\r\n"
        let raw = try server.sendRaw(request)
        XCTAssertTrue(raw.hasPrefix("HTTP/1.1 200"), raw)
        XCTAssertTrue(raw.contains("\"fullname\":\"Ann Smith\""), raw)
    }

    func test_createWithRepresentationExpands() async throws {
        _ = try await accountWithContact()
        let result = try await server.post("accounts?$select=name&$expand=primarycontactid($select=emailaddress1)",
                                           #"{"name":"C","primarycontactid@odata.bind":"/contacts(emailaddress1='ann@x.com')"}"#,
                                           headers: ["Prefer": "return=representation"])
        XCTAssertEqual(result.status, 201, result.text)
        XCTAssertEqual(result.json?["primarycontactid"]?["emailaddress1"]?.stringValue, "ann@x.com")
    }

    func test_expandOfAnUnknownPropertyIs400AndOfAPlainColumnIsRejected() async throws {
        let (account, _) = try await accountWithContact()
        let unknown = try await server.get("accounts(\(account))?$expand=nope")
        XCTAssertEqual(unknown.status, 400)
        XCTAssertEqual(unknown.errorCode, "0x0")
        let plain = try await server.get("accounts?$expand=name")
        XCTAssertEqual(plain.status, 400)
        let nestedFilter = try await server.get("accounts?$expand=primarycontactid($filter=lastname eq 'x')")
        XCTAssertEqual(nestedFilter.status, 400)
        XCTAssertEqual(nestedFilter.errorCode, "0x80060888")
        let unknownColumn = try await server.get("accounts(\(account))?$expand=primarycontactid($select=Nope)")
        XCTAssertEqual(unknownColumn.status, 400)
        XCTAssertEqual(unknownColumn.errorCode, "0x0")
        // the same navigation property twice is the client's mistake (it was 501, not implemented)
        let twice = try await server.get("accounts(\(account))?$expand=primarycontactid,PrimaryContactId($select=fullname)")
        XCTAssertEqual(twice.status, 400)
        XCTAssertEqual(twice.errorCode, "0x80060888")
    }

    func test_aLookupWithSeveralTargetsExpandsPerTarget() async throws {
        let account = try await server.create("accounts", #"{"name":"Acme"}"#)
        let first = try await server.create("contacts", #"{"lastname":"One","parentcustomerid_account@odata.bind":"/accounts(\#(account))"}"#)
        _ = try await server.create("contacts", #"{"lastname":"Two","parentcustomerid_contact@odata.bind":"/contacts(\#(first))"}"#)
        let result = try await server.get("contacts?$select=lastname&$orderby=lastname&$expand=parentcustomerid_account($select=name),parentcustomerid_contact($select=lastname)")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.rows.count, 2, result.text)
        XCTAssertEqual(result.rows.first?["parentcustomerid_account"]?["name"]?.stringValue, "Acme", result.text)
        XCTAssertEqual(result.rows.first?["parentcustomerid_contact"], .null)
        XCTAssertEqual(result.rows.last?["parentcustomerid_account"], .null)
        XCTAssertEqual(result.rows.last?["parentcustomerid_contact"]?["lastname"]?.stringValue, "One", result.text)
        let one = try await server.get("contacts(\(first))?$select=lastname&$expand=parentcustomerid_account")
        XCTAssertEqual(one.json?["parentcustomerid_account"]?["name"]?.stringValue, "Acme", one.text)
        XCTAssertEqual(one.json?["parentcustomerid_account"]?["accountid"]?.stringValue, account)
    }
}
