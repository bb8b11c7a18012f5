import DataFiles
import EntityModel
import Foundation
import XCTest

/// Single-record CRUD over HTTP (SPEC §1, §2, §4, §6).
final class RecordOverHTTPTests: WebAPITestCase {
    func test_WA04_createAnswers204WithEntityIdThatReadsBack() async throws {
        let result = try await server.post("accounts", #"{"name":"C"}"#)
        XCTAssertEqual(result.status, 204)
        let location = try XCTUnwrap(result.header("OData-EntityId"))
        XCTAssertTrue(location.hasPrefix(server.root.absoluteString + "accounts("), location)
        let read = try await server.get(location)
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.json?["name"]?.stringValue, "C")
        XCTAssertNotNil(read.json?["@odata.etag"]?.stringValue)
    }

    func test_WA05_createWithRepresentationAnswers201WithTheSelectedColumns() async throws {
        let result = try await server.post("accounts?$select=name", #"{"name":"C"}"#, headers: ["Prefer": "return=representation"])
        XCTAssertEqual(result.status, 201)
        XCTAssertNil(result.header("OData-EntityId"))
        XCTAssertEqual(result.header("Preference-Applied"), "return=representation")
        XCTAssertTrue(result.json?["@odata.context"]?.stringValue?.hasSuffix("#accounts(name)/$entity") ?? false)
        XCTAssertEqual(result.json?["name"]?.stringValue, "C")
        XCTAssertNotNil(result.json?["accountid"]?.stringValue)
        XCTAssertNotNil(result.json?["@odata.etag"]?.stringValue)
        XCTAssertNil(result.json?["accountnumber"])
    }

    /// JSON numbers in exponent notation are exact decimals where they fit (they were floats,
    /// which money columns refuse): `1E2` money is 100.00, `12.5e-1` is 1.25, `1e3` a whole number.
    func test_exponentNotationIsAnExactNumber() async throws {
        let id = try await server.create("accounts", #"{"name":"E","revenue":1E2,"numberofemployees":1e3}"#)
        var read = try await server.get("accounts(\(id))?$select=revenue,numberofemployees")
        XCTAssertEqual(read.json?["revenue"]?.numberText, "100.00")
        XCTAssertEqual(read.json?["numberofemployees"]?.numberText, "1000")
        let patched = try await server.patch("accounts(\(id))", #"{"revenue":12.5e-1}"#)
        XCTAssertEqual(patched.status, 204)
        read = try await server.get("accounts(\(id))?$select=revenue")
        XCTAssertEqual(read.json?["revenue"]?.numberText, "1.25")
        // beyond what a decimal holds it stays a float, which money refuses
        let tiny = try await server.patch("accounts(\(id))", #"{"revenue":1e-400}"#)
        XCTAssertEqual(tiny.status, 400)
    }

    func test_WA06_bindByKeyAndByGuidSetTheLookup() async throws {
        let contact = try await server.create("contacts", #"{"lastname":"One","emailaddress1":"c1@x.com"}"#)
        let byKey = try await server.create("accounts", #"{"name":"B","primarycontactid@odata.bind":"/contacts(emailaddress1='c1@x.com')"}"#)
        let byID = try await server.create("accounts", #"{"name":"B2","primarycontactid@odata.bind":"/contacts(\#(contact))"}"#)
        for id in [byKey, byID] {
            let read = try await server.get("accounts(\(id))?$select=_primarycontactid_value")
            XCTAssertEqual(read.json?["_primarycontactid_value"]?.stringValue, contact)
        }
    }

    func test_WA07_bindToMissingKeyIs404AndCreatesNothing() async throws {
        let result = try await server.post("accounts", #"{"name":"B","primarycontactid@odata.bind":"/contacts(emailaddress1='ghost@x.com')"}"#)
        XCTAssertEqual(result.status, 404)
        XCTAssertEqual(result.errorCode, "0x80060891")
        XCTAssertEqual(try server.store.count("account"), 0)
    }

    func test_WA08_nullBindClearsTheLookup() async throws {
        let contact = try await server.create("contacts", #"{"lastname":"One"}"#)
        let account = try await server.create("accounts", #"{"name":"B","primarycontactid@odata.bind":"contacts(\#(contact))"}"#)
        let result = try await server.patch("accounts(\(account))", #"{"primarycontactid@odata.bind":null}"#)
        XCTAssertEqual(result.status, 204)
        let read = try await server.get("accounts(\(account))?$select=_primarycontactid_value")
        XCTAssertEqual(read.json?["_primarycontactid_value"].map { if case .null = $0 { return true } else { return false } }, true)
    }

    func test_WA09_bindThroughAnUndeclaredNavigationPropertyIs400() async throws {
        let account = try await server.create("accounts", #"{"name":"A"}"#)
        let result = try await server.post("contacts", #"{"lastname":"x","parentcustomerid@odata.bind":"accounts(\#(account))"}"#)
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.errorCode, "0x80048d19")
        let typed = try await server.post("contacts", #"{"lastname":"y","parentcustomerid_account@odata.bind":"accounts(\#(account))"}"#)
        XCTAssertEqual(typed.status, 204, typed.text)
        // `column_target` binds records of that target only, and a lookup is bound once
        let other = try await server.create("contacts", #"{"lastname":"z","emailaddress1":"z@x.test"}"#)
        for body in [#"{"lastname":"w","parentcustomerid_account@odata.bind":"/contacts(\#(other))"}"#,
                     #"{"lastname":"w","parentcustomerid_account@odata.bind":"accounts(\#(account))","parentcustomerid_contact@odata.bind":"/contacts(\#(other))"}"#] {
            let refused = try await server.post("contacts", body)
            XCTAssertEqual(refused.status, 400, refused.text)
            XCTAssertEqual(refused.errorCode, "0x80048d19")
        }
        let written = try await server.get("contacts?$filter=lastname%20eq%20'w'&$select=lastname")
        XCTAssertEqual(written.rows.count, 0, written.text)
    }

    func test_WA10_getAndDeleteOfAMissingRecordAre404() async throws {
        let get = try await server.get("accounts(22222222-2222-2222-2222-222222222222)")
        XCTAssertEqual(get.status, 404)
        XCTAssertEqual(get.errorCode, "0x80040217")
        let delete = try await server.delete("accounts(22222222-2222-2222-2222-222222222222)")
        XCTAssertEqual(delete.status, 404)
    }

    func test_WA19_stringTooLongIs400NamingColumnEntityAndLimit() async throws {
        let result = try await server.post("accounts", "{\"name\":\"\(String(repeating: "x", count: 161))\"}")
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.errorCode, "0x80044331")
        let message = result.errorMessage ?? ""
        XCTAssertTrue(message.contains("'name'") && message.contains("'account'") && message.contains("'160'"), message)
    }

    func test_WA20_deleteOnACollectionIs405() async throws {
        let result = try await server.delete("accounts")
        XCTAssertEqual(result.status, 405)
        XCTAssertNotNil(result.errorMessage)
    }

    func test_AK06_retrieveBySingleKey() async throws {
        let id = try await server.create("accounts", #"{"name":"A1","accountnumber":"ABC123"}"#)
        let result = try await server.get("accounts(accountnumber='ABC123')?$select=name")
        XCTAssertEqual(result.status, 200)
        XCTAssertEqual(result.json?["accountid"]?.stringValue, id)
        XCTAssertEqual(result.json?["name"]?.stringValue, "A1")
    }

    func test_AK07_retrieveByCompositeKey() async throws {
        let id = try await server.create("new_widgets", #"{"new_name":"W1","new_region":7,"new_code":"X-1"}"#)
        let result = try await server.get("new_widgets(new_region=7,new_code='X-1')")
        XCTAssertEqual(result.status, 200)
        XCTAssertEqual(result.json?["new_widgetid"]?.stringValue, id)
    }

    func test_AK08_AK09_nonKeyOrPartialKeyIs400WithTheSpecMessage() async throws {
        let nonKey = try await server.get("accounts(name='Contoso')")
        XCTAssertEqual(nonKey.status, 400)
        XCTAssertEqual(nonKey.errorMessage, "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.account'.")
        let partial = try await server.get("new_widgets(new_code='X-1')")
        XCTAssertEqual(partial.status, 400)
        XCTAssertTrue(partial.errorMessage?.contains("'Microsoft.Dynamics.CRM.new_widget'") ?? false)
    }

    func test_AK10_keyNotFoundIs404() async throws {
        let result = try await server.get("accounts(accountnumber='NOPE')")
        XCTAssertEqual(result.status, 404)
        XCTAssertEqual(result.errorCode, "0x80060891")
    }

    func test_AK11_duplicateKeyOnCreateIs412() async throws {
        _ = try await server.create("accounts", #"{"name":"A1","accountnumber":"ABC123"}"#)
        let result = try await server.post("accounts", #"{"name":"Dup","accountnumber":"ABC123"}"#)
        XCTAssertEqual(result.status, 412)
        XCTAssertEqual(result.errorCode, "0x80060892")
        XCTAssertEqual(try server.store.count("account"), 1)
    }

    func test_AK12_forbiddenCharacterInKeyFailsButFilterFindsIt() async throws {
        let id = try await server.create("contacts", #"{"lastname":"C1","emailaddress1":"a&b@x.com"}"#)
        let byKey = try await server.get("contacts(emailaddress1='a%26b%40x.com')")
        XCTAssertEqual(byKey.status, 400)
        XCTAssertEqual(byKey.errorCode, "0x80060888")
        let filtered = try await server.get("contacts?$filter=emailaddress1%20eq%20'a%26b@x.com'&$select=contactid")
        XCTAssertEqual(filtered.status, 200, filtered.text)
        XCTAssertEqual(filtered.rows.compactMap { $0["contactid"]?.stringValue }, [id])
    }

    func test_AK12_plusInAPathKeyIsAPlusNotASpace() async throws {
        _ = try await server.create("accounts", #"{"name":"A","accountnumber":"A B"}"#)
        let result = try await server.get("accounts(accountnumber='A+B')")
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.errorCode, "0x80060888")
        let spaced = try await server.get("accounts(accountnumber='A%20B')")
        XCTAssertEqual(spaced.status, 200)
    }

    func test_AK13_parameterAliasInKeyIs400() async throws {
        _ = try await server.create("accounts", #"{"name":"A","accountnumber":"ABC123"}"#)
        let result = try await server.get("accounts(accountnumber=@p1)?@p1='ABC123'")
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.errorCode, "0x80060888")
    }

    func test_AK14_lookupInAKeyMustUseTheValueProperty() async throws {
        let account = try await server.create("accounts", #"{"name":"A1"}"#)
        let widget = try await server.create("new_widgets", #"{"new_name":"W2","new_code":"K","new_accountid@odata.bind":"/accounts(\#(account))"}"#)
        let byLookup = try await server.get("new_widgets(_new_accountid_value=\(account),new_code='K')")
        XCTAssertEqual(byLookup.status, 200, byLookup.text)
        XCTAssertEqual(byLookup.json?["new_widgetid"]?.stringValue, widget)
        let byName = try await server.get("new_widgets(new_accountid=\(account),new_code='K')")
        XCTAssertEqual(byName.status, 400)
        XCTAssertEqual(byName.errorCode, "0x80060888")
    }

    func test_bindByCompositeAlternateKey() async throws {
        let account = try await server.create("accounts", #"{"name":"A","accountnumber":"N1"}"#)
        let result = try await server.post("new_widgets", #"{"new_name":"W","new_code":"C","new_accountid@odata.bind":"/accounts(accountnumber='N1')"}"#)
        XCTAssertEqual(result.status, 204)
        let read = try await server.get("new_widgets(_new_accountid_value=\(account),new_code='C')?$select=_new_accountid_value")
        XCTAssertEqual(read.json?["_new_accountid_value"]?.stringValue, account)
    }

    func test_deleteOfASingleColumnClearsIt() async throws {
        let id = try await server.create("accounts", #"{"name":"A","description":"long text"}"#)
        let result = try await server.delete("accounts(\(id))/description")
        XCTAssertEqual(result.status, 204)
        let read = try await server.get("accounts(\(id))/description")
        XCTAssertEqual(read.status, 204)
        let name = try await server.get("accounts(\(id))/name")
        XCTAssertEqual(name.json?["value"]?.stringValue, "A")
        let raw = try await server.get("accounts(\(id))/name/$value")
        XCTAssertEqual(raw.text, "A")
        let put = try await server.send("PUT", "accounts(\(id))/name", body: #"{"value":"B"}"#)
        XCTAssertEqual(put.status, 204)
        let renamed = try await server.get("accounts(\(id))/name")
        XCTAssertEqual(renamed.json?["value"]?.stringValue, "B")
    }

    func test_decimalsTravelExactly() async throws {
        let id = try await server.create("accounts", #"{"name":"A","revenue":12345678901.25}"#)
        let read = try await server.get("accounts(\(id))?$select=revenue")
        XCTAssertEqual(read.json?["revenue"]?.numberText, "12345678901.25")
    }
}
