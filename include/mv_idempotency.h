/*
 * mv_idempotency.h — Idempotency-Key (src/idempotency.c, README
 * "Idempotency-Key").
 */
#ifndef MV_IDEMPOTENCY_H
#define MV_IDEMPOTENCY_H

#include "mv_dispatch.h"

/*
 * A route opts in with MV_IDEMPOTENT; the dispatcher then calls
 * mv_idempotency_claim_or_reply after credentials and body (a handler that
 * builds its own flow may call it itself, once, before its first statement).
 *
 * Without the header it returns 0 and changes nothing.  With a key it
 * answers (returns 1) a malformed key (400 validation_failed), a key whose
 * first request still runs (409 idempotency_key_in_flight), a key used
 * with another body (422 idempotency_key_reused), or a key already
 * answered (its stored status and body, with Idempotent-Replayed: true).
 * Otherwise it returns 0 with a transaction open on q->db: the handler
 * runs in it (its own BEGIN becomes a savepoint), and its reply (through
 * mv_reply_raw) is stored in that transaction and committed with its
 * effect, unless it is a status that is never stored (400, 401, 403, 413,
 * 415, 429, any 5xx), in which case everything is rolled back.
 */
int mv_idempotency_claim_or_reply(mv_req *q);

/* Called by mv_reply_raw while a key is claimed: stores and commits, or
 * rolls back, then sends the reply (or 503 if the commit failed). */
int mv_idempotency_reply(mv_req *q, int status, const char *json,
                         apr_size_t len);

#endif
