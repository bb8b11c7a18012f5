// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "cdsync",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cdsync", targets: ["cdsync"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        // (`swiftSettings: fast` on the targets on the hot paths: see the end of this file)
        // Pure domain: values, records, references, definitions, requests, errors, the service protocol.
        .target(name: "EntityModel", dependencies: ["KeyTables"], swiftSettings: fast),
        // Compact hash tables of byte strings for million-key sets and maps (no String per key).
        .target(name: "KeyTables", swiftSettings: fast),
        // One C function: process-wide SQLite configuration (sqlite3_config is variadic).
        .target(name: "CSQLiteShims", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Nesting and alias-expansion limits checked on YAML text before it is built into nodes.
        .target(name: "YAMLLimits", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The Dataverse-semantics engine on SQLite.
        .target(
            name: "EntityStore",
            dependencies: [
                "EntityModel", "CSQLiteShims", "KeyTables", "YAMLLimits",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API for the hot paths (binding and stepping prepared statements).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: fast
        ),
        // Lua 5.4 from Debian's liblua5.4-dev.
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        // The only C we write: macro wrappers, the trampoline that alone raises, the capped allocator.
        .target(name: "CLuaShims", dependencies: ["CLua"]),
        // A safe Swift API over a lua_State; C types stay inside.
        .target(name: "LuaKit", dependencies: ["CLua", "CLuaShims"], swiftSettings: fast),
        // Streaming readers and writers for the file formats analysts use (CSV, JSON lines, JSON).
        .target(name: "DataFiles", swiftSettings: fast),
        // The Lua runtime for sync scripts.
        .target(name: "SyncHost", dependencies: ["EntityModel", "LuaKit", "DataFiles", "KeyTables"], swiftSettings: fast),
        // Scheduled runs: cron expressions, the jobs file, the scheduler loop, run locks.
        .target(name: "Scheduling", dependencies: ["YAMLLimits", .product(name: "Yams", package: "Yams")]),
        // The Dataverse Web API over any DataService (cdsync serve).
        .target(
            name: "WebAPI",
            dependencies: [
                "EntityModel", "DataFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // libedit (BSD) for `cdsync repl`'s line editing; never GNU readline (GPL).
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .executableTarget(
            name: "cdsync",
            dependencies: [
                "EntityModel", "EntityStore", "SyncHost", "Scheduling", "WebAPI", "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // mimalloc (MIT) replaces glibc's malloc in the binary: the write pipeline frees on
            // one thread what another allocated, and glibc's arena locks made the threads wait
            // (docs/performance.md has the measurement)
            linkerSettings: [.linkedLibrary("mimalloc")]
        ),
        .testTarget(name: "EntityModelTests", dependencies: ["EntityModel"]),
        .testTarget(name: "KeyTablesTests", dependencies: ["KeyTables"]),
        .testTarget(name: "YAMLLimitsTests", dependencies: ["YAMLLimits"]),
        .testTarget(name: "EntityStoreTests", dependencies: ["EntityModel", "EntityStore", "KeyTables", "CSQLiteShims"]),
        .testTarget(name: "LuaKitTests", dependencies: ["LuaKit"]),
        .testTarget(name: "DataFilesTests", dependencies: ["DataFiles"]),
        .testTarget(name: "SyncHostTests", dependencies: ["SyncHost", "EntityStore", "EntityModel"]),
        .testTarget(name: "CLITests", dependencies: ["EntityModel", "EntityStore"]),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling"]),
        .testTarget(
            name: "WebAPITests",
            dependencies: [
                "WebAPI", "EntityModel", "EntityStore", "SyncHost",
                // a token endpoint and a flaky server for the client's tests
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ]
)

/// Release builds of the hot-path targets leave out the run-time exclusivity checks (each access
/// to a class's stored property or a captured variable: a thread-local lookup and an entry in an
/// access set). The compile-time checks stay, and debug builds — the test suite's — keep the
/// run-time ones too. docs/performance.md ("twelfth round") has the measurement.
var fast: [SwiftSetting] { [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))] }
