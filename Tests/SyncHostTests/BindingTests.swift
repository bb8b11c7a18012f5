import EntityModel
import EntityStore
import SyncHost
import XCTest

/// Values cross the Lua boundary intact, in both directions.
final class BindingTests: XCTestCase {
    func test_everyValueTypeRoundTrips() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("account", { accountnumber = "A1" }, { name = "Zürich AG" })
            local r = cds.upsert("new_item", { new_code = "X" }, {
              new_name = "Łódź ✓", new_count = 42, new_price = cds.decimal("12345.6789"), new_total = cds.decimal("0.10"),
              new_ratio = 0.25, new_flag = true, new_when = "2026-11-27T10:00:00Z", new_kind = 2,
              new_accountid = cds.ref("account", { accountnumber = "A1" }),
            })
            assert(r.created == true, "created")
            local item = cds.get("new_item", { new_code = "X" })
            assert(item.new_name == "Łódź ✓", item.new_name)
            assert(item.new_count == 42 and math.type(item.new_count) == "integer")
            assert(tostring(item.new_price) == "12345.6789", tostring(item.new_price))
            assert(tostring(item.new_total) == "0.10", tostring(item.new_total))
            assert(item.new_price == cds.decimal("12345.67890"), "decimal equality ignores trailing zeros")
            assert(item.new_ratio == 0.25 and item.new_flag == true and item.new_kind == 2)
            assert(item.new_when == "2026-11-27T10:00:00Z", item.new_when)
            local account = cds.get("account", { accountnumber = "A1" })
            assert(item.new_accountid.entity == "account" and item.new_accountid.id == account.accountid)
            assert(item.new_itemid == r.id)
            cds.update("new_item", r.id, { new_count = cds.null, new_flag = false })
            local again = cds.get("new_item", r.id)
            assert(again.new_count == nil and again.new_flag == false)
            """, store: store)
        let record = try store.retrieve(EntityReference("new_item", keys: ["new_code": .string("X")]), columns: nil)
        XCTAssertEqual(record["new_price"], .decimal(DecimalNumber("12345.6789")!))
        XCTAssertEqual(record["new_count"], .null)
    }

    func test_floatsAreRefusedForDecimals() throws {
        let store = try makeStore()
        let report = try runScript("local d = cds.decimal(12.5)", store: store, expectSuccess: false)
        XCTAssertEqual(report.outcome, .failed)
        XCTAssertTrue(report.error?.contains("job.lua:1: bad argument #1 to 'decimal'") ?? false, report.error ?? "")
        let typed = try runScript("cds.upsert('new_item', { new_code = 'F' }, { new_price = 1.5 })", store: store, expectSuccess: false)
        XCTAssertEqual(typed.errorCode, "0x80048d19")
    }

    func test_queryDescribeAndEntities() throws {
        let store = try makeStore()
        try runScript("""
            for i = 1, 5 do cds.upsert("account", { accountnumber = "Q" .. i }, { name = "n" .. i, revenue = cds.decimal(i * 100) }) end
            local rows = cds.query("account", { filter = "revenue ge 300", select = { "name" }, orderby = "name desc" })
            assert(#rows == 3 and rows[1].name == "n5" and rows[3].name == "n3", #rows)
            assert(#cds.query("account", { top = 2 }) == 2)
            local d = cds.describe("account")
            assert(d.set_name == "accounts" and d.keys[1].columns[1] == "accountnumber" and d.keys[1].status == "Active")
            local names = table.concat(cds.entities(), ",")
            assert(names:find("new_item") and names:find("systemuser"), names)
            """, store: store)
    }

    func test_rowsStreamsEveryMatchingRowAcrossPages() throws {
        let store = try makeStore()
        let report = try runScript("""
            for i = 1, 23 do cds.upsert("account", { accountnumber = string.format("S%02d", i) }, { name = "n", statecode = i % 2 }) end
            local seen, last = 0, ""
            for row in cds.rows("account", { filter = "statecode eq 1", select = { "accountnumber" }, orderby = "accountnumber", page_size = 5 }) do
              assert(row.accountnumber > last, "ordered")
              last, seen = row.accountnumber, seen + 1
            end
            assert(seen == 12, seen)
            for row in cds.rows("account", { page_size = 2 }) do break end
            """, store: store)
        XCTAssertGreaterThanOrEqual(report.counters.requests, 4)
    }

    func test_refByOneColumnIsTheSameAsTheKeyTableForm() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("contact", { emailaddress1 = "ref@x.test" }, { lastname = "R" })
            assert(cds.ref("contact", "emailaddress1", "ref@x.test") == cds.ref("contact", { emailaddress1 = "ref@x.test" }))
            cds.upsert("account", { accountnumber = "RF1" }, { name = "n", primarycontactid = cds.ref("contact", "emailaddress1", "ref@x.test") })
            assert(cds.get("account", { accountnumber = "RF1" }).primarycontactid.entity == "contact")
            assert(cds.ref("account", "accountnumber", 42).key == "accountnumber=42")
            local ok, err = pcall(cds.ref, "contact", "emailaddress1", nil)
            assert(not ok and tostring(err):find("nil"), tostring(err))
            -- a key table or a GUID with a stray third argument is still the key form
            assert(cds.ref("contact", { emailaddress1 = "ref@x.test" }, nil) == cds.ref("contact", { emailaddress1 = "ref@x.test" }))
            local id = "9c7b2f1e-0000-4000-8000-000000000001"
            assert(cds.ref("contact", id, nil).id == id and cds.ref("contact", id, "x").id == id)
            -- an upsert that repeats its key column in the fields leaves it alone, as before
            local r = cds.upsert("account", { accountnumber = "RF1" }, { accountnumber = 42, name = "again" })
            assert(r.created == false)
            assert(cds.get("account", { accountnumber = "RF1" }).name == "again")
            """, store: store)
    }

