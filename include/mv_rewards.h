/*
 * mv_rewards.h - pure pieces of the reward routes: one-time-code
 * destinations and codes, and coupon-token arrays (no httpd/APR).
 *
 * Functions are thread-safe, allocate nothing and write only into the
 * caller's buffers.  sodium_init() must have been called before the ones
 * that hash or draw random numbers.
 */
#ifndef MV_REWARDS_H
#define MV_REWARDS_H

#include <stddef.h>

#include "mv_crypto.h"
#include "mv_validate.h"

/* Longest normalised destination (an e-mail) + NUL. */
#define MV_DESTINATION_MAX (MV_EMAIL_MAX + 1)

/* Normalises a phone number: drops the separators ' ', '-', '.', '(' and
 * ')', then requires an optional leading '+' or "00" (the international
 * prefix) and 8..15 digits.  Writes "+<digits>" (E.164 form; "+", "00"
 * and neither name the same number) into out
 * and returns its length, or -1 (out = "") when invalid or when outsz is
 * too small.  outsz >= MV_PHONE_DIGITS_MAX + 2 is always enough. */
int mv_phone_normalize(const char *in, char *out, size_t outsz);

/* Normalises an e-mail: mv_email_valid, then ASCII lower case.  Returns
 * the length written into out, or -1 (out = "") when invalid or when outsz
 * is too small (MV_EMAIL_MAX + 1 is always enough). */
int mv_email_normalize(const char *in, char *out, size_t outsz);

/* 1 if s is exactly MV_OTP_LEN ASCII digits, else 0 (NULL included). */
int mv_otp_code_valid(const char *s);

/* The stored form of a one-time code: HMAC-SHA256 under key over
 * "destination\ncode", as hex + NUL into out.  Binding the destination
 * keeps equal codes for different people from having equal hashes. */
void mv_otp_hash(const unsigned char *key, size_t keylen,
                 const char *destination, const char *code,
                 char out[MV_HASH_HEX_LEN + 1]);

/* Bytes that mv_uuid_array writes for n tokens, NUL included. */
#define MV_UUID_ARRAY_SIZE(n) ((size_t)(n) * (MV_UUID_LEN + 1) + 3)
/* Offset of the i-th token (MV_UUID_LEN characters) in such an array. */
#define MV_UUID_ARRAY_AT(i) (1 + (size_t)(i) * (MV_UUID_LEN + 1))

/* Writes n fresh UUIDv4 as a PostgreSQL array literal "{u1,u2,...}" + NUL
 * into out, which has MV_UUID_ARRAY_SIZE(n) bytes; token i starts at
 * MV_UUID_ARRAY_AT(i).  Returns the length written (without the NUL). */
size_t mv_uuid_array(char *out, size_t n);

#endif /* MV_REWARDS_H */
