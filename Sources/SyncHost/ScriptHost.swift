import DataFiles
import EntityModel
import Foundation
import LuaKit

/// Runs one sync script: a sandboxed Lua state with `cds`, `csv` and `json`, the host's
/// write batching, and tokens that advance only when the run's writes have been sent.
public final class ScriptHost {
    let lua: LuaState
    let session: SyncSession
    private let rejects: RejectsWriter?
    private let options: RunOptions

    /// Prepares a Lua state for a run.
    /// - Throws: `ServiceError` when the rejects file cannot be created.
    public init(service: DataService, tokens: TokenStore, options: RunOptions) throws {
        self.options = options
        rejects = try options.rejectsPath.map { path in
            do { return try RejectsWriter(path: path) } catch {
                throw ServiceError(.invalidArgument, "Cannot create the rejects file \(path): \(error)")
            }
        }
        session = SyncSession(service: service, tokens: tokens, options: options, rejects: rejects)
        lua = try LuaState()
        lua.setMemoryLimit(bytes: options.memoryLimit)
        lua.setTimeout(seconds: options.timeout)
        for path in options.modulePaths { lua.addModuleSearchPath(path) }
        CdsModule.register(lua, session)
        FileModules.register(lua, session)
        KeySets.register(lua, session)
        for module in ["cds", "csv", "json"] { lua.exposeGlobally(module: module) }
        _ = try lua.run("cds.null = cds._null(); cds._null = nil", chunkName: "=cdsync")
        lua.setGlobal("arg", .array(options.arguments.map(LuaValue.string)))
    }

    /// Makes SIGINT and SIGTERM stop running scripts at their next instruction check; the
    /// host then discards unsent writes and advances no token.
    @discardableResult
    public static func installSignalHandlers() -> Bool { LuaInterrupts.installSignalHandlers() }

    /// True once SIGINT or SIGTERM asked running scripts to stop.
    public static var interruptRequested: Bool { LuaInterrupts.isRequested }

    /// Runs a script file.
    public func run(scriptPath: String) -> RunReport {
        let start = Date()
        // (read through a handle: a pipe, `run <(…)` or /dev/stdin, has no size to read up to)
        guard let data = FileManager.default.contents(atPath: scriptPath)
                ?? (try? FileHandle(forReadingFrom: URL(fileURLWithPath: scriptPath)).readToEnd() ?? Data()) else {
            var isDirectory: ObjCBool = false
            let reason = FileManager.default.fileExists(atPath: scriptPath, isDirectory: &isDirectory) && isDirectory.boolValue
                ? "it is a directory" : "no such file, or it is not readable"
            return report(.failed, start, error: "\(scriptPath): error: cannot read the script: \(reason) [script.unreadable]", code: "script.unreadable")
        }
        guard let source = String(validating: data, as: UTF8.self) else {
            // the first byte that is not UTF-8, and its line, so the analyst can find it
            var line = 1
            var decoder = UTF8()
            var bytes = data.makeIterator()
            decoding: while true {
                switch decoder.decode(&bytes) {
                case .scalarValue(let scalar): if scalar == "\n" { line += 1 }
                case .emptyInput, .error: break decoding
                }
            }
            return report(.failed, start, error: "\(scriptPath):\(line): error: the script is not UTF-8 text (save it as UTF-8) [script.unreadable]",
                          code: "script.unreadable")
        }
        // a byte order mark (which some Windows editors write) is no Lua: skipped, as the CSV
        // reader skips one, rather than failing the script as a syntax error at line 1
        let text = source.hasPrefix("\u{FEFF}") ? String(source.dropFirst()) : source
        return run(source: text, chunkName: (scriptPath as NSString).lastPathComponent)
    }

    /// Runs script text; `chunkName` is what error messages call it (`sync.lua`).
    public func run(source: String, chunkName: String) -> RunReport {
        let start = Date()
        defer { try? rejects?.close(); session.progress?.finish() }
        let runTransaction = options.atomic || options.dryRun ? session.service as? RunTransactionSupport : nil
        do {
            if options.atomic || options.dryRun {
                guard let runTransaction else {
                    throw ServiceError(.invalidArgument, "--atomic and --dry-run need the embedded store.")
                }
                try runTransaction.beginRunTransaction()
            }
            _ = try lua.run(source, chunkName: chunkName)
            // files the script left open are written out now, and a failure fails the run
            // (before tokens are saved: an extract whose file was cut short reads it again)
            try session.outputs.closeAll()
            try session.queue.throwIfWritesFailed()
            try session.queue.flush()
            _ = try session.checkpoint()
            try runTransaction?.endRunTransaction(commit: !options.dryRun)
            if options.dryRun { session.advancedTokens.removeAll() }
            // the rejects are written out now: a run whose rejects were lost (a full disk)
            // must not report them as kept
            try rejects?.close()
        } catch {
            session.queue.settle()  // nothing reaches the store while a batch is still being written
            // what was sent before the failure stays written, as batch by batch; if even that
            // is lost, the report says so and the run is a temporary failure
            var lostGroup: ServiceError?
            do { try session.queue.commitGroup() } catch let loss as ServiceError where !Self.alreadyReports(error, loss) {
                lostGroup = loss
            } catch {}
            try? runTransaction?.endRunTransaction(commit: false)
            if options.atomic || options.dryRun { session.advancedTokens.removeAll() }
            if options.atomic && !options.dryRun {
                // the run's one transaction was rolled back: nothing it wrote was kept
                var kept = session.queue.counters
                (kept.created, kept.updated, kept.deleted) = (0, 0, 0)
                session.queue.restoreWriteCounts(kept)
            }
            var failed = failureReport(error, chunkName: chunkName, start)
            if let stop = session.queue.stopFailure, (error as? LuaScriptError)?.code == ErrorCode.notSent.value {
                // the script read the result of a write that was never sent because an earlier
                // record of its batch failed: that record is what the run failed on
                failed.error = Self.describe(stop, chunkName: chunkName) + (failed.error.map { "\n" + $0 } ?? "")
                failed.errorCode = stop.error.code.value
            }
            if let rejects {
                // (closed already, and reported, when closing it was what failed)
                do { try rejects.close() } catch {
                    failed.error = (failed.error.map { $0 + "\n" } ?? "") + "\(chunkName): error: the rejects could not be written: \(error)"
                }
            }
            if let lostGroup {
                failed.error = (failed.error.map { $0 + "\n" } ?? "") + "\(chunkName): error: \(lostGroup.message) [\(lostGroup.code.value)]"
                failed.outcome = .temporaryFailure
            }
            return failed
        }
        // rows in the rejects file, not failed writes: a failed cds.transaction the script
        // caught is counted as failed, but it is all or nothing and never goes to the file
        let rejected = options.onError == .continue && (rejects?.count ?? session.queue.counters.failed) > 0
        return report(rejected ? .rowsRejected : .succeeded, start, error: nil, code: nil)
    }

