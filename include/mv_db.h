/*
 * mv_db.h — PostgreSQL through mod_dbd's pooled connections (src/db.c).
 */
#ifndef MV_DB_H
#define MV_DB_H

#include <libpq-fe.h>

#include "mv_dispatch.h"

/*
 * SQL that the module owns.  Each statement is prepared on a pooled
 * connection the first time it runs there and again after the connection
 * was re-established; declare them as static const next to their handler.
 */
typedef struct {
    const char *name; /* unique, "mv_" prefixed */
    int nparams;
    const char *sql;
} mv_stmt;

/* Finds mod_dbd's ap_dbd_acquire, _open and _close (post_config); -1 if
 * mod_dbd is absent. */
int mv_db_retrieve(void);
/* The request's database handle; NULL when the database is unreachable.
 * The connection stays with the request until it ends. */
mv_db *mv_db_get(mv_req *q);
/*
 * A handle on a connection of its own, for autocommitted statements of a
 * step that runs before the body is read (the rate limiter): the caller
 * gives it back with mv_db_release as soon as its statements ran, so no
 * connection is held while a slow client sends its body.  NULL when the
 * database is unreachable.  r->pool gives it back if the caller did not.
 */
mv_db *mv_db_borrow(mv_req *q);
void mv_db_release(mv_db *db);
/*
 * Runs a statement with text parameters (NULL for SQL NULL).  Returns the
 * result, which r->pool owns, or NULL on failure (see mv_db_error_state).
 * Inside a transaction, a failure marks the transaction failed: the
 * caller stops and replies; the transaction is rolled back by the cleanup.
 */
PGresult *mv_db_exec(mv_db *db, const mv_stmt *st, const char *const *params);
/*
 * The same, but the statement is not prepared: it is planned with the
 * values of its parameters at every run.  For statements whose best plan
 * depends on them (optional filters, LIKE prefixes): a prepared statement
 * may switch to a generic plan that cannot use the filters' indexes.
 */
PGresult *mv_db_exec_planned(mv_db *db, const mv_stmt *st,
                             const char *const *params);
/*
 * BEGIN / COMMIT / ROLLBACK.  0 on success, -1 on failure.  BEGIN inside
 * a transaction makes a savepoint; COMMIT releases it and ROLLBACK goes
 * back to it (the outer transaction goes on).  So a handler's own
 * transaction works alone and inside an Idempotency-Key's.
 */
int mv_db_begin(mv_db *db);
int mv_db_commit(mv_db *db);
void mv_db_rollback(mv_db *db);
/* Ends every level of the open transaction with a ROLLBACK. */
void mv_db_rollback_all(mv_db *db);
/* How many transaction levels are open: 0 none, 1 BEGIN, more savepoints. */
int mv_db_in_transaction(const mv_db *db);
/* SQLSTATE of the last failure ("" if none, e.g. a lost connection). */
const char *mv_db_sqlstate(const mv_db *db);
/* 1 when the last failure was a unique violation (SQLSTATE 23505). */
int mv_db_unique_violation(const mv_db *db);
/* Decimal text of an integer (id, count, seconds) for a statement
 * parameter, from r->pool. */
const char *mv_int_param(mv_req *q, apr_int64_t v);
/* 503 unavailable, or 500 internal_error for a failure that is ours. */
int mv_reply_db_error(mv_req *q);

/*
 * Reading a result (handlers never call libpq themselves).  Values are
 * borrowed from res, which r->pool owns; a row or column out of range
 * reads as SQL NULL.
 */
int mv_db_rows(const PGresult *res);
/* Rows an INSERT, UPDATE or DELETE changed. */
apr_int64_t mv_db_changed(const PGresult *res);
/* The text at (row, col), or NULL for SQL NULL. */
const char *mv_db_text(const PGresult *res, int row, int col);
/* Its length in bytes (0 for SQL NULL). */
apr_size_t mv_db_len(const PGresult *res, int row, int col);
/* An integer column; 0 for SQL NULL. */
apr_int64_t mv_db_int(const PGresult *res, int row, int col);
/* A boolean column: 1 for true, 0 for false or SQL NULL. */
int mv_db_bool(const PGresult *res, int row, int col);
/* A timestamptz column as RFC 3339 UTC with a Z, from p; NULL for NULL. */
const char *mv_db_time(apr_pool_t *p, const PGresult *res, int row, int col);

#endif
