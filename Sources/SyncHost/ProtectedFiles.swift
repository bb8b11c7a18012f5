import Foundation

/// Files a script's writers (`csv.writer`, `json.writer`) refuse: the store's own files
/// (database, write-ahead log, shared memory, rollback journal) and the run's rejects file.
/// A writer truncates its file, so writing one of these would destroy the store under the
/// running script, and every later run would fail on it.
///
/// A path is the same file when it names the same place once directories and symbolic links
/// are resolved, or when both exist and are one file (a hard link).
struct ProtectedFiles {
    struct Entry {
        let path: String
        /// What the file is, for the error ("the store", "the store's write-ahead log" …).
        let what: String
    }

    private let entries: [Entry]

    /// The store at `storePath` (nil: none) and the rejects file at `rejectsPath`.
    init(storePath: String?, rejectsPath: String?) {
        var entries: [Entry] = []
        if let storePath {
            entries.append(Entry(path: storePath, what: "the store"))
            // SQLite names the log files after the store's path as given or, for a symbolic
            // link, after the file it points at: both
            for base in Set([storePath, Self.canonical(storePath)]) {
                entries.append(Entry(path: base + "-wal", what: "the store's write-ahead log"))
                entries.append(Entry(path: base + "-shm", what: "the store's shared-memory index"))
                entries.append(Entry(path: base + "-journal", what: "the store's rollback journal"))
            }
        }
        if let rejectsPath { entries.append(Entry(path: rejectsPath, what: "the run's rejects file")) }
        self.entries = entries
    }

    /// What `path` is when it is one of the files, else nil.
    func what(_ path: String) -> String? {
        let wanted = Self.canonical(path)
        let identity = Self.identity(path)
        for entry in entries {
            if Self.canonical(entry.path) == wanted { return entry.what }
            if let identity, let other = Self.identity(entry.path), identity == other { return entry.what }
        }
        return nil
    }

    /// The absolute path with its directory's symbolic links resolved (and the file's own,
    /// when it is one); the last component as given when it does not exist yet.
    private static func canonical(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL
        if let resolved = realpath(absolute.path, nil) {
            defer { free(resolved) }
            return String(cString: resolved)
        }
        let directory = absolute.deletingLastPathComponent().path
        guard let resolved = realpath(directory, nil) else { return absolute.path }
        defer { free(resolved) }
        return URL(fileURLWithPath: String(cString: resolved)).appendingPathComponent(absolute.lastPathComponent).path
    }

    private struct Identity: Equatable {
        let device: UInt64
        let inode: UInt64
    }

    private static func identity(_ path: String) -> Identity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
