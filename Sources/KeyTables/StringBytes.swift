extension String {
    /// Calls `body` with the string's UTF-8 bytes, read where the string keeps them. (`withUTF8`
    /// needs a `var`, and so a copy of the string, retained and released, at every call: on the
    /// write path that is several per value of every row.)
    @inlinable
    public func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable({ try body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
