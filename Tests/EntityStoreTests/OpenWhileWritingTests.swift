import EntityModel
import EntityStore
import Foundation
import XCTest

/// Opening a store that is set up needs no write lock: a run holding a write transaction
/// (group commit keeps one open nearly all the time) must not keep others from opening it.
final class OpenWhileWritingTests: XCTestCase {
    func test_aSetUpStoreOpensAndReadsWhileAnotherConnectionHoldsAWriteTransaction() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdsync-open-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.db").path
        let writer = try EntityStore(path: path)
        try writer.createAccount("A1")
        _ = try writer.execute(.delete(account("A1"), ifVersion: nil))  // a fresh tombstone: nothing to purge
        try writer.beginRunTransaction()
        try writer.createAccount("A2")  // inside the open transaction: not visible to others yet
        let started = Date()
        let reader = try EntityStore(path: path)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "opening waited for the writer's lock")
        XCTAssertEqual(try reader.count("account"), 0)
        try writer.endRunTransaction(commit: true)
        XCTAssertEqual(try reader.count("account"), 1)
        try reader.close()
        try writer.close()
    }
}
