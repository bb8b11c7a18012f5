#include <sqlite3.h>
#include "csqlite_shims.h"

/* Statement and savepoint journals stay in memory up to this size before SQLite spills them
 * to a temporary file (its default is 64 KiB). Each batch of writes runs in a savepoint whose
 * journal keeps the original of every page the batch changes first: a few MiB for a batch of
 * 1,000 upserts, which at the default went to a temporary file as two writes per page
 * (initial load at N = 1,000,000: system time 4.1-5.2 s -> 2.3 s). A journal that outgrows it
 * is spilled in writes of this size, which the VFS of wal_merge_vfs.c cuts into pieces the
 * unix VFS accepts. SQLite also allocates the in-memory journal in chunks of this size, one
 * per savepoint that writes: 16 MiB made the delete phase (a savepoint per delete) slower,
 * 1 MiB kept most journals on disk; 8 MiB does neither. */
#define CDSYNC_STATEMENT_JOURNAL_SPILL (8 * 1024 * 1024)

/* sqlite3_config is variadic, so Swift cannot call it directly. */
int cdsync_sqlite_configure(void) {
    int code = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (code == SQLITE_OK) code = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (code == SQLITE_OK) code = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, CDSYNC_STATEMENT_JOURNAL_SPILL);
    /* after the configuration: registering a VFS initializes SQLite */
    int registered = cdsync_register_wal_merge_vfs();
    return code != SQLITE_OK ? code : registered;
}
