import DataFiles
import Foundation
import XCTest

final class CSVReaderTests: XCTestCase {
    func testReadsHeaderAndRowsByIndexAndByName() throws {
        var reader = try CSVReader(string: "id,name\n1,Ada\n2,Grace\n")
        XCTAssertEqual(reader.header.names, ["id", "name"])
        let records = try reader.readAll()
        XCTAssertEqual(records.map(\.fields), [["1", "Ada"], ["2", "Grace"]])
        XCTAssertEqual(records[1]["name"], "Grace")
        XCTAssertEqual(records[1][0], "2")
        XCTAssertNil(records[1]["missing"])
        XCTAssertEqual(records.map(\.line), [2, 3])
    }

    func testQuotedFieldsKeepCommasDoubledQuotesAndNewlines() throws {
        let text = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"line1\nline2\r\nline3\"\n"
        var reader = try CSVReader(string: text)
        let record = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(record.fields, ["x, y", "say \"hi\"", "line1\nline2\r\nline3"])
        XCTAssertNil(try reader.nextRecord())
    }

    func testFieldVisitorSeesTheSameFieldsAsRecordsAndRefusesBadRowsWhole() throws {
        let text = "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",Dvořák\n1,2\n\n4,5,6\n"
        var byRecord = try CSVReader(string: text)
        var byVisit = try CSVReader(string: text)
        func visited() throws -> (line: Int?, fields: [String]) {
            var fields: [String] = []
            let line = try byVisit.nextRecord { index, bytes, _ in
                XCTAssertEqual(index, fields.count)
                fields.append(String(decoding: bytes, as: UTF8.self))
            }
            return (line, fields)
        }
        let first = try visited()
        XCTAssertEqual(first.fields, try XCTUnwrap(byRecord.nextRecord()).fields)
        XCTAssertEqual(first.line, 2)
        XCTAssertThrowsError(try visited()) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .csvFieldCount)
            XCTAssertEqual((error as? DataFileError)?.line, 3)
        }
        let last = try visited()
        XCTAssertEqual(last.fields, ["4", "5", "6"])
        XCTAssertEqual(last.line, 5)
        XCTAssertNil(try visited().line)
    }

    func testRandomFieldsOfEveryLengthRoundTripThroughQuotingAndSmallChunks() throws {
        // fields of 0–40 bytes with delimiters, quotes, CR and LF at every offset, so the
        // eight-bytes-at-a-time scan meets each special byte in each position of a word
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "b", "c", "d", "e", "f", "g", "h", ",", "\"", "\r", "\n", "é", "1", ";"]
        var rows: [[String]] = []
        for _ in 0..<400 {
            rows.append((0..<4).map { _ in
                String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            })
        }
        func quoted(_ field: String) -> String {
            field.utf8.contains(where: { [UInt8(ascii: ","), UInt8(ascii: "\""), 13, 10].contains($0) })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        let text = "a,b,c,d\n" + rows.map { $0.map(quoted).joined(separator: ",") + "\n" }.joined()
        for chunkSize in [7, 64, 256 * 1024] {
            var reader = try CSVReader(string: text, options: CSVReader.Options(chunkSize: chunkSize))
            let records = try reader.readAll()
            XCTAssertEqual(records.map(\.fields), rows, "chunk size \(chunkSize)")
        }
    }

    func testCRLFAndLFLineEndingsReadTheSame() throws {
        var crlf = try CSVReader(string: "a,b\r\n1,2\r\n3,4\r\n")
        var lf = try CSVReader(string: "a,b\n1,2\n3,4")
        XCTAssertEqual(try crlf.readAll().map(\.fields), try lf.readAll().map(\.fields))
    }

    func testLastRecordWithoutLineEndIsRead() throws {
        var reader = try CSVReader(string: "a,b\r\n1,\"2\"")
        XCTAssertEqual(try reader.readAll().map(\.fields), [["1", "2"]])
    }

    func testNonASCIIUTF8IsDecoded() throws {
        var reader = try CSVReader(string: "city,name\nZürich,Dvořák\nİstanbul,\"Łódź, PL\"\n")
        XCTAssertEqual(try reader.readAll().map(\.fields), [["Zürich", "Dvořák"], ["İstanbul", "Łódź, PL"]])
    }

    func testByteOrderMarkAtStartIsSkipped() throws {
        var reader = try CSVReader(data: Data([0xEF, 0xBB, 0xBF]) + Data("id,name\n1,x\n".utf8))
        XCTAssertEqual(reader.header.names, ["id", "name"])
        XCTAssertEqual(try reader.nextRecord()?["id"], "1")
    }

    func testEmptyFieldsAreEmptyStringsByDefault() throws {
        var reader = try CSVReader(string: "a,b,c\n,,\n\"\",x,\n")
        let records = try reader.readAll()
        XCTAssertEqual(records.map(\.fields), [["", "", ""], ["", "x", ""]])
        XCTAssertEqual(records[0]["a"], "")
    }

    func testEmptyUnquotedFieldsCanBeNullWhileQuotedEmptyStaysEmpty() throws {
        let options = CSVReader.Options(emptyUnquotedFieldsAreNull: true)
        var reader = try CSVReader(string: "a,b,c\n\"\",,x\n", options: options)
        let record = try XCTUnwrap(reader.nextRecord())
        XCTAssertEqual(record["a"], "")
        XCTAssertNil(record["b"])
        XCTAssertTrue(record.isNull(at: 1))
        XCTAssertFalse(record.isNull(at: 0))
        XCTAssertEqual(record["c"], "x")
    }

    func testBlankLinesAreSkippedAndStillCounted() throws {
        var reader = try CSVReader(string: "a,b\n\n1,2\r\n\r\n3,4\n\n")
        let records = try reader.readAll()
        XCTAssertEqual(records.map(\.fields), [["1", "2"], ["3", "4"]])
        XCTAssertEqual(records.map(\.line), [3, 5])
    }

    func testOtherDelimitersAreSupported() throws {
        var reader = try CSVReader(string: "a;b\n\"1;5\";2\n", options: .init(delimiter: ";"))
        XCTAssertEqual(try reader.nextRecord()?.fields, ["1;5", "2"])
    }

    func testUnusableDelimiterIsRejected() {
        XCTAssertThrowsError(try CSVReader(string: "a\n", options: .init(delimiter: "\""))) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .invalidOption)
        }
    }

    func testEmptyFileHasNoHeader() {
        XCTAssertThrowsError(try CSVReader(string: "", fileName: "empty.csv")) { error in
            XCTAssertEqual((error as? DataFileError)?.code, .csvMissingHeader)
        }
    }

    func testHeaderOnlyFileHasNoRecords() throws {
        var reader = try CSVReader(string: "a,b\r\n")
        XCTAssertNil(try reader.nextRecord())
    }

    func testDuplicateHeaderNamesResolveToTheFirstColumn() throws {
        var reader = try CSVReader(string: "a,a\n1,2\n")
        XCTAssertEqual(try reader.nextRecord()?["a"], "1")
    }

    func testMissingFileIsAnOpenError() {
        XCTAssertThrowsError(try CSVReader(path: "/nonexistent/accounts.csv")) { error in
            let error = error as? DataFileError
            XCTAssertEqual(error?.code, .openFailed)
            XCTAssertEqual(error?.file, "/nonexistent/accounts.csv")
        }
    }
}
