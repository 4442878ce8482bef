/* Unit tests of the rate-limit arithmetic (src/core/rl.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "mv_rl.h"

#define SEC ((int64_t)MV_USEC_PER_SEC)
#define SMALL_SLOTS 64u

static int setup_table(void **state)
{
    void *mem = malloc(mv_rl_table_size(SMALL_SLOTS));
    if (!mem) {
        return -1;
    }
    *state = mv_rl_table_init(mem, SMALL_SLOTS);
    return 0;
}

static int teardown_table(void **state)
{
    free(*state);
    return 0;
}

/* --------------------------------------------------------------- judge */

static void judge_allows_exactly_limit_hits(void **state)
{
    mv_rl_verdict v;
    (void)state;
    mv_rl_judge(1, 5, 60 * SEC, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 4);
    mv_rl_judge(5, 5, 60 * SEC, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    mv_rl_judge(6, 5, 60 * SEC, &v);
    assert_false(v.allowed);
    assert_int_equal(v.remaining, 0);
}

static void judge_rounds_reset_up_to_whole_seconds(void **state)
{
    mv_rl_verdict v;
    (void)state;
    mv_rl_judge(1, 5, 60 * SEC, &v);
    assert_int_equal(v.reset, 60);
    mv_rl_judge(1, 5, 59 * SEC + 1, &v);
    assert_int_equal(v.reset, 60);
    mv_rl_judge(1, 5, 1, &v);
    assert_int_equal(v.reset, 1);
    mv_rl_judge(1, 5, 0, &v);
    assert_int_equal(v.reset, 1);
    mv_rl_judge(1, 5, -5 * SEC, &v);
    assert_int_equal(v.reset, 1);
}

/* -------------------------------------------------------------- names */

static void group_names_match_the_directive(void **state)
{
    (void)state;
    assert_string_equal(mv_rl_groups[MV_RL_AUTH].name, "auth");
    assert_string_equal(mv_rl_groups[MV_RL_SCAN].name, "scan");
    assert_string_equal(mv_rl_groups[MV_RL_API].name, "api");
    /* SPEC: scan is counted per user, the others per client address. */
    assert_true(mv_rl_groups[MV_RL_SCAN].per_user);
    assert_false(mv_rl_groups[MV_RL_AUTH].per_user);
    assert_false(mv_rl_groups[MV_RL_API].per_user);
}

static void client_key_keeps_ipv4_and_masks_ipv6_to_64(void **state)
{
    char k[MV_RL_KEY_MAX];
    (void)state;
    assert_string_equal(mv_rl_client_key("203.0.113.7", k, sizeof(k)),
                        "203.0.113.7");
    assert_string_equal(
        mv_rl_client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k, sizeof(k)),
        "2001:db8:1:2::/64");
    assert_string_equal(mv_rl_client_key("2001:DB8:1:2::1", k, sizeof(k)),
                        "2001:db8:1:2::/64");
    assert_string_equal(mv_rl_client_key("::1", k, sizeof(k)), "::/64");
    assert_string_equal(mv_rl_client_key("::ffff:198.51.100.9", k, sizeof(k)),
                        "198.51.100.9");
}

static void client_key_of_two_hosts_in_one_64_is_the_same(void **state)
{
    char a[MV_RL_KEY_MAX], b[MV_RL_KEY_MAX], c[MV_RL_KEY_MAX];
    (void)state;
    mv_rl_client_key("2001:db8::1", a, sizeof(a));
    mv_rl_client_key("2001:db8::ffff:2", b, sizeof(b));
    mv_rl_client_key("2001:db8:0:1::1", c, sizeof(c));
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
}

static void client_key_passes_unparsable_text_and_truncates(void **state)
{
    char k[MV_RL_KEY_MAX], tiny[4];
    char longer[200];
    (void)state;
    assert_string_equal(mv_rl_client_key("fe80::1%eth0", k, sizeof(k)),
                        "fe80::1%eth0");
    assert_string_equal(mv_rl_client_key(NULL, k, sizeof(k)), "");
    assert_string_equal(mv_rl_client_key("203.0.113.7", tiny, sizeof(tiny)),
                        "203");
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(strlen(mv_rl_client_key(longer, k, sizeof(k))),
                     MV_RL_KEY_MAX - 1);
}

/* ------------------------------------------------------------- headers */

static void header_values_follow_the_draft(void **state)
{
    char out[128];
    mv_rl_verdict v = {1, 19, 60};
    (void)state;
    assert_int_equal(mv_rl_policy_value(out, sizeof(out), "auth", 20, 60),
                     strlen("\"auth\";q=20;w=60"));
    assert_string_equal(out, "\"auth\";q=20;w=60");
    assert_int_equal(mv_rl_limit_value(out, sizeof(out), "auth", &v),
                     strlen("\"auth\";r=19;t=60"));
    assert_string_equal(out, "\"auth\";r=19;t=60");
    v.remaining = 0;
    v.reset = 1;
    mv_rl_limit_value(out, sizeof(out), "scan", &v);
    assert_string_equal(out, "\"scan\";r=0;t=1");
    mv_rl_policy_value(out, sizeof(out), "api", 100000000, 86400);
    assert_string_equal(out, "\"api\";q=100000000;w=86400");
    /* Exactly fitting (NUL included) is enough. */
    assert_int_equal(mv_rl_policy_value(out, 17, "auth", 20, 60), 16);
    assert_int_equal(mv_rl_policy_value(out, 16, "auth", 20, 60), -1);
}

