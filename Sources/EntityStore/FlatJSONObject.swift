import Foundation

/// JSON text of a flat object of strings (`{"accountnumber":"A1"}`), the form the store keeps
/// a deleted record's key in (its tombstone) and a run's tokens in.
///
/// A mirror deletes and a change feed reads thousands of these, and Foundation's coders cost
/// ~5–10 µs each (a coder made, a `Data` copied, a dictionary decoded): the benchmark's
/// extract spent ~45 ms of its store thread decoding 5,000 tombstone keys. Text made only of
/// plain characters (no quote, backslash or control character) is written and read here
/// directly; anything else goes through Foundation's coders, so every JSON text they read is
/// still read the same.
enum FlatJSONObject {
    /// `{"a":"1","b":"2"}`, keys in order; nil only when Foundation's encoder fails.
    static func text(_ object: [String: String]) -> String? {
        if object.allSatisfy({ isPlain($0.key) && isPlain($0.value) }) {
            var text = "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                text += "\"\(key)\":\"\(object[key]!)\""
            }
            return text + "}"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The object `text` holds; nil when it is not a JSON object of string values.
    static func object(_ text: String) -> [String: String]? {
        if let object = plainObject(text) { return object }
        return try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }

    /// True when the string needs no escape in JSON text (nor any from a reader's point of view).
    private static func isPlain(_ string: String) -> Bool {
        string.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
    }

    /// Reads `{"k":"v",…}` (JSON whitespace allowed between tokens) when no string holds an
    /// escape; nil for anything else (escapes, other values, duplicate keys, trailing text),
    /// which `object` then hands to Foundation.
    private static func plainObject(_ text: String) -> [String: String]? {
        var utf8 = Array(text.utf8)[...]
        func skipSpace() {
            while let byte = utf8.first, byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d { utf8 = utf8.dropFirst() }
        }
        func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard utf8.first == byte else { return false }
            utf8 = utf8.dropFirst()
            return true
        }
        func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            guard let end = utf8.firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }),
                  utf8[end] == UInt8(ascii: "\"") else { return nil }
            // (the text is a String, so bytes between two quotes are valid UTF-8)
            let value = String(decoding: utf8[utf8.startIndex..<end], as: UTF8.self)
            utf8 = utf8[(end + 1)...]
            return value
        }
        guard take(UInt8(ascii: "{")) else { return nil }
        var object: [String: String] = [:]
        if take(UInt8(ascii: "}")) {
            skipSpace()
            return utf8.isEmpty ? object : nil
        }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")), let value = string(), object[key] == nil else { return nil }
            object[key] = value
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        return utf8.isEmpty ? object : nil
    }
}
