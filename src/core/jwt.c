/*
 * jwt.c - HS256 access tokens (see mv_jwt.h). The only file of the
 * project that calls libjwt, and only to sign: verification is done here
 * with jansson and libsodium because libjwt 1.10 does not pin the
 * algorithm nor check any claim.
 *
 * Verification is on every authenticated request, so it avoids work that
 * buys no security: the header is compared with the one header signed
 * here instead of being decoded and parsed, the HMAC key schedule is done
 * once per key (mv_jwt_key), the public segments are decoded with a
 * plain strict base64url decoder, and claims in the plain shape this
 * module signs are read without building a jansson tree (anything else
 * still goes to jansson). Only the MAC comparison needs constant time,
 * and it has it.
 */
#include "mv_jwt.h"
#include "mv_validate.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#define MV_JWT_SIG_B64_LEN 43 /* 32-byte HMAC, unpadded base64url */

/* Signed access token as a malloc'd string (caller frees), or NULL. */
char *mv_jwt_sign(const unsigned char *key, size_t keylen, const char *issuer,
                  long long user_id, long long now, long long ttl,
                  const char *jti)
{
    jwt_t *jwt = NULL;
    char *out = NULL;
    char sub[32];

    if (key == NULL || keylen < MV_JWT_KEY_MIN || keylen > INT_MAX) {
        return NULL;
    }
    if (issuer == NULL || *issuer == '\0' || jti == NULL || *jti == '\0') {
        return NULL;
    }
    if (user_id <= 0 || now < 0 || ttl <= 0 || now > LLONG_MAX - ttl) {
        return NULL;
    }
    /* jwt_add_grant_int takes a long */
    if (user_id > LONG_MAX || now + ttl > LONG_MAX) {
        return NULL;
    }
    snprintf(sub, sizeof sub, "%lld", user_id);

    if (jwt_new(&jwt) != 0) {
        return NULL;
    }
    if (jwt_add_grant(jwt, "sub", sub) == 0 &&
        jwt_add_grant_int(jwt, "userId", (long)user_id) == 0 &&
        jwt_add_grant(jwt, "type", "access") == 0 &&
        jwt_add_grant(jwt, "iss", issuer) == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) == 0 &&
        jwt_add_grant(jwt, "jti", jti) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen) == 0) {
        out = jwt_encode_str(jwt);
    }
    jwt_free(jwt);
    /* mv_jwt_verify accepts only this header: never issue another one */
    if (out != NULL &&
        strncmp(out, MV_JWT_HEADER ".", sizeof MV_JWT_HEADER) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

/* Value of the base64url character c, or -1 for any other byte; the
 * table below is this macro applied to every byte value (each entry cast,
 * as clang checks the arms not taken against signed char too). */
#define MV_B64V(c)                                                             \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                    \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                               \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                               \
     : (c) == '-'               ? 62                                           \
     : (c) == '_'               ? 63                                           \
                                : -1)
#define MV_B64V4(c)                                                            \
    (signed char)MV_B64V(c), (signed char)MV_B64V((c) + 1),                    \
        (signed char)MV_B64V((c) + 2), (signed char)MV_B64V((c) + 3)
#define MV_B64V16(c)                                                           \
    MV_B64V4(c), MV_B64V4((c) + 4), MV_B64V4((c) + 8), MV_B64V4((c) + 12)
#define MV_B64V64(c)                                                           \
    MV_B64V16(c), MV_B64V16((c) + 16), MV_B64V16((c) + 32), MV_B64V16((c) + 48)

static const signed char mv_jwt_b64url_value[256] = {
    MV_B64V64(0), MV_B64V64(64), MV_B64V64(128), MV_B64V64(192)};

/* Decodes the unpadded base64url text b64[0..len) into out (outsz bytes)
 * and sets *outlen. Strict, as sodium_base642bin with the URL-safe
 * no-padding variant: only the 64 characters, no padding, no length of the
 * form 4n + 1, and the unused low bits of the last character zero, so a
 * byte string has exactly one accepted spelling. Returns 0, or -1 when the
 * text is invalid or decodes to more than outsz bytes. Branches on the
 * data: for public input only (the token as received), never a secret. */
