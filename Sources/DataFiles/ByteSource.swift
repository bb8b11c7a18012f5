#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a reader's bytes come from: a file descriptor or an in-memory copy.
protocol ByteSource: AnyObject {
    /// The name used in error messages.
    var fileName: String { get }

    /// Reads up to `buffer.count` bytes; returns 0 at end of input.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads a file through read(2), so only one chunk at a time is in memory.
final class FileByteSource: ByteSource {
    let fileName: String
    private let descriptor: Int32

    init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DataFileError(
                code: .openFailed, file: path,
                message: "cannot open for reading: \(String(cString: strerror(errno)))")
        }
        // a directory opens, but every read of it fails: say so here, once
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw DataFileError(code: .openFailed, file: path, message: "cannot open for reading: it is a directory")
        }
        self.descriptor = descriptor
        self.fileName = path
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = systemRead(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw DataFileError(
                code: .readFailed, file: fileName,
                message: "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Serves bytes from memory; used for strings and `Data` (mainly in tests).
final class MemoryByteSource: ByteSource {
    let fileName: String
    private let bytes: [UInt8]
    private var offset = 0

    init(bytes: [UInt8], fileName: String) {
        self.bytes = bytes
        self.fileName = fileName
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            let slice = UnsafeRawBufferPointer(rebasing: source[offset..<offset + count])
            buffer.baseAddress!.copyMemory(from: slice.baseAddress!, byteCount: count)
        }
        offset += count
        return count
    }
}

/// The platform's read(2), named apart from `ByteSource.read(into:)`.
@inline(__always)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
