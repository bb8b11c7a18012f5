import EntityModel
import EntityStore
import Foundation
import SyncHost
import XCTest

/// A fresh in-memory store with an entity holding every column type.
func makeStore() throws -> EntityStore {
    let store = try EntityStore(path: nil)
    try store.applySchemaFile("""
        entities:
          - name: new_item
            primary_name: new_name
            attributes:
              - { name: new_name, type: string, max_length: 20 }
              - { name: new_code, type: string, max_length: 20 }
              - { name: new_count, type: integer }
              - { name: new_price, type: decimal, precision: 4 }
              - { name: new_total, type: money }
              - { name: new_ratio, type: float }
              - { name: new_flag, type: boolean }
              - { name: new_when, type: datetime }
              - { name: new_kind, type: choice, options: [ { value: 1, label: A }, { value: 2, label: B } ] }
              - { name: new_accountid, type: lookup, targets: [account] }
            keys:
              - { name: ak_code, columns: [new_code] }
        """)
    return store
}

/// Runs script text on a store; fails the test with the error when `expectSuccess` and it fails.
@discardableResult
func runScript(_ source: String, store: EntityStore, options: RunOptions = RunOptions(), expectSuccess: Bool = true,
               file: StaticString = #filePath, line: UInt = #line) throws -> RunReport {
    let host = try ScriptHost(service: store, tokens: store, options: options)
    let report = host.run(source: source, chunkName: "job.lua")
    if expectSuccess && report.outcome != .succeeded {
        XCTFail("script failed: \(report.error ?? "?")", file: file, line: line)
    }
    return report
}

/// A temporary directory removed at the end of the test.
extension XCTestCase {
    /// A fresh temporary directory, removed when the test ends, whether it passed or failed.
    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdsync-host-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }
}

/// Run options with the project's stdlib/ on the module path (`require("cdsync.mirror")`).
func stdlibOptions() -> RunOptions {
    var options = RunOptions()
    options.modulePaths = [repositoryRoot.appendingPathComponent("stdlib").path]
    return options
}

/// The repository root (for stdlib/ and examples/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
