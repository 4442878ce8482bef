/*
 * mv_validate.h - syntax checks for user input (pure logic, no httpd/APR).
 *
 * Every function is thread-safe, allocates nothing and never reads past the
 * NUL terminator (or past len where a length is given).
 */
#ifndef MV_VALIDATE_H
#define MV_VALIDATE_H

#include <stddef.h>

#include "mv_crypto.h"

#define MV_EMAIL_MAX 254
#define MV_EMAIL_LOCAL_MAX 64
#define MV_EMAIL_LABEL_MAX 63

#define MV_PHONE_DIGITS_MIN 8
#define MV_PHONE_DIGITS_MAX 15

#define MV_PASSWORD_MIN 8
#define MV_PASSWORD_MAX 128

typedef enum {
    MV_PASSWORD_OK,
    MV_PASSWORD_TOO_SHORT,
    MV_PASSWORD_TOO_LONG,
    MV_PASSWORD_BAD_UTF8
} mv_password_check;

/* Number of Unicode code points in s[0..len), or -1 if not valid UTF-8
 * (rejects overlongs, surrogates, > U+10FFFF, truncated sequences).
 * U+0000 counts as a code point. s may be NULL only when len is 0. */
long mv_utf8_length(const char *s, size_t len);

/* 1 if s is a syntactically valid e-mail: <= 254 bytes, one '@', local
 * part 1..64 chars of atext and dots (no leading/trailing/double dot),
 * domain of dot-separated labels [A-Za-z0-9-] 1..63 not starting/ending
 * with '-', at least one dot, TLD letters >= 2. ASCII only. 0 otherwise,
 * including for NULL. */
int mv_email_valid(const char *s);

/* Password length policy over s[0..len), counted in code points:
 * MV_PASSWORD_BAD_UTF8 wins over the length results. */
mv_password_check mv_password_check_policy(const char *s, size_t len);

/* Parse a positive decimal integer (digits only: no sign, no leading zero,
 * no spaces) that is <= max; returns 1 and sets *out, else 0 and leaves
 * *out untouched. Used for path ids like /users/{id}. */
int mv_parse_id(const char *s, long long max, long long *out);

/* An Idempotency-Key is 1..255 printable ASCII characters. */
#define MV_IDEMPOTENCY_KEY_MAX 255

/*
 * Reads an Idempotency-Key header value: bare, as Stripe's clients send
 * it (1..255 characters 0x20..0x7E), or as the quoted string of RFC 8941
 * that draft-ietf-httpapi-idempotency-key-header names (a value starting
 * with '"': printable characters, '\' escaping only '"' and '\', a
 * closing '"' last), whose unescaped text is the key.  Writes the key and
 * a NUL into out (outsz > MV_IDEMPOTENCY_KEY_MAX) and returns its length,
 * or returns -1 for an empty, over-long or malformed value.
 */
int mv_idempotency_key_parse(const char *in, char *out, size_t outsz);

/* ------------------------------------------ identifiers and destinations */

/* Normalises user input: drops spaces and '-', uppercases ASCII letters;
 * the result must be MV_INVITE_LEN_MIN..MV_INVITE_LEN_MAX characters of the
 * alphabet. Returns the code length (NUL written after it) into the
 * caller's out (outsz >= MV_INVITE_LEN_MAX + 1), or -1 if invalid, in which
 * case out holds "" when outsz > 0. */
int mv_invite_code_normalize(const char *in, char *out, size_t outsz);

/* 1 if s has the shape of a token from mv_opaque_token (exactly
 * MV_OPAQUE_TOKEN_LEN characters of the base64url alphabet), else 0
 * (NULL included). Reads at most MV_OPAQUE_TOKEN_LEN + 1 bytes. */
int mv_opaque_token_valid(const char *s);

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

#endif /* MV_VALIDATE_H */
