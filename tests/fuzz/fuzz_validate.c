/*
 * fuzz_validate.c - the validators and normalisers of user input: UTF-8
 * length, password policy, e-mail, phone, path ids and invite codes.
 * Input: any bytes (seeds from tests/unit/test_validate.c, test_rewards.c
 * and test_crypto.c).
 * Properties: mv_utf8_length agrees with jansson on what is UTF-8; the
 * password verdict follows from the length; every normaliser's output is
 * valid (a phone: E.164, '+' and 8..15 digits) and normalises to itself;
 * a parsed id prints back as its text; an Idempotency-Key read is 1..255
 * printable characters, and a bare one is the input itself.
 */
#include "fuzz.h"
#include "mv_crypto.h"
#include "mv_validate.h"

#include <limits.h>

#include <jansson.h>
#include <sodium.h>

/* normalize(s) into a buffer of exactly outsz bytes; when it succeeds,
 * checks what every normaliser promises and returns the result in copy. */
static int normalized(int (*normalize)(const char *, char *, size_t),
                      const char *s, size_t outsz, char *copy)
{
    char *out = malloc(outsz);
    int n;

    MV_FUZZ_CHECK(out != NULL);
    n = normalize(s, out, outsz);
    if (n < 0) {
        MV_FUZZ_CHECK(n == -1 && out[0] == '\0');
        copy[0] = '\0';
    } else {
        MV_FUZZ_CHECK((size_t)n == strlen(out) && (size_t)n < outsz);
        memcpy(copy, out, (size_t)n + 1);
    }
    free(out);
    return n;
}

/* normalize is idempotent and its output satisfies valid. */
static void check_normalizer(int (*normalize)(const char *, char *, size_t),
                             int (*valid)(const char *), const char *s,
                             size_t outsz)
{
    char *once = malloc(outsz), *twice = malloc(outsz);

    MV_FUZZ_CHECK(once != NULL && twice != NULL);
    if (normalized(normalize, s, outsz, once) >= 0) {
        MV_FUZZ_CHECK(valid(once));
        MV_FUZZ_CHECK(normalized(normalize, once, outsz, twice) >= 0);
        MV_FUZZ_CHECK(strcmp(once, twice) == 0);
    }
    free(once);
    free(twice);
}

/* 1 if s is '+' and MV_PHONE_DIGITS_MIN..MV_PHONE_DIGITS_MAX digits. */
static int e164_valid(const char *s)
{
    size_t n = s[0] == '+' ? strlen(s + 1) : 0;

    return n >= MV_PHONE_DIGITS_MIN && n <= MV_PHONE_DIGITS_MAX &&
           strspn(s + 1, "0123456789") == n;
}

/* 1 if s is MV_INVITE_LEN_MIN..MV_INVITE_LEN_MAX alphabet characters. */
static int invite_code_valid(const char *s)
{
    size_t n = strlen(s);

    return n >= MV_INVITE_LEN_MIN && n <= MV_INVITE_LEN_MAX &&
           strspn(s, MV_INVITE_ALPHABET) == n;
}

/* What mv_idempotency_key_parse promises for s. */
static void check_idempotency_key(const char *s)
{
    char key[MV_IDEMPOTENCY_KEY_MAX + 1];
    int n = mv_idempotency_key_parse(s, key, sizeof key);

    if (n < 0) {
        MV_FUZZ_CHECK(n == -1);
        return;
    }
    MV_FUZZ_CHECK(n >= 1 && n <= MV_IDEMPOTENCY_KEY_MAX &&
                  (size_t)n == strlen(key));
    for (int i = 0; i < n; i++) {
        MV_FUZZ_CHECK(key[i] >= 0x20 && key[i] <= 0x7E);
    }
    if (s[0] != '"') {
        MV_FUZZ_CHECK(strcmp(key, s) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = mv_fuzz_cstring(data, size);
    long cps = mv_utf8_length((const char *)data, size);
    json_t *js = json_stringn((const char *)data, size);
    mv_password_check pw = mv_password_check_policy((const char *)data, size);
    long long id;

    /* jansson refuses exactly the text that is not UTF-8. */
    MV_FUZZ_CHECK((cps >= 0) == (js != NULL));
    json_decref(js);
    MV_FUZZ_CHECK(cps <= (long)size);
    MV_FUZZ_CHECK(pw == (cps < 0                 ? MV_PASSWORD_BAD_UTF8
                         : cps < MV_PASSWORD_MIN ? MV_PASSWORD_TOO_SHORT
                         : cps > MV_PASSWORD_MAX ? MV_PASSWORD_TOO_LONG
                                                 : MV_PASSWORD_OK));

    if (mv_email_valid(s)) {
        MV_FUZZ_CHECK(strlen(s) <= MV_EMAIL_MAX && strchr(s, '@') != NULL);
    }
    check_normalizer(mv_email_normalize, mv_email_valid, s, MV_EMAIL_MAX + 1);
    check_normalizer(mv_phone_normalize, e164_valid, s,
                     MV_PHONE_DIGITS_MAX + 2);
    check_normalizer(mv_invite_code_normalize, invite_code_valid, s,
                     MV_INVITE_LEN_MAX + 1);

    check_idempotency_key(s);
    if (mv_parse_id(s, LLONG_MAX, &id)) {
        char back[24];

        MV_FUZZ_CHECK(id > 0);
        snprintf(back, sizeof back, "%lld", id);
        MV_FUZZ_CHECK(strcmp(back, s) == 0);
    }
    free(s);
    return 0;
}
