import EntityStore
import Foundation
import SyncHost
import XCTest

/// A failed `cds.create` names what identifies the record: its id, its key values, or `(new record)`.
final class CreateFailureKeyTests: XCTestCase {
    private func failedCreate(_ arguments: String) throws -> String {
        let store = try makeStore()
        let report = try runScript("""
            cds.create("account", { name = "x", primarycontactid = cds.ref("contact", { emailaddress1 = "ghost@x.test" }) \(arguments))
            cds.flush()
            """, store: store, expectSuccess: false)
        XCTAssertEqual(report.errorCode, "0x80060891")
        return report.error ?? ""
    }

    func test_aFailedCreateWithAnAlternateKeyInItsFieldsNamesTheKeyValues() throws {
        let error = try failedCreate(", accountnumber = \"C1\" }")
        XCTAssertTrue(error.contains("(key: accountnumber='C1')"), error)
    }

    func test_aFailedCreateWithAnIdNamesTheId() throws {
        let id = "5b2f0a3e-52c1-4d6e-9a51-0c7a3b2d1e4f"
        let error = try failedCreate(", accountnumber = \"C2\" }, \"\(id)\"")
        XCTAssertTrue(error.contains("(key: \(id))"), error)
    }

    func test_aFailedCreateWithoutKeyValuesSaysNewRecord() throws {
        let error = try failedCreate("}")
        XCTAssertTrue(error.contains("(key: (new record))"), error)
        XCTAssertFalse(error.contains("(new)"), error)
    }
}
