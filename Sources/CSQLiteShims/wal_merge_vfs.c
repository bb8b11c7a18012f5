#define _GNU_SOURCE
#include <sqlite3.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "csqlite_shims.h"

/* A VFS over the default one that writes the write-ahead log in whole file blocks, one
 * system call per frame.
 *
 * SQLite writes a WAL frame as two writes: its 24-byte header, then the page right after
 * it. Frames are 24 bytes longer than a page, so each one starts and ends inside a 4 KiB file
 * block. Two costs followed: a bulk load writes millions of frames, and the header's own
 * pwrite was about a third of the time the store spent writing; and a write that covers only
 * part of a block the file system has just allocated makes ext4 zero the rest of that block
 * first (~0.5 s of a 1,000,000-row delta's store thread while its new log grew).
 *
 * So for a WAL file this layer holds a frame's header and, when the page follows, writes the
 * two together with whatever it still holds of the previous frame, up to the last whole
 * block; the part of the frame past that block boundary (under 4 KiB) stays held for the
 * next frame. A commit frame (its header carries the database size) is written out entirely,
 * so a committed transaction is all in the file before SQLite publishes it in the WAL index
 * (other connections read frames only once it has). Anything that could observe the file or
 * depend on it (a read, a write elsewhere, a sync, a size, a truncation, a lock, a file
 * control, a close) first writes what is held, so the file's contents and their order are
 * what SQLite asked for. Held bytes belong to a transaction still in progress; if it rolls
 * back, SQLite never reads them, and they are written before the connection releases the
 * WAL's write lock (see mShmLock), so they never land on frames another connection wrote.
 *
 * Writes larger than 64 KiB, to any file, go down in 64 KiB pieces (see writeAll).
 *
 * For a database file, page writes that follow each other in the file (a checkpoint copies
 * pages in page order, and a growing table's new pages are one run) are held and written
 * together, up to each 64 KiB boundary of the file (see dbWrite), under the same rule: any
 * call that could observe the file first writes what is held. Fewer system calls, and the
 * kernel keeps pages written 64 KiB at a time in large page-cache folios, which reading the
 * file through a memory mapping later (change reads) faults in at a fraction of the cost of
 * sixteen single pages.
 *
 * Pages SQLite reads through a memory mapping (PRAGMA mmap_size) are bounded in the resident
 * set: see boundMappedPages.
 *
 * Writes to the database and its WAL are handed to the disk as they accumulate, not all at
 * the next sync: see startWriteback. */

#define HEADER 24
#define MAX_PAGE 65536
#define MAX_WRITE (64 * 1024)
#define BLOCK 4096
/* the run of database pages held at most, and the file boundary it is written out at */
#define DB_RUN (64 * 1024)
/* the WAL lock a writer holds (wal.c's WAL_WRITE_LOCK) */
#define WAL_WRITE_LOCK 0

typedef struct MergeFile MergeFile;
struct MergeFile {
    sqlite3_file base;
    sqlite3_file *real;          /* the default VFS's file, in the memory after this struct */
    unsigned char *held;         /* BLOCK + HEADER + MAX_PAGE bytes for a WAL file, DB_RUN for a database file (else 0) */
    int isDatabase;              /* held is a run of database pages (dbWrite), not WAL frames */
    int failed;                  /* a database file's held run failed to go down, not yet returned to SQLite */
    sqlite3_int64 reservedEnd;   /* a database file's blocks up to here exist (see reserveRun) */
    sqlite3_int64 heldOffset;    /* the file offset of held[0] */
    int heldLength;              /* 0 when nothing is held */
    int headerLast;              /* the held bytes end with a frame header */
    MergeFile *wal;              /* a database file's WAL file, while both are open */
    MergeFile *database;         /* a WAL file's database file, while both are open */
    char *mapBase;               /* where the real file's mapping starts (0: none seen yet) */
    sqlite3_int64 mapEnd;        /* the end of the furthest page fetched through it */
    unsigned fetches;            /* pages fetched since the resident set was last looked at */
    long residentAtTrim;         /* the process's resident file pages after the last trim (-1: unknown) */
    int fd;                      /* the real file's descriptor, for startWriteback (-1: not known) */
    sqlite3_int64 unsyncedStart; /* the range written since writeback was last started or */
    sqlite3_int64 unsyncedEnd;   /* the file synced (meaningful while unsyncedBytes > 0) */
    sqlite3_int64 unsyncedBytes; /* bytes written in it */
};

