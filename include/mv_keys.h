/*
 * mv_keys.h - per-purpose keys derived from the JWT secret (pure logic,
 * libsodium only, no httpd/APR).
 *
 * The operator configures one secret (MocaverseJWTSecret).  Stored hashes
 * of refresh tokens and one-time codes are keyed with subkeys derived from
 * it under distinct labels, so a key recovered for one purpose says
 * nothing about the others and the HMAC key never equals the JWT key:
 *
 *     key = BLAKE2b-256(label || secret)        (crypto_generichash)
 *
 * sodium_init() must have been called.  Functions are thread-safe and
 * allocate nothing.
 */
#ifndef MV_KEYS_H
#define MV_KEYS_H

#include <stddef.h>

#define MV_KEY_LEN 32
#define MV_KEY_LABEL_REFRESH "mocaverse refresh-token v1"
#define MV_KEY_LABEL_OTP "mocaverse otp v1"

/* Writes BLAKE2b-256(label || secret[0..len)) into the caller's out. */
void mv_key_derive(const char *label, const char *secret, size_t len,
                   unsigned char out[MV_KEY_LEN]);

/* The key of stored refresh-token hashes (label MV_KEY_LABEL_REFRESH). */
void mv_refresh_hash_key(const char *secret, size_t len,
                         unsigned char out[MV_KEY_LEN]);

/* The key of stored one-time-code hashes (label MV_KEY_LABEL_OTP). */
void mv_otp_hash_key(const char *secret, size_t len,
                     unsigned char out[MV_KEY_LEN]);

#endif /* MV_KEYS_H */
