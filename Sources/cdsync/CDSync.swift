import ArgumentParser

/// The `cdsync` command: Lua sync scripts over a Dataverse-compatible store.
@main
struct CDSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdsync",
        abstract: "Run Lua sync scripts against a Dataverse-compatible store.",
        version: "0.1.0",
        subcommands: [RunCommand.self, ReplCommand.self, SchemaCommand.self, TokensCommand.self, ServeCommand.self,
                      ScheduleCommand.self, RunsCommand.self])
}

/// Where the store is: `--db FILE`, else `$CDSYNC_DB`, else `./cdsync.db`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store file (default: $CDSYNC_DB or ./cdsync.db).")
    var db: String?

    var path: String { db ?? ProcessEnvironment.value("CDSYNC_DB") ?? "cdsync.db" }
}
