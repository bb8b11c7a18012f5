import EntityModel
import XCTest

/// Exact decimals: parsing, formatting, rescaling, comparison.
final class DecimalNumberTests: XCTestCase {
    func test_parsesAndPrintsWithoutAFloat() {
        XCTAssertEqual(DecimalNumber("12.50")?.description, "12.50")
        XCTAssertEqual(DecimalNumber("-0.05")?.description, "-0.05")
        XCTAssertEqual(DecimalNumber(".5")?.description, "0.5")
        XCTAssertEqual(DecimalNumber("922337203685477.5807")?.description, "922337203685477.5807")
        for bad in ["", "1,5", "1e5", "--1", "1.2.3", "abc", "99999999999999999999"] {
            XCTAssertNil(DecimalNumber(bad), bad)
        }
    }

    /// Text and its UTF-8 bytes (what `cds.decimal` reads from a Lua string in place) parse
    /// alike: spaces and tabs around the number ignored, signs, points, overflow, and text a
    /// decimal does not hold (other spaces, a combining mark on a space, bytes that are not UTF-8).
    func test_bytesParseAsTextDoes() {
        // each text with what it parses to (nil: not a decimal), as the Character-based parser gave
        let cases: [(String, String?)] = [
            ("12.50", "12.50"), (" 12.50\t", "12.50"), ("\t-3", "-3"), ("+3", "3"), (".5", "0.5"), ("7.", "7"),
            ("-.5", "-0.5"), (" - 5", nil), ("5 5", nil), ("\n5", nil), ("5\r\n", nil), ("", nil), (" ", nil), ("-", nil),
            (".", nil), ("+-1", nil), ("1..2", nil), ("9223372036854775807", "9223372036854775807"),
            ("9223372036854775808", nil), ("-9223372036854775808", nil), ("0.000000000000000001", "0.000000000000000001"),
            (" \u{301}5", nil), ("5 \u{301}", nil), ("\u{00A0}5", nil), ("１２", nil), ("1e5", nil), ("0x10", nil),
        ]
        for (text, expected) in cases {
            let fromBytes = Array(text.utf8).withUnsafeBytes { DecimalNumber(utf8: $0) }
            XCTAssertEqual(fromBytes, DecimalNumber(text), text.debugDescription)
            XCTAssertEqual(fromBytes?.description, expected, text.debugDescription)
        }
        XCTAssertEqual(DecimalNumber(" 12.50\t")?.description, "12.50")
        XCTAssertEqual(DecimalNumber("-.5")?.description, "-0.5")
        XCTAssertNil(DecimalNumber(" - 5"))
        XCTAssertNil(DecimalNumber("5\r\n"))
        XCTAssertNil(DecimalNumber("9223372036854775808"))
        XCTAssertNil([UInt8]([0x35, 0xFF]).withUnsafeBytes { DecimalNumber(utf8: $0) })
        XCTAssertEqual([UInt8]([0x20, 0x35, 0x09]).withUnsafeBytes { DecimalNumber(utf8: $0) }, DecimalNumber(5))
    }

    func test_printsEveryScaleAndTheExtremes() {
        XCTAssertEqual(DecimalNumber(significand: 0, scale: 2).description, "0.00")
        XCTAssertEqual(DecimalNumber(significand: 0, scale: 0).description, "0")
        XCTAssertEqual(DecimalNumber(significand: -5, scale: 0).description, "-5")
        XCTAssertEqual(DecimalNumber(significand: 7, scale: 10).description, "0.0000000007")
        XCTAssertEqual(DecimalNumber(significand: -1234, scale: 2).description, "-12.34")
        XCTAssertEqual(DecimalNumber(significand: Int64.min, scale: 4).description, "-922337203685477.5808")
        XCTAssertEqual(DecimalNumber(significand: Int64.max, scale: 0).description, "9223372036854775807")
        XCTAssertEqual(DecimalNumber(significand: Int64.min, scale: 19).description, "-0.9223372036854775808")
        XCTAssertEqual(DecimalNumber(significand: 1, scale: 20).description, "0.00000000000000000001")
    }

    func test_rescalingRoundsHalfAwayFromZeroAndDetectsOverflow() {
        XCTAssertEqual(DecimalNumber("1.005")?.rescaled(to: 2)?.description, "1.01")
        XCTAssertEqual(DecimalNumber("-1.005")?.rescaled(to: 2)?.description, "-1.01")
        XCTAssertEqual(DecimalNumber("1.004")?.rescaled(to: 2)?.description, "1.00")
        XCTAssertEqual(DecimalNumber("7")?.rescaled(to: 4)?.description, "7.0000")
        XCTAssertNil(DecimalNumber("999999999999999999")?.rescaled(to: 4))
    }

    func test_equalityAndOrderIgnoreTrailingZeros() {
        XCTAssertEqual(DecimalNumber("1.50"), DecimalNumber("1.5"))
        XCTAssertEqual(Set([DecimalNumber("1.50")!, DecimalNumber("1.5")!]).count, 1)
        XCTAssertLessThan(DecimalNumber("-2")!, DecimalNumber("1.99")!)
    }

    func test_guidsAreLowercaseAndSequentialIdsIncrease() {
        XCTAssertEqual(RecordID("{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}")?.description, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")
        XCTAssertNil(RecordID("not-a-guid"))
        var generator = SequentialIDGenerator()
        let ids = (0..<1000).map { _ in generator.next() }
        XCTAssertEqual(ids, ids.sorted())
        XCTAssertEqual(Set(ids).count, 1000)
    }
}

/// `$orderby` text parses in the model, where the Lua host and the Web API can share it.
final class OrderByParseTests: XCTestCase {
    func test_parsesDirectionsAndRejectsOtherText() throws {
        XCTAssertEqual(try OrderBy.parse("name desc, revenue"), [OrderBy("name", descending: true), OrderBy("revenue")])
        // a column twice, or more columns than any ordering needs (2,000 of them made SQLite
        // fail, which the Web API answered as a 503 "store failed")
        let many = (1...101).map { "c\($0)" }.joined(separator: ",")
        XCTAssertEqual(try OrderBy.parse((1...100).map { "c\($0)" }.joined(separator: ",")).count, 100)
        for bad in ["name sideways", "name desc extra", "name, revenue, Name desc", many] {
            XCTAssertThrowsError(try OrderBy.parse(bad), bad) { XCTAssertEqual(($0 as? ServiceError)?.code, .queryInvalid) }
        }
    }
}
