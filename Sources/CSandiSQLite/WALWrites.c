// A VFS ("sandi") over SQLite's own unix VFS that writes each new write-ahead log frame with one
// system call instead of two.
//
// Why: SQLite writes a log frame as two writes, its 24-byte header and then its page
// (walWriteOneFrame). Each is a pwrite64 with the kernel's whole write path (a page-cache lookup,
// marking the page dirty): about half of a start's 22 pwrite64 calls were headers.
//
// How: a 24-byte write to the log that continues exactly where this connection's last write to it
// ended (a new frame's header, appended) is held back, and the write that follows it at once (the
// frame's page) goes to the file together with it, as one write. Anything else first writes out
// a held header: any other call on the log file, and any call on the database file of the same
// connection (in particular the shared-memory barrier SQLite issues before it publishes a commit
// to readers, and the release of the log's write lock at the end of the write transaction).
// Headers are held only while the connection holds the log's write lock, as its database file saw
// it being taken, so a held header never outlives the write transaction it belongs to. Headers
// that SQLite rewrites in place (checksums of frames overwritten within a transaction) are not
// appended, so they are written as they come.
//
// Files other than the main database and its log are opened by the unix VFS directly, with no
// wrapper. A connection's files are used by one thread at a time (the connection's), so the
// wrapper needs no lock of its own.

#include "CSandiSQLite.h"
#include "sqlite_nio_sqlite3.h"
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

#define FRAME_HEADER 24

typedef struct File File;
struct File {
    sqlite3_file base;
    sqlite3_file *real;     // the unix VFS's file, right after this struct
    File *wal;              // database file: its connection's open log (or NULL)
    File *db;               // log file: its database file (or NULL)
    int isLog;              // a log file (else a database file)
    int writing;            // database file: the connection holds the log's write lock
    sqlite3_int64 lastEnd;  // log file: where the last write to it ended (-1: unknown)
    sqlite3_int64 heldAt;   // log file: offset of the held header
    int held;               // log file: a header is held
    unsigned char header[FRAME_HEADER];
    unsigned char *buffer;  // log file: header and page assembled for one write
    int capacity;
};

#define REAL(f) (((File *)(f))->real)

static sqlite3_vfs vfs;
static sqlite3_vfs *unixVFS;
static sqlite3_io_methods dbMethods;
static sqlite3_io_methods walMethods;
static sqlite3_io_methods dbMethodsV1;
static atomic_int registered;
static _Atomic unsigned long long mergedCount;
static _Atomic unsigned long long aloneCount;
static _Atomic unsigned long long directCount;

// Writes a held header on its own. SQLITE_OK when nothing was held.
static int release(File *wal) {
    if (!wal || !wal->held) return SQLITE_OK;
    wal->held = 0;
    atomic_fetch_add_explicit(&aloneCount, 1, memory_order_relaxed);
    return wal->real->pMethods->xWrite(wal->real, wal->header, FRAME_HEADER, wal->heldAt);
}

// The log whose held header must go out before any call on `f`: the log itself, or a database
// file's log.
static File *logOf(sqlite3_file *f) {
    File *p = (File *)f;
    return p->isLog ? p : p->wal;
}

#define RELEASING(call) \
    { int rc = release(logOf(f)); return rc != SQLITE_OK ? rc : call; }

