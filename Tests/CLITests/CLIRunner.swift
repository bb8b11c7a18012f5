import Foundation
import XCTest

/// Runs the real `cdsync` binary built by `swift build` (scripts/test builds it first).
struct CLIRunner {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary; the test fails (never skips) when it has not been built.
    static func binary(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        for configuration in ["debug", "release"] {
            let url = root.appendingPathComponent(".build/\(configuration)/cdsync")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        XCTFail("cdsync is not built: run `swift build --product cdsync` (scripts/test does)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs cdsync with arguments in a directory and waits.
    static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Result {
        let process = try start(arguments, in: directory, environment: environment)
        let out = process.standardOutput as! Pipe
        let err = process.standardError as! Pipe
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs a `/bin/sh -c` command line in which `$0` is the cdsync binary, and waits: for
    /// what `Process` arguments cannot give (a pipe into stdin, bytes that are not UTF-8).
    static func shell(_ command: String, in directory: URL) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command, try binary().path]
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts cdsync without waiting.
    static func start(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        try process.run()
        return process
    }

    /// Stops a started process if the test left it running (a failed assertion or a thrown
    /// error): SIGTERM first, so a scheduler stops its run too, then SIGKILL after 10 seconds.
    /// Scripts of these tests loop forever; left alone they would outlive the test run.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Starts `cdsync serve` on a free port with token `t0ken` and returns it with the line it
    /// printed (`listening on http://127.0.0.1:PORT/api/data/v9.2/`).
    static func startServe(in directory: URL, extra: [String] = []) throws -> (server: Process, line: String) {
        let server = try start(["serve", "--db", "served.db", "--port", "0", "--token", "t0ken"] + extra, in: directory)
        let handle = (server.standardOutput as! Pipe).fileHandleForReading
        var data = Data()
        while !data.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
        }
        return (server, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The API root `startServe`'s server listens on.
    static func serveRoot(_ line: String) -> String { String(line.dropFirst("listening on ".count)) }

}

extension XCTestCase {
    /// A fresh temporary directory, removed when the test ends, whether it passed or failed.
    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdsync-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }
}
