/*
 * db.c — PostgreSQL through mod_dbd's connection pool.
 *
 * mod_dbd owns the pool of connections; the module speaks libpq on the
 * connection it lends (apr_dbd_native_handle), which gives it SQLSTATEs,
 * server-side prepared statements and exact control of transactions.
 * PLATFORM-NOTES explains why not apr_dbd's own calls: its
 * transaction_start crashes when BEGIN fails, and statements prepared
 * through it vanish silently when the driver reconnects.
 *
 * Invariants:
 * - each pooled connection remembers which statements it prepared and for
 *   which backend process; a new backend (reconnect) starts afresh;
 * - a request never returns a connection to the pool inside a
 *   transaction: a request-pool cleanup rolls back whatever is open;
 * - a statement is never sent twice.  Before anything is sent on a
 *   connection outside a transaction, the connection is checked
 *   (conn_found_dead: closed by the server, or input waiting on an idle
 *   connection); one found dead is re-established first, so the first
 *   request after a database restart succeeds.  Once a statement (or
 *   COMMIT) has been sent, a lost reply is final: the server may have run
 *   it, so the request answers 503 and the client decides, with its
 *   Idempotency-Key where the route takes one;
 * - mv_db_begin inside an open transaction makes a savepoint, so a
 *   handler's own transaction nests inside the one an Idempotency-Key
 *   opened (idempotency.c) and its rollback undoes only its own work.
 * - with MocaverseDBPooling transaction (PgBouncer in transaction mode,
 *   where consecutive transactions of one connection may run on different
 *   server sessions) nothing is left in the session: statements are
 *   unnamed (PQexecParams, parsed where they run), and the settings below
 *   are set LOCAL at the start of every transaction, explicit or implicit.
 */
#include "mv.h"

#include "apr_dbd.h"
#include "apr_hash.h"
#include "apr_optional.h"
#include "mod_dbd.h"

#include "mv_json.h"

#include <poll.h>

#define SQLSTATE_UNIQUE_VIOLATION "23505"
#define SQLSTATE_DUPLICATE_PREPARED "42P05"
#define CONN_STATE_KEY "mocaverse-conn-state"

/* Settings every session runs with: timestamps come back in UTC ISO form,
 * and a transaction somehow left open is ended by the server. */
#define SESSION_SETUP                                                          \
    "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO'; "                          \
    "SET idle_in_transaction_session_timeout TO '60s'"

/* The same settings for one transaction, for MocaverseDBPooling
 * transaction: sent with BEGIN, or in the same implicit transaction as a
 * statement that runs on its own (see exec_implicit). */
#define TRANSACTION_SETUP                                                      \
    "SET LOCAL TimeZone TO 'UTC'; SET LOCAL DateStyle TO 'ISO'; "              \
    "SET LOCAL idle_in_transaction_session_timeout TO '60s'"
#define BEGIN_POOLED "BEGIN; " TRANSACTION_SETUP
#define IMPLICIT_SETUP                                                         \
    "SELECT set_config('TimeZone', 'UTC', true),"                              \
    " set_config('DateStyle', 'ISO', true),"                                   \
    " set_config('idle_in_transaction_session_timeout', '60s', true)"

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) * dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) * dbd_close;

/* What a pooled connection remembers; lives in the connection's pool. */
typedef struct {
    int backend_pid;
    apr_hash_t *prepared; /* const mv_stmt * -> non-NULL */
} conn_state;

struct mv_db {
    request_rec *r;
    ap_dbd_t *borrowed; /* mv_db_borrow's connection until released */
    PGconn *conn;
    conn_state *state;
    int pooled_tx; /* MocaverseDBPooling transaction */
    int in_tx;     /* open transaction levels: 1 = BEGIN, more = savepoints */
    int failed;    /* a statement of the innermost level failed */
    int lost;      /* the connection is gone */
    const char *sqlstate;
};

int mv_db_retrieve(void)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    return dbd_acquire && dbd_open && dbd_close ? 0 : -1;
}