// Methods both kinds of file share: release a held header, then forward.
static int fileRead(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off) RELEASING(REAL(f)->pMethods->xRead(REAL(f), buf, amt, off))
static int fileSync(sqlite3_file *f, int flags) RELEASING(REAL(f)->pMethods->xSync(REAL(f), flags))
static int fileSize(sqlite3_file *f, sqlite3_int64 *size) RELEASING(REAL(f)->pMethods->xFileSize(REAL(f), size))
static int fileLock(sqlite3_file *f, int level) RELEASING(REAL(f)->pMethods->xLock(REAL(f), level))
static int fileUnlock(sqlite3_file *f, int level) RELEASING(REAL(f)->pMethods->xUnlock(REAL(f), level))
static int fileCheckReservedLock(sqlite3_file *f, int *out) RELEASING(REAL(f)->pMethods->xCheckReservedLock(REAL(f), out))
static int fileControl(sqlite3_file *f, int op, void *arg) RELEASING(REAL(f)->pMethods->xFileControl(REAL(f), op, arg))
static int fileSectorSize(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int fileDeviceCharacteristics(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }

// Fetches (memory-mapped pages) when the unix VFS's file has them; "not mapped" otherwise, as the
// unix VFS answers when it cannot map. A log file is never mapped.
static int fileFetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out) {
    int rc = release(logOf(f));
    if (rc != SQLITE_OK) return rc;
    if (REAL(f)->pMethods->iVersion >= 3 && REAL(f)->pMethods->xFetch) return REAL(f)->pMethods->xFetch(REAL(f), off, amt, out);
    *out = 0;
    return SQLITE_OK;
}
static int fileUnfetch(sqlite3_file *f, sqlite3_int64 off, void *page) {
    int rc = release(logOf(f));
    if (rc != SQLITE_OK) return rc;
    if (REAL(f)->pMethods->iVersion >= 3 && REAL(f)->pMethods->xUnfetch) return REAL(f)->pMethods->xUnfetch(REAL(f), off, page);
    return SQLITE_OK;
}

// Log file methods.

static int walClose(sqlite3_file *f) {
    File *p = (File *)f;
    int rc = release(p);
    if (p->db) p->db->wal = NULL;
    sqlite_nio_sqlite3_free(p->buffer);
    p->buffer = NULL;
    int closed = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : closed;
}

// Writes `amt` bytes at `off` through the unix VFS and remembers where the write ended.
static int plainWrite(File *p, const void *buf, int amt, sqlite3_int64 off) {
    int rc = p->real->pMethods->xWrite(p->real, buf, amt, off);
    p->lastEnd = rc == SQLITE_OK ? off + amt : -1;
    return rc;
}

static int walWrite(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off) {
    File *p = (File *)f;
    if (p->held && off == p->heldAt + FRAME_HEADER && amt > 0) {
        // The frame's page: header and page in one write.
        int size = FRAME_HEADER + amt;
        if (size > p->capacity) {
            unsigned char *grown = sqlite_nio_sqlite3_realloc(p->buffer, size);
            if (grown) {
                p->buffer = grown;
                p->capacity = size;
            }
        }
        if (size <= p->capacity) {
            memcpy(p->buffer, p->header, FRAME_HEADER);
            memcpy(p->buffer + FRAME_HEADER, buf, (size_t)amt);
            p->held = 0;
            atomic_fetch_add_explicit(&mergedCount, 1, memory_order_relaxed);
            return plainWrite(p, p->buffer, size, p->heldAt);
        }
    }
    int rc = release(p);
    if (rc != SQLITE_OK) {
        p->lastEnd = -1;
        return rc;
    }
    if (amt == FRAME_HEADER && off == p->lastEnd && p->db && p->db->writing) {
        // A new frame's header, appended: held until its page comes.
        memcpy(p->header, buf, FRAME_HEADER);
        p->heldAt = off;
        p->held = 1;
        return SQLITE_OK;
    }
    if (amt == FRAME_HEADER) atomic_fetch_add_explicit(&directCount, 1, memory_order_relaxed);
    return plainWrite(p, buf, amt, off);
}

static int walTruncate(sqlite3_file *f, sqlite3_int64 size) {
    File *p = (File *)f;
    int rc = release(p);
    if (rc != SQLITE_OK) return rc;
    if (p->lastEnd > size) p->lastEnd = -1;
    return p->real->pMethods->xTruncate(p->real, size);
}

// Database file methods.

static int dbClose(sqlite3_file *f) {
    File *p = (File *)f;
    int rc = release(p->wal);
    if (p->wal) p->wal->db = NULL;
    p->wal = NULL;
    int closed = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
    return rc != SQLITE_OK ? rc : closed;
}

