@testable import EntityStore
import EntityModel
import Foundation
import XCTest

/// The JSON text of tombstone keys and run tokens (`FlatJSONObject`): plain text is written
/// and read directly, anything else through Foundation, and both read what either wrote.
final class FlatJSONObjectTests: XCTestCase {
    func test_plainObjectsAreWrittenInKeyOrderAndReadBack() throws {
        XCTAssertEqual(FlatJSONObject.text(["b": "2", "a": "1/x"]), #"{"a":"1/x","b":"2"}"#)
        XCTAssertEqual(FlatJSONObject.text([:]), "{}")
        XCTAssertEqual(FlatJSONObject.object(#"{"a":"1/x","b":"2"}"#), ["a": "1/x", "b": "2"])
        XCTAssertEqual(FlatJSONObject.object(" { \"a\" : \"Łódź\" ,\n\"b\":\"\" } "), ["a": "Łódź", "b": ""])
        XCTAssertEqual(FlatJSONObject.object("{}"), [:])
    }

    func test_textNeedingEscapesRoundTripsThroughFoundation() throws {
        let awkward = ["k\"ey": "a\\b", "tab": "x\ty", "nl": "1\n2", "ctl": "\u{1}", "slash": "a/b"]
        let text = try XCTUnwrap(FlatJSONObject.text(awkward))
        XCTAssertEqual(FlatJSONObject.object(text), awkward)
        // what Foundation reads, the text is: valid JSON
        XCTAssertEqual(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)), awkward)
    }

    /// Stores written before this reader kept keys as Foundation's encoder wrote them (slashes
    /// escaped), and any JSON a reader accepts is read the same.
    func test_readsWhatFoundationsEncoderWrote() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for object in [["accountnumber": "A/1"], ["a": "é\"\\"], ["x": "\u{1F600}"], [:]] {
            let text = String(decoding: try encoder.encode(object), as: UTF8.self)
            XCTAssertEqual(FlatJSONObject.object(text), object, text)
        }
        XCTAssertEqual(FlatJSONObject.object(#"{"a":"\u0041\/"}"#), ["a": "A/"])
    }

    func test_anythingButAnObjectOfStringsIsRefused() {
        for text in ["", "{", "}", "[]", #"{"a":1}"#, #"{"a":"1"} x"#, #"{"a":"1" "b":"2"}"#,
                     #"{"a":null}"#, #"{"a":{"b":"c"}}"#, #"{a:"1"}"#, "{\"a\":\"\u{1}\"}", #"{"a":"1""#] {
            XCTAssertNil(FlatJSONObject.object(text), text)
        }
    }
}
