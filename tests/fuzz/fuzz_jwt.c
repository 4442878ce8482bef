/*
 * fuzz_jwt.c - the access-token reader (src/core/jwt.c, included here to
 * reach its two claim readers, which are static).
 * Input: any bytes (seeds from tests/unit/test_jwt.c), used three ways:
 *  - as a token: mv_jwt_verify_with gives one of its statuses, and a user
 *    id > 0 only with MV_JWT_OK;
 *  - as a claims payload read by both readers: whenever the fast plain
 *    reader accepts it, jansson (as the module calls it) reads it too and
 *    both read the same claims;
 *  - as the payload of a token signed with the key: verifying it gives
 *    what checking jansson's reading of the payload gives, whichever
 *    reader mv_jwt_verify_with took.
 */
#include "fuzz.h"

#include "../../src/core/jwt.c"

#define ISS "mod_mocaverse"
#define NOW 1700000000LL

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef-key";

/* a and b hold the same claim. */
static void same_claim(const mv_claim *a, const mv_claim *b)
{
    MV_FUZZ_CHECK(a->kind == b->kind);
    if (a->kind == MV_CLAIM_STRING) {
        MV_FUZZ_CHECK(a->len == b->len && memcmp(a->s, b->s, a->len) == 0);
    } else if (a->kind == MV_CLAIM_INTEGER) {
        MV_FUZZ_CHECK(a->i == b->i);
    }
}

/* The status and user id checking jansson's reading of payload gives
 * (MV_JWT_MALFORMED when it is no JSON object without duplicate keys);
 * when the plain reader accepts payload, checks it read the same. */
static mv_jwt_status reference(const uint8_t *data, size_t size, long long *uid)
{
    json_t *obj =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    mv_claims plain, tree;
    int plain_read = mv_claims_read_plain((const char *)data, size, &plain);
    mv_jwt_status st = MV_JWT_MALFORMED;

    if (obj != NULL && json_is_object(obj)) {
        mv_claims_from_json(obj, &tree);
        st = mv_jwt_check_claims(&tree, ISS, NOW, uid);
        if (plain_read) {
            for (size_t i = 0; i < MV_CLAIM_NAMES; i++) {
                same_claim(mv_claims_slot(&plain, i), mv_claims_slot(&tree, i));
            }
        }
    } else {
        /* The plain reader only takes what jansson takes. */
        MV_FUZZ_CHECK(!plain_read);
    }
    json_decref(obj);
    return st;
}

/* MV_JWT_HEADER "." b64(data) "." b64(HMAC) + NUL, malloc'd; NULL when the
 * token would be longer than MV_JWT_TOKEN_MAX. */
static char *signed_token(const uint8_t *data, size_t size)
{
    size_t b64 = sodium_base64_ENCODED_LEN(
        size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t cap = sizeof MV_JWT_HEADER + b64 + MV_JWT_SIG_B64_LEN + 2;
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char *tok, *p;

    if (cap > MV_JWT_TOKEN_MAX + 1) {
        return NULL;
    }
    tok = malloc(cap);
    MV_FUZZ_CHECK(tok != NULL);
    p = stpcpy(tok, MV_JWT_HEADER ".");
    sodium_bin2base64(p, b64, data, size,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    p += strlen(p);
    crypto_auth_hmacsha256_init(&st, KEY, sizeof KEY - 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok,
                                  (size_t)(p - tok));
    crypto_auth_hmacsha256_final(&st, mac);
    *p++ = '.';
    sodium_bin2base64(p, MV_JWT_SIG_B64_LEN + 1, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mv_jwt_key key;
    char *tok = mv_fuzz_cstring(data, size);
    long long uid = 0, want_uid = 0;
    mv_jwt_status st, want;

    if (!key.ready) {
        MV_FUZZ_CHECK(sodium_init() >= 0);
        MV_FUZZ_CHECK(mv_jwt_key_init(&key, KEY, sizeof KEY - 1) == 0);
    }

    st = mv_jwt_verify_with(&key, ISS, tok, NOW, &uid);
    MV_FUZZ_CHECK(st >= MV_JWT_OK && st <= MV_JWT_BAD_CLAIMS);
    MV_FUZZ_CHECK(st == MV_JWT_OK ? uid > 0 : uid == 0);
    free(tok);

    want = reference(data, size, &want_uid);
    tok = signed_token(data, size);
    if (tok != NULL) {
        uid = 0;
        st = mv_jwt_verify_with(&key, ISS, tok, NOW, &uid);
        MV_FUZZ_CHECK(st == want);
        MV_FUZZ_CHECK(st == MV_JWT_OK ? uid == want_uid : uid == 0);
        free(tok);
    }
    return 0;
}