static int dbWrite(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off) RELEASING(REAL(f)->pMethods->xWrite(REAL(f), buf, amt, off))
static int dbTruncate(sqlite3_file *f, sqlite3_int64 size) RELEASING(REAL(f)->pMethods->xTruncate(REAL(f), size))
static int dbShmMap(sqlite3_file *f, int page, int size, int extend, void volatile **out) RELEASING(REAL(f)->pMethods->xShmMap(REAL(f), page, size, extend, out))
static int dbShmUnmap(sqlite3_file *f, int deleteFlag) RELEASING(REAL(f)->pMethods->xShmUnmap(REAL(f), deleteFlag))

// The log's write lock is slot 0 of the shared-memory locks (WAL_WRITE_LOCK).
static int dbShmLock(sqlite3_file *f, int offset, int n, int flags) {
    File *p = (File *)f;
    int rc = release(p->wal);
    if (rc != SQLITE_OK) return rc;
    int coversWriteLock = offset <= 0 && offset + n > 0;
    if (coversWriteLock && (flags & SQLITE_SHM_UNLOCK)) p->writing = 0;
    rc = p->real->pMethods->xShmLock(p->real, offset, n, flags);
    if (coversWriteLock && rc == SQLITE_OK && (flags & SQLITE_SHM_LOCK) && (flags & SQLITE_SHM_EXCLUSIVE)) p->writing = 1;
    return rc;
}

