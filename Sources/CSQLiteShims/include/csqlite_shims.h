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

/// Sets how far pages read through a memory mapping may grow the process's resident file
/// pages before the VFS drops the mapping's page table entries (`bytes`; 128 MiB by default),
/// and how many fetched pages go between two looks at the resident set (1024). For tests.
void cdsync_set_mapped_read_limit(long bytes, unsigned fetches);

/// How many times the VFS has dropped a mapping's page table entries (see above). For tests.
unsigned long cdsync_mapped_read_trims(void);

/// 1 when the VFS can measure and bound pages read through a memory mapping (it reads
/// `/proc/self/statm` and `/proc/self/maps`); 0 where it cannot, and reads should not be mapped.
int cdsync_can_bound_mapped_reads(void);

/// Bytes written to a database or its WAL before the VFS starts their writeback (4 MiB by
/// default; 0 leaves writeback to the kernel until SQLite syncs). For tests and measurements.
void cdsync_set_writeback_chunk(long bytes);

/// How many times the VFS has started writeback of written bytes (see above). For tests.
unsigned long cdsync_writebacks_started(void);

/// Runs of more than one database page the VFS has written with one call (dbWrite). For tests.
unsigned long cdsync_database_runs_written(void);

#endif
