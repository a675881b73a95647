/*
 * store_internal.h - the store's handle, shared by store.c (users, tokens,
 * sessions, the audit log, migrations) and history.c (tests, points,
 * alarms). Only the store module and its tests include it.
 */
#ifndef GW_STORE_INTERNAL_H
#define GW_STORE_INTERNAL_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

/*
 * Two connections to one WAL file:
 *
 *   db  read-write, behind `lock`: every write, and store.c's reads;
 *   rd  read-only, behind `rlock`: the history's reads (lists, points,
 *       reports), so that a long read never holds up the recording of a
 *       test. NULL for an in-memory database (private to a connection),
 *       whose reads then use db under lock: there a read's callback must
 *       not write.
 *
 * Lock order: rlock before lock (a listing's callback may write), never
 * lock then rlock. rlock is recursive: a listing's callback may read again.
 */
struct gw_store {
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3 *rd;
    pthread_mutex_t rlock;
    /* kept prepared: every authenticated request runs one of them */
    sqlite3_stmt *token_owner, *session_owner;
    /* kept prepared: the recorder appends points every second (history.c) */
    sqlite3_stmt *point_insert, *point_count;
};

/* Finalizes history.c's kept statements; gw_store_close calls it. */
void store__history_close(gw_store *s);

#endif
