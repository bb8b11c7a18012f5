#include <sqlite3.h>
#include <string.h>
#include "csqlite_shims.h"

/* A VFS over the default one that writes each write-ahead-log frame with one system call.
 *
 * SQLite writes a WAL frame as two writes: its 24-byte header, then the page right after
 * it. A bulk load writes millions of frames, and the header's own pwrite (a system call and
 * a trip through the file system for 24 bytes) was about a third of the time the store spent
 * writing. This layer holds a 24-byte write to a WAL file and, when the next call writes
 * right after it, sends both as one write. Any other call on the file (another write, a
 * read, a sync, a size, a truncation, a close, a file control) first writes what it holds,
 * so the file's contents and their order are what SQLite asked for; in between, nothing else
 * can observe the file (readers take frames only once SQLite has finished writing them and
 * updated the WAL index). Writes larger than 64 KiB, to any file, go down in 64 KiB pieces
 * (see mWrite). Every other call goes straight through. */

#define HEADER 24
#define MAX_PAGE 65536
#define MAX_WRITE (64 * 1024)

typedef struct MergeFile {
    sqlite3_file base;
    sqlite3_file *real;          /* the default VFS's file, in the memory after this struct */
    int isWal;
    sqlite3_int64 heldOffset;    /* -1 when nothing is held */
    unsigned char held[HEADER];
    unsigned char *frame;        /* HEADER + MAX_PAGE bytes, for WAL files only */
} MergeFile;

static sqlite3_vfs *realVfs;

static int flushHeld(MergeFile *p) {
    if (p->heldOffset < 0) return SQLITE_OK;
    sqlite3_int64 offset = p->heldOffset;
    p->heldOffset = -1;
    return p->real->pMethods->xWrite(p->real, p->held, HEADER, offset);
}

#define FLUSH_OR_RETURN(p) do { int rc_ = flushHeld(p); if (rc_ != SQLITE_OK) return rc_; } while (0)

static int mClose(sqlite3_file *f) {
    MergeFile *p = (MergeFile *)f;
    int rc = flushHeld(p);
    int closed = p->real->pMethods->xClose(p->real);
    sqlite3_free(p->frame);
    p->frame = 0;
    return rc != SQLITE_OK ? rc : closed;
}

static int mRead(sqlite3_file *f, void *buffer, int amount, sqlite3_int64 offset) {
    MergeFile *p = (MergeFile *)f;
    FLUSH_OR_RETURN(p);
    return p->real->pMethods->xRead(p->real, buffer, amount, offset);
}

static int mWrite(sqlite3_file *f, const void *buffer, int amount, sqlite3_int64 offset) {
    MergeFile *p = (MergeFile *)f;
    if (p->isWal && p->frame) {
        if (p->heldOffset >= 0) {
            if (offset == p->heldOffset + HEADER && amount > 0 && amount <= MAX_PAGE) {
                memcpy(p->frame, p->held, HEADER);
                memcpy(p->frame + HEADER, buffer, (size_t)amount);
                sqlite3_int64 start = p->heldOffset;
                p->heldOffset = -1;
                return p->real->pMethods->xWrite(p->real, p->frame, HEADER + amount, start);
            }
            FLUSH_OR_RETURN(p);
        }
        if (amount == HEADER) {
            memcpy(p->held, buffer, HEADER);
            p->heldOffset = offset;
            return SQLITE_OK;
        }
    }
    /* the unix VFS writes at most 128 KiB per call (it masks larger amounts and reports
     * SQLITE_FULL); a statement journal spilled from memory arrives in chunks of its spill
     * size, so larger writes go down in pieces */
    const unsigned char *bytes = buffer;
    while (amount > MAX_WRITE) {
        int rc = p->real->pMethods->xWrite(p->real, bytes, MAX_WRITE, offset);
        if (rc != SQLITE_OK) return rc;
        bytes += MAX_WRITE;
        offset += MAX_WRITE;
        amount -= MAX_WRITE;
    }
    return p->real->pMethods->xWrite(p->real, bytes, amount, offset);
}

/* The other methods call the real file's: FLUSHING ones first write what is held (any call
 * that could observe or depend on the file's contents), PASSING ones straight away. */
#define FLUSHING(name, method, parameters, arguments) \
    static int name parameters { \
        MergeFile *p = (MergeFile *)f; \
        FLUSH_OR_RETURN(p); \
        return p->real->pMethods->method arguments; \
    }
#define PASSING(name, method, parameters, arguments) \
    static int name parameters { \
        MergeFile *p = (MergeFile *)f; \
        return p->real->pMethods->method arguments; \
    }

FLUSHING(mTruncate, xTruncate, (sqlite3_file *f, sqlite3_int64 size), (p->real, size))
FLUSHING(mSync, xSync, (sqlite3_file *f, int flags), (p->real, flags))
FLUSHING(mFileSize, xFileSize, (sqlite3_file *f, sqlite3_int64 *size), (p->real, size))
FLUSHING(mLock, xLock, (sqlite3_file *f, int level), (p->real, level))
FLUSHING(mUnlock, xUnlock, (sqlite3_file *f, int level), (p->real, level))
FLUSHING(mFileControl, xFileControl, (sqlite3_file *f, int op, void *arg), (p->real, op, arg))
FLUSHING(mFetch, xFetch, (sqlite3_file *f, sqlite3_int64 offset, int amount, void **out), (p->real, offset, amount, out))
PASSING(mCheckReservedLock, xCheckReservedLock, (sqlite3_file *f, int *out), (p->real, out))
PASSING(mSectorSize, xSectorSize, (sqlite3_file *f), (p->real))
PASSING(mDeviceCharacteristics, xDeviceCharacteristics, (sqlite3_file *f), (p->real))
PASSING(mUnfetch, xUnfetch, (sqlite3_file *f, sqlite3_int64 offset, void *pointer), (p->real, offset, pointer))
/* The shared-memory calls go to the database file, which never holds a header (only WAL
 * files do), so there is nothing to write first. */
