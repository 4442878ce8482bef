/*
 * keys.c - per-purpose keys derived from the JWT secret (see mv_keys.h).
 */
#include "mv_keys.h"

#include <string.h>

#include <sodium.h>

_Static_assert(MV_KEY_LEN >= crypto_generichash_BYTES_MIN &&
                   MV_KEY_LEN <= crypto_generichash_BYTES_MAX,
               "MV_KEY_LEN must be a valid BLAKE2b output length");

/* BLAKE2b-256 over label then secret, unkeyed, into out. */
void mv_key_derive(const char *label, const char *secret, size_t len,
                   unsigned char out[MV_KEY_LEN])
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, NULL, 0, MV_KEY_LEN);
    crypto_generichash_update(&st, (const unsigned char *)label,
                              strlen(label));
    if (len > 0) {
        crypto_generichash_update(&st, (const unsigned char *)secret, len);
    }
    crypto_generichash_final(&st, out, MV_KEY_LEN);
    sodium_memzero(&st, sizeof st);
}

void mv_refresh_hash_key(const char *secret, size_t len,
                         unsigned char out[MV_KEY_LEN])
{
    mv_key_derive(MV_KEY_LABEL_REFRESH, secret, len, out);
}

void mv_otp_hash_key(const char *secret, size_t len,
                     unsigned char out[MV_KEY_LEN])
{
    mv_key_derive(MV_KEY_LABEL_OTP, secret, len, out);
}
