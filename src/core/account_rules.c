/*
 * account_rules.c - the pure pieces of accounts (see mv_account_rules.h).
 */
#include "mv_account_rules.h"

#include <string.h>

#include <sodium.h>

_Static_assert(MV_DERIVED_KEY_LEN == crypto_auth_hmacsha256_BYTES,
               "a derived key is one HMAC-SHA256 output");

/* Writes HMAC-SHA256(secret, label) into out. */
void mv_derive_key(const unsigned char *secret, size_t secretlen,
                   const char *label, unsigned char out[MV_DERIVED_KEY_LEN])
{
    static const unsigned char empty[1] = {0};
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, secret ? secret : empty,
                                secret ? secretlen : 0);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label,
                                  strlen(label));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* 1 if c belongs to the unpadded base64url alphabet. */
static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* 1 if s looks like an opaque token, else 0. */
int mv_opaque_token_valid(const char *s)
{
    size_t i;

    if (s == NULL ||
        strnlen(s, MV_OPAQUE_TOKEN_LEN + 1) != MV_OPAQUE_TOKEN_LEN) {
        return 0;
    }
    for (i = 0; i < MV_OPAQUE_TOKEN_LEN; i++) {
        if (!is_b64url(s[i])) {
            return 0;
        }
    }
    return 1;
}

/* Writes the keyed hash of token under the refresh-token key into out. */
void mv_refresh_token_hash(const unsigned char *secret, size_t secretlen,
                           const char *token, char out[MV_HASH_HEX_LEN + 1])
{
    unsigned char key[MV_DERIVED_KEY_LEN];

    mv_derive_key(secret, secretlen, MV_REFRESH_KEY_LABEL, key);
    mv_keyed_hash_hex(key, sizeof key, token, strlen(token), out);
    sodium_memzero(key, sizeof key);
}

/* Writes "{CODE,CODE,...}" with count fresh codes into out. */
void mv_invite_codes_array(char *out, size_t count, size_t len)
{
    size_t i;
    char *p = out;

    *p++ = '{';
    for (i = 0; i < count; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        mv_invite_code_generate(p, len);
        p += len;
    }
    *p++ = '}';
    *p = '\0';
}

/* Hashes of mem_mib MiB that fit the budget, 1..MV_PWHASH_SLOTS_MAX. */
int mv_pwhash_slots(int mem_mib)
{
    int n = MV_PWHASH_BUDGET_MIB / (mem_mib > 0 ? mem_mib : 1);

    if (n < 1) {
        return 1;
    }
    return n > MV_PWHASH_SLOTS_MAX ? MV_PWHASH_SLOTS_MAX : n;
}
