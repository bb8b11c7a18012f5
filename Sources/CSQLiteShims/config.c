#include <sqlite3.h>
#include "csqlite_shims.h"

/* sqlite3_config is variadic, so Swift cannot call it directly. */
int cdsync_sqlite_configure(void) {
    int code = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (code == SQLITE_OK) code = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /* after the configuration: registering a VFS initializes SQLite */
    int registered = cdsync_register_wal_merge_vfs();
    return code != SQLITE_OK ? code : registered;
}
