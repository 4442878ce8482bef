/*
 * crypto.c - random identifiers, keyed hashes and password hashing on top
 * of libsodium (see mv_crypto.h). sodium_init() must have been called.
 */
#include "mv_crypto.h"
#include "mv_validate.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

_Static_assert(sizeof(MV_INVITE_ALPHABET) - 1 == MV_INVITE_ALPHABET_LEN,
               "invite alphabet must have MV_INVITE_ALPHABET_LEN symbols");
_Static_assert(MV_PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES,
               "MV_PASSWORD_HASH_MAX too small for crypto_pwhash_STRBYTES");
_Static_assert(
    sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING) ==
        MV_OPAQUE_TOKEN_LEN + 1,
    "MV_OPAQUE_TOKEN_LEN must match 32 bytes of base64url");

/* Fills out[0..len) with random alphabet symbols and NUL-terminates it. */
void mv_invite_code_generate(char *out, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        out[i] =
            MV_INVITE_ALPHABET[randombytes_uniform(MV_INVITE_ALPHABET_LEN)];
    }
    out[len] = '\0';
}

/* Writes bytes[0..16) into out as a lowercase 8-4-4-4-12 UUID + NUL. */
static void mv_uuid_format(const unsigned char b[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/* Writes a random version 4, RFC 4122 variant UUID into out. */
void mv_uuid_v4(char out[37])
{
    unsigned char b[16];

    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
    mv_uuid_format(b, out);
}

/* 1 if c is an ASCII hex digit. */
static int mv_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* 1 if s is a canonical UUID; lowercase copy into out when not NULL. */
int mv_uuid_parse(const char *s, char out[37])
{
    size_t i;

    if (s == NULL || strnlen(s, MV_UUID_LEN + 1) != MV_UUID_LEN) {
        return 0;
    }
    for (i = 0; i < MV_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (!mv_is_hex(s[i])) {
            return 0;
        }
    }
    if (out != NULL) {
        for (i = 0; i < MV_UUID_LEN; i++) {
            char c = s[i];
            out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
        }
        out[MV_UUID_LEN] = '\0';
    }
    return 1;
}

/* Writes a uniformly random six-digit code + NUL into out. */
void mv_otp_generate(char out[7])
{
    unsigned int v = (unsigned int)randombytes_uniform(1000000U);

    snprintf(out, MV_OTP_LEN + 1, "%06u", v);
}

/* Writes 256 random bits as unpadded base64url + NUL into out. */
void mv_opaque_token(char out[MV_OPAQUE_TOKEN_LEN + 1])
{
    unsigned char b[32];

    randombytes_buf(b, sizeof b);
    sodium_bin2base64(out, MV_OPAQUE_TOKEN_LEN + 1, b, sizeof b,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof b);
}

/* Writes HMAC-SHA256(key, msg) as lowercase hex + NUL into out. */
void mv_keyed_hash_hex(const unsigned char *key, size_t keylen, const char *msg,
                       size_t msglen, char out[MV_HASH_HEX_LEN + 1])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, msglen);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, MV_HASH_HEX_LEN + 1, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(mac, sizeof mac);
}

/* 1 if a[0..alen) equals b[0..blen), in time independent of contents. */
int mv_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    unsigned char key[crypto_generichash_KEYBYTES];
    unsigned char ha[crypto_generichash_BYTES];
    unsigned char hb[crypto_generichash_BYTES];
    static const unsigned char empty[1] = {0};
    int same_mac, same_len;

    if ((a == NULL && alen != 0) || (b == NULL && blen != 0)) {
        return 0;
    }
    if (a == NULL) {
        a = empty;
    }
    if (b == NULL) {
        b = empty;
    }
    randombytes_buf(key, sizeof key);
    crypto_generichash(ha, sizeof ha, a, alen, key, sizeof key);
    crypto_generichash(hb, sizeof hb, b, blen, key, sizeof key);
    same_mac = sodium_memcmp(ha, hb, sizeof ha) == 0;
    same_len = alen == blen;
    sodium_memzero(key, sizeof key);
    return same_mac & same_len;
}

/* 0 and the argon2id string in the caller's out, or -1 on failure. */
int mv_password_hash(const char *pw, size_t pwlen, unsigned long long opslimit,
                     size_t memlimit, char *out)
{
    if (out == NULL) {
        return -1;
    }
    out[0] = '\0';
    if (pw == NULL && pwlen != 0) {
        return -1;
    }
    if (pw == NULL) {
        pw = "";
    }
    if (crypto_pwhash_str_alg(out, pw, pwlen, opslimit, memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* 1 if pw matches the argon2id hash string, else 0. */
int mv_password_verify(const char *hash, const char *pw, size_t pwlen)
{
    static const char prefix[] = "$argon2id$";

    if (hash == NULL || (pw == NULL && pwlen != 0)) {
        return 0;
    }
    if (pw == NULL) {
        pw = "";
    }
    if (strnlen(hash, MV_PASSWORD_HASH_MAX) >= MV_PASSWORD_HASH_MAX) {
        return 0;
    }
    if (strncmp(hash, prefix, sizeof prefix - 1) != 0) {
        return 0;
    }
    return crypto_pwhash_argon2id_str_verify(hash, pw, pwlen) == 0;
}

/* ----------------------------------------------- keys and stored hashes */

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

/* Writes the keyed hash of token under the refresh-token key into out. */
void mv_refresh_token_hash(const unsigned char *secret, size_t secretlen,
                           const char *token, char out[MV_HASH_HEX_LEN + 1])
{
    unsigned char key[MV_DERIVED_KEY_LEN];

    mv_derive_key(secret, secretlen, MV_REFRESH_KEY_LABEL, key);
    mv_keyed_hash_hex(key, sizeof key, token, strlen(token), out);
    sodium_memzero(key, sizeof key);
}

void mv_otp_hash(const unsigned char *key, size_t keylen,
                 const char *destination, const char *code,
                 char out[MV_HASH_HEX_LEN + 1])
{
    char msg[MV_DESTINATION_MAX + MV_OTP_LEN + 2];
    size_t dl = strnlen(destination, MV_DESTINATION_MAX - 1);
    size_t cl = strnlen(code, MV_OTP_LEN);

    memcpy(msg, destination, dl);
    msg[dl] = '\n';
    memcpy(msg + dl + 1, code, cl);
    mv_keyed_hash_hex(key, keylen, msg, dl + 1 + cl, out);
}

/* ----------------------------------------- batches as PostgreSQL arrays */

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

size_t mv_uuid_array(char *out, size_t n)
{
    size_t i, o = 0;

    out[o++] = '{';
    for (i = 0; i < n; i++) {
        mv_uuid_v4(out + o); /* writes 36 chars + NUL */
        o += MV_UUID_LEN;
        out[o++] = ',';
    }
    if (n > 0) {
        o--; /* the last ',' becomes '}' */
    }
    out[o++] = '}';
    out[o] = '\0';
    return o;
}

/* ------------------------------------------------------ password hashing */

/* Hashes of mem_mib MiB that fit the budget, 1..MV_PWHASH_SLOTS_MAX. */
int mv_pwhash_slots(int mem_mib)
{
    int n = MV_PWHASH_BUDGET_MIB / (mem_mib > 0 ? mem_mib : 1);

    if (n < 1) {
        return 1;
    }
    return n > MV_PWHASH_SLOTS_MAX ? MV_PWHASH_SLOTS_MAX : n;
}