    func test_refsOfOneKeyValueAreSharedAndStayUsable() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("contact", { emailaddress1 = "s@x.test" }, { lastname = "S" })
            local a = cds.ref("contact", "emailaddress1", "s@x.test")
            -- the same key value gives the same (immutable) object; another value or entity does not
            assert(rawequal(a, cds.ref("contact", "emailaddress1", "s@x.test")))
            assert(not rawequal(a, cds.ref("contact", "emailaddress1", "t@x.test")))
            assert(not rawequal(a, cds.ref("account", "emailaddress1", "s@x.test")))
            assert(cds.ref("account", "emailaddress1", "s@x.test").entity == "account")
            -- a closed reference is not handed out again
            do local closed <close> = cds.ref("contact", "emailaddress1", "s@x.test") end
            local b = cds.ref("contact", "emailaddress1", "s@x.test")
            assert(b.key == "emailaddress1='s@x.test'" and not tostring(b):find("closed"), tostring(b))
            cds.upsert("account", { accountnumber = "SH1" }, { name = "n", primarycontactid = b })
            assert(cds.get("account", { accountnumber = "SH1" }).primarycontactid.entity == "contact")
            -- past the cache's size, values that never repeat still give the right references
            for i = 1, 5000 do
              local r = cds.ref("contact", "emailaddress1", "u" .. i .. "@x.test")
              assert(r.key == "emailaddress1='u" .. i .. "@x.test'", r.key)
            end
            assert(cds.ref("contact", "emailaddress1", "u7@x.test").key == "emailaddress1='u7@x.test'")
            """, store: store)
    }

    func test_refByOneTextColumnBehavesAsAnyReferenceAfterACollection() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("contact", { emailaddress1 = "keep@x.test" }, { lastname = "K" })
            -- built from strings that exist nowhere else, then a full collection: the reference
            -- keeps what it refers to
            local refs = {}
            for i = 1, 50 do refs[i] = cds.ref("contact", "email" .. "address1", "keep" .. "@x.test" .. string.rep(" ", 0)) end
            collectgarbage(); collectgarbage()
            local ref = refs[50]
            assert(ref.entity == "contact", tostring(ref.entity))
            assert(ref.key == "emailaddress1='keep@x.test'", ref.key)
            assert(ref.id == nil and ref.lastname == nil)
            assert(tostring(ref) == "contact(emailaddress1='keep@x.test')", tostring(ref))
            assert(ref == refs[1] and ref == cds.ref("contact", { emailaddress1 = "keep@x.test" }))
            assert(cds.ref("contact", { emailaddress1 = "keep@x.test" }) == ref)
            assert(ref ~= cds.ref("contact", "emailaddress1", "other@x.test"))
            assert(ref ~= cds.ref("account", "emailaddress1", "keep@x.test"))
            assert(getmetatable(ref) == false)
            assert(json.encode({ r = ref }) == [[{"r":"emailaddress1='keep@x.test'"}]], json.encode({ r = ref }))
            cds.upsert("account", { accountnumber = "KR1" }, { name = "n", primarycontactid = ref })
            local contact = cds.get("contact", { emailaddress1 = "keep@x.test" })
            assert(cds.get("account", { accountnumber = "KR1" }).primarycontactid.id == contact.contactid)
            local set = cds.key_set(); set:add(ref)
            assert(set:has(cds.ref("contact", { emailaddress1 = "KEEP@x.test" })) and set:count() == 1)
            """, store: store)
        // a missing target is reported with the reference's key, the record's key and the line
        let report = try runScript("""
            cds.upsert("account", { accountnumber = "KR2" }, {
              name = "n", primarycontactid = cds.ref("contact", "emailaddress1", "ghost@x.test") })
            """, store: store, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "0x80060891")
        let error = report.error ?? ""
        XCTAssertTrue(error.hasPrefix("job.lua:1: ") && error.contains("emailaddress1='ghost@x.test'")
                      && error.contains("(key: accountnumber='KR2')"), error)
    }

    func test_expandedLookupsReadTheRelatedRecordsColumns() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("contact", { emailaddress1 = "grace@x.test" }, { lastname = "Hopper" })
            cds.upsert("account", { accountnumber = "X1" }, { name = "one", primarycontactid = cds.ref("contact", { emailaddress1 = "grace@x.test" }) })
            cds.upsert("account", { accountnumber = "X2" }, { name = "two" })
            local rows = cds.query("account", { select = { "accountnumber" }, orderby = "accountnumber",
                                               expand = { primarycontactid = { "emailaddress1", "lastname" } } })
            assert(rows[1].primarycontactid.emailaddress1 == "grace@x.test", tostring(rows[1].primarycontactid.emailaddress1))
            assert(rows[1].primarycontactid.lastname == "Hopper" and rows[1].primarycontactid.firstname == nil)
            assert(rows[1].primarycontactid.entity == "contact" and #rows[1].primarycontactid.id == 36)
            assert(rows[2].primarycontactid == nil)
            local seen = 0
            for change in cds.changes("account", { columns = { "name" }, expand = { primarycontactid = "lastname" } }) do
              if change.record.name == "one" then assert(change.record.primarycontactid.lastname == "Hopper"); seen = seen + 1 end
            end
            assert(seen == 1)
            local ok, err = pcall(cds.query, "account", { expand = { name = "x" } })
            assert(not ok and err.code == "query.invalid", tostring(err.code))
            """, store: store)
    }

    /// A change loop's records come from the store as one page of values per page: each
    /// holds what `cds.get` returns for the same record (every column, decimals, integers,
    /// references), and an expanded lookup reads its related row.
    func test_changeLoopRecordsHoldWhatGetReturns() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("contact", { emailaddress1 = "ada@x.test" }, { lastname = "Lovelace" })
            cds.upsert("account", { accountnumber = "Y1" }, { name = "one", revenue = cds.decimal("12.50"), numberofemployees = 7,
                                                             primarycontactid = cds.ref("contact", "emailaddress1", "ada@x.test") })
            cds.upsert("account", { accountnumber = "Y2" }, { name = "two", parentaccountid = cds.ref("account", "accountnumber", "Y1") })
            local seen = {}
            for change in cds.changes("account", { expand = { primarycontactid = { "lastname" } }, page_size = 1 }) do
              local r = change.record
              local got = cds.get("account", { accountnumber = r.accountnumber })
              assert(change.id == got.accountid and change.entity == "account" and change.deleted == false)
              local columns = 0
              for column, value in pairs(got) do
                assert(r[column] == value, column .. ": " .. tostring(r[column]) .. " ~= " .. tostring(value))
                columns = columns + 1
              end
              for column in pairs(r) do columns = columns - 1; assert(got[column] ~= nil, column) end
              assert(columns == 0)
              seen[r.accountnumber] = r
            end
            assert(seen.Y1.primarycontactid.lastname == "Lovelace" and seen.Y1.primarycontactid.entity == "contact")
            assert(tostring(seen.Y1.revenue) == "12.5000" or tostring(seen.Y1.revenue) == "12.50", tostring(seen.Y1.revenue))
            assert(seen.Y1.numberofemployees == 7 and math.type(seen.Y1.numberofemployees) == "integer")
            assert(seen.Y2.parentaccountid.id == seen.Y1.accountid and seen.Y2.parentaccountid.accountnumber == nil)
            assert(seen.Y2.primarycontactid == nil and seen.Y2.revenue == nil)
            """, store: store)
    }

    /// In a change loop, the rows of a page that point at the same record (read by id) get one
    /// reference, made once; rows pointing at different records get their own, and every
    /// reference keeps reading its own record after the loop has moved to later pages.
    func test_changeLoopRowsPointingAtOneRecordShareItsReference() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("contact", { emailaddress1 = "a@x.test" }, { lastname = "Able" })
            cds.upsert("contact", { emailaddress1 = "b@x.test" }, { lastname = "Baker" })
            local owners = { S1 = "a@x.test", S2 = "b@x.test", S3 = "a@x.test", S4 = "b@x.test" }
            for _, number in ipairs({ "S1", "S2", "S3", "S4", "S5" }) do
              local email = owners[number]
              cds.upsert("account", { accountnumber = number },
                         { name = number, primarycontactid = email and cds.ref("contact", "emailaddress1", email) or cds.null })
            end
            for _, size in ipairs({ 100, 1 }) do
              local seen = {}
              for change in cds.changes("account", { columns = { "accountnumber", "primarycontactid" },
                                                     expand = { primarycontactid = "lastname" }, page_size = size }) do
                seen[change.record.accountnumber] = change.record.primarycontactid or false
              end
              assert(seen.S1.lastname == "Able" and seen.S3.lastname == "Able", size)
              assert(seen.S2.lastname == "Baker" and seen.S4.lastname == "Baker", size)
              assert(seen.S5 == false and seen.S1[1] == nil and seen.S1.firstname == nil, size)
              assert(seen.S1.id ~= seen.S2.id and not rawequal(seen.S1, seen.S2), size)
              if size == 100 then  -- one page: one reference per contact
                assert(rawequal(seen.S1, seen.S3) and rawequal(seen.S2, seen.S4))
              else                 -- a page per row: each its own
                assert(not rawequal(seen.S1, seen.S3))
              end
            end
            """, store: store)
    }

    /// A reference names its own entity: passed where another entity's record is meant, it is
    /// an argument error, not a write to (or delete of) the record it names in its own table.
    func test_aReferenceToAnotherEntitysRecordIsRefusedAsTheTarget() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("account", { accountnumber = "A1" }, { name = "kept" })
            local ref = cds.ref("account", "accountnumber", "A1")
            for _, call in ipairs({
              function() return cds.delete("contact", ref) end,
              function() return cds.upsert("contact", ref, { lastname = "overwritten" }).id end,
              function() return cds.update("contact", ref, { lastname = "overwritten" }).id end,
              function() return cds.get("contact", ref) end,
            }) do
              local ok, err = pcall(call)
              assert(not ok and tostring(err.message or err):find("'account', not of 'contact'", 1, true), tostring(err and (err.message or err)))
            end
            cds.flush()
            local kept = cds.get("account", { accountnumber = "A1" })
            assert(kept and kept.name == "kept", tostring(kept and kept.name))
            assert(cds.get("account", ref).name == "kept")
            """, store: store)
    }

    /// Text that is not UTF-8 is refused where a value is given (keys, fields, references),
    /// not repaired: repaired, "A\255B" and "A\254B" would be one key and one record.
    func test_textThatIsNotUTF8IsRefusedNotRepaired() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        let report = try runScript("""
            for _, call in ipairs({
              function() return cds.upsert("account", { accountnumber = "A\\255B" }, { name = "x" }).id end,
              function() return cds.upsert("account", { accountnumber = "OK1" }, { name = "caf\\233" }).id end,
              function() return cds.ref("contact", "emailaddress1", "a\\254@x.test") end,
              function() return cds.key_set():add("A\\255B") end,   -- repaired, "A\\255B" and "A\\254B" were one key
              function() return cds.key_set():has("A\\254B") end,
            }) do
              local ok, err = pcall(call)
              assert(not ok and err.code == "text.invalid_utf8", tostring(err and err.code))
            end
            cds.upsert("account", { accountnumber = "A\\u{FF}B" }, { name = "ÿ is fine as UTF-8" })
            """, store: store, options: options)
        XCTAssertEqual(report.outcome, .succeeded, report.error ?? "")
        XCTAssertEqual(try store.count("account"), 1)
    }

    /// Options are checked: a misspelt or wrong-typed one is an argument error naming it,
    /// not ignored (a query given `filter = 5` used to read every row).
    func test_unknownAndWrongTypedOptionsAreErrors() throws {
        let store = try makeStore()
        try runScript("""
            cds.upsert("account", { accountnumber = "O1" }, { name = "one" })
            local cases = {
              { function() return cds.query("account", { filter = 5 }) end, "option 'filter' must be a string" },
              { function() return cds.query("account", { fliter = "name eq 'x'" }) end, "unknown option 'fliter'" },
              { function() return cds.query("account", { top = "3" }) end, "option 'top' must be a whole number" },
              { function() return cds.query("account", { select = "name" }) end, "option 'select' must be a list of strings" },
              { function() for _ in cds.rows("account", { page_size = 0 }) do end end, "option 'page_size'" },
              { function() for _ in cds.changes("account", { token = 5 }) do end end, "option 'token' must be a string" },
              { function() return cds.missing("account", cds.key_set(), { key = "accountnumber", select = "name" }) end, "option 'select'" },
            }
            for _, case in ipairs(cases) do
              local ok, err = pcall(case[1])
              assert(not ok and tostring(err.message or err):find(case[2], 1, true), case[2] .. ": " .. tostring(err and (err.message or err)))
            end
            assert(#cds.query("account", { filter = "name eq 'one'", select = { "name" }, top = 1 }) == 1)
            -- a related column no target has: an error even though no row points at a contact
            local okx, errx = pcall(cds.query, "account", { expand = { primarycontactid = "nosuch" } })
            assert(not okx and errx.code == "0x0" and tostring(errx.message):find("'nosuch'", 1, true), tostring(errx and errx.message))
            """, store: store)
    }

    /// An error object that is not a string or a table is reported as the standalone `lua`
    /// does: a number as itself, anything else by its type (no Swift value description).
    func test_nonStringErrorObjectsAreReportedPlainly() throws {
        let store = try makeStore()
        for (script, expected) in [("error(42)", "42"), ("error(print)", "(error object is a function value)"),
                                   ("error(cds.null)", "(error object is a userdata value)"), ("error(true)", "(error object is a boolean value: true)")] {
            let report = try runScript(script, store: store, expectSuccess: false)
            let error = report.error ?? ""
            XCTAssertTrue(error.contains(expected) && !error.contains("integer(") && !error.contains("other("), "\(script): \(error)")
        }
    }

    /// Names the host hands to the system or keeps (file paths, token names) are refused when
    /// they hold a NUL, which would cut them short into another name; a
    /// float column refuses NaN and infinities (SQLite would store NaN as null).
    func test_namesWithNULAndNonFiniteFloatsAreRefused() throws {
        let store = try makeStore()
        let directory = try temporaryDirectory()
        var options = RunOptions()
        options.arguments = [directory.path]
        options.onError = .continue  // so pcall sees a write's failure
        let report = try runScript("""
            local dir = arg[1]
            for _, call in ipairs({
              function() return csv.writer(dir .. "/o15\0.csv", { "a" }) end,
              function() return json.writer(dir .. "/j\0.jsonl") end,
              function() return csv.rows(dir .. "/x\0.csv") end,
              function() cds.start_tracking("account", "a\0b") end,
              function() for _ in cds.changes("account", { token = "a\0b" }) do end end,
            }) do
              local ok, err = pcall(call)
              assert(not ok and tostring(err.message or err):find("without NUL", 1, true), tostring(err and (err.message or err)))
            end
            for _, bad in ipairs({ 0/0, 1/0, -1/0 }) do
              local ok2, err2 = pcall(function() return cds.create("new_item", { new_name = "r", new_ratio = bad }).id end)
              assert(not ok2 and tostring(err2.message):find("not a finite number", 1, true), tostring(err2 and err2.message))
            end
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .rowsRejected, report.error ?? "")  // the three refused creates
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("o15").path))
    }

    /// One token name tracks one entity: taken for a second entity in the same run, it is an
    /// error (the last would have won, and the next run's loop over the first would fail).
    /// `cds.decimal` says when text is a number with too many digits, and shows long text cut.
    func test_aTokenNameTracksOneEntityPerRunAndDecimalErrorsSayWhy() throws {
        let store = try makeStore()
        try runScript("""
            cds.start_tracking("account", "shared")
            local ok, err = pcall(cds.start_tracking, "contact", "shared")
            assert(not ok and tostring(err):find("already tracks 'account' in this run", 1, true), tostring(err))
            ok, err = pcall(function() for _ in cds.changes("contact", { token = "shared" }) do end end)
            assert(not ok and tostring(err):find("already tracks 'account' in this run", 1, true), tostring(err))
            ok, err = pcall(cds.decimal, "92233720368547758.089")
            assert(not ok and tostring(err):find("more digits than a decimal holds", 1, true), tostring(err))
            ok, err = pcall(cds.decimal, string.rep("x", 100000))
            assert(not ok and #tostring(err) < 300 and tostring(err):find("is not a decimal number", 1, true), #tostring(err))
            """, store: store)
    }

    /// A script file that is not UTF-8 is refused naming the line of its first such byte; a
    /// directory given as the script says so.
    func test_aScriptFileThatCannotBeReadSaysWhy() throws {
        let store = try makeStore()
        let directory = try temporaryDirectory()
        let latin1 = directory.appendingPathComponent("latin1.lua")
        try Data([0x70, 0x72, 0x69, 0x6E, 0x74, 0x28, 0x31, 0x29, 0x0A, 0x2D, 0x2D, 0x20, 0xE9, 0x0A]).write(to: latin1)  // "print(1)\n-- \xE9\n"
        let host = try ScriptHost(service: store, tokens: store, options: RunOptions())
        let report = host.run(scriptPath: latin1.path)
        XCTAssertEqual(report.errorCode, "script.unreadable")
        XCTAssertTrue(report.error?.contains("latin1.lua:2: error: the script is not UTF-8 text") ?? false, report.error ?? "")
        let folder = try ScriptHost(service: store, tokens: store, options: RunOptions()).run(scriptPath: directory.path)
        XCTAssertTrue(folder.error?.contains("it is a directory") ?? false, folder.error ?? "")
    }

    func test_missingRecordIsNilAndBadKeyIsAnError() throws {
        let store = try makeStore()
        try runScript("assert(cds.get('account', { accountnumber = 'NOPE' }) == nil)", store: store)
        let report = try runScript("cds.get('account', { name = 'x' })", store: store, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "0x80060888")
        XCTAssertTrue(report.error?.hasPrefix("job.lua:1: ") ?? false, report.error ?? "")
    }

    func test_errorsAreTablesScriptsCanInspect() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.onError = .continue
        let report = try runScript("""
            local ok, err = pcall(function() return cds.upsert("account", { accountnumber = "L1" }, { name = string.rep("x", 200) }).id end)
            assert(not ok and err.code == "0x80044331", tostring(err.code))
            assert(err.message:find("'160'"), err.message)
            assert(err.key == "accountnumber='L1'", tostring(err.key))
            assert(err.line == 1, tostring(err.line))
            local r = cds.upsert("account", { accountnumber = "L2" }, { name = string.rep("y", 200) })
            assert(r.error.code == "0x80044331")
            assert(#cds.query("account", { top = 0 }) == 0)
            assert(not pcall(cds.query, "account", { top = -1 }))
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .rowsRejected, report.error ?? "")
        XCTAssertEqual(report.counters.failed, 2)
    }

    func test_aRowFailureUnderStopFailsTheRunEvenWhenTheScriptCatchesIt() throws {
        let store = try makeStore()
        var options = RunOptions()
        options.batchSize = 10
        let report = try runScript("""
            cds.upsert("account", { accountnumber = "S1" }, { name = "ok" })
            local bad = cds.upsert("account", { accountnumber = "S2" }, { name = string.rep("x", 200) })
            local later = cds.upsert("account", { accountnumber = "S3" }, { name = "never sent" })
            assert(bad.error.code == "0x80044331")
            assert(later.error.code == "batch.not_sent", later.error.code)
            """, store: store, options: options, expectSuccess: false)
        XCTAssertEqual(report.outcome, .failed)
        XCTAssertEqual(report.errorCode, "0x80044331")
        XCTAssertTrue(report.error?.hasPrefix("job.lua:2: ") ?? false, report.error ?? "")
        XCTAssertEqual(try store.count("account"), 1)
    }
}
