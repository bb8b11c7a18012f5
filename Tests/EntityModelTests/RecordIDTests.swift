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

    func test_canonicalTextIsKeptAndEveryNearMissIsJudgedByTheFullParser() {
        let canonical = "9c7b2f1e-0000-4000-8000-00000000000a"
        XCTAssertEqual(RecordID(canonical)?.description, canonical)
        // one character changed at every position: a dash moved, a non-hex letter, upper case
        for offset in 0..<36 {
            var bytes = Array(canonical.utf8)
            let isDash = [8, 13, 18, 23].contains(offset)
            bytes[offset] = isDash ? UInt8(ascii: "0") : UInt8(ascii: "g")
            XCTAssertNil(RecordID(String(decoding: bytes, as: UTF8.self)), "offset \(offset)")
            if !isDash {
                bytes[offset] = UInt8(ascii: "B")
                XCTAssertEqual(RecordID(String(decoding: bytes, as: UTF8.self))?.description.utf8.filter { $0 == UInt8(ascii: "B") }.count, 0)
            }
        }
        XCTAssertNil(RecordID(canonical + "0"))
        XCTAssertNil(RecordID(String(canonical.dropLast()) + "é"))
    }

    /// Ids read from the store's bytes: canonical text kept, other GUID text parsed as a string
    /// is, anything else nil.
    func test_storedBytesAreReadAsTheStringForm() {
        let canonical = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        for text in [canonical, canonical.uppercased(), "{\(canonical)}", "not-a-guid", canonical + "0", String(canonical.dropLast()) + "g", ""] {
            let fromBytes = Array(text.utf8).withUnsafeBufferPointer { RecordID(storedBytes: $0) }
            XCTAssertEqual(fromBytes, RecordID(text), text)
        }
        XCTAssertEqual(Array(canonical.uppercased().utf8).withUnsafeBufferPointer { RecordID(storedBytes: $0) }?.description, canonical)
    }
}
