/*
 * mv_accounts.h — what the account routes share with other route groups.
 */
#ifndef MV_ACCOUNTS_H
#define MV_ACCOUNTS_H

#include "mv.h"

/*
 * Replies 200 with the token response of SPEC §4.1 for user_id: a new
 * refresh family and its first refresh token (only its keyed hash is
 * stored), a signed access token, and the user with their invite code.
 *
 * The caller's transaction must be open (mv_db_begin on mv_db_get(q)):
 * the refresh token is written inside it, and it is committed before the
 * reply, so the caller's changes and the tokens become visible together.
 * On a database failure the transaction is rolled back and the reply is
 * mv_reply_db_error's.
 *
 * extra (stolen; may be NULL) is merged into the body.  A "token" member
 * of extra, whatever its value, is set to the access token: the legacy
 * alias that POST /auth/verify answers with.
 */
int mv_accounts_reply_tokens(mv_req *q, apr_int64_t user_id, json_t *extra);

#endif
