import DataFiles
import Foundation
import XCTest

/// A small deterministic generator (SplitMix64) so the generated files are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Builds a field that exercises quoting, embedded line breaks and multi-byte characters.
func makeField(_ generator: inout SeededGenerator) -> String {
    let pieces = [
        "plain", "with,comma", "say \"hi\"", "line\nbreak", "crlf\r\nbreak", "Zürich", "Dvořák", "İstanbul", "Łódź",
        "", " spaced ", "😀 emoji", "\"", ",", "tab\there",
    ]
    var field = ""
    for _ in 0..<Int.random(in: 0...4, using: &generator) {
        field += pieces.randomElement(using: &generator)!
    }
    // Occasionally a long field, so some records are larger than small chunks.
    if Int.random(in: 0..<500, using: &generator) == 0 {
        field += String(repeating: "long-Ø-", count: Int.random(in: 100...2_000, using: &generator))
    }
    return field
}

/// Counts the physical lines a field's line breaks add (CRLF, LF or a lone CR each count once).
func lineBreaks(in field: String) -> Int {
    let bytes = Array(field.utf8)
    var count = 0
    for (index, byte) in bytes.enumerated() {
        let isLoneCarriageReturn = byte == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A)
        if byte == 0x0A || isLoneCarriageReturn { count += 1 }
    }
    return count
}

final class CSVStreamingTests: XCTestCase {
    func testFiftyThousandRowsRoundTripThroughAFileAcrossChunkBoundaries() throws {
        var generator = SeededGenerator(state: 42)
        let header = (1...6).map { "column\($0)" }
        let rows = (0..<50_000).map { _ in (0..<6).map { _ in makeField(&generator) } }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("datafiles-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }

        let writer = try CSVWriter(path: path)
        try writer.writeRow(header)
        for row in rows { try writer.writeRow(row) }
        try writer.close()

        for chunkSize in [4_093, 256 * 1024] {
            var reader = try CSVReader(path: path, options: .init(chunkSize: chunkSize))
            XCTAssertEqual(reader.header.names, header)
            var expectedLine = 2
            for (index, row) in rows.enumerated() {
                let record = try XCTUnwrap(reader.nextRecord(), "row \(index)")
                XCTAssertEqual(record.fields, row, "row \(index), chunk size \(chunkSize)")
                XCTAssertEqual(record.line, expectedLine, "row \(index), chunk size \(chunkSize)")
                expectedLine += 1 + row.reduce(0) { $0 + lineBreaks(in: $1) }
                if record.fields != row { return }
            }
            XCTAssertNil(try reader.nextRecord())
        }
    }

    func testEveryChunkSizeGivesTheSameRecords() throws {
        var text = "\u{FEFF}id,name,note\r\n"
        text += "1,Zürich,\"a, \"\"b\"\"\r\nc\"\r\n2,,\"\"\r\n\r\n3,Dvořák,\"😀\n\"\n4,Łódź,x\r"
        var reference = try CSVReader(string: text)
        let expected = try reference.readAll()
        XCTAssertEqual(expected.count, 4)
        XCTAssertEqual(reference.header.names, ["id", "name", "note"])
        for chunkSize in 1...24 {
            var reader = try CSVReader(string: text, options: .init(chunkSize: chunkSize))
            XCTAssertEqual(reader.header.names, ["id", "name", "note"], "chunk size \(chunkSize)")
            let records = try reader.readAll()
            XCTAssertEqual(records.map(\.fields), expected.map(\.fields), "chunk size \(chunkSize)")
            XCTAssertEqual(records.map(\.line), [2, 4, 6, 8], "chunk size \(chunkSize)")
        }
    }
}