static sqlite3_vfs *realVfs;

/* A checkpoint copies up to ~160 MB of pages into the database file and then syncs it, after
 * syncing the WAL, whose frames have been piling up in the page cache since the last one: the
 * store's thread (and a script waiting for it) then sat in fdatasync for 0.1-0.27 s per sync
 * while the disk wrote it all. So once `writebackChunk` bytes have been written to either
 * file, this asks the kernel to start writing them out (sync_file_range with
 * SYNC_FILE_RANGE_WRITE: it starts writeback and does not wait for it to finish), and the
 * disk writes while SQLite goes on; the sync that follows finds little left to do.
 * Durability is unchanged: SQLite still syncs exactly when it did, and this only starts
 * sooner what that sync would have written anyway. (Starting it takes under a millisecond per
 * 4 MiB of the WAL's appended frames, and ~3 ms per 4 MiB of the pages a checkpoint scatters
 * over the database file, about what the database file's sync used to spend on them. Handing
 * those to a helper thread measured no better, so both are started here.) */
static sqlite3_int64 writebackChunk = 4L * 1024 * 1024;
static unsigned long writebacks;

void cdsync_set_writeback_chunk(long bytes) { writebackChunk = bytes; }
unsigned long cdsync_writebacks_started(void) { return __atomic_load_n(&writebacks, __ATOMIC_RELAXED); }

static void syncRange(int fd, sqlite3_int64 start, sqlite3_int64 end) {
#ifdef __linux__
    if (sync_file_range(fd, start, end - start, SYNC_FILE_RANGE_WRITE) == 0) __atomic_add_fetch(&writebacks, 1, __ATOMIC_RELAXED);
#else
    (void)fd; (void)start; (void)end;
#endif
}

static void startWriteback(MergeFile *p) {
    syncRange(p->fd, p->unsyncedStart, p->unsyncedEnd);
    p->unsyncedBytes = 0;
}

static void noteWritten(MergeFile *p, sqlite3_int64 offset, int amount) {
    if (p->fd < 0 || writebackChunk <= 0) return;
    sqlite3_int64 end = offset + amount;
    if (p->unsyncedBytes == 0) {
        p->unsyncedStart = offset;
        p->unsyncedEnd = end;
    } else {
        if (offset < p->unsyncedStart) p->unsyncedStart = offset;
        if (end > p->unsyncedEnd) p->unsyncedEnd = end;
    }
    p->unsyncedBytes += amount;
    if (p->unsyncedBytes >= writebackChunk) startWriteback(p);
}

/* The descriptor of a file the default (unix) VFS opened: its unixFile starts with the
 * methods, the VFS, the inode's lock information and then the descriptor (os_unix.c, from
 * SQLite 3.7 on; 3.40 here). The descriptor is used only if it is open on the file `name`
 * names (same device and inode), so a different layout leaves writeback to the kernel. */
static int realDescriptor(sqlite3_file *real, const char *name) {
#ifdef __linux__
    struct UnixFilePrefix { const sqlite3_io_methods *methods; sqlite3_vfs *vfs; void *inode; int h; };
    if (!name) return -1;
    int fd = ((struct UnixFilePrefix *)real)->h;
    struct stat opened, named;
    if (fd < 0 || fstat(fd, &opened) != 0 || stat(name, &named) != 0) return -1;
    if (opened.st_dev != named.st_dev || opened.st_ino != named.st_ino || !S_ISREG(opened.st_mode)) return -1;
    return fd;
#else
    (void)real; (void)name;
    return -1;
#endif
}

/* The unix VFS writes at most 128 KiB per call (it masks larger amounts and reports
 * SQLITE_FULL); a statement journal spilled from memory arrives in chunks of its spill size,
 * so larger writes go down in pieces. */
static int writeAll(MergeFile *p, const void *buffer, int amount, sqlite3_int64 offset) {
    const unsigned char *bytes = buffer;
    while (amount > MAX_WRITE) {
        int rc = p->real->pMethods->xWrite(p->real, bytes, MAX_WRITE, offset);
        if (rc != SQLITE_OK) return rc;
        noteWritten(p, offset, MAX_WRITE);
        bytes += MAX_WRITE;
        offset += MAX_WRITE;
        amount -= MAX_WRITE;
    }
    int rc = p->real->pMethods->xWrite(p->real, bytes, amount, offset);
    if (rc == SQLITE_OK) noteWritten(p, offset, amount);
    return rc;
}