static int mv_jwt_b64url_decode(const char *b64, size_t len, unsigned char *out,
                                size_t outsz, size_t *outlen)
{
    unsigned int acc = 0, bits = 0;
    size_t i, n = 0;
    int v;

    if (len % 4 == 1) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        v = mv_jwt_b64url_value[(unsigned char)b64[i]];
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (unsigned int)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == outsz) {
                return -1;
            }
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0) {
        return -1;
    }
    *outlen = n;
    return 0;
}

/* Decodes the base64url segment b64[0..len) and parses it as a JSON
 * object (duplicate keys refused). Returns a new reference the caller
 * releases with json_decref(), or NULL. */
static json_t *mv_jwt_segment_json(const char *b64, size_t len)
{
    unsigned char buf[MV_JWT_TOKEN_MAX];
    size_t binlen = 0;
    json_t *obj;

    if (len == 0 ||
        mv_jwt_b64url_decode(b64, len, buf, sizeof buf, &binlen) != 0) {
        return NULL;
    }
    obj = json_loadb((const char *)buf, binlen, JSON_REJECT_DUPLICATES, NULL);
    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* The refusal status of a header segment hdr[0..len) that is not
 * MV_JWT_HEADER: MV_JWT_BAD_ALG when it is a JSON object whose alg is not
 * the string "HS256" (missing, "none", another algorithm), else
 * MV_JWT_MALFORMED. Only names the refusal; never accepts. */
static mv_jwt_status mv_jwt_header_refusal(const char *hdr, size_t len)
{
    json_t *obj = mv_jwt_segment_json(hdr, len);
    json_t *alg;
    mv_jwt_status st = MV_JWT_MALFORMED;

    if (obj == NULL) {
        return MV_JWT_MALFORMED;
    }
    alg = json_object_get(obj, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256")) {
        st = MV_JWT_BAD_ALG;
    }
    json_decref(obj);
    return st;
}

/* 1 if the signature segment sig[0..siglen) is the HMAC-SHA256 under k of
 * signed_part[0..signedlen), compared in constant time; else 0. The
 * segment is decoded first (it is the client's, not a secret); the MAC
 * computed here is never decoded, encoded or branched on. */
static int mv_jwt_check_hmac(const mv_jwt_key *k, const char *signed_part,
                             size_t signedlen, const char *sig, size_t siglen)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    unsigned char got[crypto_auth_hmacsha256_BYTES];
    size_t gotlen = 0;
    int ok;

    if (siglen != MV_JWT_SIG_B64_LEN ||
        mv_jwt_b64url_decode(sig, siglen, got, sizeof got, &gotlen) != 0 ||
        gotlen != sizeof got) {
        return 0;
    }
    memcpy(&st, &k->hmac, sizeof st);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signed_part,
                                  signedlen);
    crypto_auth_hmacsha256_final(&st, mac);
    ok = sodium_memcmp(mac, got, sizeof mac) == 0;
    sodium_memzero(&st, sizeof st);
    sodium_memzero(mac, sizeof mac);
    return ok;
}

/* One claim of the payload as read, whichever reader read it. */
typedef enum {
    MV_CLAIM_ABSENT = 0,
    MV_CLAIM_STRING,  /* s[0..len), may hold NUL bytes */
    MV_CLAIM_INTEGER, /* i */
    MV_CLAIM_REAL,    /* d */
    MV_CLAIM_OTHER    /* true, false, null, array or object */
} mv_claim_kind;

typedef struct {
    mv_claim_kind kind;
    const char *s; /* borrowed from the reader's buffer or tree */
    size_t len;
    long long i;
    double d;
} mv_claim;

/* The claims that are checked; other claims are ignored. */
typedef struct {
    mv_claim type, iss, sub, user_id, jti, iat, nbf, exp;
} mv_claims;

/* Name and place in mv_claims of each checked claim. */
static const struct {
    const char *name;
    size_t off;
} mv_claim_names[] = {
    {"type", offsetof(mv_claims, type)},
    {"iss", offsetof(mv_claims, iss)},
    {"sub", offsetof(mv_claims, sub)},
    {"userId", offsetof(mv_claims, user_id)},
    {"jti", offsetof(mv_claims, jti)},
    {"iat", offsetof(mv_claims, iat)},
    {"nbf", offsetof(mv_claims, nbf)},
    {"exp", offsetof(mv_claims, exp)},
};

