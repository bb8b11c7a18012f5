import EntityModel
import Foundation
import XCTest

/// Record ids: one lowercase text form however they are made.
final class RecordIDTests: XCTestCase {
    func test_anIdFromRawBytesIsTheSameAsFromItsUUIDAndItsText() {
        for _ in 0..<200 {
            let uuid = UUID()
            let fromBytes = withUnsafeBytes(of: uuid.uuid) { RecordID(bytes: $0) }
            XCTAssertEqual(fromBytes, RecordID(uuid))
            XCTAssertEqual(fromBytes, RecordID(uuid.uuidString))
            XCTAssertEqual(fromBytes.description, uuid.uuidString.lowercased())
        }
    }

    func test_textInAnyCaseOrBracesParsesAndOtherTextDoesNot() {
        let id = RecordID("{9C7B2F1E-0000-4000-8000-00000000000A}")
        XCTAssertEqual(id?.description, "9c7b2f1e-0000-4000-8000-00000000000a")
        for bad in ["", "9c7b2f1e-0000-4000-8000-00000000000", "9c7b2f1e_0000-4000-8000-00000000000a", "g c7b2f1e-0000-4000-8000-00000000000a"] {
            XCTAssertNil(RecordID(bad), bad)
        }
    }
}