static unsigned long databaseRuns;
unsigned long cdsync_database_runs_written(void) { return __atomic_load_n(&databaseRuns, __ATOMIC_RELAXED); }

static int flushHeld(MergeFile *p) {
    if (p->failed != SQLITE_OK) return p->failed;
    if (p->heldLength == 0) return SQLITE_OK;
    int length = p->heldLength;
    p->heldLength = 0;
    p->headerLast = 0;
    int rc = writeAll(p, p->held, length, p->heldOffset);
    if (rc == SQLITE_OK && p->isDatabase && length > BLOCK) __atomic_add_fetch(&databaseRuns, 1, __ATOMIC_RELAXED);
    /* SQLite was told those pages were written: the failure is recorded until a call whose
     * result SQLite acts on has returned it (FLUSH_OR_RETURN), for a call whose result it
     * ignores (a file control hint, an unlock) may be the one that met it. (For a WAL file the
     * held bytes are the frames of a transaction still in progress, which its commit reports.) */
    if (rc != SQLITE_OK && p->isDatabase) p->failed = rc;
    return rc;
}

/* For calls whose result SQLite acts on: a failure to write what was held is returned, and
 * once returned it is no longer recorded (SQLite has it; see flushHeld). */
#define FLUSH_OR_RETURN(p) do { int rc_ = flushHeld(p); if (rc_ != SQLITE_OK) { (p)->failed = SQLITE_OK; return rc_; } } while (0)

static int mClose(sqlite3_file *f) {
    MergeFile *p = (MergeFile *)f;
    int rc = flushHeld(p);
    if (p->wal) p->wal->database = 0;
    if (p->database) p->database->wal = 0;
    int closed = p->real->pMethods->xClose(p->real);
    sqlite3_free(p->held);
    p->held = 0;
    return rc != SQLITE_OK ? rc : closed;
}

static int mRead(sqlite3_file *f, void *buffer, int amount, sqlite3_int64 offset) {
    MergeFile *p = (MergeFile *)f;
    FLUSH_OR_RETURN(p);
    return p->real->pMethods->xRead(p->real, buffer, amount, offset);
}

/* The page after a held frame header: writes the held bytes and the page up to the last
 * whole block and keeps the rest, or everything for a commit frame. */
static int writeFrame(MergeFile *p, const void *page, int amount) {
    const unsigned char *header = p->held + p->heldLength - HEADER;
    int commit = (header[4] | header[5] | header[6] | header[7]) != 0;
    memcpy(p->held + p->heldLength, page, (size_t)amount);
    int total = p->heldLength + amount;
    p->headerLast = 0;
    if (commit) {
        p->heldLength = 0;
        return writeAll(p, p->held, total, p->heldOffset);
    }
    sqlite3_int64 end = p->heldOffset + total;
    int whole = (int)((end & ~(sqlite3_int64)(BLOCK - 1)) - p->heldOffset);
    if (whole <= 0) {
        p->heldLength = total;
        return SQLITE_OK;
    }
    int rc = writeAll(p, p->held, whole, p->heldOffset);
    if (rc != SQLITE_OK) {
        p->heldLength = 0;
        return rc;
    }
    memmove(p->held, p->held + whole, (size_t)(total - whole));
    p->heldOffset += whole;
    p->heldLength = total - whole;
    return SQLITE_OK;
}

/* Whether a run starting at `offset` (it ends by the next DB_RUN boundary) may be held: its
 * blocks must exist, so that writing it later cannot fail for want of space where writing
 * it now would have (a full disk then fails the write SQLite is making, as without this
 * layer). Every block below `reservedEnd` exists (the file up to its first hole when it was
 * opened, extended only by writes and reservations that start inside it: a checkpoint
 * held back by a reader may write a page past a gap); other runs are allocated first,
 * without changing the file's size (fallocate's KEEP_SIZE). */
