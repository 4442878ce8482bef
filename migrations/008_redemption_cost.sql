-- 008_redemption_cost.sql — less work for the database per redemption
-- (MV_SQL_SCAN_REDEEM), every rule of SPEC §5 still held by the database.
-- Measured with pgbench running the module's statement, before and after,
-- in docs/BENCHMARKS.md ("What a redemption costs the database").
--
-- 1. Room on every balances page for the redemption's new row version.
--    A redemption changes a balance (balance, updated_at), no indexed
--    column, so PostgreSQL can write the new version on the same page
--    without touching any index (a HOT update) if the page has room; a
--    balance changes on every scan, so half of each page is left free.
--    The setting applies to pages written from now on.  (Coupons would
--    gain the same way, but 007 indexes coupons.redeemed_at, which every
--    redemption sets, so their update cannot be HOT: see the document.)
ALTER TABLE balances SET (fillfactor = 50);

-- 2. Foreign keys the redemption already guarantees.  ledger.coupon_id
--    and ledger.scan_id of a scan credit are taken, by the same statement,
--    from the coupon row it has just locked and the scan row it has just
--    written, so their checks (two index look-ups and row locks per
--    redemption, about 11 of its shared blocks) prove nothing new.  What
--    they would also have guarded stays guarded: a redeemed coupon cannot
--    be deleted (scans.coupon_id references it), a scan is deleted only
--    with its user, whose ledger goes with it (ledger.user_id ON DELETE
--    CASCADE), a scan is credited at most once (ledger.scan_id stays
--    UNIQUE) and a scan credit names its scan (ledger_scan_has_scan).
ALTER TABLE ledger DROP CONSTRAINT ledger_coupon_id_fkey;
ALTER TABLE ledger DROP CONSTRAINT ledger_scan_id_fkey;
