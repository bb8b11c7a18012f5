import EntityModel
import EntityStore
import XCTest

/// Queries: select, the filter subset, order by, top and paging.
final class QueryTests: XCTestCase {
    private func names(_ store: EntityStore, _ filter: String, orderBy: [OrderBy] = [OrderBy("name")]) throws -> [String] {
        try store.runQuery(Query(entity: "account", columns: ["name"], filter: FilterParser.parse(filter), orderBy: orderBy)).records.map {
            if case .string(let name)? = $0["name"] { return name } else { return "?" }
        }
    }

    private func seed(_ store: EntityStore) throws {
        try store.createAccount("A1", name: "Alpha", extra: ["revenue": .decimal(DecimalNumber("100.50")!), "numberofemployees": .integer(10)])
        try store.createAccount("A2", name: "Beta", extra: ["revenue": .decimal(DecimalNumber("2000")!), "statecode": .integer(1)])
        try store.createAccount("A3", name: "O'Brien & Co", extra: ["numberofemployees": .integer(300)])
    }

    func test_comparisonsAndLogic() throws {
        try forEachStore { store in
            try seed(store)
            XCTAssertEqual(try names(store, "revenue gt 1000"), ["Beta"])
            XCTAssertEqual(try names(store, "revenue ge 100.5 and revenue lt 2000"), ["Alpha"])
            XCTAssertEqual(try names(store, "revenue eq null"), ["O'Brien & Co"])
            XCTAssertEqual(try names(store, "revenue ne null"), ["Alpha", "Beta"])
            XCTAssertEqual(try names(store, "statecode eq 1 or numberofemployees gt 100"), ["Beta", "O'Brien & Co"])
            XCTAssertEqual(try names(store, "not (statecode eq 1)"), ["Alpha", "O'Brien & Co"])
            XCTAssertEqual(try names(store, "numberofemployees ne 10"), ["Beta", "O'Brien & Co"])
        }
    }

    func test_longChainsOfOrAndAndRunAndKeepTheirGrouping() throws {
        try forEachStore { store in
            try seed(store)
            // hundreds of operands (a client reading related records by id sends 100 at once)
            let numbers = (0..<500).map { "accountnumber eq 'X\($0)'" } + ["accountnumber eq 'A1'", "accountnumber eq 'A3'"]
            XCTAssertEqual(try names(store, numbers.joined(separator: " or ")), ["Alpha", "O'Brien & Co"])
            let ands = Array(repeating: "name ne 'Beta'", count: 300) + ["numberofemployees gt 5"]
            XCTAssertEqual(try names(store, ands.joined(separator: " and ")), ["Alpha", "O'Brien & Co"])
            XCTAssertEqual(try names(store, "statecode eq 1 or numberofemployees gt 100 and numberofemployees lt 200"), ["Beta"])
            XCTAssertEqual(try names(store, "(statecode eq 1 or numberofemployees gt 100) and revenue eq null"), ["O'Brien & Co"])
            XCTAssertEqual(try names(store, "not (statecode eq 1 or numberofemployees eq 10) or name eq 'Beta'"), ["Beta", "O'Brien & Co"])
        }
    }

    func test_stringFunctionsAreCaseInsensitiveAndQuotesDouble() throws {
        try forEachStore { store in
            try seed(store)
            XCTAssertEqual(try names(store, "name eq 'o''brien & co'"), ["O'Brien & Co"])
            XCTAssertEqual(try names(store, "contains(name,'ET')"), ["Beta"])
            XCTAssertEqual(try names(store, "startswith(name,'al')"), ["Alpha"])
            XCTAssertEqual(try names(store, "endswith(name,'co')"), ["O'Brien & Co"])
            XCTAssertEqual(try names(store, "contains(name,'%')"), [])
        }
    }

