/*
 * test_account_rules.c - unit tests for mv_account_rules.h (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mv_crypto.h"
#include "mv_validate.h"

static const unsigned char SECRET[] =
    "a-jwt-secret-of-more-than-32-bytes-for-tests";
#define SECRETLEN (sizeof SECRET - 1)

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void derived_key_is_hmac_of_label_under_secret(void **state)
{
    unsigned char got[MV_DERIVED_KEY_LEN], want[MV_DERIVED_KEY_LEN];
    crypto_auth_hmacsha256_state st;

    (void)state;
    mv_derive_key(SECRET, SECRETLEN, "label", got);
    crypto_auth_hmacsha256_init(&st, SECRET, SECRETLEN);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"label", 5);
    crypto_auth_hmacsha256_final(&st, want);
    assert_memory_equal(got, want, sizeof got);
}

static void derived_keys_differ_by_label_and_secret(void **state)
{
    unsigned char a[MV_DERIVED_KEY_LEN], b[MV_DERIVED_KEY_LEN];
    unsigned char c[MV_DERIVED_KEY_LEN];
    static const unsigned char other[] =
        "b-jwt-secret-of-more-than-32-bytes-for-tests";

    (void)state;
    mv_derive_key(SECRET, SECRETLEN, "refresh", a);
    mv_derive_key(SECRET, SECRETLEN, "otp", b);
    mv_derive_key(other, sizeof other - 1, "refresh", c);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    /* A secret far longer than a BLAKE2b key is fine for HMAC. */
    {
        unsigned char longsecret[300];
        memset(longsecret, 'k', sizeof longsecret);
        mv_derive_key(longsecret, sizeof longsecret, "refresh", b);
        assert_memory_not_equal(a, b, sizeof a);
    }
}

static void opaque_tokens_are_valid_and_other_strings_are_not(void **state)
{
    char tok[MV_OPAQUE_TOKEN_LEN + 1], bad[MV_OPAQUE_TOKEN_LEN + 2];
    int i;

    (void)state;
    for (i = 0; i < 100; i++) {
        mv_opaque_token(tok);
        assert_true(mv_opaque_token_valid(tok));
    }
    assert_false(mv_opaque_token_valid(NULL));
    assert_false(mv_opaque_token_valid(""));
    memcpy(bad, tok, sizeof tok);
    bad[MV_OPAQUE_TOKEN_LEN - 1] = '\0';
    assert_false(mv_opaque_token_valid(bad)); /* one short */
    memcpy(bad, tok, MV_OPAQUE_TOKEN_LEN);
    bad[MV_OPAQUE_TOKEN_LEN] = 'A';
    bad[MV_OPAQUE_TOKEN_LEN + 1] = '\0';
    assert_false(mv_opaque_token_valid(bad)); /* one long */
    memcpy(bad, tok, sizeof tok);
    bad[5] = '=';
    assert_false(mv_opaque_token_valid(bad));
    bad[5] = '+';
    assert_false(mv_opaque_token_valid(bad));
    bad[5] = '\'';
    assert_false(mv_opaque_token_valid(bad));
}

static void refresh_hash_is_keyed_hex_and_deterministic(void **state)
{
    char a[MV_HASH_HEX_LEN + 1], b[MV_HASH_HEX_LEN + 1];
    char c[MV_HASH_HEX_LEN + 1], want[MV_HASH_HEX_LEN + 1];
    unsigned char key[MV_DERIVED_KEY_LEN];
    static const unsigned char other[] =
        "b-jwt-secret-of-more-than-32-bytes-for-tests";
    const char *tok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
    size_t i;

    (void)state;
    mv_refresh_token_hash(SECRET, SECRETLEN, tok, a);
    mv_refresh_token_hash(SECRET, SECRETLEN, tok, b);
    mv_refresh_token_hash(other, sizeof other - 1, tok, c);
    assert_int_equal(strlen(a), MV_HASH_HEX_LEN);
    for (i = 0; i < MV_HASH_HEX_LEN; i++) {
        assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    /* Not the hash under the JWT secret itself: the key is derived. */
    mv_keyed_hash_hex(SECRET, SECRETLEN, tok, strlen(tok), want);
    assert_string_not_equal(a, want);
    mv_derive_key(SECRET, SECRETLEN, MV_REFRESH_KEY_LABEL, key);
    mv_keyed_hash_hex(key, sizeof key, tok, strlen(tok), want);
    assert_string_equal(a, want);
}

static void invite_array_lists_count_codes_of_len(void **state)
{
    size_t counts[] = {0, 1, 2, 17, 1000};
    size_t lens[] = {MV_INVITE_LEN_MIN, 8, MV_INVITE_LEN_MAX};
    size_t ci, li;

    (void)state;
    for (ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
        for (li = 0; li < sizeof lens / sizeof *lens; li++) {
            size_t n = counts[ci], len = lens[li], k = 0;
            size_t size = MV_INVITE_ARRAY_SIZE(n, len);
            char *buf = malloc(size + 8), *p, *tok, *save = NULL;

            memset(buf, '#', size + 8);
            mv_invite_codes_array(buf, n, len);
            assert_int_equal(strlen(buf) + 1, n ? size : 3);
            assert_int_equal(buf[0], '{');
            assert_int_equal(buf[strlen(buf) - 1], '}');
            if (n) {
                assert_int_equal(buf[size], '#'); /* nothing past it */
            }
            buf[strlen(buf) - 1] = '\0';
            for (p = buf + 1; (tok = strtok_r(p, ",", &save)); p = NULL) {
                size_t i;
                assert_int_equal(strlen(tok), len);
                for (i = 0; i < len; i++) {
                    assert_non_null(strchr(MV_INVITE_ALPHABET, tok[i]));
                }
                k++;
            }
            assert_int_equal(k, n);
            free(buf);
        }
    }
}

static void pwhash_slots_follow_the_memory_budget(void **state)
{
    (void)state;
    assert_int_equal(mv_pwhash_slots(19), 4); /* default cost: 76 MiB */
    assert_int_equal(mv_pwhash_slots(32), 4);
    assert_int_equal(mv_pwhash_slots(64), 2);
    assert_int_equal(mv_pwhash_slots(100), 1);
    assert_int_equal(mv_pwhash_slots(4096), 1);
    assert_int_equal(mv_pwhash_slots(1), MV_PWHASH_SLOTS_MAX);
    assert_int_equal(mv_pwhash_slots(0), MV_PWHASH_SLOTS_MAX);
    assert_int_equal(mv_pwhash_slots(-3), MV_PWHASH_SLOTS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derived_key_is_hmac_of_label_under_secret),
        cmocka_unit_test(derived_keys_differ_by_label_and_secret),
        cmocka_unit_test(opaque_tokens_are_valid_and_other_strings_are_not),
        cmocka_unit_test(refresh_hash_is_keyed_hex_and_deterministic),
        cmocka_unit_test(invite_array_lists_count_codes_of_len),
        cmocka_unit_test(pwhash_slots_follow_the_memory_budget),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
