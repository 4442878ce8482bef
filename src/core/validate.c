/*
 * validate.c - syntax checks for user input (see mv_validate.h).
 *
 * Character classes are spelled out rather than taken from <ctype.h> so
 * that the result never depends on the process locale.
 */
#include "mv_validate.h"
#include "mv_crypto.h"

#include <limits.h>
#include <string.h>

/* 1 if c is an ASCII digit. */
static int mv_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* 1 if c is an ASCII letter. */
static int mv_is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* 1 if c is RFC 5322 atext (letters, digits and !#$%&'*+-/=?^_`{|}~). */
static int mv_is_atext(unsigned char c)
{
    if (mv_is_alpha(c) || mv_is_digit(c)) {
        return 1;
    }
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Length in bytes of the valid UTF-8 sequence starting at p (at most
 * avail bytes are readable), or 0 if the sequence is invalid. */
static size_t mv_utf8_seq(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) {
            lo = 0xA0; /* overlong below U+0800 */
        } else if (c == 0xED) {
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) {
            lo = 0x90; /* overlong below U+10000 */
        } else if (c == 0xF4) {
            hi = 0x8F; /* above U+10FFFF */
        }
    } else {
        return 0; /* continuation, C0, C1 or F5..FF */
    }
    if (avail < n) {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

/* Code points in s[0..len) or -1 on invalid UTF-8; allocates nothing. */
long mv_utf8_length(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    long count = 0;

    if (s == NULL) {
        return len == 0 ? 0 : -1;
    }
    if (len > (size_t)LONG_MAX) {
        return -1;
    }
    while (i < len) {
        size_t n = mv_utf8_seq(p + i, len - i);
        if (n == 0) {
            return -1;
        }
        i += n;
        count++;
    }
    return count;
}

/* 1 if local[0..len) is a valid dot-atom local part; allocates nothing. */
static int mv_email_local_valid(const char *local, size_t len)
{
    size_t i;

    if (len < 1 || len > MV_EMAIL_LOCAL_MAX) {
        return 0;
    }
    if (local[0] == '.' || local[len - 1] == '.') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)local[i];
        if (c == '.') {
            if (local[i + 1] == '.') {
                return 0;
            }
        } else if (!mv_is_atext(c)) {
            return 0;
        }
    }
    return 1;
}

/* 1 if dom (NUL-terminated) is a valid host name with at least one dot
 * and an alphabetic TLD of two or more letters; allocates nothing. */
static int mv_email_domain_valid(const char *dom)
{
    const char *label = dom;
    int dots = 0;

    for (;;) {
        size_t n = 0;
        int all_alpha = 1;

        while (label[n] != '\0' && label[n] != '.') {
            unsigned char c = (unsigned char)label[n];
            if (!mv_is_alpha(c) && !mv_is_digit(c) && c != '-') {
                return 0;
            }
            if (!mv_is_alpha(c)) {
                all_alpha = 0;
            }
            n++;
        }
        if (n < 1 || n > MV_EMAIL_LABEL_MAX) {
            return 0;
        }
        if (label[0] == '-' || label[n - 1] == '-') {
            return 0;
        }
        if (label[n] == '\0') {
            /* last label: the TLD */
            return dots >= 1 && all_alpha && n >= 2;
        }
        dots++;
        label += n + 1;
    }
}

/* 1 if s is a syntactically valid e-mail address, else 0. */
int mv_email_valid(const char *s)
{
    const char *at;
    size_t len;

    if (s == NULL) {
        return 0;
    }
    len = strnlen(s, MV_EMAIL_MAX + 1);
    if (len == 0 || len > MV_EMAIL_MAX) {
        return 0;
    }
    at = strchr(s, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL) {
        return 0;
    }
    if (!mv_email_local_valid(s, (size_t)(at - s))) {
        return 0;
    }
    return mv_email_domain_valid(at + 1);
}

/* Password policy verdict for s[0..len); allocates nothing. */
mv_password_check mv_password_check_policy(const char *s, size_t len)
{
    long n = mv_utf8_length(s, len);

    if (n < 0) {
        return MV_PASSWORD_BAD_UTF8;
    }
    if (n < MV_PASSWORD_MIN) {
        return MV_PASSWORD_TOO_SHORT;
    }
    if (n > MV_PASSWORD_MAX) {
        return MV_PASSWORD_TOO_LONG;
    }
    return MV_PASSWORD_OK;
}