static int reserveRun(MergeFile *p, sqlite3_int64 offset) {
    sqlite3_int64 end = (offset / DB_RUN + 1) * DB_RUN;
    if (end <= p->reservedEnd) return 1;
#ifdef __linux__
    if (p->fd < 0 || fallocate(p->fd, FALLOC_FL_KEEP_SIZE, offset, end - offset) != 0) return 0;
    if (offset <= p->reservedEnd) p->reservedEnd = end;
    return 1;
#else
    return 0;
#endif
}

/* A database page write: held while it continues the held run; the run is written once it
 * reaches a multiple of DB_RUN in the file (so later runs start there, and each write after
 * the first of a run covers a whole aligned DB_RUN). Other writes (not a whole page at a
 * page's place, or too large) write the run first and then go down as they are. */
static int dbWrite(MergeFile *p, const void *buffer, int amount, sqlite3_int64 offset) {
    int page = amount >= 512 && amount <= DB_RUN / 2 && (amount & (amount - 1)) == 0 && offset % amount == 0;
    int continues = page && p->heldLength > 0 && offset == p->heldOffset + p->heldLength;
    if (!continues) {
        FLUSH_OR_RETURN(p);
        if (!page || !reserveRun(p, offset)) {
            int rc = writeAll(p, buffer, amount, offset);
            /* (a write past a gap leaves the gap unallocated: only a write from inside extends the known blocks) */
            if (rc == SQLITE_OK && offset <= p->reservedEnd && offset + amount > p->reservedEnd) p->reservedEnd = offset + amount;
            return rc;
        }
        p->heldOffset = offset;
    }
    memcpy(p->held + p->heldLength, buffer, (size_t)amount);
    p->heldLength += amount;
    if ((p->heldOffset + p->heldLength) % DB_RUN == 0) return flushHeld(p);
    return SQLITE_OK;
}