// Before SQLite publishes a commit to readers: everything it wrote is in the file.
static void dbShmBarrier(sqlite3_file *f) {
    if (release(((File *)f)->wal) != SQLITE_OK) abort();
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int xOpen(sqlite3_vfs *self, sqlite3_filename name, sqlite3_file *f, int flags, int *outFlags) {
    (void)self;
    int isDB = (flags & SQLITE_OPEN_MAIN_DB) != 0, isWAL = (flags & SQLITE_OPEN_WAL) != 0;
    if (!isDB && !isWAL) {
        // Journals and temporary files: the unix VFS's own file, with no wrapper.
        return unixVFS->xOpen(unixVFS, name, f, flags, outFlags);
    }
    File *p = (File *)f;
    memset(p, 0, sizeof(File));
    p->real = (sqlite3_file *)((char *)p + ((sizeof(File) + 7) & ~(size_t)7));
    p->lastEnd = -1;
    int rc = unixVFS->xOpen(unixVFS, name, p->real, flags, outFlags);
    if (rc != SQLITE_OK || !p->real->pMethods) {
        p->base.pMethods = NULL;
        return rc;
    }
    if (isDB && (p->real->pMethods->iVersion < 3 || !p->real->pMethods->xShmMap)) {
        // Not a database file this wrapper was written for (the unix VFS on Linux gives version 3
        // with shared memory): forwarding of the version-1 methods only. Its log, if any, holds
        // nothing back, since it never sees the write lock taken.
        p->base.pMethods = &dbMethodsV1;
        return SQLITE_OK;
    }
    p->isLog = isWAL;
    if (isWAL) {
        sqlite3_file *db = sqlite_nio_sqlite3_database_file_object(name);
            if (db && db->pMethods == &dbMethods) {
            p->db = (File *)db;
            p->db->wal = p;
        }
        p->base.pMethods = &walMethods;
    } else {
        p->base.pMethods = &dbMethods;
    }
    return SQLITE_OK;
}

static int xDelete(sqlite3_vfs *s, const char *name, int syncDir) { (void)s; return unixVFS->xDelete(unixVFS, name, syncDir); }
static int xAccess(sqlite3_vfs *s, const char *name, int flags, int *out) { (void)s; return unixVFS->xAccess(unixVFS, name, flags, out); }
static int xFullPathname(sqlite3_vfs *s, const char *name, int n, char *out) { (void)s; return unixVFS->xFullPathname(unixVFS, name, n, out); }
static void *xDlOpen(sqlite3_vfs *s, const char *name) { (void)s; return unixVFS->xDlOpen(unixVFS, name); }
static void xDlError(sqlite3_vfs *s, int n, char *out) { (void)s; unixVFS->xDlError(unixVFS, n, out); }
static void (*xDlSym(sqlite3_vfs *s, void *h, const char *sym))(void) { (void)s; return unixVFS->xDlSym(unixVFS, h, sym); }
static void xDlClose(sqlite3_vfs *s, void *h) { (void)s; unixVFS->xDlClose(unixVFS, h); }
static int xRandomness(sqlite3_vfs *s, int n, char *out) { (void)s; return unixVFS->xRandomness(unixVFS, n, out); }
static int xSleep(sqlite3_vfs *s, int us) { (void)s; return unixVFS->xSleep(unixVFS, us); }
static int xCurrentTime(sqlite3_vfs *s, double *out) { (void)s; return unixVFS->xCurrentTime(unixVFS, out); }
static int xGetLastError(sqlite3_vfs *s, int n, char *out) { (void)s; return unixVFS->xGetLastError(unixVFS, n, out); }
static int xCurrentTimeInt64(sqlite3_vfs *s, sqlite3_int64 *out) { (void)s; return unixVFS->xCurrentTimeInt64(unixVFS, out); }
static int xSetSystemCall(sqlite3_vfs *s, const char *name, sqlite3_syscall_ptr call) { (void)s; return unixVFS->xSetSystemCall(unixVFS, name, call); }
static sqlite3_syscall_ptr xGetSystemCall(sqlite3_vfs *s, const char *name) { (void)s; return unixVFS->xGetSystemCall(unixVFS, name); }
static const char *xNextSystemCall(sqlite3_vfs *s, const char *name) { (void)s; return unixVFS->xNextSystemCall(unixVFS, name); }

int sandi_sqlite_register_wal_vfs(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&registered, &expected, 1)) return SQLITE_OK;
    unixVFS = sqlite_nio_sqlite3_vfs_find("unix");
    if (!unixVFS || unixVFS->iVersion < 3) { atomic_store(&registered, 0); return SQLITE_ERROR; }

    // A log has no shared memory of its own: the unix VFS opens it without locking.
    sqlite3_io_methods db = {
        3, dbClose, fileRead, dbWrite, dbTruncate, fileSync, fileSize, fileLock, fileUnlock, fileCheckReservedLock,
        fileControl, fileSectorSize, fileDeviceCharacteristics, dbShmMap, dbShmLock, dbShmBarrier, dbShmUnmap,
        fileFetch, fileUnfetch,
    };
    sqlite3_io_methods wal = {
        3, walClose, fileRead, walWrite, walTruncate, fileSync, fileSize, fileLock, fileUnlock, fileCheckReservedLock,
        fileControl, fileSectorSize, fileDeviceCharacteristics, NULL, NULL, NULL, NULL, fileFetch, fileUnfetch,
    };
    dbMethods = db;
    walMethods = wal;
    dbMethodsV1 = db;
    dbMethodsV1.iVersion = 1;

    memset(&vfs, 0, sizeof(vfs));
    vfs.iVersion = 3;
    vfs.szOsFile = (int)((sizeof(File) + 7) & ~(size_t)7) + unixVFS->szOsFile;
    vfs.mxPathname = unixVFS->mxPathname;
    vfs.zName = "sandi";
    vfs.xOpen = xOpen;
    vfs.xDelete = xDelete;
    vfs.xAccess = xAccess;
    vfs.xFullPathname = xFullPathname;
    vfs.xDlOpen = xDlOpen;
    vfs.xDlError = xDlError;
    vfs.xDlSym = xDlSym;
    vfs.xDlClose = xDlClose;
    vfs.xRandomness = xRandomness;
    vfs.xSleep = xSleep;
    vfs.xCurrentTime = xCurrentTime;
    vfs.xGetLastError = xGetLastError;
    vfs.xCurrentTimeInt64 = xCurrentTimeInt64;
    vfs.xSetSystemCall = xSetSystemCall;
    vfs.xGetSystemCall = xGetSystemCall;
    vfs.xNextSystemCall = xNextSystemCall;
    int rc = sqlite_nio_sqlite3_vfs_register(&vfs, 0);
    if (rc != SQLITE_OK) atomic_store(&registered, 0);
    return rc;
}

void sandi_sqlite_wal_writes(unsigned long long *merged, unsigned long long *alone, unsigned long long *direct) {
    *merged = atomic_load(&mergedCount);
    *alone = atomic_load(&aloneCount);
    *direct = atomic_load(&directCount);
}
