// A thin wrapper around SQLite's default page cache (pcache1) that answers one call itself.
//
// Why: when a B-tree page splits into pages whose numbers are not in ascending order, SQLite's
// balance_nonroot() swaps them through a temporary page number just past the 1 GiB lock byte
// (page 262,145 with 4 KiB pages). pcache1 then remembers that number as the highest key it ever
// held (iMaxKey), and at the end of the write transaction the pager truncates the cache to the
// database's size. pcache1 sees a range of 262,000 keys to drop, more than its hash table has
// slots, and walks every slot and every cached page, although the temporary page left the cache
// moments after it came. With the writer's cache at 64 MiB (its size then; 16 MiB now, so a walk
// would be a quarter as long) that walk was 6 % of the server's CPU during checks.
// This wrapper keeps an upper bound of the keys really in the cache (the temporary
// key counted only while a page holds it) and passes a truncation on only when a page could lie
// at or past the limit; every other call goes straight to pcache1.
//
// Each cache belongs to one connection and SQLite calls it under that connection's mutex, so the
// bookkeeping needs no lock of its own.

#include "CSandiSQLite.h"
#include "sqlite_nio_sqlite3.h"
#include <stdlib.h>
#include <stdatomic.h>

typedef struct {
    sqlite3_pcache *inner;
    unsigned temporaryKey;   // PENDING_BYTE / page size + 1, the key balance_nonroot() borrows
    unsigned maxKey;         // no cached page has a larger key, apart from the temporary one
    int temporaryHeld;       // a page currently holds the temporary key
    int temporaryUsed;       // a page took the temporary key since the last truncation
} Cache;

static sqlite3_pcache_methods2 inner;
static atomic_int installed;
static _Atomic unsigned long long passedCount;
static _Atomic unsigned long long skippedCount;
static _Atomic unsigned long long sparedCount;

static int xInit(void *arg) { (void)arg; return inner.xInit ? inner.xInit(inner.pArg) : SQLITE_OK; }
static void xShutdown(void *arg) { (void)arg; if (inner.xShutdown) inner.xShutdown(inner.pArg); }

static sqlite3_pcache *xCreate(int szPage, int szExtra, int bPurgeable) {
    Cache *cache = sqlite_nio_sqlite3_malloc(sizeof(Cache));
    if (!cache) return 0;
    cache->inner = inner.xCreate(szPage, szExtra, bPurgeable);
    if (!cache->inner) { sqlite_nio_sqlite3_free(cache); return 0; }
    cache->temporaryKey = szPage > 0 ? 0x40000000u / (unsigned)szPage + 1 : 0;
    cache->maxKey = 0;
    cache->temporaryHeld = 0;
    cache->temporaryUsed = 0;
    return (sqlite3_pcache *)cache;
}

static void xCachesize(sqlite3_pcache *p, int n) { inner.xCachesize(((Cache *)p)->inner, n); }
static int xPagecount(sqlite3_pcache *p) { return inner.xPagecount(((Cache *)p)->inner); }

static sqlite3_pcache_page *xFetch(sqlite3_pcache *p, unsigned key, int createFlag) {
    Cache *cache = (Cache *)p;
    sqlite3_pcache_page *page = inner.xFetch(cache->inner, key, createFlag);
    if (page && key > cache->maxKey) {
        if (key == cache->temporaryKey) cache->temporaryHeld = 1; else cache->maxKey = key;
    }
    return page;
}

static void xUnpin(sqlite3_pcache *p, sqlite3_pcache_page *page, int discard) {
    inner.xUnpin(((Cache *)p)->inner, page, discard);
}

static void xRekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned oldKey, unsigned newKey) {
    Cache *cache = (Cache *)p;
    inner.xRekey(cache->inner, page, oldKey, newKey);
    if (oldKey == cache->temporaryKey) cache->temporaryHeld = 0;
    if (newKey == cache->temporaryKey) cache->temporaryHeld = cache->temporaryUsed = 1;
    else if (newKey > cache->maxKey) cache->maxKey = newKey;
}

static void xTruncate(sqlite3_pcache *p, unsigned limit) {
    Cache *cache = (Cache *)p;
    int used = cache->temporaryUsed;
    cache->temporaryUsed = 0;
    // Every cached key is at most maxKey, or the temporary one while a page holds it.
    if (limit > cache->maxKey && !(cache->temporaryHeld && limit <= cache->temporaryKey)) {
        atomic_fetch_add_explicit(&skippedCount, 1, memory_order_relaxed);
        // pcache1 would have walked its whole table here (its highest key is the temporary one).
        if (used) atomic_fetch_add_explicit(&sparedCount, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&passedCount, 1, memory_order_relaxed);
    inner.xTruncate(cache->inner, limit);
    if (limit == 0) cache->maxKey = 0;
    else if (cache->maxKey >= limit) cache->maxKey = limit - 1;
    if (limit <= cache->temporaryKey) cache->temporaryHeld = 0;
}

static void xDestroy(sqlite3_pcache *p) {
    Cache *cache = (Cache *)p;
    inner.xDestroy(cache->inner);
    sqlite_nio_sqlite3_free(cache);
}

static void xShrink(sqlite3_pcache *p) {
    if (inner.xShrink) inner.xShrink(((Cache *)p)->inner);
}

int sandi_sqlite_install_page_cache(void) {
    if (atomic_load(&installed)) return SQLITE_OK;
    sqlite3_pcache_methods2 current;
    int rc = sqlite_nio_sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &current);
    if (rc != SQLITE_OK) return rc;
    if (current.xCreate == xCreate) { atomic_store(&installed, 1); return SQLITE_OK; }
    inner = current;
    sqlite3_pcache_methods2 wrapper = {
        1, 0, xInit, xShutdown, xCreate, xCachesize, xPagecount, xFetch, xUnpin, xRekey, xTruncate, xDestroy, xShrink
    };
    rc = sqlite_nio_sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapper);
    if (rc == SQLITE_OK) atomic_store(&installed, 1);
    return rc;
}

void sandi_sqlite_page_cache_truncations(unsigned long long *passed, unsigned long long *skipped, unsigned long long *spared) {
    if (passed) *passed = atomic_load(&passedCount);
    if (skipped) *skipped = atomic_load(&skippedCount);
    if (spared) *spared = atomic_load(&sparedCount);
}
