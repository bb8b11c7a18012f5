/// A failure of Lua code run by the host, with everything known about where and why.
public struct LuaScriptError: Error, Sendable, Equatable {
    /// Why the script stopped.
    public enum Kind: String, Sendable {
        /// A runtime error raised by the script or a binding.
        case runtime
        /// The source failed to compile (or was not text).
        case syntax
        /// The memory limit was reached (`LUA_ERRMEM`).
        case memory
        /// The timeout set with `setTimeout` expired.
        case timeout
        /// `interrupt()` or a SIGINT/SIGTERM stopped the script.
        case interrupted
    }

    /// Why the script stopped.
    public var kind: Kind
    /// The message without the traceback (for table errors, the `message` field or a description).
    public var message: String
    /// The Lua stack traceback, when one was available.
    public var traceback: String?
    /// The `code` field of a table error object.
    public var code: String?
    /// The `key` field of a table error object.
    public var key: String?
    /// All string, number and boolean fields of a table error object, as strings.
    public var fields: [String: String]
    /// The chunk name of the failing line, if known.
    public var chunk: String?
    /// The script line, if known.
    public var line: Int?

    /// Creates an error value.
    public init(
        kind: Kind, message: String, traceback: String? = nil, code: String? = nil, key: String? = nil,
        fields: [String: String] = [:], chunk: String? = nil, line: Int? = nil
    ) {
        self.kind = kind
        self.message = message
        self.traceback = traceback
        self.code = code
        self.key = key
        self.fields = fields
        self.chunk = chunk
        self.line = line
    }
}

extension LuaScriptError: CustomStringConvertible {
    /// The message, with the code in brackets when there is one.
    public var description: String {
        code.map { "\(message) [\($0)]" } ?? message
    }
}

extension LuaScriptError {
    /// Splits "message\nstack traceback:\n..." into its two parts.
    static func splitTraceback(_ text: String) -> (message: String, traceback: String?) {
        let marker = Array("\nstack traceback:\n".utf8)
        let bytes = Array(text.utf8)
        guard bytes.count >= marker.count else { return (text, nil) }
        for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
            if bytes[start..<(start + marker.count)].elementsEqual(marker) {
                let message = String(decoding: bytes[..<start], as: UTF8.self)
                return (message, String(decoding: bytes[(start + 1)...], as: UTF8.self))
            }
        }
        return (text, nil)
    }

    /// Parses a leading "chunk:LINE:" (or a bare "chunk:LINE") into its parts.
    static func parseLocation(_ text: String) -> (chunk: String, line: Int)? {
        let bytes = Array(text.utf8.prefix(4096))
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: ":") else {
                if bytes[index] == UInt8(ascii: "\n") { return nil }
                index += 1
                continue
            }
            var end = index + 1
            var line = 0
            while end < bytes.count, bytes[end] >= 48, bytes[end] <= 57, line < 100_000_000 {
                line = line * 10 + Int(bytes[end] - 48)
                end += 1
            }
            let terminated = end == bytes.count || bytes[end] == UInt8(ascii: ":")
            if end > index + 1, terminated, index > 0 {
                return (String(decoding: bytes[..<index], as: UTF8.self), line)
            }
            index += 1
        }
        return nil
    }
}
