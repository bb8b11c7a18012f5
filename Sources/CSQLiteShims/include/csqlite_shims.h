#ifndef CSQLITE_SHIMS_H
#define CSQLITE_SHIMS_H

/// Configures SQLite for this process before its first connection opens: multi-thread mode
/// (GRDB already serializes every use of a connection, so SQLite's own per-call mutex is pure
/// cost), no global memory statistics (another mutex on every allocation), statement and
/// savepoint journals in memory up to 8 MiB (config.c), and the VFS of
/// `cdsync_register_wal_merge_vfs` as the default.
/// Returns SQLITE_OK, or SQLITE_MISUSE when SQLite was already initialized (nothing changes).
int cdsync_sqlite_configure(void);

/// Makes the default VFS one that writes each write-ahead-log frame (a 24-byte header and its
/// page, which SQLite writes separately) with one system call, in whole 4 KiB file blocks
/// until a transaction's commit frame, and any write over 64 KiB in pieces the unix VFS
/// accepts (wal_merge_vfs.c). Called by `cdsync_sqlite_configure`;
/// registering twice does nothing. Returns SQLITE_OK or an error.
int cdsync_register_wal_merge_vfs(void);

#endif
