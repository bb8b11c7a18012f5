import DataFiles
import Foundation
import XCTest

final class JSONValueTests: XCTestCase {
    func testDecimalsKeepTheirExactText() throws {
        let value = try JSONValue.parse(
            #"{"revenue": 12345678901234567890.123456789, "small": -0.000000000000000000001e-7}"#)
        XCTAssertEqual(value["revenue"], .number("12345678901234567890.123456789"))
        XCTAssertEqual(value["small"]?.numberText, "-0.000000000000000000001e-7")
        XCTAssertEqual(
            try value.serialized(), #"{"revenue":12345678901234567890.123456789,"small":-0.000000000000000000001e-7}"#)
    }

    func testRoundTripKeepsKeyOrderAndAllValueKinds() throws {
        let value: JSONValue = [
            "z": 1, "a": [true, false, nil, "text", ["nested": []]], "m": .number("1.50"), "empty": [:],
        ]
        let compact = try value.serialized()
        XCTAssertEqual(compact, #"{"z":1,"a":[true,false,null,"text",{"nested":[]}],"m":1.50,"empty":{}}"#)
        XCTAssertEqual(try JSONValue.parse(compact), value)
        let pretty = try value.serialized(pretty: true)
        XCTAssertEqual(try JSONValue.parse(pretty), value)
        XCTAssertTrue(pretty.hasPrefix("{\n  \"z\": 1,\n  \"a\": [\n    true,"))
    }

    /// A body of many `\u` escapes on one line (what `json.dumps` sends for non-ASCII text):
    /// each escape used to place an error it might throw, counting the columns before it, so
    /// 160,000 escapes took about a minute and held a server's connection all that while.
    func testManyUnicodeEscapesOnOneLineDecode() throws {
        let count = 200_000
        let body = #"{"d":""# + String(repeating: #"\u00e9\ud83d\ude00"#, count: count) + #""}"#
        let value = try JSONValue.parse(body)
        guard case .string(let text)? = value["d"] else { return XCTFail("no string") }
        XCTAssertEqual(text.unicodeScalars.count, 2 * count)
        XCTAssertEqual(text.unicodeScalars.last, "😀")
        // the errors are still placed: an unpaired surrogate at the end of the line
        XCTAssertThrowsError(try JSONValue.parse(#"{"d":""# + String(repeating: #"\u00e9"#, count: 10) + #"\ud83d"}"#)) { error in
            XCTAssertEqual((error as? DataFileError)?.column, 67, "\(error)")
        }
    }

    func testStringsAreEscapedAndUnescaped() throws {
        let text = "quote \" backslash \\ slash / newline \n tab \t nul \u{0} bell \u{7} Zürich 😀"
        let json = try JSONValue.string(text).serialized()
        XCTAssertEqual(json, #""quote \" backslash \\ slash / newline \n tab \t nul \u0000 bell \u0007 Zürich 😀""#)
        XCTAssertEqual(try JSONValue.parse(json), .string(text))
        let ascii = try JSONValue.string("Łódź 😀").serialized(escapeNonASCII: true)
        XCTAssertEqual(ascii, #""\u0141\u00f3d\u017a \ud83d\ude00""#)
        XCTAssertEqual(try JSONValue.parse(ascii), .string("Łódź 😀"))
    }

    func testEscapesIncludingSurrogatePairsAreDecoded() throws {
        let value = try JSONValue.parse(#"["\u00fc\u0130\/\b\f\r", "\uD83D\uDE00", "\u0041BC"]"#)
        XCTAssertEqual(value, ["üİ/\u{8}\u{C}\r", "😀", "ABC"])
    }

    func testUnpairedSurrogateIsRefused() {
        assertParseError(#"["\uD83D x"]"#, code: .jsonSyntax, line: 1, column: 3)
        assertParseError(#""\uDE00""#, code: .jsonSyntax, line: 1, column: 2)
    }

    func testDeepNestingIsRefusedWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        assertParseError(deep, code: .jsonTooDeep, line: 1, column: 513)
        let allowed = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNoThrow(try JSONValue.parse(allowed))
        XCTAssertThrowsError(try JSONValue.parse(#"{"a":{"b":1}}"#, maxDepth: 1))
    }

    func testSyntaxErrorsNameLineAndColumn() {
        assertParseError("{\n  \"a\": 1,\n  \"b\": tru\n}", code: .jsonSyntax, line: 3, column: 8)
        assertParseError("[1, 2,]", code: .jsonSyntax, line: 1, column: 7)
        assertParseError("{\"a\" 1}", code: .jsonSyntax, line: 1, column: 6)
        assertParseError("[01]", code: .jsonSyntax, line: 1, column: 3)
        assertParseError("[1.]", code: .jsonSyntax, line: 1, column: 2)
        assertParseError("\"abc", code: .jsonSyntax, line: 1, column: 1)
        assertParseError("\"a\nb\"", code: .jsonSyntax, line: 1, column: 3)
        assertParseError("{} {}", code: .jsonSyntax, line: 1, column: 4)
        assertParseError("", code: .jsonSyntax, line: 1, column: 1)
        assertParseError("[\"Zürich\", x]", code: .jsonSyntax, line: 1, column: 12)
    }

    func testInvalidUTF8InStringsIsRefused() {
        let data = Data("[\"ab".utf8) + Data([0xFF]) + Data("\"]".utf8)
        XCTAssertThrowsError(try JSONValue.parse(data)) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .invalidUTF8)
            XCTAssertEqual((error as? DataFileError)?.column, 5)
        }
    }

    func testInvalidNumberTextIsNotSerialised() {
        XCTAssertThrowsError(try JSONValue.array([.number("1,5")]).serialized()) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .jsonInvalidNumber)
        }
    }

    func testAccessorsReadValues() throws {
        let value = try JSONValue.parse(#"{"a": [1, "x", true, null], "a": 2}"#)
        XCTAssertEqual(value["a"], 2)
        XCTAssertEqual(value.objectMembers?.count, 2)
        let list = try JSONValue.parse(#"[1, "x", true, null]"#)
        XCTAssertEqual(list[1]?.stringValue, "x")
        XCTAssertEqual(list[2]?.boolValue, true)
        XCTAssertEqual(list[3]?.isNull, true)
        XCTAssertNil(list[4])
        XCTAssertEqual(JSONValue.integer(UInt64.max), .number("18446744073709551615"))
    }

    func testDocumentIsReadFromAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("j-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try JSONValue.object([("k", .number("1.10"))]).serializedData(pretty: true).write(
            to: URL(fileURLWithPath: path))
        XCTAssertEqual(try JSONValue.parse(contentsOfFile: path), ["k": .number("1.10")])
    }

    private func assertParseError(
        _ text: String, code: DataFileError.Code, line: Int, column: Int, file: StaticString = #filePath,
        sourceLine: UInt = #line
    ) {
        XCTAssertThrowsError(try JSONValue.parse(text, fileName: "doc.json"), file: file, line: sourceLine) { error in
            guard let error = error as? DataFileError else {
                return XCTFail("not a DataFileError", file: file, line: sourceLine)
            }
            XCTAssertEqual(error.code, code, error.description, file: file, line: sourceLine)
            XCTAssertEqual(error.line, line, error.description, file: file, line: sourceLine)
            XCTAssertEqual(error.column, column, error.description, file: file, line: sourceLine)
            XCTAssertEqual(error.file, "doc.json", file: file, line: sourceLine)
        }
    }
}