/*
 * Makes sure the session is set up for the backend now behind the
 * connection; after a reconnect, forgets the statements prepared before.
 * Returns 0, or -1 when the connection is unusable.
 */
static int session_ensure(mv_db *db)
{
    int pid;
    PGresult *res;

    if (PQstatus(db->conn) != CONNECTION_OK) {
        return -1;
    }
    if (db->pooled_tx) {
        return 0; /* nothing lives in the session */
    }
    pid = PQbackendPID(db->conn);
    if (pid == db->state->backend_pid) {
        return 0;
    }
    res = PQexec(db->conn, SESSION_SETUP);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r,
                      "MV0101: session setup failed: %s",
                      PQerrorMessage(db->conn));
        PQclear(res);
        return -1;
    }
    PQclear(res);
    apr_hash_clear(db->state->prepared);
    db->state->backend_pid = pid;
    return 0;
}

/* Re-establishes a lost connection; 0 on success. */
static int reconnect(mv_db *db)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, db->r,
                  "MV0102: database connection lost, reconnecting");
    PQreset(db->conn);
    if (PQpipelineStatus(db->conn) != PQ_PIPELINE_OFF) {
        PQexitPipelineMode(db->conn); /* left on by a connection lost in one */
    }
    db->lost = db->failed = 0;
    return session_ensure(db);
}

/*
 * 1 if the idle connection cannot carry a statement: libpq already knows
 * it is broken, or the server sent something while it was idle (a server
 * that terminates a backend says so, then closes).  Nothing has been sent,
 * so replacing such a connection can never run a statement twice.
 */
static int conn_found_dead(mv_db *db)
{
    struct pollfd p = {PQsocket(db->conn), POLLIN, 0};

    if (PQstatus(db->conn) != CONNECTION_OK || p.fd < 0) {
        return 1;
    }
    return poll(&p, 1, 0) != 0;
}

/*
 * Before sending outside a transaction: replaces a connection found dead.
 * Inside a transaction a dead connection took the transaction with it, so
 * it is only reported.  0 when the connection is fit to send on.
 */
static int conn_ready(mv_db *db)
{
    if (db->lost) {
        return -1;
    }
    if (!conn_found_dead(db)) {
        return 0;
    }
    if (db->in_tx) {
        db->lost = 1;
        return -1;
    }
    return reconnect(db);
}

/* Rolls back whatever the request left open before mod_dbd takes the
 * connection back (registered after mod_dbd's release, so it runs first). */
static apr_status_t db_cleanup(void *v)
{
    mv_db *db = v;
    PGTransactionStatusType ts = PQtransactionStatus(db->conn);

    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        PQclear(PQexec(db->conn, "ROLLBACK"));
    }
    return APR_SUCCESS;
}

/* Gives a borrowed connection back to mod_dbd's pool (rolled back first
 * should anything be open); runs once, from mv_db_release or r->pool. */
static apr_status_t give_back(void *v)
{
    mv_db *db = v;

    db_cleanup(db);
    dbd_close(db->r->server, db->borrowed);
    db->borrowed = NULL;
    return APR_SUCCESS;
}

/*
 * Wraps a connection mod_dbd lent to r (NULL: it had none): checks the
 * driver, finds the connection's state, registers `done` (rollback, or
 * give_back for a borrowed one) on r->pool and sets the session up.
 * NULL on failure.
 */
