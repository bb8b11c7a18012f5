#ifndef CSQLITE_SHIMS_H
#define CSQLITE_SHIMS_H

/// Configures SQLite for this process before its first connection opens: multi-thread mode
/// (GRDB already serializes every use of a connection, so SQLite's own per-call mutex is pure
/// cost) and no global memory statistics (another mutex on every allocation).
/// Returns SQLITE_OK, or SQLITE_MISUSE when SQLite was already initialized (nothing changes).
int cdsync_sqlite_configure(void);

#endif
