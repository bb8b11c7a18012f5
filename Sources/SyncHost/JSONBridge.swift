import DataFiles
import EntityModel
import Foundation
import LuaKit

/// Lua values ↔ JSON values. Integers stay integers; other JSON numbers become exact
/// `cds.decimal` values (never floats); decimals are written as exact JSON numbers.
enum JSONBridge {
    /// How deep a value may nest to be written: as deep as the readers read (`json.decode`,
    /// `json.lines`), so what a script reads it can write back.
    static let maxDepth = JSONValue.defaultMaxDepth

    /// The JSON form of the Lua value at `index`.
    static func json(_ ctx: LuaCallContext, at index: Int32, depth: Int) throws -> JSONValue {
        guard depth < maxDepth else { throw LuaError.message("value nested deeper than \(maxDepth) levels cannot be written as JSON") }
        switch ctx.type(at: index) {
        case .nil, .none: return .null
        case .boolean: return .bool(ctx.isTruthy(at: index))
        case .string: return .string(try validText(ctx, at: index))
        case .number:
            if ctx.isInteger(at: index), let integer = ctx.integer(at: index) { return .number(String(integer)) }
            let number = ctx.number(at: index) ?? 0
            guard number.isFinite else { throw LuaError.message("\(number) cannot be written as JSON") }
            return .number(String(number))
        case .userdata:
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return .number(decimal.description) }
            if let reference = ctx.object(at: index, as: ReferenceObject.self) { return .string(reference.reference.id?.description ?? reference.reference.keyDescription) }
            if ctx.object(at: index, as: NullObject.self) != nil { return .null }
        case .table:
            return try table(ctx, at: ctx.absolute(index), depth: depth)
        default: break
        }
        throw LuaError.message("a \(ctx.typeName(at: index)) cannot be written as JSON")
    }

    /// What JSON a Lua table is: no entries is `{}`; positions 1…n only is an array; string
    /// keys only is an object. `member` gets each string key's entry in `lua_next` order.
    private enum TableForm {
        case empty
        case array(length: Int64)
        case object
    }

    /// Walks a table's entries, handing string keys to `member`, and says which `TableForm` it is.
    /// - Throws: `LuaError.message` for keys that are neither strings nor array positions, and
    ///   for tables mixing the two; what `member` throws.
    private static func walkTable(_ ctx: LuaCallContext, at index: Int32,
                                  member: (_ key: Int32, _ value: Int32) throws -> Void) throws -> TableForm {
        let length = ctx.rawLength(of: index)
        var count = 0, members = 0
        try ctx.forEachEntry(in: index) { key, value in
            count += 1
            if ctx.type(at: key) == .string {
                members += 1
                try member(key, value)
            } else if !(ctx.isInteger(at: key) && (1...max(length, 1)).contains(ctx.integer(at: key) ?? 0)) {
                throw LuaError.message("JSON object keys must be strings")
            }
        }
        if count == 0 { return .empty }
        if members == 0 && count == Int(length) { return .array(length: length) }
        guard members == count else { throw LuaError.message("a table mixing array items and named fields cannot be written as JSON") }
        return .object
    }

    private static func table(_ ctx: LuaCallContext, at index: Int32, depth: Int) throws -> JSONValue {
        var members: [(String, JSONValue)] = []
        switch try walkTable(ctx, at: index, member: { key, value in
            members.append((try validText(ctx, at: key), try json(ctx, at: value, depth: depth + 1)))
        }) {
        case .empty:
            return .object([])
        case .array(let length):
            var items: [JSONValue] = []
            for position in 1...length {
                _ = ctx.pushIndex(position, in: index)
                defer { ctx.pop() }
                items.append(try json(ctx, at: -1, depth: depth + 1))
            }
            return .array(items)
        case .object:
            return .object(members.sorted { $0.0 < $1.0 })
        }
    }

    /// Appends the JSON text of the Lua value at `index`: the same text as serializing
    /// `json(ctx, at:depth:)`, and the same errors, without building the `JSONValue` tree or a
    /// Swift string per text (`json.writer`'s hot path: a line per record).
    /// `scratch`, when given, holds the buffers a top-level object is built in, kept from line to line.
    static func write(_ ctx: LuaCallContext, at index: Int32, depth: Int, into output: inout [UInt8],
                      scratch: JSONWriteScratch? = nil) throws {
        guard depth < maxDepth else { throw LuaError.message("value nested deeper than \(maxDepth) levels cannot be written as JSON") }
        switch ctx.type(at: index) {
        case .nil, .none: output.append(contentsOf: "null".utf8)
        case .boolean: output.append(contentsOf: (ctx.isTruthy(at: index) ? "true" : "false").utf8)
        case .string:
            guard let bytes = ctx.stringBytes(at: index) else { break }
            guard JSONText.isValidUTF8(bytes) else { throw invalidText() }
            JSONText.appendString(bytes, to: &output)
        case .table:
            if let scratch {
                try scratch.withBuffers { text, members in
                    try writeTable(ctx, at: ctx.absolute(index), depth: depth, into: &output, scratch: &text, members: &members, order: scratch)
                }
            } else {
                var text: [UInt8] = [], members: [(key: Range<Int>, value: Range<Int>)] = []
                text.reserveCapacity(512)
                members.reserveCapacity(16)
                try writeTable(ctx, at: ctx.absolute(index), depth: depth, into: &output, scratch: &text, members: &members, order: nil)
            }
        default:
            // numbers and userdata: few per line, so their text comes from json() itself
            try appendScalar(try json(ctx, at: index, depth: depth), into: &output)
        }
    }

    private static func appendScalar(_ value: JSONValue, into output: inout [UInt8]) throws {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .string(let text): JSONText.appendString(text, to: &output)
        case .number(let text):
            guard JSONText.isValidNumber(text) else { throw DataFileError(code: .jsonInvalidNumber, file: "<line>", message: "'\(text)' is not a valid JSON number") }
            output.append(contentsOf: text.utf8)
        case .array, .object:
            output.append(contentsOf: try value.serializedData())
        }
    }

    /// A table as `table(ctx:at:depth:)` reads it: an object with its members in key order
    /// (each member's text made in `lua_next` order, as `table` converts them), or an array.
    /// `scratch` and `members` come empty; `order`, when given, remembers the last object's
    /// keys and their sorted order, which the next object with the same keys in the same
    /// `lua_next` order (a loop's table constructor) reuses instead of sorting.
    private static func writeTable(_ ctx: LuaCallContext, at index: Int32, depth: Int, into output: inout [UInt8],
                                   scratch: inout [UInt8], members: inout [(key: Range<Int>, value: Range<Int>)],
                                   order: JSONWriteScratch?) throws {
        // members: key text and value text, side by side in one scratch buffer
        var ascii = true
        let form = try walkTable(ctx, at: index) { key, value in
            let keyStart = scratch.count
            if let bytes = ctx.stringBytes(at: key) {
                if !bytes.allSatisfy({ $0 < 0x80 }) {
                    guard JSONText.isValidUTF8(bytes) else { throw invalidText() }
                    ascii = false
                }
                scratch.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
            }
            let valueStart = scratch.count
            try write(ctx, at: value, depth: depth + 1, into: &scratch)
            members.append((keyStart..<valueStart, valueStart..<scratch.count))
        }
        switch form {
        case .empty:
            output.append(contentsOf: "{}".utf8)
            return
        case .array(let length):
            output.append(UInt8(ascii: "["))
            for position in 1...length {
                if position > 1 { output.append(UInt8(ascii: ",")) }
                _ = ctx.pushIndex(position, in: index)
                defer { ctx.pop() }
                try write(ctx, at: -1, depth: depth + 1, into: &output)
            }
            output.append(UInt8(ascii: "]"))
            return
        case .object:
            break
        }
        scratch.withUnsafeBytes { text in
            let keyText = { (member: (key: Range<Int>, value: Range<Int>)) in String(decoding: text[member.key], as: UTF8.self) }
            // the members' positions in key order
            let sorted: [Int]
            if !ascii {
                sorted = members.indices.sorted { keyText(members[$0]) < keyText(members[$1]) }
            } else if let order, order.hasSameKeys(members, keys: text) {
                // the remembered keys: their text is ready, in order, with its punctuation
                order.appendObject(members, values: text, into: &output)
                return
            } else {
                // ASCII keys sort the same by bytes as Swift strings do
                sorted = members.indices.sorted { first, second in
                    let left = members[first].key, right = members[second].key
                    let common = min(left.count, right.count)
                    let order = common == 0 ? 0 : memcmp(text.baseAddress! + left.lowerBound, text.baseAddress! + right.lowerBound, common)
                    return order != 0 ? order < 0 : left.count < right.count
                }
                order?.remember(members, keys: text, sorted: sorted)
            }
            output.append(UInt8(ascii: "{"))
            for (position, memberIndex) in sorted.enumerated() {
                let member = members[memberIndex]
                if position > 0 { output.append(UInt8(ascii: ",")) }
                if ascii {
                    JSONText.appendString(UnsafeRawBufferPointer(rebasing: text[member.key]), to: &output)
                } else {
                    JSONText.appendString(keyText(member), to: &output)
                }
                output.append(UInt8(ascii: ":"))
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[member.value]).assumingMemoryBound(to: UInt8.self))
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Pushes a JSON value as Lua (objects and arrays become tables; a null member of an object
    /// is left out, and a null item of an array is `cds.null`, so the items after it keep their
    /// positions and `#` counts them all).
    /// - Throws: `LuaError.message` when Lua's stack cannot hold the nesting (each level of a
    ///   nested array or object holds a slot while its members are pushed).
    static func push(_ ctx: LuaCallContext, _ value: JSONValue) throws {
        guard ctx.reserve(3) else { throw LuaError.message("the JSON value is nested too deeply for Lua's stack") }
        switch value {
        case .null: ctx.pushNil()
        case .bool(let flag): ctx.push(flag)
        case .string(let text): ctx.push(text)
        case .number(let text):
            if let integer = Int64(text) { ctx.push(integer) } else { ctx.push(inline: try exactNumber(text)) }
        case .array(let items):
            let table = ctx.pushNewTable(arrayCapacity: Int32(items.count))
            for (offset, item) in items.enumerated() {
                if case .null = item { CdsModule.pushNull(ctx) } else { try push(ctx, item) }
                ctx.setIndex(Int64(offset + 1), in: table)
            }
        case .object(let members):
            let table = ctx.pushNewTable(fieldCapacity: Int32(members.count))
            for (name, member) in members {
                if case .null = member { continue }
                try push(ctx, member)
                ctx.setField(name, in: table)
            }
        }
    }

    /// A JSON number no Lua integer or exact decimal holds: more significant digits than a
    /// decimal's 18, or a power of ten past what it holds. Read as a float it would come back
    /// altered without a word (an id of 20 digits loses its last ones), so it is an error.
    struct InexactNumber: Error {
        let text: String
        var message: String {
            "the number \(text.count > 40 ? text.prefix(40) + "…" : Substring(text)) cannot be held exactly "
                + "(at most 18 significant digits); write it as a string"
        }
    }

    /// The exact decimal a JSON number that is not an integer holds (`1.5`, `1.5e3`, `-2E-4`).
    /// - Throws: `InexactNumber` when no decimal holds it exactly.
    static func exactNumber(_ text: String) throws -> DecimalNumber {
        let marker = text.firstIndex { $0 == "e" || $0 == "E" }
        let mantissaText = marker.map { String(text[..<$0]) } ?? text
        let exponentText = marker.map { String(text[text.index(after: $0)...]) } ?? "0"
        guard let mantissa = DecimalNumber(mantissaText), let exponent = Int(exponentText), abs(exponent) <= 1_000 else {
            throw InexactNumber(text: text)
        }
        let scale = mantissa.scale - exponent
        if scale >= 0 {
            guard scale <= 100 || mantissa.significand == 0 else { throw InexactNumber(text: text) }
            return DecimalNumber(significand: mantissa.significand, scale: min(scale, 100))
        }
        var significand = mantissa.significand
        for _ in 0..<(-scale) {
            let (product, overflow) = significand.multipliedReportingOverflow(by: 10)
            guard !overflow else { throw InexactNumber(text: text) }
            significand = product
        }
        return DecimalNumber(significand: significand, scale: 0)
    }

    /// The text of the Lua string at `index`, which must be UTF-8: JSON and CSV text holds
    /// nothing else, and repairing it would make different strings (two keys) one.
    static func validText(_ ctx: LuaCallContext, at index: Int32) throws -> String {
        guard let text = ctx.validString(at: index) else { throw invalidText() }
        return text
    }

    static func invalidText() -> LuaError {
        DataFileError.invalidText("a string that is not UTF-8 text cannot be written (convert it first)")
    }

    /// A cell's text for CSV output: strings as is, numbers and decimals as text, nil and
    /// `cds.null` empty, references as JSON writes them (the GUID, else the key).
    /// - Throws: for values a cell cannot hold (tables, functions, NaN and infinities), as
    ///   JSON output refuses them, rather than writing an empty cell in their place.
    static func text(_ ctx: LuaCallContext, at index: Int32) throws -> String {
        switch ctx.type(at: index) {
        case .nil, .none: return ""
        case .string: return try validText(ctx, at: index)
        case .number:
            if ctx.isInteger(at: index), let integer = ctx.integer(at: index) { return String(integer) }
            let number = ctx.number(at: index) ?? 0
            guard number.isFinite else { throw LuaError.message("\(number) cannot be written to a CSV cell") }
            return String(number)
        case .boolean: return ctx.isTruthy(at: index) ? "true" : "false"
        case .userdata:
            if let decimal = ctx.inline(at: index, as: DecimalNumber.self) { return decimal.description }
            if let reference = ctx.object(at: index, as: ReferenceObject.self) {
                return reference.reference.id?.description ?? reference.reference.keyDescription
            }
            if ctx.object(at: index, as: NullObject.self) != nil { return "" }
        default: break
        }
        throw LuaError.message("a \(ctx.typeName(at: index)) cannot be written to a CSV cell")
    }
}

/// Buffers a JSON writer reuses from line to line for its top-level objects, and the keys of
/// the last one with the order sorting them gave: a loop writes tables made by one
/// constructor, whose keys come out of `lua_next` in the same order each time, so they are
/// sorted once. One belongs to one writer, used on its Lua state's thread.
final class JSONWriteScratch {
    private var text: [UInt8] = []
    private var members: [(key: Range<Int>, value: Range<Int>)] = []
    /// The last remembered object's keys, in `lua_next` order, back to back; where each ends.
    private var keys: [UInt8] = []
    private var keyEnds: [Int] = []
    /// Their positions in key order.
    private var sorted: [Int] = []
    /// The keys' text in key order as an object writes it, each with what comes before its
    /// value (`{"a":`, then `,"b":` …), back to back; where each ends.
    private var prefixes: [UInt8] = []
    private var prefixEnds: [Int] = []

    init() {
        text.reserveCapacity(512)
        members.reserveCapacity(16)
    }

    /// Calls `body` with the buffers, empty (a call made while another is in progress gets new ones).
    func withBuffers<R>(_ body: (inout [UInt8], inout [(key: Range<Int>, value: Range<Int>)]) throws -> R) rethrows -> R {
        var text: [UInt8] = [], members: [(key: Range<Int>, value: Range<Int>)] = []
        swap(&text, &self.text)
        swap(&members, &self.members)
        defer {
            text.removeAll(keepingCapacity: true)
            members.removeAll(keepingCapacity: true)
            swap(&text, &self.text)
            swap(&members, &self.members)
        }
        return try body(&text, &members)
    }

    /// True when `members` have exactly the remembered keys in the same order.
    func hasSameKeys(_ members: [(key: Range<Int>, value: Range<Int>)], keys text: UnsafeRawBufferPointer) -> Bool {
        guard members.count == keyEnds.count, !members.isEmpty else { return false }
        return keys.withUnsafeBytes { known -> Bool in
            var start = 0
            for (position, member) in members.enumerated() {
                let end = keyEnds[position]
                guard member.key.count == end - start else { return false }
                if end > start, memcmp(text.baseAddress! + member.key.lowerBound, known.baseAddress! + start, end - start) != 0 { return false }
                start = end
            }
            return true
        }
    }

    /// Appends the object whose members (with the remembered keys, `hasSameKeys`) have their
    /// value text in `values`: the keys in key order, each followed by its value.
    func appendObject(_ members: [(key: Range<Int>, value: Range<Int>)], values: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        prefixes.withUnsafeBufferPointer { prefixes in
            var start = 0
            for (position, memberIndex) in sorted.enumerated() {
                let end = prefixEnds[position]
                output.append(contentsOf: UnsafeBufferPointer(rebasing: prefixes[start..<end]))
                start = end
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: values[members[memberIndex].value]).assumingMemoryBound(to: UInt8.self))
            }
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Remembers `members`' keys (in `text`) and their order.
    func remember(_ members: [(key: Range<Int>, value: Range<Int>)], keys text: UnsafeRawBufferPointer, sorted: [Int]) {
        keys.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        for member in members {
            keys.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[member.key]).assumingMemoryBound(to: UInt8.self))
            keyEnds.append(keys.count)
        }
        self.sorted = sorted
        prefixes.removeAll(keepingCapacity: true)
        prefixEnds.removeAll(keepingCapacity: true)
        for (position, memberIndex) in sorted.enumerated() {
            prefixes.append(UInt8(ascii: position == 0 ? "{" : ","))
            JSONText.appendString(UnsafeRawBufferPointer(rebasing: text[members[memberIndex].key]), to: &prefixes)
            prefixes.append(UInt8(ascii: ":"))
            prefixEnds.append(prefixes.count)
        }
    }
}