static void header_values_refuse_a_short_buffer(void **state)
{
    char out[8];
    mv_rl_verdict v = {0, 0, 86400};
    (void)state;
    assert_int_equal(mv_rl_policy_value(out, sizeof(out), "auth", 20, 60), -1);
    assert_string_equal(out, "");
    assert_int_equal(mv_rl_limit_value(out, sizeof(out), "api", &v), -1);
    assert_string_equal(out, "");
}

/* --------------------------------------------------------------- table */

static void table_allows_n_and_refuses_n_plus_1(void **state)
{
    mv_rl_table *t = *state;
    uint64_t tag = mv_rl_table_tag(t, "auth:203.0.113.7", 16);
    mv_rl_verdict v;
    long i;

    for (i = 1; i <= 5; i++) {
        mv_rl_table_hit(t, tag, 5, 60 * SEC, 1000 * SEC + i, &v);
        assert_true(v.allowed);
        assert_int_equal(v.remaining, 5 - i);
        assert_int_equal(v.reset, 60);
    }
    mv_rl_table_hit(t, tag, 5, 60 * SEC, 1030 * SEC + 1, &v);
    assert_false(v.allowed);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset, 30);
}

static void table_window_is_anchored_at_first_hit_and_reopens(void **state)
{
    mv_rl_table *t = *state;
    uint64_t tag = mv_rl_table_tag(t, "auth:x", 6);
    int64_t t0 = 5000 * SEC + 123;
    mv_rl_verdict v;

    mv_rl_table_hit(t, tag, 2, 10 * SEC, t0, &v);
    mv_rl_table_hit(t, tag, 2, 10 * SEC, t0 + 1, &v);
    mv_rl_table_hit(t, tag, 2, 10 * SEC, t0 + 10 * SEC - 1, &v);
    assert_false(v.allowed);
    assert_int_equal(v.reset, 1);
    /* The window ends exactly 10 s after the first hit. */
    mv_rl_table_hit(t, tag, 2, 10 * SEC, t0 + 10 * SEC, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    assert_int_equal(v.reset, 10);
}

static void table_count_saturates_under_a_flood(void **state)
{
    mv_rl_table *t = *state;
    uint64_t tag = mv_rl_table_tag(t, "api:flood", 9);
    mv_rl_verdict v;
    long i;

    for (i = 0; i < 5000000; i++) {
        mv_rl_table_hit(t, tag, 3, 60 * SEC, 100 * SEC, &v);
    }
    assert_false(v.allowed);
    mv_rl_table_hit(t, tag, 3, 60 * SEC, 160 * SEC, &v);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
}

static void table_buckets_are_independent(void **state)
{
    mv_rl_table *t = *state;
    uint64_t a = mv_rl_table_tag(t, "auth:a", 6);
    uint64_t b = mv_rl_table_tag(t, "auth:b", 6);
    uint64_t s = mv_rl_table_tag(t, "scan:a", 6);
    mv_rl_verdict v;

    assert_true(a != b && a != s && b != s);
    mv_rl_table_hit(t, a, 1, 60 * SEC, 10 * SEC, &v);
    mv_rl_table_hit(t, a, 1, 60 * SEC, 10 * SEC, &v);
    assert_false(v.allowed);
    mv_rl_table_hit(t, b, 1, 60 * SEC, 10 * SEC, &v);
    assert_true(v.allowed);
    mv_rl_table_hit(t, s, 1, 60 * SEC, 10 * SEC, &v);
    assert_true(v.allowed);
}

static void table_tags_are_keyed_per_table(void **state)
{
    mv_rl_table *t = *state;
    void *mem = malloc(mv_rl_table_size(SMALL_SLOTS));
    mv_rl_table *other = mv_rl_table_init(mem, SMALL_SLOTS);

    assert_true(mv_rl_table_tag(t, "auth:a", 6) ==
                mv_rl_table_tag(t, "auth:a", 6));
    assert_true(mv_rl_table_tag(t, "auth:a", 6) !=
                mv_rl_table_tag(other, "auth:a", 6));
    assert_true(mv_rl_table_tag(t, "", 0) != 0);
    free(mem);
}

static void table_check_knows_its_own_layout(void **state)
{
    mv_rl_table *t = *state;
    void *junk = calloc(1, mv_rl_table_size(SMALL_SLOTS));

    assert_true(mv_rl_table_check(t, SMALL_SLOTS));
    assert_false(mv_rl_table_check(t, SMALL_SLOTS * 2));
    assert_false(mv_rl_table_check(junk, SMALL_SLOTS));
    free(junk);
}

/* Tags whose slots all start at the same index: one probe run. */
#define SAME_RUN(i) (((uint64_t)(i) << 32) | 7u)

static void full_probe_run_evicts_the_bucket_ending_first(void **state)
{
    mv_rl_table *t = *state;
    mv_rl_verdict v;
    uint32_t i;

    /* MV_RL_PROBE live buckets, the third one's window ending first. */
    for (i = 1; i <= MV_RL_PROBE; i++) {
        int64_t now = (i == 3 ? 10 : 20) * SEC;
        mv_rl_table_hit(t, SAME_RUN(i), 1, 60 * SEC, now, &v);
        mv_rl_table_hit(t, SAME_RUN(i), 1, 60 * SEC, now, &v);
        assert_false(v.allowed);
    }
    assert_int_equal(mv_rl_table_evictions(t), 0);
    mv_rl_table_hit(t, SAME_RUN(100), 1, 60 * SEC, 30 * SEC, &v);
    assert_true(v.allowed);
    assert_int_equal(mv_rl_table_evictions(t), 1);
    /* The evicted bucket starts afresh; the others kept their counts. */
    mv_rl_table_hit(t, SAME_RUN(5), 1, 60 * SEC, 30 * SEC, &v);
    assert_false(v.allowed);
    mv_rl_table_hit(t, SAME_RUN(3), 1, 60 * SEC, 30 * SEC, &v);
    assert_true(v.allowed);
}

static void expired_slot_is_reused_without_eviction(void **state)
{
    mv_rl_table *t = *state;
    mv_rl_verdict v;
    uint32_t i;

    for (i = 1; i <= MV_RL_PROBE; i++) {
        mv_rl_table_hit(t, SAME_RUN(i), 1, 60 * SEC, 10 * SEC, &v);
    }
    /* All windows ended at 70 s: a new bucket takes one, none evicted. */
    mv_rl_table_hit(t, SAME_RUN(200), 1, 60 * SEC, 80 * SEC, &v);
    assert_true(v.allowed);
    mv_rl_table_hit(t, SAME_RUN(200), 1, 60 * SEC, 80 * SEC, &v);
    assert_false(v.allowed);
    assert_int_equal(mv_rl_table_evictions(t), 0);
}

static void bucket_found_past_an_expired_slot_keeps_its_count(void **state)
{
    mv_rl_table *t = *state;
    mv_rl_verdict v;

    /* A short window in the first slot, then a long-lived second bucket. */
    mv_rl_table_hit(t, SAME_RUN(1), 5, 1 * SEC, 10 * SEC, &v);
    mv_rl_table_hit(t, SAME_RUN(2), 1, 600 * SEC, 10 * SEC, &v);
    /* Slot 1 has expired; bucket 2 must still be found, and refused. */
    mv_rl_table_hit(t, SAME_RUN(2), 1, 600 * SEC, 20 * SEC, &v);
    assert_false(v.allowed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(judge_allows_exactly_limit_hits),
        cmocka_unit_test(judge_rounds_reset_up_to_whole_seconds),
        cmocka_unit_test(group_names_match_the_directive),
        cmocka_unit_test(client_key_keeps_ipv4_and_masks_ipv6_to_64),
        cmocka_unit_test(client_key_of_two_hosts_in_one_64_is_the_same),
        cmocka_unit_test(client_key_passes_unparsable_text_and_truncates),
        cmocka_unit_test(header_values_follow_the_draft),
        cmocka_unit_test(header_values_refuse_a_short_buffer),
        cmocka_unit_test_setup_teardown(table_allows_n_and_refuses_n_plus_1,
                                        setup_table, teardown_table),
        cmocka_unit_test_setup_teardown(
            table_window_is_anchored_at_first_hit_and_reopens, setup_table,
            teardown_table),
        cmocka_unit_test_setup_teardown(table_count_saturates_under_a_flood,
                                        setup_table, teardown_table),
        cmocka_unit_test_setup_teardown(table_buckets_are_independent,
                                        setup_table, teardown_table),
        cmocka_unit_test_setup_teardown(table_tags_are_keyed_per_table,
                                        setup_table, teardown_table),
        cmocka_unit_test_setup_teardown(table_check_knows_its_own_layout,
                                        setup_table, teardown_table),
        cmocka_unit_test_setup_teardown(
            full_probe_run_evicts_the_bucket_ending_first, setup_table,
            teardown_table),
        cmocka_unit_test_setup_teardown(expired_slot_is_reused_without_eviction,
                                        setup_table, teardown_table),
        cmocka_unit_test_setup_teardown(
            bucket_found_past_an_expired_slot_keeps_its_count, setup_table,
            teardown_table),
    };
    if (sodium_init() < 0) {
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