#define MV_CLAIM_NAMES (sizeof mv_claim_names / sizeof mv_claim_names[0])

/* The slot i of c (in mv_claim_names order); never NULL. */
static mv_claim *mv_claims_slot(mv_claims *c, size_t i)
{
    return (mv_claim *)((char *)c + mv_claim_names[i].off);
}

/* Fills c from the JSON object obj (jansson's reading); the strings stay
 * borrowed from obj, so c is valid until obj is released. */
static void mv_claims_from_json(json_t *obj, mv_claims *c)
{
    size_t i;

    memset(c, 0, sizeof *c);
    for (i = 0; i < MV_CLAIM_NAMES; i++) {
        json_t *v = json_object_get(obj, mv_claim_names[i].name);
        mv_claim *slot = mv_claims_slot(c, i);

        if (v == NULL) {
            slot->kind = MV_CLAIM_ABSENT;
        } else if (json_is_string(v)) {
            slot->kind = MV_CLAIM_STRING;
            slot->s = json_string_value(v);
            slot->len = json_string_length(v);
        } else if (json_is_integer(v)) {
            slot->kind = MV_CLAIM_INTEGER;
            slot->i = json_integer_value(v);
        } else if (json_is_real(v)) {
            slot->kind = MV_CLAIM_REAL;
            slot->d = json_real_value(v);
        } else {
            slot->kind = MV_CLAIM_OTHER;
        }
    }
}

/* p advanced past JSON whitespace, at most to end. */
static const char *mv_json_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
        p++;
    }
    return p;
}

/* At *pp a string of printable ASCII without escapes: sets s, len, moves
 * *pp past the closing quote and returns 1. Anything else: 0. */
static int mv_json_plain_string(const char **pp, const char *end,
                                const char **s, size_t *len)
{
    const char *p = *pp;

    if (p == end || *p != '"') {
        return 0;
    }
    *s = ++p;
    while (p < end && *p != '"') {
        unsigned char ch = (unsigned char)*p;

        if (ch < 0x20 || ch > 0x7e || ch == '\\') {
            return 0;
        }
        p++;
    }
    if (p == end) {
        return 0;
    }
    *len = (size_t)(p - *s);
    *pp = p + 1;
    return 1;
}

#define MV_JSON_PLAIN_DIGITS 18 /* always within long long */

/* At *pp a JSON integer of at most MV_JSON_PLAIN_DIGITS digits: sets *v,
 * moves *pp past the digits and returns 1. Anything else: 0. A fraction or
 * exponent is left at *pp, where the caller finds neither ',' nor '}'. */
static int mv_json_plain_integer(const char **pp, const char *end, long long *v)
{
    const char *p = *pp;
    int neg = 0, digits = 0;
    long long x = 0;

    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p == end || *p < '0' || *p > '9' ||
        (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')) {
        return 0;
    }
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (++digits > MV_JSON_PLAIN_DIGITS) {
            return 0;
        }
        x = x * 10 + (*p - '0');
    }
    *v = neg ? -x : x;
    *pp = p;
    return 1;
}

#define MV_JSON_PLAIN_MEMBERS 16

/* Reads buf[0..n) into c when it is a plain JSON object: at most
 * MV_JSON_PLAIN_MEMBERS members, no duplicate key, keys and string values
 * printable ASCII without escapes, other values integers as read by
 * mv_json_plain_integer, JSON whitespace anywhere. On such input jansson
 * reads exactly the same values, so this returns 1 with c filled (strings
 * borrowed from buf). It returns 0 for everything else, well-formed or
 * not, and the caller asks jansson: it declines, it never refuses. */
