import CSQLiteShims
import EntityModel
import Foundation
import GRDB
import XCTest

@testable import EntityStore

/// Change reads go through a memory mapping of the store file, which the VFS trims when the
/// pages it has mapped grow the resident set too far (Sources/CSQLiteShims/wal_merge_vfs.c,
/// `EntityStore.mapFile`).
final class MappedReadTests: XCTestCase {
    private let rows = 3000

    /// With a tiny limit the mapping is trimmed again and again while pages of changes are read:
    /// every row still arrives once, with its values intact.
    func test_changeReadsThroughATrimmedMappingDeliverEveryRowIntact() throws {
        let path = try storeWithLongRows()
        cdsync_set_mapped_read_limit(64 * 1024, 8)
        defer { cdsync_set_mapped_read_limit(128 * 1024 * 1024, 1024) }
        let store = try EntityStore(path: path)
        defer { try? store.close() }
        let trimsBefore = cdsync_mapped_read_trims()

        var seen: [String: String] = [:]
        var cookie: String?
        repeat {
            let page = try store.changes(ChangesRequest(entity: "account", columns: ["accountnumber", "description"],
                                                        pageSize: 500, pagingCookie: cookie))
            for case .newOrUpdated(let record) in page.changes {
                guard case .string(let number)? = record.fields["accountnumber"],
                      case .string(let description)? = record.fields["description"] else {
                    return XCTFail("a row came without its values: \(record.fields)")
                }
                XCTAssertNil(seen.updateValue(description, forKey: number), "\(number) delivered twice")
            }
            cookie = page.moreRecords ? page.pagingCookie : nil
        } while cookie != nil

        XCTAssertEqual(seen.count, rows)
        for number in [0, 1, 1234, rows - 1] {
            XCTAssertEqual(seen["M\(number)"], Self.description(number), "M\(number)")
        }
        XCTAssertEqual(seen.filter { $0.value != Self.description(Int($0.key.dropFirst())!) }.count, 0, "rows read back differ")
        XCTAssertGreaterThan(cdsync_mapped_read_trims(), trimsBefore, "the mapping should have been trimmed while reading")
    }

    /// The mapping is on only while a page of changes is read: writes after it read pages the
    /// usual way, and what they wrote is what the next change read returns.
    func test_theMappingIsOffAfterAChangeReadAndWritesThenReadBack() throws {
        let path = try storeWithLongRows()
        let store = try EntityStore(path: path)
        defer { try? store.close() }
        let token = try XCTUnwrap(try store.changes(ChangesRequest(entity: "account", tokenOnly: true)).dataToken)
        _ = try store.changes(ChangesRequest(entity: "account", columns: ["description"], pageSize: 100))
        XCTAssertEqual(try store.queue.read { db in try Int.fetchOne(db, sql: "PRAGMA mmap_size") }, 0)

        let shape = RowShape(keyColumns: ["accountnumber"], fieldColumns: ["description"])
        _ = try store.execute(.upsertRow(RowUpsert(entity: "account", shape: shape, keyValues: [.string("M7")],
                                                   values: [.string("changed")], mode: .createOrUpdate)))
        let page = try store.changes(ChangesRequest(entity: "account", columns: ["accountnumber", "description"], token: token))
        let changed = page.changes.compactMap { change -> String? in
            guard case .newOrUpdated(let record) = change, case .string(let text)? = record.fields["description"] else { return nil }
            return text
        }
        XCTAssertEqual(changed, ["changed"])
    }

    private static func description(_ number: Int) -> String {
        String(repeating: String(UnicodeScalar(UInt8(65 + number % 26))), count: 900 + number % 600) + "#\(number)"
    }

    /// A store file holding `rows` accounts of 1–2 KB each, checkpointed into the file (pages
    /// still in the log are read with system calls, not through the mapping).
    private func storeWithLongRows() throws -> String {
        let path = try temporaryStorePath()
        try writeAccounts(to: path, count: rows, prefix: "M", description: Self.description)
        return path
    }
}
