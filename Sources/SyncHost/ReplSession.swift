import DataFiles
import EntityModel
import Foundation
import LuaKit

/// The Lua side of `cdsync repl`: one sandboxed state with `cds`, `csv`, `json` and the
/// stdlib, fed one statement at a time. Each statement runs in its own store transaction
/// and its writes are sent before it returns, so the next line sees them; a failed or
/// interrupted statement is rolled back as a whole.
public final class ReplSession {
    /// Whether typed text is a whole statement yet.
    public enum Completeness: Equatable, Sendable {
        /// It compiles: run it.
        case complete
        /// It ends inside a function, table, block or long string: read another line.
        case incomplete
    }

    /// What a statement did.
    public enum Outcome: Equatable, Sendable {
        /// It ran; these are its values (none for a statement without a value).
        case values([ReplValue])
        /// It failed (or was interrupted) and was rolled back.
        case failure(ReplFailure)
    }

    /// The chunk name statements run under, as error messages show it.
    public static let chunkName = "repl"

    let host: ScriptHost
    private let evaluator: LuaFunctionRef
    private let taker: LuaFunctionRef
    private let fieldLister: LuaFunctionRef

    /// Opens a Lua state on a service, like `cdsync run` does.
    /// - Throws: `LuaScriptError` or `ServiceError` when the state cannot be set up.
    public init(service: DataService, tokens: TokenStore, options: RunOptions) throws {
        var options = options
        options.onError = .stop
        options.rejectsPath = nil
        options.atomic = false
        options.dryRun = false
        options.showProgress = false
        host = try ScriptHost(service: service, tokens: tokens, options: options)
        _ = try host.lua.run(Self.helperSource, chunkName: "=cdsync.repl")
        evaluator = try host.lua.reference(global: "_cdsync_repl_eval")
        taker = try host.lua.reference(global: "_cdsync_repl_take")
        fieldLister = try host.lua.reference(global: "_cdsync_repl_fields")
        _ = try host.lua.run("_cdsync_repl_eval, _cdsync_repl_take, _cdsync_repl_fields = nil, nil, nil", chunkName: "=cdsync.repl")
    }

    /// A handle that stops the running statement from another thread or a signal handler.
    public var interruptHandle: LuaInterruptHandle { host.lua.interruptHandle }

    /// True once Ctrl-C (SIGINT, after `ScriptHost.installSignalHandlers()`) was pressed and
    /// not yet cleared; the REPL checks it while waiting for input.
    public static var interruptRequested: Bool { LuaInterrupts.isRequested }

    /// True once SIGTERM asked the REPL to end.
    public static var terminationRequested: Bool { LuaInterrupts.isTerminationRequested }

    /// Forgets a Ctrl-C that has been dealt with.
    public static func clearInterrupt() { LuaInterrupts.clear() }

    /// Closes the files the session's statements left open (`csv.writer`, `json.writer`); the
    /// message of the first that could not be written out, if any (a full disk).
    public func closeOutputs() -> String? {
        do {
            try host.session.outputs.closeAll()
            return nil
        } catch let error as DataFileError {
            return error.withCode
        } catch {
            return "\(error)"
        }
    }

    /// Whether `source` is a whole statement: it compiles, or it fails for a reason more
    /// lines cannot fix (that error is reported when it runs).
    public func completeness(of source: String) -> Completeness {
        if case .incomplete = compile(source) { return .incomplete }
        return .complete
    }

    /// The syntax error of a whole statement that does not compile; nil when it compiles or
    /// is not finished.
    public func syntaxError(of source: String) -> ReplFailure? {
        if case .invalid(let error) = compile(source) { return ReplFailure(error) }
        return nil
    }

    /// What typed text compiles to.
    enum Compiled {
        /// The text to run: `return SOURCE` for an expression (as the lua interpreter does),
        /// the source itself for a block, or `STATEMENTS; return EXPRESSION` for a line that
        /// ends in an expression after a `;` (`t = {}; t.n = 1; t`).
        case runnable(String)
        /// Lua ran out of input (an error ending in `<eof>`): read another line.
        case incomplete(LuaScriptError)
        /// A syntax error more lines cannot fix.
        case invalid(LuaScriptError)
    }

