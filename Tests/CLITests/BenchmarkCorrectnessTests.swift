import Foundation
import XCTest

/// The benchmark's correctness check at a small N: the whole runner (generator, phases,
/// answer-key check) through the real binary, in both of its ways of running the phases.
/// Timings are reported, never asserted.
final class BenchmarkCorrectnessTests: XCTestCase {
    /// The default: delta and delete as one nightly run (the delete reuses the keys the
    /// delta's upserts collected), its close reported apart, then the extract.
    func test_benchmarkAtSmallNMatchesTheAnswerKey() throws {
        let (text, results) = try runBenchmark(environment: [:])
        XCTAssertTrue(text.contains("expected 250, matched 250, missing 0, extra 0, wrong op 0"), text)
        XCTAssertEqual(phases(results), ["reference", "initial", "delta", "delete", "close", "extract"])
        XCTAssertTrue(results.contains("\"phase\": \"delete\", \"rows\": 2010,"), results)
        XCTAssertTrue(results.contains("\"phase\": \"extract\", \"rows\": 250,"), results)
    }

    /// BENCH_SPLIT=1: each phase a run of its own (the delete reads the export's keys again).
    func test_benchmarkWithEachPhaseARunOfItsOwnMatchesTheAnswerKey() throws {
        let (text, results) = try runBenchmark(environment: ["BENCH_SPLIT": "1"])
        XCTAssertTrue(text.contains("expected 250, matched 250, missing 0, extra 0, wrong op 0"), text)
        XCTAssertEqual(phases(results), ["reference", "initial", "delta", "delete", "extract"])
        XCTAssertTrue(results.contains("\"phase\": \"extract\", \"rows\": 250,"), results)
    }

    private func runBenchmark(environment: [String: String]) throws -> (output: String, results: String) {
        let out = try temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CLIRunner.root.appendingPathComponent("scripts/bench/run").path, "2000", "7"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            environment.merging(["CDSYNC": try CLIRunner.binary().path, "OUT": out.path]) { _, new in new }) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        return (text, try String(contentsOf: out.appendingPathComponent("results.jsonl"), encoding: .utf8))
    }

    private func phases(_ results: String) -> [String] {
        results.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["phase"] as? String
        }
    }
}
