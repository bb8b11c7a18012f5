import EntityStore
import Foundation
import SyncHost
import XCTest

/// `mirror.sync` with `action = "deactivate"` follows the entity's own state model.
final class MirrorStateModelTests: XCTestCase {
    private func makeTicketStore() throws -> EntityStore {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("""
            entities:
              - name: new_ticket
                primary_name: new_name
                states:
                  - { value: 0, label: Open, default_status: 1, statuses: [ { value: 1, label: Open } ] }
                  - { value: 3, label: Resolved, default_status: 7, statuses: [ { value: 6, label: Fixed }, { value: 7, label: Done } ] }
                  - { value: 2, label: Cancelled, default_status: 5, statuses: [ { value: 5, label: Cancelled } ] }
                attributes:
                  - { name: new_name, type: string, max_length: 50 }
            """)
        return store
    }

    func test_deactivateUsesTheFirstInactiveStateAndItsDefaultStatus() throws {
        let store = try makeTicketStore()
        try runScript("""
            local mirror = require("cdsync.mirror")
            local created = {}
            for i = 1, 4 do created[i] = cds.create("new_ticket", { new_name = "T" .. i }) end
            cds.update("new_ticket", created[3].id, { statecode = 2 })
            cds.flush()
            local result = mirror.sync("new_ticket", { key = "new_name", source = { "T1" }, action = "deactivate", max_deletes = 1.0 })
            assert(result.missing == 3, "missing " .. result.missing)
            assert(result.deactivated == 2, "deactivated " .. result.deactivated)
            local function state(name)
              local row = cds.query("new_ticket", { filter = "new_name eq '" .. name .. "'", select = { "statecode", "statuscode" } })[1]
              return row.statecode .. "/" .. row.statuscode
            end
            assert(state("T1") == "0/1", "T1 " .. state("T1"))
            assert(state("T2") == "3/7", "T2 " .. state("T2"))
            assert(state("T3") == "2/5", "T3 " .. state("T3"))
            assert(state("T4") == "3/7", "T4 " .. state("T4"))
            """, store: store, options: stdlibOptions())
    }

    func test_deactivateRefusesAnEntityWithOnlyAnActiveState() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("""
            entities:
              - name: new_note
                primary_name: new_name
                states:
                  - { value: 0, label: Open, default_status: 1, statuses: [ { value: 1, label: Open } ] }
                attributes:
                  - { name: new_name, type: string, max_length: 50 }
            """)
        let report = try runScript("""
            local mirror = require("cdsync.mirror")
            cds.create("new_note", { new_name = "N1" })
            cds.flush()
            mirror.sync("new_note", { key = "new_name", source = { "N2" }, action = "deactivate", max_deletes = 1.0 })
            """, store: store, options: stdlibOptions(), expectSuccess: false)
        XCTAssertEqual(report.errorCode, "mirror.invalid_option")
        XCTAssertTrue(report.error?.contains("inactive state") ?? false, report.error ?? "")
    }
}