    func test_orderTopAndPaging() throws {
        try forEachStore { store in
            try seed(store)
            XCTAssertEqual(try names(store, "name ne null", orderBy: [OrderBy("name", descending: true)]), ["O'Brien & Co", "Beta", "Alpha"])
            let top = try store.runQuery(Query(entity: "account", orderBy: [OrderBy("name")], top: 2))
            XCTAssertEqual(top.records.count, 2)
            XCTAssertFalse(top.moreRecords)
            var seen: [RecordID] = []
            var cookie: String?
            repeat {
                let page = try store.runQuery(Query(entity: "account", orderBy: [OrderBy("name")], pageSize: 2, pagingCookie: cookie, includeCount: true))
                XCTAssertEqual(page.totalCount, 3)
                seen += page.records.compactMap(\.id)
                cookie = page.moreRecords ? page.pagingCookie : nil
            } while cookie != nil
            XCTAssertEqual(Set(seen).count, 3)
        }
    }

    func test_pagingInPrimaryKeyOrderSeeksPastTheLastRowAndHonoursTop() throws {
        try forEachStore { store in
            for number in 1...7 { try store.createAccount("P\(number)", name: "Paged \(number)") }
            try store.createAccount("Q1", name: "Other")
            func walk(top: Int?) throws -> [String] {
                var names: [String] = []
                var cookie: String?
                repeat {
                    let page = try store.runQuery(Query(entity: "account", columns: ["name"], filter: try FilterParser.parse("startswith(name,'Paged')"),
                                                        top: top, pageSize: 3, pagingCookie: cookie))
                    XCTAssertLessThanOrEqual(page.records.count, 3)
                    names += page.records.compactMap { if case .string(let name)? = $0.fields["name"] { return name } else { return nil } }
                    cookie = page.moreRecords ? page.pagingCookie : nil
                } while cookie != nil
                return names
            }
            let all = try walk(top: nil)
            XCTAssertEqual(all.sorted(), (1...7).map { "Paged \($0)" })
            XCTAssertEqual(Set(all).count, 7)
            // $top counts across keyset pages
            XCTAssertEqual(try walk(top: 5).count, 5)
        }
    }

    /// Pages in a custom order seek past the last row (its order values and id in the
    /// cookie), so deleting the rows read, or inserting rows that sort before the position,
    /// between pages neither skips nor repeats rows; nulls sort first ascending and last
    /// descending, text compares case-insensitively, as one query orders them.
    func test_customOrderPagesSeekPastTheLastRowWhileRowsAreWritten() throws {
        try forEachStore { store in
            for number in 1...23 {
                let city: FieldValue = number % 4 == 0 ? .null : .string(["b", "A", "a", "C"][number % 4])
                try store.createAccount(String(format: "N%02d", number), name: "n\(number % 3)", extra: ["address1_city": city])
            }
            for order in [[OrderBy("address1_city"), OrderBy("name", descending: true)], [OrderBy("address1_city", descending: true), OrderBy("name")],
                          [OrderBy("name", descending: true)]] {
                let expected = try store.runQuery(Query(entity: "account", columns: ["accountnumber"], orderBy: order)).records.compactMap(\.id)
                var seen: [RecordID] = []
                var cookie: String?
                var inserted = 0
                repeat {
                    let page = try store.runQuery(Query(entity: "account", columns: ["accountnumber"], orderBy: order, pageSize: 4, pagingCookie: cookie))
                    seen += page.records.compactMap(\.id)
                    // the rows just read go, and a row sorting before them arrives
                    for id in page.records.compactMap(\.id) { _ = try store.execute(.delete(EntityReference("account", id: id), ifVersion: nil)) }
                    inserted += 1
                    _ = try store.createAccount("X\(inserted)", name: "zz", extra: ["address1_city": order[0].descending ? .string("zz") : .null])
                    cookie = page.moreRecords ? page.pagingCookie : nil
                } while cookie != nil
                XCTAssertEqual(seen, expected, "\(order)")
                for row in try store.runQuery(Query(entity: "account", columns: ["accountnumber"])).records {
                    _ = try store.execute(.delete(EntityReference("account", id: row.id!), ifVersion: nil))
                }
                for number in 1...23 {
                    let city: FieldValue = number % 4 == 0 ? .null : .string(["b", "A", "a", "C"][number % 4])
                    try store.createAccount(String(format: "N%02d", number), name: "n\(number % 3)", extra: ["address1_city": city])
                }
            }
            // a cookie for another order, or edited, is refused
            let page = try store.runQuery(Query(entity: "account", orderBy: [OrderBy("name")], pageSize: 2))
            let cookie = try XCTUnwrap(page.pagingCookie)
            XCTAssertThrowsError(try store.runQuery(Query(entity: "account", orderBy: [OrderBy("name"), OrderBy("address1_city")], pagingCookie: cookie)))
            XCTAssertThrowsError(try store.runQuery(Query(entity: "account", orderBy: [OrderBy("name")], pagingCookie: cookie + "%")))
            XCTAssertThrowsError(try store.runQuery(Query(entity: "account", orderBy: [OrderBy("name")], pagingCookie: cookie.replacingOccurrences(of: ":t", with: ":x"))))
        }
    }

