/*
 * mv_lockout.h — MocaverseLoginLockout (src/lockout.c).
 */
#ifndef MV_LOCKOUT_H
#define MV_LOCKOUT_H

#include "mv_dispatch.h"

/*
 * Account lockout (MocaverseLoginLockout), counted in the database so it
 * holds across processes and hosts.  `account` is the lower-cased e-mail
 * of a login, or "otp:" + destination for one-time-code guesses; it is
 * stored only as a keyed hash.
 *
 * mv_lockout_count_or_reply counts this attempt as a failure *before* the
 * credential is checked, so concurrent guesses cannot slip past the
 * bound; a successful check then calls mv_lockout_cleared, and a wrong
 * one needs no call.  Each is one statement on the request's connection:
 * call mv_lockout_count_or_reply outside a transaction (its count must
 * stand whatever follows); mv_lockout_cleared may run inside the
 * transaction that uses the credential, and is undone with it.
 *
 * mv_lockout_count_or_reply returns 0 (go on and check the credential), or 1
 * once it has answered the request: 429 account_locked with Retry-After,
 * or the database error.  With MocaverseLoginLockout 0 it returns 0
 * without touching the database.  mv_lockout_cleared forgets the
 * account's failures: 0, or -1 on failure.
 */
int mv_lockout_count_or_reply(mv_req *q, const char *account);
int mv_lockout_cleared(mv_req *q, const char *account);

#endif
