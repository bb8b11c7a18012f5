import DataFiles
import EntityModel
import Foundation
import XCTest

/// Change tracking over HTTP (SPEC §3).
final class ChangeTrackingOverHTTPTests: WebAPITestCase {
    private let track = ["Prefer": "odata.track-changes"]

    func test_CT01_initialTrackedQueryGivesRowsAndADeltaLink() async throws {
        for name in ["a", "b", "c"] { _ = try await server.create("accounts", #"{"name":"\#(name)"}"#) }
        let result = try await server.get("accounts?$select=name", headers: track)
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.header("Preference-Applied"), "odata.track-changes")
        XCTAssertEqual(result.rows.count, 3)
        for row in result.rows {
            XCTAssertNotNil(row["name"]?.stringValue)
            XCTAssertNotNil(row["accountid"]?.stringValue)
            XCTAssertNotNil(row["@odata.etag"]?.stringValue)
        }
        let link = try XCTUnwrap(result.json?["@odata.deltaLink"]?.stringValue)
        XCTAssertTrue(link.contains("$select=name") && link.contains("$deltatoken="), link)
    }

    func test_CT02_CT03_deltaHasRowsThenDeletionsThenNothing() async throws {
        let updated = try await server.create("accounts", #"{"name":"u"}"#)
        let deleted = try await server.create("accounts", #"{"name":"x"}"#)
        let initial = try await server.get("accounts?$select=name", headers: track)
        let d1 = try XCTUnwrap(initial.json?["@odata.deltaLink"]?.stringValue)
        let created = try await server.create("accounts", #"{"name":"n"}"#)
        _ = try await server.patch("accounts(\(updated))", #"{"name":"u2"}"#)
        _ = try await server.delete("accounts(\(deleted))")
        let delta = try await server.get(d1)
        XCTAssertEqual(delta.status, 200, delta.text)
        XCTAssertTrue(delta.json?["@odata.context"]?.stringValue?.hasSuffix("$delta") ?? false)
        let rows = delta.rows
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(Set(rows.prefix(2).compactMap { $0["accountid"]?.stringValue }), [created, updated])
        XCTAssertEqual(rows.first { $0["accountid"]?.stringValue == updated }?["name"]?.stringValue, "u2")
        XCTAssertEqual(rows[2]["id"]?.stringValue, deleted)
        XCTAssertEqual(rows[2]["reason"]?.stringValue, "deleted")
        XCTAssertTrue(rows[2]["@odata.context"]?.stringValue?.hasSuffix("#accounts/$deletedEntity") ?? false)
        let d2 = try XCTUnwrap(delta.json?["@odata.deltaLink"]?.stringValue)
        XCTAssertNotEqual(d1, d2)
        let empty = try await server.get(d2)
        XCTAssertEqual(empty.rows.count, 0)
        XCTAssertNotNil(empty.json?["@odata.deltaLink"]?.stringValue)
    }

    func test_deletedEntityCarriesTheDeletedRecordsKeyAsACdsyncAnnotation() async throws {
        let keyed = try await server.create("accounts", #"{"name":"k","accountnumber":"D1"}"#)
        let unkeyed = try await server.create("accounts", #"{"name":"no number"}"#)
        let widget = try await server.create("new_widgets", #"{"new_name":"w","new_region":7,"new_code":"X"}"#)
        var links: [String] = []
        for set in ["accounts", "new_widgets"] {
            let initial = try await server.get("\(set)?$select=\(set == "accounts" ? "name" : "new_name")", headers: track)
            links.append(try XCTUnwrap(initial.json?["@odata.deltaLink"]?.stringValue))
        }
        for path in ["accounts(\(keyed))", "accounts(\(unkeyed))", "new_widgets(\(widget))"] {
            let deleted = try await server.delete(path)
            XCTAssertEqual(deleted.status, 204, deleted.text)
        }
        let accounts = try await server.get(links[0])
        XCTAssertEqual(accounts.status, 200, accounts.text)
        let byID = Dictionary(uniqueKeysWithValues: accounts.rows.compactMap { row in row["id"]?.stringValue.map { ($0, row) } })
        XCTAssertEqual(byID.count, 2, accounts.text)
        XCTAssertEqual(byID[keyed]?["reason"]?.stringValue, "deleted")
        XCTAssertEqual(byID[keyed]?["@cdsync.key"], .object([("accountnumber", .string("D1"))]), accounts.text)
        // a record whose key columns were empty has no key to give: no annotation
        XCTAssertEqual(byID[unkeyed]?["reason"]?.stringValue, "deleted")
        XCTAssertNil(byID[unkeyed]?["@cdsync.key"], accounts.text)
        let widgets = try await server.get(links[1])
        XCTAssertEqual(widgets.rows.count, 1, widgets.text)
        XCTAssertEqual(widgets.rows.first?["id"]?.stringValue, widget)
        XCTAssertEqual(widgets.rows.first?["@cdsync.key"], .object([("new_code", .string("X")), ("new_region", .string("7"))]), widgets.text)
    }

    func test_CT07_optionsTrackingDoesNotAllowAreRejected() async throws {
        for (option, name) in [("$filter=name%20eq%20'x'", "$filter"), ("$orderby=name", "$orderby"),
                               ("$expand=primarycontactid", "$expand"), ("$top=5", "$top")] {
            let result = try await server.get("accounts?$select=name&\(option)", headers: track)
            XCTAssertEqual(result.status, 400)
            XCTAssertEqual(result.errorMessage, "The \"\(name)\" query parameter isn't supported when Change Tracking is enabled.")
        }
    }

    func test_CT08_countOfChangesSinceAToken() async throws {
        let initial = try await server.get("accounts?$select=name", headers: track)
        let link = try XCTUnwrap(initial.json?["@odata.deltaLink"]?.stringValue)
        let token = try XCTUnwrap(link.components(separatedBy: "$deltatoken=").last)
        _ = try await server.create("accounts", #"{"name":"a"}"#)
        _ = try await server.create("accounts", #"{"name":"b"}"#)
        let result = try await server.get("accounts/$count?$deltatoken=\(token)")
        XCTAssertEqual(result.status, 200, result.text)
        XCTAssertEqual(result.text, "2")
    }

    func test_CT09_untrackedTableIs400() async throws {
        let result = try await server.get("new_logs?$select=new_name", headers: track)
        XCTAssertEqual(result.status, 400)
        XCTAssertEqual(result.errorCode, "0x80072491")
    }

    func test_CT12_expiredOrUnreadableTokenIs400() async throws {
        let garbage = try await server.get("accounts?$select=name&$deltatoken=garbage")
        XCTAssertEqual(garbage.status, 400)
        XCTAssertEqual(garbage.errorCode, "0x80044352")
        server.store.changeRetentionDays = 7
        let old = try await server.get("accounts?$select=name&$deltatoken=0%2101%2F01%2F2020%2000%3A00%3A00")
        XCTAssertEqual(old.status, 400)
        XCTAssertEqual(old.errorCode, "0x80044352")
    }

    func test_CT15_deltaShowsOnlyTheSelectedColumns() async throws {
        let id = try await server.create("accounts", #"{"name":"a","telephone1":"1"}"#)
        let initial = try await server.get("accounts?$select=name", headers: track)
        let link = try XCTUnwrap(initial.json?["@odata.deltaLink"]?.stringValue)
        _ = try await server.patch("accounts(\(id))", #"{"telephone1":"2"}"#)
        let delta = try await server.get(link)
        XCTAssertEqual(delta.rows.count, 1)
        let row = try XCTUnwrap(delta.rows.first)
        XCTAssertEqual(row["name"]?.stringValue, "a")
        XCTAssertNil(row["telephone1"])
        XCTAssertNotNil(row["@odata.etag"])
    }

    func test_initialLoadPagesWithNextLinksAndTheDeltaLinkComesLast() async throws {
        for index in 1...5 { _ = try await server.create("accounts", #"{"name":"a\#(index)"}"#) }
        var link: String? = "accounts?$select=name"
        var seen: [String] = []
        var deltaLink: String?
        var pages = 0
        while let next = link, pages < 10 {
            let page = try await server.get(next, headers: ["Prefer": "odata.track-changes,odata.maxpagesize=2"])
            XCTAssertEqual(page.status, 200, page.text)
            pages += 1
            seen += page.rows.compactMap { $0["name"]?.stringValue }
            link = page.json?["@odata.nextLink"]?.stringValue
            deltaLink = page.json?["@odata.deltaLink"]?.stringValue
            XCTAssertFalse(link != nil && deltaLink != nil)
        }
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(Set(seen).count, 5)
        XCTAssertNotNil(deltaLink)
    }
}
