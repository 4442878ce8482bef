/*
 * mv_http.h — replies, body fields, times and credentials (src/http.c).
 */
#ifndef MV_HTTP_H
#define MV_HTTP_H

#include "mv_dispatch.h"

/*
 * Return conventions, one per kind of function:
 * - a handler and every mv_reply_* return the status for httpd (OK once a
 *   reply is written): `return mv_reply_...(...)`;
 * - a helper named ..._or_reply returns 0 to go on, or 1 when it has
 *   already answered the request (the caller returns OK at once);
 * - any other helper returns 0 on success and -1 on failure, or a named
 *   enum when the caller must tell several outcomes apart, and never
 *   replies.
 * A reply of 4xx or 5xx also rolls back a transaction still open
 * (mv_db_rollback_all), so no error path has to remember it; while an
 * Idempotency-Key is claimed, the reply goes through
 * mv_idempotency_reply first, which stores it or rolls back.
 */

/* ---------------------------------------------------------------- replies */

/*
 * Every reply goes through these.  They set the status, the JSON content
 * type, Cache-Control: no-store (unless the handler set a Cache-Control)
 * and the body, and return OK, so a handler ends with
 * `return mv_reply_...(...)`.
 */
int mv_reply_json(mv_req *q, int status, json_t *body); /* steals body */
/* A body already serialised (json[0..len), borrowed; copied out before
 * the call returns); mv_reply_json ends here too. */
int mv_reply_raw(mv_req *q, int status, const char *json, apr_size_t len);
int mv_reply_error(mv_req *q, int status, const char *code,
                   const char *message);
/* 401 unauthorized for a valid access token whose user has been deleted
 * since it was issued: the same answer as for an invalid token. */
int mv_reply_user_deleted(mv_req *q);
/* 400 validation_failed with the "fields" gathered in q->invalid. */
int mv_reply_invalid(mv_req *q);

/* Ties a jansson value to the pool: decref'd when the pool is cleared. */
json_t *mv_json_pool(apr_pool_t *p, json_t *v);

/* --------------------------------------------------------- body fields */

#define MV_REQUIRED 1
#define MV_OPTIONAL 0

/* Records "field: problem" for the 400 reply; keeps the first per field. */
void mv_invalid(mv_req *q, const char *field, const char *problem);
/* 1 once any field problem was recorded: reply with mv_reply_invalid. */
int mv_has_invalid(const mv_req *q);
/*
 * The string value of a body field (borrowed), or NULL when it is absent
 * or not a string; a required field's absence and any wrong type are
 * recorded with mv_invalid.
 */
const char *mv_body_string(mv_req *q, const char *field, int required);
/*
 * An integer field within [min, max]: 1 and *out set when present and
 * valid, 0 otherwise (problems recorded as above; *out left untouched).
 */
int mv_body_int(mv_req *q, const char *field, apr_int64_t min, apr_int64_t max,
                int required, apr_int64_t *out);
/*
 * An RFC 3339 timestamp field: 1 and *out (microseconds) set when present
 * and valid, 0 otherwise (problems recorded).
 */
int mv_body_time(mv_req *q, const char *field, int required, apr_time_t *out);
/* RFC 3339 UTC with a Z ("2026-11-21T14:03:00Z"), from p; NULL outside
 * years 0001-9999 (never for a time mv_body_time accepted). */
const char *mv_time_format(apr_pool_t *p, apr_time_t t);

/* ---------------------------------------------------------- query string */

/*
 * Query-string readers.  Each records a problem with mv_invalid (400
 * validation_failed once the handler checks mv_has_invalid) for a value
 * that is malformed, repeated or out of range.
 *
 * mv_query_int: 1 and *out set for an integer in [1, max]; 0 when absent
 * or invalid.  mv_query_text: the decoded value (r->pool), NULL when
 * absent or invalid (at most max bytes).  mv_query_time: 1 and *out
 * (microseconds) for an RFC 3339 time.  mv_query_choice: the index of the
 * value in the NULL-terminated choices, -1 when absent or not one of them.
 */
int mv_query_int(mv_req *q, const char *name, long long max, long long *out);
const char *mv_query_text(mv_req *q, const char *name, apr_size_t max);
int mv_query_time(mv_req *q, const char *name, apr_time_t *out);
int mv_query_choice(mv_req *q, const char *name, const char *const *choices);

/* ------------------------------------------------------------------ auth */

/* 1 if the request carries the configured admin key (constant time). */
int mv_auth_admin(mv_req *q);
/* The bearer token of the Authorization header, or NULL. */
const char *mv_auth_bearer_token(request_rec *r);

#endif
