/*
 * test_keys.c - unit tests for mv_keys.h (cmocka).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <sodium.h>

#include "mv_keys.h"

#define SECRET "0123456789abcdef0123456789abcdef-secret"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void refresh_key_is_blake2b_of_label_then_secret(void **state)
{
    unsigned char got[MV_KEY_LEN], want[MV_KEY_LEN];
    char msg[128];

    (void)state;
    snprintf(msg, sizeof msg, "%s%s", "mocaverse refresh-token v1", SECRET);
    crypto_generichash(want, sizeof want, (const unsigned char *)msg,
                       strlen(msg), NULL, 0);
    mv_refresh_hash_key(SECRET, strlen(SECRET), got);
    assert_memory_equal(got, want, MV_KEY_LEN);
}

static void otp_key_is_blake2b_of_its_own_label_then_secret(void **state)
{
    unsigned char got[MV_KEY_LEN], want[MV_KEY_LEN];
    char msg[128];

    (void)state;
    snprintf(msg, sizeof msg, "%s%s", "mocaverse otp v1", SECRET);
    crypto_generichash(want, sizeof want, (const unsigned char *)msg,
                       strlen(msg), NULL, 0);
    mv_otp_hash_key(SECRET, strlen(SECRET), got);
    assert_memory_equal(got, want, MV_KEY_LEN);
}

static void keys_differ_by_label_and_by_secret(void **state)
{
    unsigned char a[MV_KEY_LEN], b[MV_KEY_LEN], c[MV_KEY_LEN];

    (void)state;
    mv_refresh_hash_key(SECRET, strlen(SECRET), a);
    mv_otp_hash_key(SECRET, strlen(SECRET), b);
    mv_refresh_hash_key(SECRET, strlen(SECRET) - 1, c);
    assert_memory_not_equal(a, b, MV_KEY_LEN);
    assert_memory_not_equal(a, c, MV_KEY_LEN);
    assert_memory_not_equal(a, (const unsigned char *)SECRET, MV_KEY_LEN);
}

static void derivation_is_deterministic(void **state)
{
    unsigned char a[MV_KEY_LEN], b[MV_KEY_LEN];

    (void)state;
    mv_key_derive("label", SECRET, strlen(SECRET), a);
    mv_key_derive("label", SECRET, strlen(SECRET), b);
    assert_memory_equal(a, b, MV_KEY_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refresh_key_is_blake2b_of_label_then_secret),
        cmocka_unit_test(otp_key_is_blake2b_of_its_own_label_then_secret),
        cmocka_unit_test(keys_differ_by_label_and_by_secret),
        cmocka_unit_test(derivation_is_deterministic),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
