/*
 * mv_accounts.h — account plumbing shared by the routes that create users
 * or sign them in (register, login, refresh, and the OTP verify route):
 * invite codes taken and given, and the token response of SPEC §4.1
 * (src/accounts.c).
 */
#ifndef MV_ACCOUNTS_H
#define MV_ACCOUNTS_H

#include "mv.h"
#include "mv_crypto.h"

/* ---------------------------------------------------------- invite codes */

typedef enum {
    MV_INVITE_OK,      /* usable (take: one use taken, id set) */
    MV_INVITE_INVALID, /* unknown, disabled or expired */
    MV_INVITE_USED_UP, /* no use left */
    MV_INVITE_DB_ERROR /* reply with mv_reply_db_error */
} mv_invite_result;

/*
 * Reads the optional body field "inviteCode".  Returns 1 with the
 * normalised code (uppercase, no spaces or dashes; r->pool) in *code;
 * 0 when it is absent, null or blank (recorded as "is required" when
 * required); -1 when it is a string that cannot be an invite code (answer
 * with mv_accounts_reply_invite(q, MV_INVITE_INVALID)).  A non-string is
 * recorded with mv_invalid and gives 0.
 */
int mv_accounts_invite_input(mv_req *q, int required, const char **code);

/*
 * Takes one use of the normalised code, atomically: with remaining = N,
 * any number of concurrent callers get exactly N MV_INVITE_OK.  Runs in
 * the caller's transaction, whose rollback gives the use back.
 */
mv_invite_result mv_accounts_take_invite(mv_req *q, const char *code,
                                         apr_int64_t *invite_id);

/*
 * The same verdict without taking a use, outside any transaction: lets a
 * route refuse a bad code before doing expensive work.  A code may still
 * run out between this check and mv_accounts_take_invite.
 */
mv_invite_result mv_accounts_check_invite(mv_req *q, const char *code);

/* Replies 400 invalid_invite_code / invite_code_used_up, or the database
 * error, for a result other than MV_INVITE_OK. */
int mv_accounts_reply_invite(mv_req *q, mv_invite_result res);

/*
 * Gives a new user their own invite code: MocaverseInviteCodeLength
 * characters, MocaverseInviteQuota uses, regenerated on collision.  Runs
 * in the caller's transaction.  0 on success, -1 on a database failure.
 */
int mv_accounts_give_invite_code(mv_req *q, apr_int64_t user_id);

/* -------------------------------------------------------------- accounts */

/*
 * Whether the bearer's account (q->user_id) may act: 1 when it exists and
 * is not disabled, 0 when not (answer 401), -1 on a database failure.
 * Every route that takes an access token asks this before its handler
 * runs (dispatch.c), so a disable applies from its commit on.
 */
int mv_accounts_user_active(mv_req *q);

/* 403 account_disabled: the credential was right, but an operator
 * disabled the account (or it was deleted meanwhile). */
int mv_accounts_reply_disabled(mv_req *q);

/* ----------------------------------------------------------------- tokens */

typedef enum {
    MV_TOKENS_OK,
    MV_TOKENS_NO_USER, /* the user does not exist (any more) or is disabled */
    MV_TOKENS_ERROR    /* reply with mv_reply_db_error */
} mv_tokens_result;

/*
 * Starts a new refresh-token family for the user (MocaverseRefreshTokenTTL
 * from now), signs an access token, and sets *out to the token response of
 * SPEC §4.1 (a new reference the caller passes to mv_reply_json or
 * releases).  One statement: inside the caller's transaction it commits
 * with it, outside it stands alone.
 */
mv_tokens_result mv_accounts_issue_tokens(mv_req *q, apr_int64_t user_id,
                                          json_t **out);

/*
 * Exchanges a refresh token for a new one in the same family (one
 * statement) and sets *out to the token response.  A token rotated less
 * than MocaverseRefreshReuseInterval seconds ago gets another successor
 * in the same family.  MV_TOKENS_NO_USER means the token is unknown,
 * revoked, expired or rotated longer ago than that; the last also revokes
 * its family (RFC 9700 §4.14).
 */
mv_tokens_result mv_accounts_rotate_refresh(mv_req *q, const char *token,
                                            json_t **out);

/* Revokes the family of a refresh token; unknown tokens are fine.
 * 0 on success, -1 on a database failure. */
int mv_accounts_revoke_refresh(mv_req *q, const char *token);

/*
 * Issues the tokens of user_id (as mv_accounts_issue_tokens) inside the
 * caller's open transaction, commits it, and replies 200 with the token
 * response; so the caller's changes and the new session become visible
 * together.  extra (stolen; may be NULL) is merged into the body, and a
 * "token" member of it is set to the access token (the legacy alias that
 * POST /auth/verify answers with).  On failure the transaction is rolled
 * back and the reply is the database error.
 */
int mv_accounts_reply_tokens(mv_req *q, apr_int64_t user_id, json_t *extra);

#endif
