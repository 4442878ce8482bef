/*
 * mv_passwords.h — argon2id password hashing under a per-process cap of
 * concurrent hashes (src/passwords.c).
 */
#ifndef MV_PASSWORDS_H
#define MV_PASSWORDS_H

#include "mv.h"
#include "mv_crypto.h"

/* Seconds a request waits for a free hashing slot before it gets 503. */
#define MV_PWHASH_WAIT_SEC 10

/*
 * Creates this process's hashing slots (child_init): as many as
 * mv_pwhash_slots() allows for the most expensive MocaversePasswordHash of
 * any virtual host.  Lives in pchild.
 */
void mv_passwords_child_init(apr_pool_t *pchild, server_rec *s);

/*
 * Hashes pw with the configured argon2id cost into the caller's out, once
 * a slot is free.  0 on success; -1 when no slot came free within
 * MV_PWHASH_WAIT_SEC or hashing failed (answer with mv_reply_busy).
 */
int mv_passwords_hash(mv_req *q, const char *pw,
                      char out[MV_PASSWORD_HASH_MAX]);

/*
 * 1 if pw matches the stored argon2id hash, 0 if not, -1 when no slot came
 * free (answer with mv_reply_busy).  A NULL hash (no such account, or an
 * account without a password) costs the same argon2id work at the
 * configured cost and gives 0, so both failures look alike.
 */
int mv_passwords_verify(mv_req *q, const char *hash, const char *pw);

/* 503 unavailable with Retry-After: the server is saturated. */
int mv_reply_busy(mv_req *q);

#endif