static int mv_claims_read_plain(const char *buf, size_t n, mv_claims *c)
{
    const char *p = buf, *end = buf + n;
    const char *keys[MV_JSON_PLAIN_MEMBERS];
    size_t keylens[MV_JSON_PLAIN_MEMBERS];
    size_t nkeys = 0, i;

    memset(c, 0, sizeof *c);
    p = mv_json_ws(p, end);
    if (p == end || *p++ != '{') {
        return 0;
    }
    p = mv_json_ws(p, end);
    if (p < end && *p == '}') {
        return mv_json_ws(p + 1, end) == end;
    }
    for (;;) {
        mv_claim v;
        const char *key;
        size_t keylen;

        memset(&v, 0, sizeof v);
        if (nkeys == MV_JSON_PLAIN_MEMBERS ||
            !mv_json_plain_string(&p, end, &key, &keylen)) {
            return 0;
        }
        for (i = 0; i < nkeys; i++) {
            if (keylens[i] == keylen && memcmp(keys[i], key, keylen) == 0) {
                return 0;
            }
        }
        keys[nkeys] = key;
        keylens[nkeys++] = keylen;
        p = mv_json_ws(p, end);
        if (p == end || *p++ != ':') {
            return 0;
        }
        p = mv_json_ws(p, end);
        if (mv_json_plain_string(&p, end, &v.s, &v.len)) {
            v.kind = MV_CLAIM_STRING;
        } else if (mv_json_plain_integer(&p, end, &v.i)) {
            v.kind = MV_CLAIM_INTEGER;
        } else {
            return 0;
        }
        for (i = 0; i < MV_CLAIM_NAMES; i++) {
            if (strlen(mv_claim_names[i].name) == keylen &&
                memcmp(mv_claim_names[i].name, key, keylen) == 0) {
                *mv_claims_slot(c, i) = v;
            }
        }
        p = mv_json_ws(p, end);
        if (p < end && *p == '}') {
            return mv_json_ws(p + 1, end) == end;
        }
        if (p == end || *p++ != ',') {
            return 0;
        }
        p = mv_json_ws(p, end);
    }
}

/* 1 if claim v is the string s exactly (length included); else 0. */
static int mv_claim_is(const mv_claim *v, const char *s)
{
    size_t n = strlen(s);

    return v->kind == MV_CLAIM_STRING && v->len == n && memcmp(v->s, s, n) == 0;
}

/* 1 if claim v is a number whose value is <= limit; else 0. */
static int mv_claim_number_le(const mv_claim *v, long long limit)
{
    if (v->kind == MV_CLAIM_INTEGER) {
        return v->i <= limit;
    }
    if (v->kind == MV_CLAIM_REAL) {
        return v->d <= (double)limit;
    }
    return 0;
}

/* now + MV_JWT_LEEWAY, saturated at LLONG_MAX. */
static long long mv_jwt_skewed(long long now)
{
    return now > LLONG_MAX - MV_JWT_LEEWAY ? LLONG_MAX : now + MV_JWT_LEEWAY;
}

#define MV_JWT_SUB_MAX 19 /* digits of LLONG_MAX */

/* MV_JWT_OK and *uid set if the claims c are a valid access token at time
 * now for issuer, else the refusal status. */