static mv_db *db_wrap(request_rec *r, ap_dbd_t *dbd, int borrowed,
                      apr_status_t (*done)(void *))
{
    const mv_config *cfg =
        ap_get_module_config(r->server->module_config, &mocaverse_module);
    mv_db *db;
    void *state;

    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "MV0103: no database connection from mod_dbd");
        return NULL;
    }
    if (strcmp(apr_dbd_name(dbd->driver), "pgsql") != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "MV0104: DBDriver must be pgsql, not %s",
                      apr_dbd_name(dbd->driver));
        if (borrowed) {
            dbd_close(r->server, dbd);
        }
        return NULL;
    }
    db = apr_pcalloc(r->pool, sizeof(*db));
    db->r = r;
    db->conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    db->borrowed = borrowed ? dbd : NULL;
    db->pooled_tx = cfg->db_pooling == MV_DB_POOLING_TRANSACTION;
    db->sqlstate = "";
    apr_pool_userdata_get(&state, CONN_STATE_KEY, dbd->pool);
    if (!state) {
        conn_state *cs = apr_pcalloc(dbd->pool, sizeof(*cs));
        cs->prepared = apr_hash_make(dbd->pool);
        apr_pool_userdata_setn(cs, CONN_STATE_KEY, NULL, dbd->pool);
        state = cs;
    }
    db->state = state;
    apr_pool_cleanup_register(r->pool, db, done, apr_pool_cleanup_null);
    if (conn_ready(db) != 0 || session_ensure(db) != 0) {
        return NULL;
    }
    return db;
}

mv_db *mv_db_get(mv_req *q)
{
    if (!q->db) {
        q->db = db_wrap(q->r, dbd_acquire ? dbd_acquire(q->r) : NULL, 0,
                        db_cleanup);
    }
    return q->db;
}

mv_db *mv_db_borrow(mv_req *q)
{
    request_rec *r = q->r;

    return db_wrap(r, dbd_open ? dbd_open(r->pool, r->server) : NULL, 1,
                   give_back);
}

void mv_db_release(mv_db *db)
{
    apr_pool_cleanup_run(db->r->pool, db, give_back);
}

static apr_status_t result_cleanup(void *v)
{
    PQclear(v);
    return APR_SUCCESS;
}

/* Records a failure: its SQLSTATE, whether the connection is gone, and a
 * log line without parameter values or DETAIL (they may hold user data). */
static void record_failure(mv_db *db, const mv_stmt *st, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *severity =
        res ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    int unique;

    db->sqlstate = apr_pstrdup(db->r->pool, state ? state : "");
    /* A FATAL error (a terminated backend, a shutdown) ends the session
     * even while libpq still calls the connection good. */
    db->lost = PQstatus(db->conn) != CONNECTION_OK ||
               (severity &&
                (!strcmp(severity, "FATAL") || !strcmp(severity, "PANIC")));
    db->failed = db->in_tx;
    unique = strcmp(db->sqlstate, SQLSTATE_UNIQUE_VIOLATION) == 0;
    /* No SQLSTATE when the connection is gone: then no empty field. */
    ap_log_rerror(APLOG_MARK, unique ? APLOG_DEBUG : APLOG_ERR, 0, db->r,
                  "MV0105: %s failed: %s%s%s", st ? st->name : "statement",
                  db->sqlstate, *db->sqlstate ? " " : "",
                  msg ? msg : (db->lost ? "connection lost" : "no message"));
    PQclear(res);
}

/* Prepares st on this connection unless it already is; 0 on success. */
static int prepare(mv_db *db, const mv_stmt *st)
{
    PGresult *res;
    const char *state;

    if (apr_hash_get(db->state->prepared, &st, sizeof(st))) {
        return 0;
    }
    res = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
    state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (PQresultStatus(res) != PGRES_COMMAND_OK &&
        !(state && !strcmp(state, SQLSTATE_DUPLICATE_PREPARED))) {
        record_failure(db, st, res);
        return -1;
    }
    PQclear(res);
    apr_hash_set(
        db->state->prepared,
        apr_pmemdup(apr_hash_pool_get(db->state->prepared), &st, sizeof(st)),
        sizeof(st), st);
    return 0;
}

/*
 * Sends st alone outside a transaction under transaction pooling: the
 * settings and the statement in one pipeline with one Sync, which the
 * server runs as one implicit transaction and the pooler keeps on one
 * server session.  Returns the statement's result, or the setup's when
 * that failed (then the statement was not run), or NULL.
 */
