import ArgumentParser
import EntityStore
import Foundation
import SyncHost

/// The `cdsync` command: Lua sync scripts over a Dataverse-compatible store.
@main
struct CDSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdsync",
        abstract: "Run Lua sync scripts against a Dataverse-compatible store.",
        version: "0.1.0",
        subcommands: [RunCommand.self, ReplCommand.self, SchemaCommand.self, TokensCommand.self, ServeCommand.self,
                      ScheduleCommand.self, RunsCommand.self])

    static func main() async {
        Allocator.useLargePages()
        refuseArgumentsThatAreNotUTF8()
        // a signal stops waiting for another process's write lock too (not only running scripts)
        EntityStore.stopsWaiting = { ScriptHost.interruptRequested }
        await main(nil)
    }

    /// Arguments reach the commands as Swift strings, which repair bytes that are not UTF-8
    /// into U+FFFD: a `--db` path (or a script, a file argument) naming such a file would
    /// quietly name another one, and a new store be made there. Refused before anything runs.
    static func refuseArgumentsThatAreNotUTF8() {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index], String(validatingCString: raw) == nil else { continue }
            ErrorReport.writeStandardError("cdsync: error: argument \(index) is not UTF-8 text, so cdsync cannot name that file exactly; rename it, or pass a name in UTF-8")
            Foundation.exit(ExitCode.usage.rawValue)
        }
    }
}

/// The allocator linked into the binary (mimalloc, see Package.swift).
enum Allocator {
    /// `mi_option_large_os_pages` (the same number in mimalloc 2.0 and later).
    static let largeOSPagesOption: Int32 = 6

    /// Lets mimalloc back its heap with 2 MiB pages where the kernel allows them (transparent
    /// huge pages in `madvise` mode, as on Debian): a bulk load touches a few hundred megabytes
    /// of fresh memory, and the kernel then maps it in a fault per 2 MiB instead of one per
    /// 4 KiB (N = 1,000,000 initial load: 43,000 → 16,000 page faults, about 1.5 s faster,
    /// 13 MB more peak memory). Does nothing without mimalloc, or when
    /// `MIMALLOC_LARGE_OS_PAGES` is set (mimalloc then follows it).
    static func useLargePages() {
        guard ProcessInfo.processInfo.environment["MIMALLOC_LARGE_OS_PAGES"] == nil,
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mi_option_enable") else { return }
        typealias Enable = @convention(c) (Int32) -> Void
        unsafeBitCast(symbol, to: Enable.self)(largeOSPagesOption)
    }
}

/// Where the store is: `--db FILE`, else `$CDSYNC_DB`, else `./cdsync.db`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store file (default: $CDSYNC_DB or ./cdsync.db).")
    var db: String?

    var path: String { db ?? ProcessEnvironment.value("CDSYNC_DB") ?? "cdsync.db" }

    /// An empty name is refused: SQLite would open a temporary database for it, the run would
    /// report its writes done, and they would be gone (`--db "$DB"` with `DB` unset).
    func validate() throws {
        if db?.isEmpty == true { throw ValidationError("--db needs a store file name; it is empty (an unset variable?)") }
        // (every command: a URL here was opened as a file name, or a directory named `http:`)
        if RunHistoryRecorder.isRemoteTarget(path) {
            throw ValidationError("--db takes a store file, not \(path); to run a script against a Web API use `cdsync run --url URL` (its --db then keeps the change tokens)")
        }
    }
}