static mv_jwt_status mv_jwt_check_claims(const mv_claims *c, const char *issuer,
                                         long long now, long long *uid)
{
    char sub[MV_JWT_SUB_MAX + 1];
    long long id;

    if (!mv_claim_is(&c->type, "access") || !mv_claim_is(&c->iss, issuer)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (c->sub.kind != MV_CLAIM_STRING || c->sub.len > MV_JWT_SUB_MAX ||
        memchr(c->sub.s, '\0', c->sub.len) != NULL) {
        return MV_JWT_BAD_CLAIMS;
    }
    memcpy(sub, c->sub.s, c->sub.len);
    sub[c->sub.len] = '\0';
    if (!mv_parse_id(sub, LLONG_MAX, &id)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (c->user_id.kind != MV_CLAIM_ABSENT &&
        (c->user_id.kind != MV_CLAIM_INTEGER || c->user_id.i != id)) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (c->jti.kind != MV_CLAIM_STRING) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (!mv_claim_number_le(&c->iat, mv_jwt_skewed(now))) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (c->nbf.kind != MV_CLAIM_ABSENT &&
        !mv_claim_number_le(&c->nbf, mv_jwt_skewed(now))) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (c->exp.kind != MV_CLAIM_INTEGER && c->exp.kind != MV_CLAIM_REAL) {
        return MV_JWT_BAD_CLAIMS;
    }
    if (mv_claim_number_le(&c->exp, now)) {
        return MV_JWT_EXPIRED;
    }
    *uid = id;
    return MV_JWT_OK;
}

/* Decodes the payload segment b64[0..len) and checks its claims: the plain
 * reader when it accepts the text, else jansson (an object without
 * duplicate keys, or MV_JWT_MALFORMED). MV_JWT_OK and *uid set, or the
 * refusal status. */
static mv_jwt_status mv_jwt_read_claims(const char *b64, size_t len,
                                        const char *issuer, long long now,
                                        long long *uid)
{
    unsigned char buf[MV_JWT_TOKEN_MAX];
    size_t n = 0;
    mv_claims c;
    json_t *obj;
    mv_jwt_status st;

    if (mv_jwt_b64url_decode(b64, len, buf, sizeof buf, &n) != 0) {
        return MV_JWT_MALFORMED;
    }
    if (mv_claims_read_plain((const char *)buf, n, &c)) {
        return mv_jwt_check_claims(&c, issuer, now, uid);
    }
    obj = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, NULL);
    if (obj == NULL || !json_is_object(obj)) {
        json_decref(obj);
        return MV_JWT_MALFORMED;
    }
    mv_claims_from_json(obj, &c);
    st = mv_jwt_check_claims(&c, issuer, now, uid);
    json_decref(obj);
    return st;
}

/* Prepares k for key; 0, or -1 with k verifying nothing. */
int mv_jwt_key_init(mv_jwt_key *k, const unsigned char *key, size_t keylen)
{
    sodium_memzero(k, sizeof *k);
    if (key == NULL || keylen < MV_JWT_KEY_MIN) {
        return -1;
    }
    crypto_auth_hmacsha256_init(&k->hmac, key, keylen);
    k->ready = 1;
    return 0;
}

/* Zeroes the prepared key k. */
void mv_jwt_key_clear(mv_jwt_key *k)
{
    sodium_memzero(k, sizeof *k);
}

/* Verification verdict for token under k; sets *user_id only on
 * MV_JWT_OK. */
mv_jwt_status mv_jwt_verify_with(const mv_jwt_key *k, const char *issuer,
                                 const char *token, long long now,
                                 long long *user_id)
{
    const char *dot1, *dot2;
    size_t len, hlen, plen;
    mv_jwt_status st;
    long long id = 0;

    if (token == NULL || issuer == NULL) {
        return MV_JWT_MALFORMED;
    }
    len = strnlen(token, MV_JWT_TOKEN_MAX + 1);
    if (len > MV_JWT_TOKEN_MAX) {
        return MV_JWT_MALFORMED;
    }
    dot1 = memchr(token, '.', len);
    if (dot1 == NULL) {
        return MV_JWT_MALFORMED;
    }
    dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (dot2 == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        return MV_JWT_MALFORMED;
    }
    hlen = (size_t)(dot1 - token);
    plen = (size_t)(dot2 - dot1 - 1);
    if (hlen == 0 || plen == 0) {
        return MV_JWT_MALFORMED;
    }

    /* The header is public: a plain comparison pins HS256. */
    if (hlen != sizeof MV_JWT_HEADER - 1 ||
        memcmp(token, MV_JWT_HEADER, hlen) != 0) {
        return mv_jwt_header_refusal(token, hlen);
    }

    if (k == NULL || !k->ready ||
        !mv_jwt_check_hmac(k, token, (size_t)(dot2 - token), dot2 + 1,
                           len - (size_t)(dot2 + 1 - token))) {
        return MV_JWT_BAD_SIGNATURE;
    }

    st = mv_jwt_read_claims(dot1 + 1, plen, issuer, now, &id);
    if (st == MV_JWT_OK && user_id != NULL) {
        *user_id = id;
    }
    return st;
}

/* Verification verdict for token under key, prepared for this call. */
mv_jwt_status mv_jwt_verify(const unsigned char *key, size_t keylen,
                            const char *issuer, const char *token,
                            long long now, long long *user_id)
{
    mv_jwt_key k;
    mv_jwt_status st;

    mv_jwt_key_init(&k, key, keylen);
    st = mv_jwt_verify_with(&k, issuer, token, now, user_id);
    mv_jwt_key_clear(&k);
    return st;
}