static PGresult *exec_implicit(mv_db *db, const mv_stmt *st,
                               const char *const *params)
{
    PGresult *out = NULL, *res;
    int answered = 0; /* results read so far: the setup's, the statement's */

    if (!PQenterPipelineMode(db->conn) ||
        !PQsendQueryParams(db->conn, IMPLICIT_SETUP, 0, NULL, NULL, NULL, NULL,
                           0) ||
        !PQsendQueryParams(db->conn, st->sql, st->nparams, NULL, params, NULL,
                           NULL, 0) ||
        !PQpipelineSync(db->conn)) {
        PQexitPipelineMode(db->conn);
        return NULL;
    }
    /* The setup's result, NULL, the statement's result, NULL, the sync;
     * a lost connection ends the stream early. */
    for (int nulls = 0; nulls <= 2;) {
        res = PQgetResult(db->conn);
        if (!res) {
            if (PQstatus(db->conn) != CONNECTION_OK) {
                break;
            }
            nulls++;
            continue;
        }
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        answered++;
        if (!out && (answered == 2 || PQresultStatus(res) != PGRES_TUPLES_OK)) {
            out = res; /* the statement's, or the setup's failure */
        } else {
            PQclear(res);
        }
    }
    PQexitPipelineMode(db->conn);
    return out;
}

/*
 * Sends st once and returns libpq's result (NULL when nothing came back):
 * the statement prepared on this connection, or unnamed (planned for this
 * run) when asked or under transaction pooling.
 */
static PGresult *run_statement(mv_db *db, const mv_stmt *st,
                               const char *const *params, int prepared)
{
    if (prepared && !db->pooled_tx) {
        return PQexecPrepared(db->conn, st->name, st->nparams, params, NULL,
                              NULL, 0);
    }
    if (db->pooled_tx && !db->in_tx) {
        return exec_implicit(db, st, params);
    }
    return PQexecParams(db->conn, st->sql, st->nparams, NULL, params, NULL,
                        NULL, 0);
}

/* Runs st prepared, or planned for this run; see mv_db_exec. */
static PGresult *exec(mv_db *db, const mv_stmt *st, const char *const *params,
                      int prepared)
{
    PGresult *res;
    ExecStatusType es;

    if (db->failed || conn_ready(db) != 0 ||
        (prepared && !db->pooled_tx && prepare(db, st) != 0)) {
        return NULL;
    }
    /* Sent once: a failure from here on is never retried (see above). */
    res = run_statement(db, st, params, prepared);
    es = PQresultStatus(res);
    if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
        record_failure(db, st, res);
        return NULL;
    }
    apr_pool_cleanup_register(db->r->pool, res, result_cleanup,
                              apr_pool_cleanup_null);
    return res;
}

PGresult *mv_db_exec(mv_db *db, const mv_stmt *st, const char *const *params)
{
    return exec(db, st, params, 1);
}

PGresult *mv_db_exec_planned(mv_db *db, const mv_stmt *st,
                             const char *const *params)
{
    return exec(db, st, params, 0);
}

/* Runs a transaction-control command; 0 on success. */
static int run_command(mv_db *db, const char *sql, const char *expect)
{
    PGresult *res = PQexec(db->conn, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK ||
        strcmp(PQcmdStatus(res), expect) != 0) {
        mv_stmt st = {sql, 0, sql};
        record_failure(db, &st, res);
        return -1;
    }
    PQclear(res);
    return 0;
}

/* BEGIN, with the transaction's own settings under transaction pooling;
 * 0 on success. */
static int begin_command(mv_db *db)
{
    return db->pooled_tx ? run_command(db, BEGIN_POOLED, "SET")
                         : run_command(db, "BEGIN", "BEGIN");
}

/* The savepoint of transaction level `level` (2 and up). */
static const char *savepoint(mv_db *db, const char *verb, int level)
{
    return apr_psprintf(db->r->pool, "%sSAVEPOINT mv_level_%d", verb, level);
}

