#ifndef CSANDI_SQLITE_H
#define CSANDI_SQLITE_H

/// Installs Sandi's wrapper around SQLite's default page cache (see PageCache.c). Must run before
/// SQLite initialises, that is before the process opens its first connection. Returns SQLite's
/// result code: SQLITE_OK (0) once installed (also on later calls), SQLITE_MISUSE (21) when SQLite
/// was already initialised, in which case the default cache stays in place.
int sandi_sqlite_install_page_cache(void);

/// How many truncations the wrapper has passed on to the default cache, how many it answered
/// itself because no cached page could lie past the limit, and how many of those would have had
/// the default cache walk all its pages (a page had borrowed the temporary key since the last
/// truncation). For tests and profiling.
void sandi_sqlite_page_cache_truncations(unsigned long long *passed, unsigned long long *skipped, unsigned long long *spared);

/// Registers the "sandi" VFS (see WALWrites.c): SQLite's unix VFS, writing each new log frame's
/// header and page with one write. Not the default VFS; connections name it when they open.
/// Initialises SQLite, so it must run after sandi_sqlite_install_page_cache. SQLITE_OK once
/// registered (also on later calls).
int sandi_sqlite_register_wal_vfs(void);

/// How many log frames the "sandi" VFS wrote with their header in one write; how many headers it
/// had held back and then wrote on their own (another call came before the frame's page); and how
/// many 24-byte writes it passed straight on (not appended where its last write ended, such as
/// headers SQLite rewrites in place). For tests and profiling.
void sandi_sqlite_wal_writes(unsigned long long *merged, unsigned long long *alone, unsigned long long *direct);

#endif