    func compile(_ source: String) -> Compiled {
        var candidates = ["return " + source]
        // statements, then an expression: tried before the text as a block, or `x = 1; f()`
        // would run the call as a statement and show nothing
        // (only when the expression compiles on its own: a `;` inside a loop's or a function's
        // body is followed by its `end`, and `return` there would end the loop after one pass)
        if let separator = Self.lastStatementSeparator(in: source),
           !source.utf8[source.utf8.index(after: separator)...].allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0a || $0 == 0x0d }) {
            let after = source.utf8.index(after: separator)
            let rest = String(source[after...])
            if let alone = try? host.lua.loadText("return " + rest, chunkName: "=" + Self.chunkName) {
                host.lua.release(alone)
                candidates.append(String(source[..<after]) + " return " + rest)
            }
        }
        candidates.append(source)
        var errors: [LuaScriptError] = []
        for candidate in candidates {
            do {
                host.lua.release(try host.lua.loadText(candidate, chunkName: "=" + Self.chunkName))
                return .runnable(candidate)
            } catch let error as LuaScriptError {
                errors.append(error)
            } catch {
                return .runnable(candidate)
            }
        }
        // "syntax error near <eof>" is an expression used as a statement: more input will not help
        // the text as an expression and as a block (the first and the last candidate)
        let asBlock = errors[errors.count - 1]
        let outOfInput = [errors[0], asBlock].contains {
            $0.message.hasSuffix("<eof>") && !$0.message.hasSuffix("syntax error near <eof>")
        }
        // a short string goes on to the next line only after a backslash
        let openShortString = asBlock.message.hasSuffix("unfinished string near <eof>") && !source.hasSuffix("\\")
        return outOfInput && !openShortString ? .incomplete(asBlock) : .invalid(asBlock)
    }

    /// The last `;` of `source` that separates statements: outside strings, long strings,
    /// comments and brackets (a `;` in `"a;b"` or `{1; 2}` separates nothing). Nil when there is none.
    static func lastStatementSeparator(in source: String) -> String.Index? {
        let bytes = Array(source.utf8)
        var index = 0, depth = 0
        var last: Int?
        /// The level of a long bracket `[==[` opening at `at` (its `=` count), or nil.
        func longBracket(at start: Int) -> Int? {
            guard start < bytes.count, bytes[start] == UInt8(ascii: "[") else { return nil }
            var position = start + 1, level = 0
            while position < bytes.count && bytes[position] == UInt8(ascii: "=") { level += 1; position += 1 }
            return position < bytes.count && bytes[position] == UInt8(ascii: "[") ? level : nil
        }
        /// The index after the long bracket's close `]==]`, or the end.
        func skipLong(from start: Int, level: Int) -> Int {
            var position = start + level + 2
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "]") {
                    var end = position + 1, count = 0
                    while end < bytes.count && bytes[end] == UInt8(ascii: "=") { count += 1; end += 1 }
                    if count == level && end < bytes.count && bytes[end] == UInt8(ascii: "]") { return end + 1 }
                }
                position += 1
            }
            return bytes.count
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index += 1
                while index < bytes.count && bytes[index] != byte && bytes[index] != 0x0a {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                index += 1
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                if let level = longBracket(at: index + 2) {
                    index = skipLong(from: index + 2, level: level)
                } else {
                    while index < bytes.count && bytes[index] != 0x0a { index += 1 }
                }
            case UInt8(ascii: "["):
                if let level = longBracket(at: index) {
                    index = skipLong(from: index, level: level)
                } else {
                    depth += 1
                    index += 1
                }
            case UInt8(ascii: "("), UInt8(ascii: "{"):
                depth += 1
                index += 1
            case UInt8(ascii: ")"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                index += 1
            case UInt8(ascii: ";"):
                if depth == 0 { last = index }
                index += 1
            default:
                index += 1
            }
        }
        return last.map { source.utf8.index(source.utf8.startIndex, offsetBy: $0) }
    }

    /// Runs one statement: an expression's values are returned, a statement's writes are sent.
    /// A Ctrl-C pressed before it starts (and not cleared) stops it at once.
    public func evaluate(_ source: String) -> Outcome {
        let session = host.session
        let transaction = session.service as? RunTransactionSupport
        let text: String
        switch compile(source) {
        case .runnable(let runnable): text = runnable
        case .invalid(let error), .incomplete(let error):
            var failure = ReplFailure(error)
            failure.didNotCompile = true
            return .failure(failure)
        }
        let countsBefore = session.queue.counters
        session.queue.beginStatement()
        // a row loop an earlier statement's error left names no row of this one
        session.currentSource = nil
        session.sourceLeftByError = false
        do {
            try transaction?.beginRunTransaction()
            try host.lua.call(evaluator, [.string(text), .string("=" + Self.chunkName)])
            try session.queue.throwIfWritesFailed()
            try session.queue.flush()
            _ = try session.checkpoint()
            try transaction?.endRunTransaction(commit: true)
            // after the commit: a value whose __tostring fails costs its display, not the writes
            let results = try host.lua.call(taker, [.bool(true)])
            return .values(Self.values(results.first ?? .nil))
        } catch {
            // the results the statement's writes gave are taken back with them
            session.queue.endStatement(rolledBack: transaction != nil,
                                       reason: "Not written: the REPL statement that made this write failed, so its writes were rolled back.")
            _ = session.queue.discardPending()
            session.queue.abandonTransaction()
            session.queue.clearStopFailure()
            session.pendingTokens.removeAll()
            _ = try? host.lua.call(taker, [.bool(false)])
            try? transaction?.endRunTransaction(commit: false)
            // the statement's writes were rolled back: cds.stats() must not count them
            if transaction != nil { session.queue.restoreWriteCounts(countsBefore) }
            LuaInterrupts.clear()
            return .failure(ReplFailure(error))
        }
    }

    /// The `{n = count, ...}` table the evaluator returns, as values.
    static func values(_ packed: LuaValue) -> [ReplValue] {
        let count = packed["n"].integerValue ?? 0
        guard count > 0 else { return [] }
        return (1...count).map { ReplValue(packed[integer: $0]) }
    }

    /// The names in the global table (empty path) or in the table a dotted path names.
    public func fieldNames(path: [String]) -> [String] {
        guard let result = try? host.lua.call(fieldLister, path.map(LuaValue.string)).first,
              case .list(let names) = ReplValue(result) else { return [] }
        return names.compactMap { if case .string(let name) = $0 { return name } else { return nil } }.sorted()
    }

    /// Every entity's logical name.
    public func entityNames() -> [String] {
        (try? host.session.entityNames()) ?? []
    }

    /// An entity's column names, in definition order; empty for an unknown entity.
    public func columnNames(of entity: String) -> [String] {
        guard let definition = try? host.session.definition(entity) else { return [] }
        return definition.allAttributes.map(\.name)
    }
}

