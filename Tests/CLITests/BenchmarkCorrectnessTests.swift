import Foundation
import XCTest

/// The benchmark's correctness check at a small N: the whole runner (generator, phases,
/// answer-key check) through the real binary. Timings are reported, never asserted.
final class BenchmarkCorrectnessTests: XCTestCase {
    func test_benchmarkAtSmallNMatchesTheAnswerKey() throws {
        let out = try temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CLIRunner.root.appendingPathComponent("scripts/bench/run").path, "2000", "7"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["CDSYNC": try CLIRunner.binary().path, "OUT": out.path]) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("expected 250, matched 250, missing 0, extra 0, wrong op 0"), text)
        let results = try String(contentsOf: out.appendingPathComponent("results.jsonl"), encoding: .utf8)
        let phases = results.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["phase"] as? String
        }
        XCTAssertEqual(phases, ["reference", "initial", "delta", "delete", "extract"])
        XCTAssertTrue(results.contains("\"phase\": \"extract\", \"rows\": 250,"), results)
    }
}
