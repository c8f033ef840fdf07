#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H
#include <sqlite3.h>

/// Process-wide settings, before SQLite's first use (Swift cannot call the variadic
/// sqlite3_config). Memory statistics off: with them on, as Debian builds SQLite, every
/// allocation and free takes one global mutex, shared by the writer and every reader.
/// Returns SQLITE_MISUSE when SQLite was already in use (the settings then stay as they
/// were; nothing else changes).
static inline int csqlite_configure_process(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
