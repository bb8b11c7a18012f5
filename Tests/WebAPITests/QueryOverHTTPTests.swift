import DataFiles
import EntityModel
import Foundation
import XCTest

/// Collection queries over HTTP (SPEC §6).
final class QueryOverHTTPTests: WebAPITestCase {
    private func createContacts(_ count: Int) async throws {
        for index in 1...count { _ = try await server.create("contacts", #"{"lastname":"L\#(index)"}"#) }
    }

    func test_WA02_entitySetNamesAreCaseSensitive() async throws {
        let result = try await server.get("Accounts")
        XCTAssertEqual(result.status, 404)
        XCTAssertEqual(result.errorCode, "0x8006088a")
        XCTAssertEqual(result.errorMessage, "Resource not found for the segment 'Accounts'.")
    }

    func test_WA03_propertyNamesAreCaseSensitive() async throws {
        let result = try await server.get("accounts?$select=Name")
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.errorCode, "0x0")
        XCTAssertEqual(result.errorMessage, "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.")
    }

    func test_WA11_pagingFollowsNextLinksUntilTheLastPage() async throws {
        try await createContacts(5)
        var next: String? = "contacts?$select=lastname"
        var pages: [[String]] = []
        while let link = next {
            let result = try await server.get(link, headers: ["Prefer": "odata.maxpagesize=2"])
            XCTAssertEqual(result.status, 200, result.text)
            XCTAssertEqual(result.header("Preference-Applied"), "odata.maxpagesize=2")
            pages.append(result.rows.compactMap { $0["lastname"]?.stringValue })
            next = result.json?["@odata.nextLink"]?.stringValue
            if let next {
                XCTAssertTrue(next.hasPrefix(server.root.absoluteString), next)
                XCTAssertTrue(next.contains("$skiptoken="), next)
                XCTAssertTrue(next.contains("$select=lastname"), next)
            }
            if pages.count > 5 { break }
        }
        XCTAssertEqual(pages.map(\.count), [2, 2, 1])
        XCTAssertEqual(Set(pages.flatMap { $0 }).count, 5)
    }

    /// Next links of a custom order carry the last row's order values: text with `:`, `%`,
    /// `&` and spaces goes through the link unchanged, and every row comes once.
    func test_nextLinksOfACustomOrderCarryTheLastRowsValues() async throws {
        for name in ["a:b", "a%25", "x & y", "Łódź", "plain", "n:1%"] {
            _ = try await server.create("contacts", #"{"lastname":"\#(name)"}"#)
        }
        var next: String? = "contacts?$select=lastname&$orderby=lastname%20desc"
        var names: [String] = []
        while let link = next, names.count < 20 {
            let result = try await server.get(link, headers: ["Prefer": "odata.maxpagesize=2"])
            XCTAssertEqual(result.status, 200, result.text)
            names += result.rows.compactMap { $0["lastname"]?.stringValue }
            next = result.json?["@odata.nextLink"]?.stringValue
        }
        XCTAssertEqual(names, ["x & y", "plain", "n:1%", "Łódź", "a:b", "a%25"].sorted { $0.lowercased() > $1.lowercased() })
    }

    func test_WA12_topIsIgnoredWithAPageSize() async throws {
        try await createContacts(5)
        let result = try await server.get("contacts?$top=1", headers: ["Prefer": "odata.maxpagesize=3"])
        XCTAssertEqual(result.rows.count, 3)
        XCTAssertNotNil(result.json?["@odata.nextLink"])
        let top = try await server.get("contacts?$top=1")
        XCTAssertEqual(top.rows.count, 1)
        XCTAssertNil(top.json?["@odata.nextLink"])
    }

    func test_WA13_skipIsRejected() async throws {
        let result = try await server.get("contacts?$skip=2")
        XCTAssertEqual(result.status, 400)
        XCTAssertNotNil(result.errorCode)
    }

    func test_WA14_countOptionAndCountSegment() async throws {
        try await createContacts(3)
        let counted = try await server.get("contacts?$select=contactid&$count=true")
        XCTAssertEqual(counted.json?["@odata.count"]?.numberText, "3")
        let segment = try await server.get("contacts/$count")
        XCTAssertEqual(segment.status, 200)
        XCTAssertEqual(segment.text, "3")
        XCTAssertTrue(segment.header("Content-Type")?.hasPrefix("text/plain") ?? false)
    }

    func test_WA14_countAnnotationsOnRequest() async throws {
        try await createContacts(2)
        let result = try await server.get("contacts?$select=contactid&$count=true",
            headers: ["Prefer": #"odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded""#])
        XCTAssertEqual(result.json?["@Microsoft.Dynamics.CRM.totalrecordcount"]?.numberText, "2")
        XCTAssertEqual(result.json?["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"]?.boolValue, false)
        let uncounted = try await server.get("contacts?$select=contactid", headers: ["Prefer": #"odata.include-annotations="*""#])
        XCTAssertEqual(uncounted.json?["@Microsoft.Dynamics.CRM.totalrecordcount"]?.numberText, "-1")
    }

    func test_lookupLogicalNameAnnotationOnRequest() async throws {
        let account = try await server.create("accounts", #"{"name":"A"}"#)
        let contact = try await server.create("contacts", #"{"lastname":"C","parentcustomerid_account@odata.bind":"/accounts(\#(account))"}"#)
        let plain = try await server.get("contacts(\(contact))?$select=_parentcustomerid_value")
        XCTAssertNil(plain.json?["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"])
        let annotated = try await server.get("contacts(\(contact))?$select=_parentcustomerid_value",
                                             headers: ["Prefer": #"odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname""#])
        XCTAssertEqual(annotated.json?["_parentcustomerid_value"]?.stringValue, account)
        XCTAssertEqual(annotated.json?["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]?.stringValue, "account")
    }

    func test_WA15_filterIsCaseInsensitiveWithDoubledQuotes() async throws {
        let id = try await server.create("contacts", #"{"lastname":"O'Bryan"}"#)
        _ = try await server.create("contacts", #"{"lastname":"Other"}"#)
        let result = try await server.get("contacts?$filter=lastname%20eq%20'o''bryan'")
        XCTAssertEqual(result.rows.compactMap { $0["contactid"]?.stringValue }, [id])
        let unterminated = try await server.get("contacts?$filter=lastname%20eq%20'O'Bryan'")
        XCTAssertEqual(unterminated.status, 400)
    }

    func test_formEncodedQueryTreatsPlusAsSpace() async throws {
        let id = try await server.create("accounts", #"{"name":"x y"}"#)
        _ = try await server.create("accounts", #"{"name":"other"}"#)
        let result = try await server.get("accounts?%24filter=name+eq+%27x+y%27&%24select=name")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.rows.compactMap { $0["accountid"]?.stringValue }, [id])
    }

    func test_orderbyAndLookupFilter() async throws {
        let contact = try await server.create("contacts", #"{"lastname":"C"}"#)
        _ = try await server.create("accounts", #"{"name":"b","primarycontactid@odata.bind":"/contacts(\#(contact))"}"#)
        _ = try await server.create("accounts", #"{"name":"a","primarycontactid@odata.bind":"/contacts(\#(contact))"}"#)
        _ = try await server.create("accounts", #"{"name":"c"}"#)
        let result = try await server.get("accounts?$select=name&$orderby=name%20desc&$filter=_primarycontactid_value%20eq%20\(contact)")
        XCTAssertEqual(result.rows.compactMap { $0["name"]?.stringValue }, ["b", "a"])
        XCTAssertNil(result.rows.first?["versionnumber"])
    }
}