    func test_expandAttachesTheRelatedRecordsOfEachPageToQueriesAndChanges() throws {
        try forEachStore { store in
            let contact = EntityReference("contact", keys: ["emailaddress1": .string("ada@x.test")])
            _ = try store.execute(.upsert(contact, fields: ["lastname": .string("Lovelace")], mode: .createOrUpdate))
            try store.createAccount("E1", extra: ["primarycontactid": .reference(contact)])
            try store.createAccount("E2")
            let expand = ["primarycontactid": ["emailaddress1", "lastname"]]
            let page = try store.runQuery(Query(entity: "account", columns: ["accountnumber"], orderBy: [OrderBy("accountnumber")], expand: expand))
            XCTAssertEqual(page.records.count, 2)
            XCTAssertEqual(page.records[0].related["primarycontactid"]?.fields["emailaddress1"], .string("ada@x.test"))
            XCTAssertEqual(page.records[0].related["primarycontactid"]?.fields["lastname"], .string("Lovelace"))
            XCTAssertNil(page.records[0].related["primarycontactid"]?.fields["firstname"])
            XCTAssertNotNil(page.records[0].fields["primarycontactid"], "the expanded lookup is returned even when not selected")
            XCTAssertTrue(page.records[1].related.isEmpty)
            let changes = try store.changes(ChangesRequest(entity: "account", columns: ["accountnumber"], expand: ["primarycontactid": ["emailaddress1"]]))
            let related = changes.changes.compactMap { item -> String? in
                guard case .newOrUpdated(let record) = item, case .string(let email)? = record.related["primarycontactid"]?.fields["emailaddress1"] else { return nil }
                return email
            }
            XCTAssertEqual(related, ["ada@x.test"])
            assertServiceError(.queryInvalid) { try store.runQuery(Query(entity: "account", expand: ["name": ["x"]])) }
            assertServiceError(.unknownProperty) { try store.runQuery(Query(entity: "account", expand: ["primarycontactid": ["nosuchcolumn"]])) }
        }
    }

    func test_changesJoinExpandedLookupsAcrossPagesOwnersOfBothKindsAndNullLookups() throws {
        try forEachStore { store in
            let (user, team, contact) = try store.createExpansionTargets()
            try store.createAccount("J0")
            for index in 1...4 {
                try store.createAccount("J\(index)", extra: ["primarycontactid": .reference(contact), "ownerid": .reference(user),
                                                             "parentaccountid": .reference(EntityReference("account", keys: ["accountnumber": .string("J0")]))])
            }
            let expand = ["primarycontactid": ["lastname"], "ownerid": ["domainname"], "parentaccountid": ["accountnumber"]]
            let all = try store.allChanges("account", token: nil, columns: ["accountnumber"], expand: expand, pageSize: 2)
            let records = all.items.compactMap { item -> Record? in if case .newOrUpdated(let record) = item { return record } else { return nil } }
            XCTAssertEqual(records.count, 5)
            for record in records where record.fields["accountnumber"] != .string("J0") {
                XCTAssertEqual(record.related["primarycontactid"]?.fields["lastname"], .string("Hopper"))
                XCTAssertEqual(record.related["ownerid"]?.fields["domainname"], .string("ada.corp"))
                XCTAssertEqual(record.related["parentaccountid"]?.fields["accountnumber"], .string("J0"))
                XCTAssertEqual(record.related["primarycontactid"]?.id, record.fields["primarycontactid"].flatMap { if case .reference(let r) = $0 { return r.id } else { return nil } })
            }
            let root = try XCTUnwrap(records.first { $0.fields["accountnumber"] == .string("J0") })
            XCTAssertNil(root.related["primarycontactid"], "a null lookup has nothing to expand")
            XCTAssertNil(root.related["parentaccountid"])
            // a team has no domainname: asking for it is an error only once a row is owned by a team
            try store.createAccount("J5", extra: ["ownerid": .reference(team)])
            assertServiceError(.unknownProperty) { try store.allChanges("account", token: nil, columns: ["accountnumber"], expand: expand) }
        }
    }