/// A statement that failed, ready to print: `repl:1: error: message [code]`.
public struct ReplFailure: Equatable, Sendable {
    /// The whole line to show.
    public var text: String
    /// The error's code (a Dataverse hex code, or `script.runtime`, `script.interrupted` …).
    public var code: String
    /// True when Ctrl-C (or SIGINT) stopped the statement.
    public var interrupted: Bool
    /// True when the statement's own text did not compile (not a module it required).
    public var didNotCompile = false

    init(_ error: Error) {
        let chunk = ReplSession.chunkName
        switch error {
        case let error as LuaScriptError where [.interrupted, .timeout, .memory].contains(error.kind):
            // the watchdog's position is not the statement's; say what happened instead
            let reason = error.kind == .interrupted ? "interrupted" : error.kind == .timeout ? "timed out" : "ran out of memory"
            text = "\(chunk): statement \(reason); its writes were rolled back [script.\(error.kind.rawValue)]"
            code = "script.\(error.kind.rawValue)"
            interrupted = error.kind == .interrupted
        case let error as LuaScriptError:
            text = ScriptHost.describe(error, chunkName: chunk)
            code = error.code ?? "script.\(error.kind.rawValue)"
            interrupted = error.kind == .interrupted
        case let failure as RowFailure:
            text = ScriptHost.describe(failure, chunkName: chunk)
            code = failure.error.code.value
            interrupted = false
        case let error as ServiceError:
            text = "\(chunk): \(error.message) [\(error.code.value)]"
            code = error.code.value
            interrupted = false
        default:
            text = "\(chunk): \(error)"
            code = "script.runtime"
            interrupted = false
        }
        text = Self.insertErrorLabel(text)
    }

    /// `repl:1: message` → `repl:1: error: message`.
    static func insertErrorLabel(_ text: String) -> String {
        guard let range = text.range(of: "^[^:\\s]+(:[0-9]+)?: ", options: .regularExpression) else { return "error: " + text }
        return text[range] + "error: " + text[range.upperBound...]
    }
}

extension LuaValue {
    subscript(integer index: Int64) -> LuaValue {
        if case .table(let table) = self { return table[.integer(index)] ?? .nil }
        return .nil
    }
}
