@testable import DataFiles
import XCTest

/// A source that hands out at most `most` bytes per read, as a pipe does (64 KiB).
private final class TrickleSource: ByteSource {
    let fileName = "pipe.csv"
    private let bytes: [UInt8]
    private var offset = 0
    private let most: Int
    init(_ text: String, most: Int) {
        bytes = Array(text.utf8)
        self.most = most
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, most, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        return count
    }
}

final class CSVReaderLimitsTests: XCTestCase {
    /// A large record arriving a pipe's 64 KiB at a time is scanned a bounded number of times
    /// over (it is read on until it has doubled before the next scan), not once per read.
    func test_aLargeRecordFromAPipeIsScannedInTimeLinearInItsLength() throws {
        let field = String(repeating: "x", count: 8 << 20)
        let text = "a,b\n1,\"\(field)\"\n2,3\n"
        var reader = try CSVReader(source: TrickleSource(text, most: 64 << 10), options: .init())
        XCTAssertEqual(try reader.nextRecord()?.fields, ["1", field])
        XCTAssertEqual(try reader.nextRecord()?.fields, ["2", "3"])
        XCTAssertNil(try reader.nextRecord())
        XCTAssertLessThan(reader.scannedBytes, 4 * text.utf8.count, "scanned \(reader.scannedBytes) bytes of \(text.utf8.count)")
    }

    /// A record longer than the limit (a quote left open) ends the file with an error naming
    /// the line it starts on, instead of holding the rest of the file in memory.
    func test_aRecordLongerThanTheLimitEndsTheFileWithAnError() throws {
        let rest = (0..<2_000).map { "\($0),row \($0)\n" }.joined()
        var options = CSVReader.Options(chunkSize: 1024)
        options.maximumRecordBytes = 16 * 1024
        var reader = try CSVReader(string: "a,b\n1,ok\n2,\"oops\n" + rest, fileName: "q.csv", options: options)
        XCTAssertEqual(try reader.nextRecord()?.fields, ["1", "ok"])
        XCTAssertThrowsError(try reader.nextRecord()) { error in
            let error = error as? DataFileError
            XCTAssertEqual(error?.code, .csvRecordTooLong)
            XCTAssertEqual(error?.line, 3)
            XCTAssertTrue(error?.message.contains("16384 bytes") ?? false, error?.message ?? "")
        }
        XCTAssertNil(try reader.nextRecord(), "the rest of the file is not read")
    }
}