/* 1 and *out set if s is a canonical positive decimal <= max, else 0. */
int mv_parse_id(const char *s, long long max, long long *out)
{
    long long v = 0;

    if (s == NULL || out == NULL || max < 1) {
        return 0;
    }
    if (*s < '1' || *s > '9') {
        return 0; /* empty, sign, space, or leading 0 */
    }
    for (; *s != '\0'; s++) {
        int d;
        if (!mv_is_digit((unsigned char)*s)) {
            return 0;
        }
        d = *s - '0';
        if (d > max || v > (max - d) / 10) {
            return 0; /* 10 * v + d would exceed max */
        }
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/* ------------------------------------------ identifiers and destinations */

/* Code length written into the caller's out, or -1 if in is invalid. */
int mv_invite_code_normalize(const char *in, char *out, size_t outsz)
{
    size_t n = 0;

    if (out == NULL || outsz == 0) {
        return -1;
    }
    out[0] = '\0';
    if (in == NULL) {
        return -1;
    }
    for (; *in != '\0'; in++) {
        char c = *in;
        if (c == ' ' || c == '-') {
            continue;
        }
        if (c >= 'a' && c <= 'z') {
            c = (char)(c - 'a' + 'A');
        }
        if (strchr(MV_INVITE_ALPHABET, c) == NULL) {
            out[0] = '\0';
            return -1;
        }
        if (n >= MV_INVITE_LEN_MAX || n + 1 >= outsz) {
            out[0] = '\0';
            return -1;
        }
        out[n++] = c;
    }
    if (n < MV_INVITE_LEN_MIN) {
        out[0] = '\0';
        return -1;
    }
    out[n] = '\0';
    return (int)n;
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

/* 1 for the characters people put between the digits of a phone number. */
static int phone_separator(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* "+<digits>" into out and its length, or -1 with out = "". */
int mv_phone_normalize(const char *in, char *out, size_t outsz)
{
    size_t n = 0;

    if (out == NULL || outsz == 0) {
        return -1;
    }
    out[0] = '\0';
    if (in == NULL || outsz < 2) {
        return -1;
    }
    while (phone_separator(*in)) {
        in++;
    }
    /* "00" is the international prefix dialled where "+" cannot be. */
    if (*in == '+') {
        in++;
    } else if (in[0] == '0' && in[1] == '0') {
        in += 2;
    }
    out[0] = '+';
    for (; *in != '\0'; in++) {
        if (phone_separator(*in)) {
            continue;
        }
        if (*in < '0' || *in > '9' || n >= MV_PHONE_DIGITS_MAX ||
            n + 2 >= outsz) {
            out[0] = '\0';
            return -1;
        }
        out[1 + n++] = *in;
    }
    if (n < MV_PHONE_DIGITS_MIN) {
        out[0] = '\0';
        return -1;
    }
    out[1 + n] = '\0';
    return (int)(n + 1);
}

/* The lower-cased e-mail into out and its length, or -1 with out = "". */
int mv_email_normalize(const char *in, char *out, size_t outsz)
{
    size_t i, len;

    if (out == NULL || outsz == 0) {
        return -1;
    }
    out[0] = '\0';
    if (!mv_email_valid(in) || (len = strlen(in)) >= outsz) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        char c = in[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return (int)len;
}

int mv_otp_code_valid(const char *s)
{
    size_t i;

    if (s == NULL) {
        return 0;
    }
    for (i = 0; i < MV_OTP_LEN; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return s[MV_OTP_LEN] == '\0';
}

/* ------------------------------------------------------ Idempotency-Key */

/* 1 if c is printable ASCII (space included). */
static int mv_is_printable(unsigned char c)
{
    return c >= 0x20 && c <= 0x7E;
}

int mv_idempotency_key_parse(const char *in, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = 0;
    int quoted;

    if (!in || !out || outsz <= MV_IDEMPOTENCY_KEY_MAX) {
        return -1;
    }
    quoted = *p == '"';
    p += quoted;
    for (; *p && !(quoted && *p == '"'); p++) {
        if (quoted && *p == '\\') {
            p++;
            if (*p != '"' && *p != '\\') {
                return -1;
            }
        }
        if (!mv_is_printable(*p) || n == MV_IDEMPOTENCY_KEY_MAX) {
            return -1;
        }
        out[n++] = (char)*p;
    }
    if (quoted && (*p != '"' || p[1] != '\0')) {
        return -1; /* unterminated, or text after the closing quote */
    }
    out[n] = '\0';
    return n > 0 ? (int)n : -1;
}
