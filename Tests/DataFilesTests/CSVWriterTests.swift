import DataFiles
import Foundation
import XCTest

final class CSVWriterTests: XCTestCase {
    private func written(_ rows: [[String]], options: CSVWriter.Options = .init()) throws -> String {
        let writer = try CSVWriter(options: options)
        for row in rows { try writer.writeRow(row) }
        return String(decoding: writer.writtenData, as: UTF8.self)
    }

    func testQuotesOnlyFieldsThatNeedIt() throws {
        let text = try written([["plain", "a,b", "say \"hi\"", "x\ny", "cr\rlf", " spaced ", "Zürich"]])
        XCTAssertEqual(text, "plain,\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",\"cr\rlf\", spaced ,Zürich\r\n")
    }

    func testLineEndingsAreCRLFByDefaultAndLFOnRequest() throws {
        XCTAssertEqual(try written([["a"], ["b"]]), "a\r\nb\r\n")
        XCTAssertEqual(try written([["a", "b"]], options: .init(lineEnding: .lf)), "a,b\n")
    }

    func testOtherDelimitersAreQuotedWhenInsideAField() throws {
        XCTAssertEqual(try written([["a;b", "c,d"]], options: .init(delimiter: ";")), "\"a;b\";c,d\r\n")
    }

    func testSingleEmptyFieldIsQuotedSoItIsNotABlankLine() throws {
        let text = try written([["h"], [""], ["x"]])
        XCTAssertEqual(text, "h\r\n\"\"\r\nx\r\n")
        var reader = try CSVReader(string: text)
        XCTAssertEqual(try reader.readAll().map(\.fields), [[""], ["x"]])
    }

    func testWritingAfterCloseIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("w-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try CSVWriter(path: path)
        try writer.writeRow(["a", "b"])
        try writer.flush()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "a,b\r\n")
        try writer.writeRow(["1", "2"])
        try writer.close()
        try writer.close()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "a,b\r\n1,2\r\n")
        XCTAssertThrowsError(try writer.writeRow(["3", "4"])) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .writerClosed)
        }
    }

    func testUnwritablePathIsAnOpenError() {
        XCTAssertThrowsError(try CSVWriter(path: "/nonexistent-dir/out.csv")) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .openFailed)
        }
    }
}
