#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A window over a byte source: `bytes[start..<end]` is read but not yet consumed.
///
/// Readers scan the window and, when a record runs past `end`, call `refill()`, which
/// moves the unconsumed tail to the front and reads the next chunk after it. The storage
/// only grows when a single record is larger than the whole buffer.
struct ChunkBuffer {
    private(set) var storage: [UInt8]
    /// Index of the first unconsumed byte.
    var start = 0
    /// Index one past the last byte read.
    private(set) var end = 0
    /// True once the source has reported end of input.
    private(set) var isAtEndOfInput = false
    private let source: any ByteSource

    /// The name used in error messages.
    var fileName: String { source.fileName }

    init(source: any ByteSource, chunkSize: Int) {
        self.source = source
        self.storage = [UInt8](repeating: 0, count: max(chunkSize, 4))
    }

    /// Reads more bytes after `end`; returns false (and sets `isAtEndOfInput`) at end of input.
    mutating func refill() throws -> Bool {
        if isAtEndOfInput { return false }
        compact()
        if end == storage.count {
            storage.append(contentsOf: repeatElement(0, count: storage.count))
        }
        let end = self.end
        let count = try storage.withUnsafeMutableBytes { raw in
            try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        if count == 0 {
            isAtEndOfInput = true
            return false
        }
        self.end += count
        return true
    }

    /// Refills until at least `count` bytes are unconsumed or the input ends (one refill when
    /// `count` is already met); returns false when the first refill found the end of input.
    mutating func refill(toAtLeast count: Int) throws -> Bool {
        guard try refill() else { return false }
        while end - start < count, try refill() {}
        return true
    }

    /// Drops what is unconsumed and reads nothing more: the input is finished.
    mutating func discardToEnd() {
        start = 0
        end = 0
        isAtEndOfInput = true
    }

    /// Skips a UTF-8 byte order mark at the very start of the input.
    mutating func skipByteOrderMark() throws {
        while end - start < 3, try refill() {}
        if end - start >= 3 && storage[start] == 0xEF && storage[start + 1] == 0xBB && storage[start + 2] == 0xBF {
            start += 3
        }
    }

    private mutating func compact() {
        guard start > 0 else { return }
        let length = end - start
        if length > 0 {
            let start = self.start
            storage.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, length)
            }
        }
        start = 0
        end = length
    }
}
