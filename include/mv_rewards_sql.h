/*
 * mv_rewards_sql.h — the SQL of the hot reward routes, as plain strings.
 *
 * A pure header (no httpd, no libpq): src/handle_scan.c and
 * src/handle_wallet.c prepare these through mv_stmt, and the benchmark
 * runs exactly the same text under pgbench as the database's own ceiling,
 * so the module and its yardstick can never drift apart.  All parameters
 * are text and are cast in the SQL where their type is not implied.
 */
#ifndef MV_REWARDS_SQL_H
#define MV_REWARDS_SQL_H

/*
 * Redeems a coupon: one statement, one round trip, its own transaction in
 * autocommit.  The UPDATE takes the coupon only while it is unredeemed and
 * unexpired, so of any number of simultaneous scans exactly one gets a row;
 * the scan, its ledger credit and the maintained balance are written by
 * the same statement and commit together or not at all.
 *
 *   $1  coupon token, canonical UUID text (checked with mv_uuid_parse)
 *   $2  user id (bigint)
 *   $3  device id, text or NULL
 *   $4  gps, text or NULL
 *
 * One row (points, balance, scan_id) when redeemed; no row when the coupon
 * is unknown, already redeemed, void or expired, or when the user does not
 * exist or is disabled (MV_SQL_SCAN_STATUS says which).
 *
 * The user row is read FOR KEY SHARE (the lock the foreign keys of scans
 * and ledger take anyway), and disabling a user locks it FOR UPDATE
 * (handle_admin_users.c): a redemption racing a disable either commits
 * first or waits, re-reads the row, finds it disabled and takes nothing.
 */
#define MV_SQL_SCAN_REDEEM                                                     \
    "WITH u AS MATERIALIZED ("                                                 \
    " SELECT id FROM users WHERE id = $2::bigint AND disabled_at IS NULL"      \
    " FOR KEY SHARE),"                                                         \
    " c AS ("                                                                  \
    " UPDATE coupons SET redeemed_at = now(), redeemed_by = u.id FROM u"       \
    " WHERE token = $1::uuid AND redeemed_at IS NULL AND voided_at IS NULL"    \
    " AND (expires_at IS NULL OR expires_at > now())"                          \
    " RETURNING coupons.id, points),"                                          \
    " s AS ("                                                                  \
    " INSERT INTO scans (coupon_id, user_id, device_id, gps)"                  \
    " SELECT id, $2, $3, $4 FROM c RETURNING id),"                             \
    " l AS ("                                                                  \
    " INSERT INTO ledger (user_id, amount, type, coupon_id, scan_id)"          \
    " SELECT $2, c.points, 'scan', c.id, s.id FROM c CROSS JOIN s"             \
    " RETURNING amount),"                                                      \
    " b AS ("                                                                  \
    " INSERT INTO balances (user_id, balance) SELECT $2, amount FROM l"        \
    " ON CONFLICT (user_id) DO UPDATE"                                         \
    " SET balance = balances.balance + EXCLUDED.balance, updated_at = now()"   \
    " RETURNING balance)"                                                      \
    " SELECT c.points, b.balance, s.id FROM c CROSS JOIN s CROSS JOIN b"
#define MV_SQL_SCAN_REDEEM_NPARAMS 4

/*
 * Why a redemption returned no row (only run then).
 *
 *   $1  coupon token, canonical UUID text
 *   $2  the caller's user id (bigint)
 *
 * One row (user active, coupon found, redeemed, void, expired): booleans
 * as "t"/"f".  An inactive user wins, then an unknown token, then
 * redeemed, void and expired in this order.  Then the caller's own scan
 * of the coupon (id and points) when the caller is who redeemed it, NULLs
 * otherwise: nothing about another user.
 */
#define MV_SQL_SCAN_STATUS                                                     \
    "SELECT EXISTS (SELECT 1 FROM users WHERE id = $2::bigint"                 \
    " AND disabled_at IS NULL), c.id IS NOT NULL,"                             \
    " c.redeemed_at IS NOT NULL,"                                              \
    " c.voided_at IS NOT NULL,"                                                \
    " c.expires_at IS NOT NULL AND c.expires_at <= now(), s.id, l.amount"      \
    " FROM (SELECT 1) one LEFT JOIN coupons c ON c.token = $1::uuid"           \
    " LEFT JOIN scans s ON s.coupon_id = c.id AND s.user_id = $2::bigint"      \
    " LEFT JOIN ledger l ON l.scan_id = s.id"
#define MV_SQL_SCAN_STATUS_NPARAMS 2

/*
 * A wallet page: the maintained balance and up to $3 ledger entries older
 * than $2, newest first, read in one statement (one snapshot, so the
 * balance and the entries agree).
 *
 *   $1  user id (bigint)
 *   $2  "before": ledger id (bigint) or NULL for the newest page
 *   $3  how many entries (integer); the wallet route asks for one more
 *       than the page shows, to know whether another page follows
 *
 * No row: unknown user.  Else one row per entry (balance, id, amount,
 * type, coupon_id, created_at), or a single row with balance and NULLs
 * when the page is empty.
 */
#define MV_SQL_WALLET_PAGE                                                     \
    "SELECT w.balance, t.id, t.amount, t.type, t.coupon_id, t.created_at"      \
    " FROM (SELECT u.id, COALESCE(b.balance, 0) AS balance FROM users u"       \
    " LEFT JOIN balances b ON b.user_id = u.id WHERE u.id = $1::bigint) w"     \
    " LEFT JOIN LATERAL (SELECT id, amount, type, coupon_id, created_at"       \
    " FROM ledger WHERE user_id = w.id"                                        \
    " AND ($2::bigint IS NULL OR id < $2::bigint)"                             \
    " ORDER BY id DESC LIMIT $3::integer) t ON true"                           \
    " ORDER BY t.id DESC"
#define MV_SQL_WALLET_PAGE_NPARAMS 3

#endif /* MV_REWARDS_SQL_H */
