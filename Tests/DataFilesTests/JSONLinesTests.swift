import DataFiles
import Foundation
import XCTest

final class JSONLinesTests: XCTestCase {
    func testReadsOneValuePerLineSkippingBlankLines() throws {
        var reader = JSONLinesReader(string: "{\"a\":1}\r\n\n   \n[2]\n\"three\"")
        var records: [JSONLineRecord] = []
        while let record = try reader.nextRecord() { records.append(record) }
        XCTAssertEqual(records.map(\.value), [["a": 1], [2], "three"])
        XCTAssertEqual(records.map(\.line), [1, 4, 5])
    }

    func testBadLineNamesItsLineAndReadingContinues() throws {
        var reader = JSONLinesReader(string: "{\"a\":1}\n{\"a\":}\n\n{\"a\":3}\n", fileName: "out.jsonl")
        XCTAssertEqual(try reader.nextRecord()?.value, ["a": 1])
        XCTAssertThrowsError(try reader.nextRecord()) { error in
            let error = error as? DataFileError
            XCTAssertEqual(error?.code, .jsonSyntax)
            XCTAssertEqual(error?.line, 2)
            XCTAssertEqual(error?.column, 6)
            XCTAssertEqual(error?.description, "out.jsonl:2:6: unexpected '}'; expected a value")
        }
        let record = try reader.nextRecord()
        XCTAssertEqual(record?.value, ["a": 3])
        XCTAssertEqual(record?.line, 4)
        XCTAssertNil(try reader.nextRecord())
    }

    func testLinesLongerThanTheChunkAreRead() throws {
        let long = String(repeating: "Dvořák ", count: 2_000)
        let text = "\u{FEFF}\"\(long)\"\n{\"k\":\"v\"}\n"
        var reader = JSONLinesReader(string: text, chunkSize: 16)
        XCTAssertEqual(try reader.readAll(), [.string(long), ["k": "v"]])
    }

    func testWriterWritesCompactLinesInKeyOrderAndReadsBack() throws {
        let values: [JSONValue] = [
            ["id": "b-1", "amount": .number("12345678901234567890.123456789"), "note": "line\nbreak \"q\""],
            ["z": nil, "a": [true, 1]],
        ]
        let writer = JSONLinesWriter()
        for value in values { try writer.write(value) }
        let text = String(decoding: writer.writtenData, as: UTF8.self)
        XCTAssertEqual(
            text,
            "{\"id\":\"b-1\",\"amount\":12345678901234567890.123456789,\"note\":\"line\\nbreak \\\"q\\\"\"}\n"
                + "{\"z\":null,\"a\":[true,1]}\n")
        var reader = JSONLinesReader(data: writer.writtenData)
        XCTAssertEqual(try reader.readAll(), values)
    }

    func testWriterRefusesInvalidNumbersWithoutWritingPartOfTheLine() throws {
        let writer = JSONLinesWriter()
        try writer.write(["a": 1])
        XCTAssertThrowsError(try writer.write(["a": 2, "b": .number("NaN")]))
        try writer.write(["a": 3])
        XCTAssertEqual(String(decoding: writer.writtenData, as: UTF8.self), "{\"a\":1}\n{\"a\":3}\n")
    }

    func testFileRoundTrip() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("l-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try JSONLinesWriter(path: path)
        for index in 0..<10_000 { try writer.write(["n": .integer(index), "city": "İstanbul"]) }
        try writer.close()
        var reader = try JSONLinesReader(path: path, chunkSize: 1_000)
        var count = 0
        while let record = try reader.nextRecord() {
            XCTAssertEqual(record.value["n"], .integer(count))
            XCTAssertEqual(record.line, count + 1)
            count += 1
        }
        XCTAssertEqual(count, 10_000)
    }
}
