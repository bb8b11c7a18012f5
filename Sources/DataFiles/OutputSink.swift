#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A byte buffer that writers append to, flushed to a file descriptor in large writes
/// (or kept whole, for in-memory writers).
final class OutputSink {
    /// Bytes appended since the last flush (for in-memory sinks: everything written).
    var pending: [UInt8] = []
    let fileName: String
    private var descriptor: Int32?
    private let isInMemory: Bool
    private(set) var isClosed = false
    private let flushThreshold: Int

    /// Creates (or truncates) the file at `path`.
    init(path: String, flushThreshold: Int = 256 * 1024) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DataFileError(
                code: .openFailed, file: path,
                message: "cannot open for writing: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.fileName = path
        self.isInMemory = false
        self.flushThreshold = flushThreshold
        pending.reserveCapacity(flushThreshold + 4096)
    }

    /// Creates a sink that keeps all bytes in memory.
    init(inMemoryName: String) {
        self.descriptor = nil
        self.fileName = inMemoryName
        self.isInMemory = true
        self.flushThreshold = Int.max
    }

    /// Best effort: a writer dropped without `close()` still gets its bytes written.
    deinit {
        try? close()
    }

    /// Throws if the sink was closed; call before appending.
    func checkOpen() throws {
        if isClosed {
            throw DataFileError(code: .writerClosed, file: fileName, message: "write after close()")
        }
    }

    /// Flushes when the buffer has grown past the threshold.
    func flushIfFull() throws {
        if pending.count >= flushThreshold { try flush() }
    }

    /// Writes all pending bytes to the file (no-op for in-memory sinks).
    func flush() throws {
        guard let descriptor, !pending.isEmpty else { return }
        try pending.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw DataFileError(
                        code: .writeFailed, file: fileName,
                        message: "write failed: \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file; later writes fail. Closing twice is allowed.
    func close() throws {
        guard !isClosed else { return }
        isClosed = true
        guard let descriptor else { return }
        var failure: Error?
        do { try flush() } catch { failure = error }
        self.descriptor = nil
        pending = []
        if systemClose(descriptor) != 0 && failure == nil {
            failure = DataFileError(
                code: .writeFailed, file: fileName,
                message: "close failed: \(String(cString: strerror(errno)))")
        }
        if let failure { throw failure }
    }

    /// The bytes written to an in-memory sink.
    var memoryContents: [UInt8] { isInMemory ? pending : [] }
}

/// The platform's close(2), named apart from `OutputSink.close()`.
private func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
