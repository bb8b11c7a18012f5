import ArgumentParser
import EntityModel
import EntityStore
import Foundation
import SyncHost

/// `cdsync repl`: a Lua prompt with `cds` and the stdlib, against the same store as `run`.
struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Explore entities at a Lua prompt (cds module and stdlib loaded).",
        discussion: """
            Each statement is committed when it returns; a failed or interrupted (Ctrl-C) statement is \
            rolled back. With standard input not a terminal, statements are read line by line without \
            prompts, and the exit code is 1 if any statement failed. Type .help at the prompt; see docs/repl.md.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "A directory of Lua modules for require (repeatable).") var modulePath: [String] = []
    @Option(parsing: .unconditional, help: "Memory the session may use, in MiB (0 = unlimited).") var maxMemory = 0
    @Option(parsing: .unconditional, help: "Seconds each statement may run (0 = unlimited).") var timeout = 0.0
    @Option(help: "How tables are shown: table, expanded or lua.") var mode = "table"
    @Option(help: "The history file (default: $CDSYNC_HISTORY or ~/.cdsync_history).") var history: String?

    func validate() throws {
        guard ReplDisplayMode(rawValue: mode) != nil else { throw ValidationError("--mode must be table, expanded or lua") }
        guard (0...1_048_576).contains(maxMemory) else { throw ValidationError("--max-memory must be 0 to 1048576 MiB") }
        guard timeout.isFinite, (0...31_536_000).contains(timeout) else { throw ValidationError("--timeout must be 0 to 31536000 seconds") }
    }

    func run() throws {
        var options = RunOptions()
        options.memoryLimit = maxMemory * 1024 * 1024
        options.timeout = timeout > 0 ? timeout : nil
        options.modulePaths = modulePath + StdlibLocator.directories()
        options.storePath = store.path
        let shell: ReplShell
        do {
            let entityStore = try EntityStore(path: store.path)
            let session = try ReplSession(service: entityStore, tokens: entityStore, options: options)
            shell = ReplShell(store: entityStore, session: session, mode: ReplDisplayMode(rawValue: mode) ?? .table,
                              timeout: timeout > 0 ? timeout : nil)
        } catch {
            throw ErrorReport.print(error)
        }
        // Ctrl-C (SIGINT) stops a statement; SIGTERM stops it too and ends the REPL, after the
        // files its statements left open are written out
        ScriptHost.installSignalHandlers()
        let succeeded: Bool
        if isatty(STDIN_FILENO) == 1 {
            let editor = LineEditor(historyPath: history ?? LineEditor.defaultHistoryPath(), completer: ReplCompleter(source: shell.session))
            succeeded = shell.runInteractive(editor)
        } else {
            succeeded = shell.runPiped()
        }
        // files the statements left open are written out now: a failure (a full disk) is an error
        if let failure = shell.session.closeOutputs() {
            ErrorReport.writeStandardError("error: \(failure)")
            throw ExitCode.scriptFailed
        }
        if ReplSession.terminationRequested {
            ErrorReport.writeStandardError("repl: ended by SIGTERM (a statement it interrupted was rolled back) [script.interrupted]")
            throw ExitCode.temporaryFailure
        }
        if !succeeded { throw ExitCode.scriptFailed }
    }
}