    /// True when the run's error is the lost group's own (the script raised it from a write:
    /// its message is the loss's), so the report gives it once.
    private static func alreadyReports(_ error: Error, _ loss: ServiceError) -> Bool {
        if let error = error as? ServiceError { return error == loss }
        if let error = error as? LuaScriptError { return error.code == loss.code.value && error.message.contains(loss.message) }
        return false
    }

    private func failureReport(_ error: Error, chunkName: String, _ start: Date) -> RunReport {
        do { throw error } catch let error as LuaScriptError {
            return failure(error, chunkName: chunkName, start)
        } catch let failure as RowFailure {
            return report(.failed, start, error: Self.describe(failure, chunkName: chunkName), code: failure.error.code.value)
        } catch let error as DataFileError {
            return report(.failed, start, error: "\(chunkName): error: \(error.withCode)", code: error.code.rawValue)
        } catch let error as ServiceError {
            let outcome: RunReport.Outcome = error.code == .storeUnavailable ? .temporaryFailure : .failed
            return report(outcome, start, error: "\(chunkName): error: \(error.message) [\(error.code.value)]", code: error.code.value)
        } catch {
            return report(.failed, start, error: "\(chunkName): error: \(error)", code: nil)
        }
    }

    private func failure(_ error: LuaScriptError, chunkName: String, _ start: Date) -> RunReport {
        var error = error
        if error.kind == .runtime, error.fields["source"] == nil, let source = session.currentSource {
            // raised inside a csv.rows / json.lines loop (a bad value given to cds.decimal …):
            // the row being read is what the analyst looks for
            error.fields["source"] = source.description
        }
        let discarded = session.queue.discardPending()
        session.queue.abandonTransaction()
        let outcome: RunReport.Outcome
        switch error.kind {
        case .interrupted: outcome = .interrupted
        case .runtime where error.code == ErrorCode.storeUnavailable.value: outcome = .temporaryFailure
        default: outcome = .failed
        }
        var result = report(outcome, start, error: Self.describe(error, chunkName: chunkName), code: error.code ?? "script.\(error.kind.rawValue)")
        result.discardedWrites += discarded
        return result
    }

    private func report(_ outcome: RunReport.Outcome, _ start: Date, error: String?, code: String?) -> RunReport {
        RunReport(outcome: outcome, counters: session.reportedCounters, tokensAdvanced: session.advancedTokens,
                  seconds: Date().timeIntervalSince(start), error: error, errorCode: code, discardedWrites: session.queue.notSent,
                  rejectsPath: rejects?.path)
    }

    /// `script.lua:LINE: message [code] (key: …)`.
    static func describe(_ error: LuaScriptError, chunkName: String) -> String {
        var line = error.fields["line"].flatMap(Int.init) ?? error.line
        var chunk = error.chunk ?? chunkName
        if error.fields["line"] == nil, chunk != chunkName, let scriptLine = firstLine(of: chunkName, in: error.traceback) {
            // raised inside a library module: point at the script's call, which is what the analyst can change
            chunk = chunkName
            line = scriptLine
        } else if line == nil, let scriptLine = firstLine(of: chunkName, in: error.traceback) {
            // raised without a position (the watchdog's timeout or interrupt): where the script was
            line = scriptLine
        }
        var text = line.map { "\(chunk):\($0): " } ?? "\(chunk): "
        var message = error.message
        if message.hasPrefix(chunk + ":"), let range = message.range(of: "^[^:]+:[0-9]+: ", options: .regularExpression) {
            message.removeSubrange(range)
        }
        text += message
        if let code = error.code { text += " [\(code)]" } else { text += " [script.\(error.kind.rawValue)]" }
        if let key = error.key ?? error.fields["key"], !key.isEmpty, !message.contains(key) { text += " (key: \(key))" }
        if let source = error.fields["source"], !message.contains(source) { text += " (source: \(source))" }
        return text
    }

    /// The first `chunk:LINE:` of the script in a traceback.
    static func firstLine(of chunk: String, in traceback: String?) -> Int? {
        guard let traceback, let range = traceback.range(of: "\(chunk):[0-9]+:", options: .regularExpression) else { return nil }
        return Int(traceback[range].dropFirst(chunk.count + 1).dropLast())
    }

    static func describe(_ failure: RowFailure, chunkName: String) -> String {
        var text = "\(chunkName):\(failure.line): \(failure.error.message) [\(failure.error.code.value)]"
        if !failure.key.isEmpty, !failure.error.message.contains(failure.key) { text += " (key: \(failure.key))" }
        if let source = failure.source { text += " (source: \(source))" }
        return text
    }
}
