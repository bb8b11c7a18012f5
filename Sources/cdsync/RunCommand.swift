import ArgumentParser
import EntityModel
import EntityStore
import Foundation
import Scheduling
import SyncHost
import WebAPI

/// `cdsync run SCRIPT`: runs a Lua sync script against the store.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua sync script.",
        discussion: "Exit codes: 0 ok, 1 script failed, 64 usage, 65 some rows rejected, 73 locked (--lock), 75 temporary failure or interrupted.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "The Lua script.") var script: String
    @Argument(parsing: .postTerminator, help: "Arguments for the script after `--` (the global `arg` table).") var arguments: [String] = []
    @Option(parsing: .unconditional, help: "Writes sent per batch (1-1000, the service's batch limit).") var batchSize = ServiceRequest.maxBatchSize
    @Option(help: "stop: fail at the first rejected record; continue: write it to the rejects file and go on.") var onError = "stop"
    @Option(help: "Where rejected records go with --on-error continue (.csv or JSON lines).") var rejects: String?
    @Option(parsing: .unconditional, help: "Memory the script may use, in MiB (0 = unlimited).") var maxMemory = 0
    @Option(parsing: .unconditional, help: "Seconds the script may run (0 = unlimited).") var timeout = 0.0
    @Option(help: "A directory of Lua modules for require (repeatable).") var modulePath: [String] = []
    @Option(parsing: .unconditional, help: "Batches share one store transaction, committed after this many writes or after a second, and before tokens are saved (0: every batch commits alone). Embedded store only.")
    var commitEvery = 50_000
    @Flag(help: "Run everything in one transaction: all or nothing (embedded store).") var atomic = false
    @Flag(help: "Write nothing: run in a transaction that is rolled back and print each record's outcome.") var dryRun = false
    @Flag(help: "Print the summary as one JSON object on stdout.") var json = false
    @Flag(help: "Do not show the progress line.") var quiet = false
    @Option(help: "Hold job NAME's lock for the whole run (exit 73 if a live run holds it); record the run under NAME.") var lock: String?
    @Option(help: "Run against a Web API root (cdsync serve) instead of the store; --db then only keeps change tokens.") var url: String?
    @Option(help: "The bearer token for --url (default: $CDSYNC_TOKEN).") var token: String?
    @Option(help: "An OAuth2 token endpoint for --url: get the token by a client-credentials grant (default: $CDSYNC_AUTH_URL); the secret comes from $CDSYNC_CLIENT_SECRET.")
    var authUrl: String?
    @Option(help: "The OAuth2 client id for --auth-url (default: $CDSYNC_CLIENT_ID).") var clientId: String?
    @Option(help: "The OAuth2 scope for --auth-url (default: the --url origin with /.default).") var scope: String?
    @Option(parsing: .unconditional, help: "Seconds the run may spend in all waiting on 429/503 Retry-After before it fails with exit 75.") var retryBudget = 300.0

    func validate() throws {
        guard (1...ServiceRequest.maxBatchSize).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(ServiceRequest.maxBatchSize)")
        }
        guard ErrorPolicy(rawValue: onError) != nil else { throw ValidationError("--on-error must be stop or continue") }
        guard (0...10_000_000).contains(commitEvery) else { throw ValidationError("--commit-every must be 0 to 10000000 writes") }
        guard (0...1_048_576).contains(maxMemory) else { throw ValidationError("--max-memory must be 0 to 1048576 MiB") }
        guard timeout.isFinite, (0...31_536_000).contains(timeout) else { throw ValidationError("--timeout must be 0 to 31536000 seconds") }
        if let rejects {
            // found out before the run starts, as a wrong argument, not as a failed run
            var isDirectory: ObjCBool = false
            if rejects.isEmpty || (FileManager.default.fileExists(atPath: rejects, isDirectory: &isDirectory) && isDirectory.boolValue) {
                throw ValidationError("--rejects \(rejects) is a directory (or empty); give a file, e.g. rejects.csv")
            }
            // (URL, not NSString: Foundation's deletingLastPathComponent traps on ".")
            let parent = URL(fileURLWithPath: rejects).deletingLastPathComponent().path
            if !(FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) && isDirectory.boolValue) {
                let named = rejects.contains("/") ? String(rejects[..<rejects.lastIndex(of: "/")!]) : parent
                throw ValidationError("--rejects \(rejects): the directory \(named) does not exist")
            }
        }
        if let lock, !JobDefinition.isValidName(lock) {
            throw ValidationError("--lock must be 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'")
        }
        if let url {
            guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else { throw ValidationError("--url must be an http(s) URL") }
            guard !atomic && !dryRun else { throw ValidationError("--atomic and --dry-run need the embedded store, not --url") }
        }
        if authUrl != nil || clientId != nil || scope != nil, url == nil {
            throw ValidationError("--auth-url, --client-id and --scope need --url")
        }
        guard retryBudget.isFinite, (0...86_400).contains(retryBudget) else { throw ValidationError("--retry-budget must be 0 to 86400 seconds") }
        if let authURL = authUrl ?? ProcessEnvironment.value("CDSYNC_AUTH_URL"), url != nil {
            guard let parsed = URL(string: authURL), parsed.scheme == "http" || parsed.scheme == "https" else {
                throw ValidationError("--auth-url must be an http(s) URL")
            }
            guard (clientId ?? ProcessEnvironment.value("CDSYNC_CLIENT_ID")) != nil else { throw ValidationError("--auth-url needs --client-id (or $CDSYNC_CLIENT_ID)") }
            guard ProcessEnvironment.value("CDSYNC_CLIENT_SECRET") != nil else { throw ValidationError("--auth-url needs the client secret in $CDSYNC_CLIENT_SECRET") }
        }
    }

    func run() throws {
        if let reason = ScriptFile.problem(script) {
            ErrorReport.writeStandardError("error: cannot read the script \(script): \(reason)")
            throw ExitCode.usage
        }
        let jobLock = try lock.map { try RunHistoryRecorder.acquireLock(job: $0, storePath: store.path, json: json) }
        defer { jobLock?.release() }
        var options = RunOptions()
        options.batchSize = batchSize
        options.onError = ErrorPolicy(rawValue: onError) ?? .stop
        options.rejectsPath = rejects ?? (options.onError == .continue ? defaultRejectsPath() : nil)
        options.storePath = store.path
        options.memoryLimit = maxMemory * 1024 * 1024
        options.timeout = timeout > 0 ? timeout : nil
        options.modulePaths = modulePath + StdlibLocator.directories()
        options.arguments = arguments
        options.atomic = atomic
        options.dryRun = dryRun
        options.groupCommitRows = url == nil ? commitEvery : 0
        options.showProgress = !quiet && !json && isatty(2) == 1
        let report: RunReport
        do {
            let entityStore = try EntityStore(path: store.path)
            let service: DataService = url.flatMap(URL.init(string:)).map {
                WebAPIClient(root: $0, credentials: credentials(for: $0), retryBudget: RetryBudget(totalSeconds: retryBudget))
            } ?? entityStore
            let host = try ScriptHost(service: service, tokens: entityStore, options: options)
            ScriptHost.installSignalHandlers()
            let history = dryRun ? nil : try RunHistoryRecorder.start(store: entityStore, job: lock ?? (script as NSString).lastPathComponent,
                                                                      script: script, holdsLock: jobLock != nil)
            let hardStop = HardStop(timeout: options.timeout, script: (script as NSString).lastPathComponent)
            hardStop.start()
            report = host.run(scriptPath: script)
            hardStop.finish()
            history?.finish(report)
            // checkpoint now, in this run, rather than leave the write-ahead log to the next one
            try? entityStore.close()
        } catch {
            throw ErrorReport.print(error)
        }
        if let error = report.error { ErrorReport.writeStandardError(error) }
        if json { print(report.json) } else { ErrorReport.writeStandardError(report.summary) }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }

    /// An OAuth2 grant when a token endpoint is configured, else the bearer token.
    private func credentials(for root: URL) -> WebAPICredentials {
        guard let authURL = (authUrl ?? ProcessEnvironment.value("CDSYNC_AUTH_URL")).flatMap(URL.init(string:)) else {
            return .bearer(token ?? ProcessEnvironment.value("CDSYNC_TOKEN") ?? "")
        }
        return .clientCredentials(ClientCredentials(
            tokenURL: authURL, clientID: clientId ?? ProcessEnvironment.value("CDSYNC_CLIENT_ID") ?? "",
            clientSecret: ProcessEnvironment.value("CDSYNC_CLIENT_SECRET") ?? "",
            scope: scope ?? ClientCredentials.defaultScope(for: root)))
    }

    private func defaultRejectsPath() -> String {
        ((script as NSString).deletingPathExtension as NSString).lastPathComponent + ".rejects.jsonl"
    }
}

/// Finds the shipped Lua library: `$CDSYNC_STDLIB`, `stdlib/` beside the executable's
/// package checkout, or `../share/cdsync/stdlib` next to an installed binary.
enum StdlibLocator {
    static func directories() -> [String] {
        if let configured = ProcessEnvironment.value("CDSYNC_STDLIB") { return [configured] }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates = [executable.appendingPathComponent("../share/cdsync/stdlib").standardized.path]
        var directory = executable
        for _ in 0..<5 {
            candidates.append(directory.appendingPathComponent("stdlib").path)
            directory = directory.deletingLastPathComponent()
        }
        return candidates.filter { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("cdsync")) }.prefix(1).map { $0 }
    }
}