static int mWrite(sqlite3_file *f, const void *buffer, int amount, sqlite3_int64 offset) {
    MergeFile *p = (MergeFile *)f;
    if (p->isDatabase) return dbWrite(p, buffer, amount, offset);
    if (p->held) {
        int follows = p->heldLength > 0 && offset == p->heldOffset + p->heldLength;
        if (follows && p->headerLast && amount > 0 && amount <= MAX_PAGE) return writeFrame(p, buffer, amount);
        if (amount == HEADER && (follows ? !p->headerLast : p->heldLength == 0)) {
            if (p->heldLength == 0) p->heldOffset = offset;
            memcpy(p->held + p->heldLength, buffer, HEADER);
            p->heldLength += HEADER;
            p->headerLast = 1;
            return SQLITE_OK;
        }
        FLUSH_OR_RETURN(p);
        if (amount == HEADER) {
            p->heldOffset = offset;
            memcpy(p->held, buffer, HEADER);
            p->heldLength = HEADER;
            p->headerLast = 1;
            return SQLITE_OK;
        }
    }
    return writeAll(p, buffer, amount, offset);
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

static int mTruncate(sqlite3_file *f, sqlite3_int64 size) {
    MergeFile *p = (MergeFile *)f;
    FLUSH_OR_RETURN(p);
    int rc = p->real->pMethods->xTruncate(p->real, size);
    /* (blocks fallocated past the new size may be gone with it) */
    if (p->reservedEnd > size) p->reservedEnd = size;
    return rc;
}
static int mSync(sqlite3_file *f, int flags) {
    MergeFile *p = (MergeFile *)f;
    FLUSH_OR_RETURN(p);
    int rc = p->real->pMethods->xSync(p->real, flags);
    if (rc == SQLITE_OK) p->unsyncedBytes = 0;
    return rc;
}
FLUSHING(mFileSize, xFileSize, (sqlite3_file *f, sqlite3_int64 *size), (p->real, size))
FLUSHING(mLock, xLock, (sqlite3_file *f, int level), (p->real, level))
/* An unlock always unlocks (a lock kept after a failed write would block every other
 * connection); the failure, if any, is returned after it. */
static int mUnlock(sqlite3_file *f, int level) {
    MergeFile *p = (MergeFile *)f;
    int flushed = flushHeld(p);
    if (flushed != SQLITE_OK) p->failed = SQLITE_OK;
    int rc = p->real->pMethods->xUnlock(p->real, level);
    return flushed != SQLITE_OK ? flushed : rc;
}
/* A checkpoint ends with this file control, and SQLite ignores what it returns: next it
 * records the pages as copied into the database file (and the log may then be started over).
 * So if the last run of a checkpoint cannot be written there (a failing disk: its blocks were
 * allocated, see reserveRun), the process stops here, before that record is made; the log
 * still holds the pages, and the next open of the store copies them again. */
static int mFileControl(sqlite3_file *f, int op, void *arg) {
    MergeFile *p = (MergeFile *)f;
    /* (a failure recorded before was already returned to SQLite by the write it broke) */
    int pending = p->heldLength > 0 && p->failed == SQLITE_OK;
    int rc = flushHeld(p);
    if (rc != SQLITE_OK) {
        if (op == SQLITE_FCNTL_CKPT_DONE && p->isDatabase && pending) {
            fprintf(stderr, "cdsync: writing the store's pages failed at the end of a checkpoint (SQLite error %d); "
                            "stopping before they are recorded as written. The store's log still holds them: "
                            "open the store again once the disk is writable.\n", rc);
            _exit(74);
        }
        return rc;
    }
    if (op == SQLITE_FCNTL_CKPT_START && p->isDatabase) {
        /* another connection may have truncated the file since (its blocks past the size gone) */
        struct stat now;
        if (fstat(p->fd, &now) != 0) p->reservedEnd = 0;
        else if (now.st_size < p->reservedEnd) p->reservedEnd = now.st_size;
    }
    return p->real->pMethods->xFileControl(p->real, op, arg);
}

/* Every page read through the mapping stays in the process's resident set until the mapping
 * goes (and the kernel maps up to 15 neighbours with each page it faults in): a change feed
 * over a large table would count most of the file (the benchmark's extract: 620 MB). So every
 * `checkEvery` pages fetched, this reads the process's resident file-backed pages and, once
 * they have grown by `residentLimit` bytes since the last trim, drops the mapping's page table
 * entries (MADV_DONTNEED on a shared read-only file mapping: the pages stay in the kernel's
 * page cache, and the next access maps them again, unchanged). 128 MiB: the benchmark's
 * extract ran 1.26 s with 32 MiB (a trim every few thousand pages, and its hot pages faulted
 * in again after each), 1.20 s with 64, 1.11 s with 128, peaking at 105, 135 and 200 MB. */
static long residentLimit = 128L * 1024 * 1024;
static unsigned checkEvery = 1024;
static unsigned long trims;

void cdsync_set_mapped_read_limit(long bytes, unsigned fetches) {
    residentLimit = bytes;
    checkEvery = fetches > 0 ? fetches : 1;
}

unsigned long cdsync_mapped_read_trims(void) { return __atomic_load_n(&trims, __ATOMIC_RELAXED); }

int cdsync_can_bound_mapped_reads(void) {
    return access("/proc/self/statm", R_OK) == 0 && access("/proc/self/maps", R_OK) == 0;
}

/* Resident file-backed and shared pages of the process (the third field of /proc/self/statm), or -1. */
static long residentFilePages(void) {
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    char text[128];
    ssize_t length = read(fd, text, sizeof text - 1);
    close(fd);
    if (length <= 0) return -1;
    text[length] = 0;
    long size, resident, shared;
    return sscanf(text, "%ld %ld %ld", &size, &resident, &shared) == 3 ? shared : -1;
}

/* The length of the shared mapping that starts at base, from /proc/self/maps (0: none). The
 * mapping may have shrunk in place since its pages were fetched (SQLite remaps with mremap when
 * the file gets smaller) and other memory may follow it, so a trim never goes past it. */
static size_t sharedMappingLength(const char *base) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (!maps) return 0;
    char line[512];
    size_t length = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        char permissions[8];
        if (sscanf(line, "%lx-%lx %7s", &start, &end, permissions) == 3 && start == (unsigned long)base) {
            if (permissions[3] == 's') length = (size_t)(end - start);
            break;
        }
    }
    fclose(maps);
    return length;
}