int mv_db_begin(mv_db *db)
{
    if (db->failed || conn_ready(db) != 0) {
        return -1;
    }
    if (db->in_tx) {
        if (run_command(db, savepoint(db, "", db->in_tx + 1), "SAVEPOINT")) {
            return -1;
        }
    } else if (begin_command(db) != 0) {
        return -1;
    }
    db->in_tx++;
    return 0;
}

int mv_db_commit(mv_db *db)
{
    int rc;

    if (!db->in_tx || db->failed || db->lost) {
        mv_db_rollback(db);
        return -1;
    }
    if (db->in_tx > 1) {
        rc = run_command(db, savepoint(db, "RELEASE ", db->in_tx), "RELEASE");
    } else {
        rc = run_command(db, "COMMIT", "COMMIT");
    }
    db->in_tx--;
    return rc;
}

void mv_db_rollback(mv_db *db)
{
    if (db->in_tx > 1 && !db->lost) {
        /* Back to the level's savepoint: the outer level goes on. */
        db->failed = 0;
        if (run_command(db, savepoint(db, "ROLLBACK TO ", db->in_tx),
                        "ROLLBACK") != 0) {
            db->in_tx--;
            db->failed = 1;
            return;
        }
        db->in_tx--;
        return;
    }
    if (!db->lost && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
        PQclear(PQexec(db->conn, "ROLLBACK"));
    }
    db->in_tx = 0;
    db->failed = 0;
}

void mv_db_rollback_all(mv_db *db)
{
    db->in_tx = 1;
    mv_db_rollback(db);
}

int mv_db_in_transaction(const mv_db *db)
{
    return db->in_tx;
}

const char *mv_db_sqlstate(const mv_db *db)
{
    return db->sqlstate;
}

int mv_db_unique_violation(const mv_db *db)
{
    return strcmp(db->sqlstate, SQLSTATE_UNIQUE_VIOLATION) == 0;
}

const char *mv_int_param(mv_req *q, apr_int64_t v)
{
    return apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, v);
}

/* ------------------------------------------------------------- results */

/* 1 when (row, col) is outside res or SQL NULL. */
static int absent(const PGresult *res, int row, int col)
{
    return row < 0 || col < 0 || row >= PQntuples(res) ||
           col >= PQnfields(res) || PQgetisnull(res, row, col);
}

int mv_db_rows(const PGresult *res)
{
    return PQntuples(res);
}

apr_int64_t mv_db_changed(const PGresult *res)
{
    return apr_atoi64(PQcmdTuples((PGresult *)res));
}

const char *mv_db_text(const PGresult *res, int row, int col)
{
    return absent(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

apr_size_t mv_db_len(const PGresult *res, int row, int col)
{
    return absent(res, row, col) ? 0 : (apr_size_t)PQgetlength(res, row, col);
}

apr_int64_t mv_db_int(const PGresult *res, int row, int col)
{
    return absent(res, row, col) ? 0 : apr_atoi64(PQgetvalue(res, row, col));
}

int mv_db_bool(const PGresult *res, int row, int col)
{
    return !absent(res, row, col) && *PQgetvalue(res, row, col) == 't';
}

const char *mv_db_time(apr_pool_t *p, const PGresult *res, int row, int col)
{
    const char *v;
    char *out;

    if (absent(res, row, col)) {
        return NULL;
    }
    /* Sessions run with TimeZone UTC and ISO DateStyle (db.c), so values
     * look like "2026-11-21 14:03:00.123456+00". */
    v = PQgetvalue(res, row, col);
    out = apr_palloc(p, MV_RFC3339_LEN + 1);
    if (mv_pg_time_rfc3339(v, (size_t)PQgetlength(res, row, col), out) != 0) {
        return apr_pstrdup(p, v);
    }
    return out;
}

int mv_reply_db_error(mv_req *q)
{
    if (!q->db || q->db->lost) {
        return mv_reply_error(q, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "The database is unavailable; try again.");
    }
    return mv_reply_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                          "Internal error.");
}
