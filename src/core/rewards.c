/*
 * rewards.c - one-time-code destinations and codes, coupon-token arrays
 * (see mv_rewards.h).
 */
#include "mv_rewards.h"

#include <string.h>

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