    func test_lookupFilterByGuid() throws {
        try forEachStore { store in
            let parent = try store.createAccount("P", name: "Parent")
            try store.createAccount("C", name: "Child", extra: ["parentaccountid": .guid(parent)])
            XCTAssertEqual(try names(store, "_parentaccountid_value eq \(parent)"), ["Child"])
        }
    }

    func test_badFiltersAreQueryErrors() throws {
        for text in ["name eq", "name like 'x'", "(name eq 'x'", "name eq 'open", "contains(name)", "name eq 'x' garbage"] {
            XCTAssertThrowsError(try FilterParser.parse(text), text) { error in
                XCTAssertEqual((error as? ServiceError)?.code, .queryInvalid)
            }
        }
        try forEachStore { store in
            assertServiceError(.queryInvalid) { try names(store, "revenue gt 'lots'") }
            assertServiceError(.unknownProperty) { try names(store, "nosuch eq 1") }
            // a date past the years 1–9999 would wrap into another date (or overflow)
            for date in ["292278995-01-01", "-292278994-01-01", "10000-01-01T00:00:00Z"] {
                assertServiceError(.queryInvalid) { try names(store, "createdon gt '\(date)'") }
            }
            XCTAssertEqual(try names(store, "createdon gt '9999-12-31T23:59:59Z'"), [])
        }
    }

    /// OData writes dates unquoted: `createdon gt 2020-01-01T00:00:00Z` filters as the quoted
    /// form does (it was refused as "not a number").
    func test_unquotedDatesFilterAsQuotedOnesDo() throws {
        try forEachStore { store in
            try store.createAccount("D1", name: "Dated")
            for literal in ["2020-01-01T00:00:00Z", "2020-01-01", "2000-06-30T12:00:00.000Z"] {
                XCTAssertEqual(try names(store, "createdon gt \(literal)"), ["Dated"], literal)
                XCTAssertEqual(try names(store, "createdon lt \(literal)"), [], literal)
            }
            XCTAssertEqual(try names(store, "createdon gt 9999-12-31T23:59:59Z"), [])
            assertServiceError(.queryInvalid) { try names(store, "createdon gt 2020-13-45") }
            assertServiceError(.queryInvalid) { try names(store, "revenue gt 2020-01-01") }
        }
    }

    /// A filter as deep and as long as the parser allows runs (SQLite compiles it); one level
    /// or one comparison more is a query error, not the store's failure to compile it (which
    /// would come back as a temporary error and be retried).
    func test_filtersAtTheSizeLimitsRunAndLargerOnesAreQueryErrors() throws {
        let depth = FilterParser.maxDepth, terms = FilterParser.maxTerms
        func nested(_ levels: Int, _ wrap: String) -> String {
            String(repeating: wrap, count: levels) + "name eq 'A'" + String(repeating: ")", count: levels)
        }
        let many = { (count: Int, op: String) in (0..<count).map { "name eq 'n\($0)'" }.joined(separator: " \(op) ") }
        try forEachStore { store in
            try store.createAccount("L1", name: "A")
            XCTAssertEqual(try names(store, nested(depth, "(")), ["A"])
            XCTAssertEqual(try names(store, nested(depth / 2, "not (")), ["A"], "an even number of nots, each with its parenthesis")
            XCTAssertEqual(try names(store, nested(depth / 2 - 1, "not (")), [])
            XCTAssertEqual(try names(store, many(terms, "or")), [])
            XCTAssertEqual(try names(store, many(terms - 1, "or") + " or name eq 'A'"), ["A"])
            XCTAssertEqual(try names(store, many(terms, "and")), [])
            for text in [nested(depth + 1, "("), nested(depth / 2 + 1, "not ("), many(terms + 1, "or"), many(terms + 1, "and")] {
                assertServiceError(.queryInvalid) { try names(store, text) }
            }
        }
    }
}
