@testable import EntityStore
import EntityModel
import Foundation
import XCTest

/// Date-time text is read strictly: a date that exists, a time with a zone, years 0001–9999.
/// (The formatters used before read `…T10:30Z` as the date alone, rolled `02-30` over into
/// March, and wrapped far years into others, all without an error.)
final class DateParsingTests: XCTestCase {
    private func seconds(_ text: String) -> Double? { DateText.parse(text)?.timeIntervalSince1970 }

    func test_validForms() {
        XCTAssertEqual(seconds("1970-01-01"), 0)
        XCTAssertEqual(seconds("2026-11-27"), 1_795_737_600)
        XCTAssertEqual(seconds("2026-11-27T10:00:00Z"), 1_795_773_600)
        XCTAssertEqual(seconds("2026-11-27 10:00:00Z"), 1_795_773_600)
        XCTAssertEqual(seconds("2026-11-27T10:00Z"), 1_795_773_600)
        XCTAssertEqual(seconds("2026-11-27T11:00:00+01:00"), 1_795_773_600)
        XCTAssertEqual(seconds("2026-11-27T05:30:00-04:30"), 1_795_773_600)
        XCTAssertEqual(seconds("2026-11-27T10:00:00.250Z")!, 1_795_773_600.25, accuracy: 1e-6)
        // fractions are kept to the millisecond a column keeps, half up on the time line (the
        // same before 1970 as after: floating-point seconds rounded those away from zero)
        XCTAssertEqual(seconds("2026-11-27T10:00:00.1234567891234Z")!, 1_795_773_600.123, accuracy: 1e-7)
        XCTAssertEqual(seconds("2026-11-27T10:00:00.0005Z")!, 1_795_773_600.001, accuracy: 1e-7)
        XCTAssertEqual(seconds("1969-12-31T23:59:59.0005Z")!, -0.999, accuracy: 1e-7)
        XCTAssertEqual(seconds("1969-12-31T23:59:59.0004999Z")!, -1, accuracy: 1e-7)
        XCTAssertEqual(seconds("2026-11-27T10:00:59.9995Z")!, 1_795_773_660, accuracy: 1e-7)
        XCTAssertEqual(seconds("2024-02-29"), 1_709_164_800)
        XCTAssertEqual(seconds("0001-01-01"), -62_135_596_800)
        XCTAssertEqual(seconds("9999-12-31T23:59:59Z"), 253_402_300_799)
        XCTAssertEqual(seconds("1969-12-31T23:59:59Z"), -1)
    }

    func test_invalidFormsAreNil() {
        for text in ["", "2026", "2026-1-01", "2026-13-01", "2026-00-10", "2026-02-30", "2026-04-31", "2025-02-29", "1900-02-29",
                     "0000-01-01", "-0001-06-15", "292278994-01-01", "10000-01-01", "2026-01-01T10:30", "2026-01-01T10:30:00",
                     "2026-01-01T25:00:00Z", "2026-01-01T10:61:00Z", "2026-01-01T10:00:60Z", "2026-01-01T10:00:00+99:99",
                     "2026-01-01T10:00:00.Z", "2026-01-01Z", "2026-01-01T10:00:00Zjunk", "2026-01-01 ", "x2026-01-01"] {
            XCTAssertNil(DateText.parse(text), text)
        }
    }

    /// Written back as read, in the same calendar (Foundation's formatter switched to the
    /// Julian calendar before 1582-10-15: a stored 1000-01-01 read back as 0999-12-27, and every
    /// copy moved it again) and with its milliseconds (dropped before, so a copy changed it).
    func test_textRoundTripsThroughTheStoredInstant() throws {
        for text in ["0001-01-01T00:00:00Z", "0100-03-01T00:00:00Z", "1000-01-01T00:00:00Z", "1582-10-10T12:00:00Z",
                     "1582-10-15T00:00:00Z", "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999Z",
                     "2026-11-27T10:00:00.250Z", "9999-12-31T23:59:59.999Z"] {
            let date = try XCTUnwrap(DateText.parse(text), text)
            XCTAssertEqual(DateText.string(from: date), text)
        }
        XCTAssertEqual(DateText.string(from: try XCTUnwrap(DateText.parse("2026-11-27"))), "2026-11-27T00:00:00Z")
        XCTAssertEqual(DateText.string(from: try XCTUnwrap(DateText.parse("2026-11-27T11:00:00.5+01:00"))), "2026-11-27T10:00:00.500Z")
    }

    /// Through the store: a value read and written back is unchanged (no new version).
    func test_aDateReadFromTheStoreWritesBackUnchanged() throws {
        let store = try EntityStore(path: nil)
        try store.applySchemaFile("entities:\n  - { name: gadget, state_model: false, attributes: [ { name: code, type: string }, { name: born, type: datetime } ], keys: [ { name: bycode, columns: [code] } ] }\n")
        let key = EntityReference("gadget", keys: ["code": .string("X")])
        for text in ["1000-01-01", "2024-02-29T23:59:59.999Z"] {
            _ = try store.execute(.upsert(key, fields: ["born": .string(text)], mode: .createOrUpdate))
            let read = try store.retrieve(key, columns: ["born"])["born"]
            guard case .dateTime(let date)? = read else { return XCTFail("\(String(describing: read))") }
            guard case .upserted(_, _, let changed)? = try? store.execute(.upsert(key, fields: ["born": .string(DateText.string(from: date))], mode: .createOrUpdate)) else {
                return XCTFail("upsert")
            }
            XCTAssertFalse(changed, text)
            XCTAssertEqual(DateText.string(from: date).prefix(10), text.prefix(10))
        }
    }
}