PASSING(mShmMap, xShmMap, (sqlite3_file *f, int region, int size, int extend, void volatile **out),
        (p->real, region, size, extend, out))
PASSING(mShmLock, xShmLock, (sqlite3_file *f, int offset, int count, int flags), (p->real, offset, count, flags))
PASSING(mShmUnmap, xShmUnmap, (sqlite3_file *f, int deleteFlag), (p->real, deleteFlag))

static void mShmBarrier(sqlite3_file *f) {
    MergeFile *p = (MergeFile *)f;
    p->real->pMethods->xShmBarrier(p->real);
}

static const sqlite3_io_methods mergeMethods = {
    3, mClose, mRead, mWrite, mTruncate, mSync, mFileSize, mLock, mUnlock, mCheckReservedLock,
    mFileControl, mSectorSize, mDeviceCharacteristics, mShmMap, mShmLock, mShmBarrier, mShmUnmap,
    mFetch, mUnfetch,
};

static int mOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *outFlags) {
    (void)vfs;
    MergeFile *p = (MergeFile *)f;
    memset(p, 0, sizeof *p);
    p->real = (sqlite3_file *)&p[1];
    p->heldOffset = -1;
    int rc = realVfs->xOpen(realVfs, name, p->real, flags, outFlags);
    if (rc != SQLITE_OK || p->real->pMethods == 0 || p->real->pMethods->iVersion < 3) {
        /* a file the real VFS half opened is closed here: SQLite closes only what we return */
        if (p->real->pMethods) p->real->pMethods->xClose(p->real);
        p->base.pMethods = 0;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    if (flags & SQLITE_OPEN_WAL) {
        p->isWal = 1;
        /* without the buffer, frames are simply written as SQLite writes them */
        p->frame = sqlite3_malloc(HEADER + MAX_PAGE);
    }
    p->base.pMethods = &mergeMethods;
    return SQLITE_OK;
}

static int vDelete(sqlite3_vfs *v, const char *name, int syncDir) { (void)v; return realVfs->xDelete(realVfs, name, syncDir); }
static int vAccess(sqlite3_vfs *v, const char *name, int flags, int *out) { (void)v; return realVfs->xAccess(realVfs, name, flags, out); }
static int vFullPathname(sqlite3_vfs *v, const char *name, int size, char *out) { (void)v; return realVfs->xFullPathname(realVfs, name, size, out); }
static void *vDlOpen(sqlite3_vfs *v, const char *name) { (void)v; return realVfs->xDlOpen(realVfs, name); }
static void vDlError(sqlite3_vfs *v, int size, char *out) { (void)v; realVfs->xDlError(realVfs, size, out); }
static void (*vDlSym(sqlite3_vfs *v, void *handle, const char *symbol))(void) { (void)v; return realVfs->xDlSym(realVfs, handle, symbol); }
static void vDlClose(sqlite3_vfs *v, void *handle) { (void)v; realVfs->xDlClose(realVfs, handle); }
static int vRandomness(sqlite3_vfs *v, int size, char *out) { (void)v; return realVfs->xRandomness(realVfs, size, out); }
static int vSleep(sqlite3_vfs *v, int micro) { (void)v; return realVfs->xSleep(realVfs, micro); }
static int vCurrentTime(sqlite3_vfs *v, double *out) { (void)v; return realVfs->xCurrentTime(realVfs, out); }
static int vGetLastError(sqlite3_vfs *v, int size, char *out) { (void)v; return realVfs->xGetLastError(realVfs, size, out); }
static int vCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *out) { (void)v; return realVfs->xCurrentTimeInt64(realVfs, out); }

static sqlite3_vfs mergeVfs;

int cdsync_register_wal_merge_vfs(void) {
    if (realVfs) return SQLITE_OK;
    sqlite3_vfs *base = sqlite3_vfs_find(0);
    if (!base || base->iVersion < 2 || !base->xCurrentTimeInt64) return SQLITE_ERROR;
    realVfs = base;
    mergeVfs.iVersion = 2;
    mergeVfs.szOsFile = (int)sizeof(MergeFile) + base->szOsFile;
    mergeVfs.mxPathname = base->mxPathname;
    mergeVfs.zName = "cdsync-wal-merge";
    mergeVfs.xOpen = mOpen;
    mergeVfs.xDelete = vDelete;
    mergeVfs.xAccess = vAccess;
    mergeVfs.xFullPathname = vFullPathname;
    mergeVfs.xDlOpen = vDlOpen;
    mergeVfs.xDlError = vDlError;
    mergeVfs.xDlSym = vDlSym;
    mergeVfs.xDlClose = vDlClose;
    mergeVfs.xRandomness = vRandomness;
    mergeVfs.xSleep = vSleep;
    mergeVfs.xCurrentTime = vCurrentTime;
    mergeVfs.xGetLastError = vGetLastError;
    mergeVfs.xCurrentTimeInt64 = vCurrentTimeInt64;
    return sqlite3_vfs_register(&mergeVfs, 1);
}
