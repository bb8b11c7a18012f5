import DataFiles
import EntityModel
import Foundation
import XCTest

/// Upsert, conditional headers and state/status over HTTP (SPEC §2, §4).
final class UpsertOverHTTPTests: WebAPITestCase {
    func test_UP01_UP02_upsertCreatesThenUpdates() async throws {
        let first = try await server.patch("accounts(accountnumber='U1')", #"{"name":"Upsert one"}"#)
        XCTAssertEqual(first.status, 204)
        XCTAssertTrue(first.header("OData-EntityId")?.hasSuffix("/accounts(accountnumber='U1')") ?? false, "\(first.headers)")
        let read = try await server.get("accounts(accountnumber='U1')")
        XCTAssertEqual(read.json?["name"]?.stringValue, "Upsert one")
        XCTAssertEqual(read.json?["accountnumber"]?.stringValue, "U1")
        let second = try await server.patch("accounts(accountnumber='U1')", #"{"name":"Upsert two"}"#)
        XCTAssertEqual(second.status, 204)
        let again = try await server.get("accounts(accountnumber='U1')")
        XCTAssertEqual(again.json?["accountid"]?.stringValue, read.json?["accountid"]?.stringValue)
        XCTAssertEqual(again.json?["name"]?.stringValue, "Upsert two")
        XCTAssertEqual(try server.store.count("account"), 1)
    }

    func test_UP03_representationIs201ThenOneHundredWithANewEtag() async throws {
        let headers = ["Prefer": "return=representation"]
        let created = try await server.patch("accounts(accountnumber='U3')?$select=accountid", #"{"name":"a"}"#, headers: headers)
        XCTAssertEqual(created.status, 201)
        XCTAssertNotNil(created.header("ETag"))
        let updated = try await server.patch("accounts(accountnumber='U3')?$select=accountid", #"{"name":"b"}"#, headers: headers)
        XCTAssertEqual(updated.status, 200)
        XCTAssertEqual(updated.json?["accountid"]?.stringValue, created.json?["accountid"]?.stringValue)
        XCTAssertNotEqual(updated.json?["@odata.etag"]?.stringValue, created.json?["@odata.etag"]?.stringValue)
    }

    func test_UP04_ifMatchStarPreventsCreate() async throws {
        let result = try await server.patch("accounts(accountnumber='U4')", #"{"name":"x"}"#, headers: ["If-Match": "*"])
        XCTAssertEqual(result.status, 404)
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    func test_UP05_ifNoneMatchStarPreventsUpdate() async throws {
        _ = try await server.create("accounts", #"{"name":"keep","accountnumber":"U5"}"#)
        let result = try await server.patch("accounts(accountnumber='U5')", #"{"name":"overwrite"}"#, headers: ["If-None-Match": "*"])
        XCTAssertEqual(result.status, 412)
        XCTAssertEqual(result.errorMessage, "A record with matching key values already exists.")
        let read = try await server.get("accounts(accountnumber='U5')")
        XCTAssertEqual(read.json?["name"]?.stringValue, "keep")
    }

    func test_UP06_createOnlySucceedsWhenAbsent() async throws {
        let result = try await server.patch("accounts(accountnumber='U6')", #"{"name":"n"}"#, headers: ["If-None-Match": "*"])
        XCTAssertEqual(result.status, 204)
        XCTAssertEqual(try server.store.count("account"), 1)
    }

    func test_UP07_keyInBodyIsIgnoredOnUpdate() async throws {
        _ = try await server.create("accounts", #"{"name":"o","accountnumber":"U7"}"#)
        let result = try await server.patch("accounts(accountnumber='U7')", #"{"accountnumber":"U7-NEW","name":"n"}"#)
        XCTAssertEqual(result.status, 204)
        let old = try await server.get("accounts(accountnumber='U7')")
        XCTAssertEqual(old.json?["name"]?.stringValue, "n")
        let new = try await server.get("accounts(accountnumber='U7-NEW')")
        XCTAssertEqual(new.status, 404)
    }

    func test_UP08_upsertByGuidCreatesWithThatId() async throws {
        let id = "11111111-1111-1111-1111-111111111111"
        let result = try await server.patch("accounts(\(id))", #"{"name":"G"}"#)
        XCTAssertEqual(result.status, 204)
        let read = try await server.get("accounts(\(id))")
        XCTAssertEqual(read.json?["name"]?.stringValue, "G")
    }

    func test_UP10_changeAKeyThroughThePrimaryKey() async throws {
        let a = try await server.create("accounts", #"{"name":"A","accountnumber":"K1"}"#)
        _ = try await server.create("accounts", #"{"name":"B","accountnumber":"K2"}"#)
        let changed = try await server.patch("accounts(\(a))", #"{"accountnumber":"K3"}"#, headers: ["If-Match": "*"])
        XCTAssertEqual(changed.status, 204)
        let duplicate = try await server.patch("accounts(\(a))", #"{"accountnumber":"K2"}"#, headers: ["If-Match": "*"])
        XCTAssertEqual(duplicate.status, 412)
        XCTAssertEqual(duplicate.errorCode, "0x80060892")
        let read = try await server.get("accounts(\(a))?$select=accountnumber")
        XCTAssertEqual(read.json?["accountnumber"]?.stringValue, "K3")
    }

    func test_UP11_staleEtagIs412AndCurrentEtagUpdates() async throws {
        let id = try await server.create("accounts", #"{"name":"A"}"#)
        let first = try await server.get("accounts(\(id))")
        let stale = try XCTUnwrap(first.json?["@odata.etag"]?.stringValue)
        _ = try await server.patch("accounts(\(id))", #"{"name":"other"}"#)
        let rejected = try await server.patch("accounts(\(id))", #"{"name":"mine"}"#, headers: ["If-Match": stale])
        XCTAssertEqual(rejected.status, 412)
        XCTAssertEqual(rejected.errorCode, "0x80060882")
        let current = try await server.get("accounts(\(id))")
        XCTAssertEqual(current.json?["name"]?.stringValue, "other")
        let accepted = try await server.patch("accounts(\(id))", #"{"name":"mine"}"#,
                                              headers: ["If-Match": current.json?["@odata.etag"]?.stringValue ?? ""])
        XCTAssertEqual(accepted.status, 204)
    }

    func test_UP12_conditionalGetIs304WhenUnchanged() async throws {
        let id = try await server.create("accounts", #"{"name":"A"}"#)
        let first = try await server.get("accounts(\(id))?$select=name")
        let etag = try XCTUnwrap(first.json?["@odata.etag"]?.stringValue)
        let raw = try server.sendRaw("GET /api/data/v9.2/accounts(\(id))?$select=name HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(TestServer.token)\r\nIf-None-Match: \(etag)\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(raw.hasPrefix("HTTP/1.1 304"), raw)
        _ = try await server.patch("accounts(\(id))", #"{"name":"B"}"#)
        let changed = try await server.get("accounts(\(id))?$select=name", headers: ["If-None-Match": etag])
        XCTAssertEqual(changed.status, 200)
    }

    func test_UP13_deleteWithStaleEtagIs412() async throws {
        let id = try await server.create("accounts", #"{"name":"A"}"#)
        let stale = try await server.get("accounts(\(id))").json?["@odata.etag"]?.stringValue ?? ""
        _ = try await server.patch("accounts(\(id))", #"{"name":"B"}"#)
        let result = try await server.delete("accounts(\(id))", headers: ["If-Match": stale])
        XCTAssertEqual(result.status, 412)
        XCTAssertEqual(result.errorCode, "0x80060882")
        let stillThere = try await server.get("accounts(\(id))")
        XCTAssertEqual(stillThere.status, 200)
        let deleted = try await server.delete("accounts(\(id))")
        XCTAssertEqual(deleted.status, 204)
        let gone = try await server.get("accounts(\(id))")
        XCTAssertEqual(gone.status, 404)
    }

    func test_SU01_SU03_stateThroughPatch() async throws {
        let id = try await server.create("accounts", #"{"name":"A","statecode":0,"statuscode":100000002}"#)
        let invalid = try await server.patch("accounts(\(id))", #"{"statecode":1,"statuscode":1}"#, headers: ["If-Match": "*"])
        XCTAssertEqual(invalid.status, 400)
        XCTAssertEqual(invalid.errorCode, "0x80048408")
        let result = try await server.patch("accounts(\(id))", #"{"statecode":1}"#, headers: ["If-Match": "*"])
        XCTAssertEqual(result.status, 204)
        let read = try await server.get("accounts(\(id))?$select=statecode,statuscode")
        XCTAssertEqual(read.json?["statecode"]?.numberText, "1")
        XCTAssertEqual(read.json?["statuscode"]?.numberText, "2")
    }

    func test_SU06_SU08_assignByBindAndRequiredNull() async throws {
        let user = try await server.create("systemusers", #"{"domainname":"u2@x.com","fullname":"U2"}"#)
        let id = try await server.create("accounts", #"{"name":"A"}"#)
        let assign = try await server.patch("accounts(\(id))", #"{"ownerid@odata.bind":"/systemusers(\#(user))"}"#)
        XCTAssertEqual(assign.status, 204, assign.text)
        let read = try await server.get("accounts(\(id))?$select=_ownerid_value")
        XCTAssertEqual(read.json?["_ownerid_value"]?.stringValue, user)
        let null = try await server.patch("accounts(\(id))", #"{"name":null}"#)
        XCTAssertEqual(null.status, 400)
        XCTAssertEqual(null.errorCode, "0x80040203")
        XCTAssertEqual(null.errorMessage, "Attribute: name cannot be set to NULL")
    }
}
