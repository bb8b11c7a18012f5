import DataFiles
import Foundation
import XCTest

/// Each record's outcome: its fields, or the error code and line.
private enum Outcome: Equatable {
    case record([String], line: Int)
    case failure(DataFileError.Code, line: Int?)
}

/// Reads every record, recording errors and continuing after them (a stuck reader fails the test).
private func outcomes(_ reader: inout CSVReader, limit: Int = 100) -> [Outcome] {
    var results: [Outcome] = []
    for _ in 0..<limit {
        do {
            guard let record = try reader.nextRecord() else { return results }
            results.append(.record(record.fields, line: record.line))
        } catch let error as DataFileError {
            results.append(.failure(error.code, line: error.line))
        } catch {
            XCTFail("unexpected error \(error)")
            return results
        }
    }
    XCTFail("reader did not reach the end")
    return results
}

final class CSVReaderErrorTests: XCTestCase {
    func testWrongFieldCountNamesFileAndLine() throws {
        var reader = try CSVReader(string: "a,b\n1,2\n1,2,3\n", fileName: "accounts.csv")
        XCTAssertNotNil(try reader.nextRecord())
        XCTAssertThrowsError(try reader.nextRecord()) { error in
            let error = error as? DataFileError
            XCTAssertEqual(error?.code, .csvFieldCount)
            XCTAssertEqual(error?.line, 3)
            XCTAssertEqual(error?.description, "accounts.csv:3: row has 3 fields, header has 2")
        }
    }

    func testReadingContinuesAfterAWrongFieldCount() throws {
        var reader = try CSVReader(string: "a,b\n1,2\n9\n3,4\n5,6,7\n8,9\n")
        XCTAssertEqual(
            outcomes(&reader),
            [
                .record(["1", "2"], line: 2), .failure(.csvFieldCount, line: 3), .record(["3", "4"], line: 4),
                .failure(.csvFieldCount, line: 5), .record(["8", "9"], line: 6),
            ])
    }

    func testLineNumbersCountNewlinesInsideEarlierQuotedFields() throws {
        let text = "id,note\r\n1,\"two\r\nline\"\r\n2,\"three\nline\nnote\"\n3\n4,ok\n"
        var reader = try CSVReader(string: text)
        XCTAssertEqual(
            outcomes(&reader),
            [
                .record(["1", "two\r\nline"], line: 2), .record(["2", "three\nline\nnote"], line: 4),
                .failure(.csvFieldCount, line: 7), .record(["4", "ok"], line: 8),
            ])
    }

    func testUnterminatedQuoteNamesTheLineWhereTheQuoteOpens() throws {
        var reader = try CSVReader(string: "a,b\n1,2\n3,\"open\nmore\n", fileName: "x.csv")
        XCTAssertEqual(outcomes(&reader), [.record(["1", "2"], line: 2), .failure(.csvUnterminatedQuote, line: 3)])
    }

    func testQuoteInsideUnquotedFieldIsAnErrorAndReadingContinues() throws {
        var reader = try CSVReader(string: "a,b\n1,ab\"c\n2,ok\n")
        XCTAssertEqual(
            outcomes(&reader), [.failure(.csvQuoteInUnquotedField, line: 2), .record(["2", "ok"], line: 3)])
    }

    func testTextAfterClosingQuoteIsAnErrorAndReadingContinues() throws {
        var reader = try CSVReader(string: "a,b\n1,\"ab\"c\n2,ok\n")
        XCTAssertEqual(
            outcomes(&reader), [.failure(.csvTextAfterClosingQuote, line: 2), .record(["2", "ok"], line: 3)])
    }

    func testInvalidUTF8NamesTheLine() throws {
        var bytes = Data("a,b\n1,2\n\"multi\nline\",".utf8)
        bytes.append(contentsOf: [0x66, 0xC3, 0x28])  // "f" then a broken two-byte sequence
        bytes.append(contentsOf: Data("\n3,4\n".utf8))
        var reader = try CSVReader(data: bytes, fileName: "bad.csv")
        XCTAssertEqual(
            outcomes(&reader),
            [.record(["1", "2"], line: 2), .failure(.invalidUTF8, line: 4), .record(["3", "4"], line: 5)])
    }

    func testTruncatedMultiByteSequenceAtEndOfFileIsInvalidUTF8() throws {
        var reader = try CSVReader(data: Data("a\nx".utf8) + Data([0xE2, 0x82]))
        XCTAssertEqual(outcomes(&reader), [.failure(.invalidUTF8, line: 2)])
    }

    func testErrorsAreFoundAcrossTinyChunks() throws {
        let text = "id,note\n1,\"a\nb\"\n2\n3,\"c\"\"d\"\n4,\"open\n"
        var reader = try CSVReader(string: text, options: .init(chunkSize: 4))
        XCTAssertEqual(
            outcomes(&reader),
            [
                .record(["1", "a\nb"], line: 2), .failure(.csvFieldCount, line: 4), .record(["3", "c\"d"], line: 5),
                .failure(.csvUnterminatedQuote, line: 6),
            ])
    }
}