/* Called with each page fetched through the mapping: trims the mapping when it holds too much. */
static void boundMappedPages(MergeFile *p, void *page, sqlite3_int64 offset, int amount) {
    char *base = (char *)page - offset;
    if (base != p->mapBase) {  /* a new mapping: turned on again, or moved as the file grew */
        p->mapBase = base;
        p->mapEnd = 0;
        p->fetches = 0;
        p->residentAtTrim = residentFilePages();
    }
    if (offset + amount > p->mapEnd) p->mapEnd = offset + amount;
    if (++p->fetches < checkEvery) return;
    p->fetches = 0;
    long resident = residentFilePages();
    if (resident < 0 || p->residentAtTrim < 0) return;
    if ((resident - p->residentAtTrim) * sysconf(_SC_PAGESIZE) < residentLimit) return;
    size_t length = sharedMappingLength(p->mapBase);
    if ((sqlite3_int64)length > p->mapEnd) length = (size_t)p->mapEnd;
    if (length > 0 && madvise(p->mapBase, length, MADV_DONTNEED) == 0) __atomic_add_fetch(&trims, 1, __ATOMIC_RELAXED);
    p->residentAtTrim = residentFilePages();
}

static int mFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
    MergeFile *p = (MergeFile *)f;
    FLUSH_OR_RETURN(p);
    int rc = p->real->pMethods->xFetch(p->real, offset, amount, out);
    if (rc == SQLITE_OK && *out) boundMappedPages(p, *out, offset, amount);
    return rc;
}
PASSING(mCheckReservedLock, xCheckReservedLock, (sqlite3_file *f, int *out), (p->real, out))
PASSING(mSectorSize, xSectorSize, (sqlite3_file *f), (p->real))
PASSING(mDeviceCharacteristics, xDeviceCharacteristics, (sqlite3_file *f), (p->real))
PASSING(mUnfetch, xUnfetch, (sqlite3_file *f, sqlite3_int64 offset, void *pointer), (p->real, offset, pointer))
/* The shared-memory calls go to the database file. */
PASSING(mShmMap, xShmMap, (sqlite3_file *f, int region, int size, int extend, void volatile **out),
        (p->real, region, size, extend, out))

/* Before a connection gives up the WAL's write lock, its WAL file writes what it holds: the
 * end of a transaction that did not commit, which another writer may overwrite next. A
 * failed write there is not reported (SQLite ignores what unlocking returns, and no committed
 * data is held). */
static int mShmLock(sqlite3_file *f, int offset, int count, int flags) {
    MergeFile *p = (MergeFile *)f;
    if ((flags & SQLITE_SHM_UNLOCK) && offset <= WAL_WRITE_LOCK && offset + count > WAL_WRITE_LOCK && p->wal)
        (void)flushHeld(p->wal);
    /* the database file's own run (a checkpoint's pages, already written when it ends: see
     * mFileControl) never outlives a lock its writer held; a failure stays recorded (flushHeld) */
    if ((flags & SQLITE_SHM_UNLOCK) && p->isDatabase) (void)flushHeld(p);
    return p->real->pMethods->xShmLock(p->real, offset, count, flags);
}
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
    p->fd = -1;
    int rc = realVfs->xOpen(realVfs, name, p->real, flags, outFlags);
    if (rc != SQLITE_OK || p->real->pMethods == 0 || p->real->pMethods->iVersion < 3) {
        /* a file the real VFS half opened is closed here: SQLite closes only what we return */
        if (p->real->pMethods) p->real->pMethods->xClose(p->real);
        p->base.pMethods = 0;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    if (flags & SQLITE_OPEN_WAL) {
        /* without the buffer, frames are simply written as SQLite writes them */
        p->held = sqlite3_malloc(BLOCK + HEADER + MAX_PAGE);
        /* the database file of a WAL is the one SQLite names for it (both are ours) */
        MergeFile *database = name ? (MergeFile *)sqlite3_database_file_object(name) : 0;
        if (database && database->base.pMethods == &mergeMethods && !database->wal) {
            database->wal = p;
            p->database = database;
        }
    }
    if (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) p->fd = realDescriptor(p->real, name);
    if ((flags & SQLITE_OPEN_MAIN_DB) && p->fd >= 0) {
        /* without the descriptor (or the buffer), pages are written as SQLite writes them;
         * the blocks known to exist end at the file's first hole (its size when it has none;
         * an empty file has no hole to find: ENXIO, and nothing is known) */
#ifdef SEEK_HOLE
        off_t hole = lseek(p->fd, 0, SEEK_HOLE);
        (void)lseek(p->fd, 0, SEEK_SET);
#else
        off_t hole = 0;  /* nothing known: every run is reserved first */
#endif
        p->held = sqlite3_malloc(DB_RUN);
        p->isDatabase = p->held != 0;
        p->reservedEnd = hole > 0 ? hole : 0;
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
