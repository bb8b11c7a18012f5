#include <sqlite3.h>
#include "csqlite_shims.h"

/* sqlite3_config is variadic, so Swift cannot call it directly. */
int cdsync_sqlite_configure(void) {
    int code = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    if (code != SQLITE_OK) return code;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
