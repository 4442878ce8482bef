/*
 * mvbench.c - the benchmark's small helpers, linked with the module's own
 * core code so that the tokens and hashes it makes are exactly the ones
 * the module makes and checks.
 *
 *   mvbench tokens SECRET_FILE ISSUER FIRST_ID LAST_ID TTL
 *       one line "ID ACCESS_TOKEN" per user id (mv_jwt_sign, type access)
 *   mvbench pwhash OPS MEM_MIB
 *       the argon2id hash (mv_password_hash) of the password read from
 *       standard input (one line, newline dropped)
 *   mvbench verify-rate SECONDS THREADS OPS MEM_MIB
 *       the login ceiling: THREADS threads verify one password against a
 *       hash of that cost with crypto_pwhash_str_verify for SECONDS;
 *       prints "verifies=N seconds=S rate=R p50_ms=X p99_ms=Y"
 *   mvbench jwt-verify COUNT
 *       the cost of one access-token check: verifies a token signed as the
 *       module signs them COUNT times with a prepared key (as the module
 *       does, mv_jwt_verify_with) and COUNT times with the raw key
 *       (mv_jwt_verify); prints "verifies=N prepared_ns=X raw_ns=Y". Run
 *       it under valgrind --tool=callgrind for instruction counts.
 *
 * Exit status 0 on success, 2 on bad usage, 1 on failure.
 */
#include "mv_crypto.h"
#include "mv_jwt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define SECRET_MAX 4096
#define PASSWORD_MAX 1024
#define VERIFY_PASSWORD "bench-password-1"
#define SAMPLES_MAX (1 << 20)           /* per-verify latencies kept, at most */
#define MV_BENCH_ISSUER "mod_mocaverse" /* the module's default issuer */

/* Parses a decimal long long in [min, max] into *out; 0 ok, -1 invalid. */
static int parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Reads a secret file as the module does (one trailing newline dropped)
 * into buf; returns its length, or -1. */
static long read_secret(const char *path, unsigned char *buf, size_t bufsz)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    n = fread(buf, 1, bufsz, f);
    fclose(f);
    if (n == bufsz) {
        fprintf(stderr, "%s: secret too long\n", path);
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
    }
    return (long)n;
}

/* Monotonic time in seconds. */
static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* tokens: prints "id token" for every id in [first, last]. */
static int cmd_tokens(char **argv)
{
    unsigned char key[SECRET_MAX];
    long long first, last, ttl, id;
    long keylen = read_secret(argv[0], key, sizeof key);

    if (keylen < 0 || parse_ll(argv[2], 1, (1LL << 53), &first) != 0 ||
        parse_ll(argv[3], first, (1LL << 53), &last) != 0 ||
        parse_ll(argv[4], 1, 10LL * 365 * 86400, &ttl) != 0) {
        return 2;
    }
    for (id = first; id <= last; id++) {
        char jti[MV_UUID_LEN + 1];
        char *tok;

        mv_uuid_v4(jti);
        tok = mv_jwt_sign(key, (size_t)keylen, argv[1], id,
                          (long long)time(NULL), ttl, jti);
        if (tok == NULL) {
            fprintf(stderr, "mv_jwt_sign failed for user %lld\n", id);
            return 1;
        }
        printf("%lld %s\n", id, tok);
        free(tok);
    }
    sodium_memzero(key, sizeof key);
    return 0;
}

/* pwhash: the module's argon2id hash of the password on stdin. */
static int cmd_pwhash(char **argv)
{
    char pw[PASSWORD_MAX], out[MV_PASSWORD_HASH_MAX];
    long long ops, mib;
    size_t len;

    if (parse_ll(argv[0], 1, 100, &ops) != 0 ||
        parse_ll(argv[1], 1, 4096, &mib) != 0) {
        return 2;
    }
    if (fgets(pw, sizeof pw, stdin) == NULL) {
        fprintf(stderr, "no password on standard input\n");
        return 2;
    }
    len = strcspn(pw, "\n");
    if (mv_password_hash(pw, len, (unsigned long long)ops, (size_t)mib << 20,
                         out) != 0) {
        fprintf(stderr, "mv_password_hash failed\n");
        return 1;
    }
    printf("%s\n", out);
    sodium_memzero(pw, sizeof pw);
    return 0;
}

typedef struct {
    const char *hash;
    double deadline;
    long verifies;
    long failures;
    double *samples; /* seconds per verify, SAMPLES_MAX / threads */
    long nsamples, maxsamples;
} verifier;

/* One thread of verify-rate: verifies until the deadline. */
static void *verify_loop(void *arg)
{
    verifier *v = arg;
    double t0 = now_sec(), t1;

    while (t0 < v->deadline) {
        if (crypto_pwhash_str_verify(v->hash, VERIFY_PASSWORD,
                                     strlen(VERIFY_PASSWORD)) != 0) {
            v->failures++;
        }
        t1 = now_sec();
        v->verifies++;
        if (v->nsamples < v->maxsamples) {
            v->samples[v->nsamples++] = t1 - t0;
        }
        t0 = t1;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* verify-rate: crypto_pwhash_str_verify per second on THREADS threads. */
static int cmd_verify_rate(char **argv)
{
    long long seconds, threads, ops, mib, i, n = 0, total = 0, fails = 0;
    char hash[MV_PASSWORD_HASH_MAX];
    verifier *v;
    pthread_t *tid;
    double start, elapsed, *all;

    if (parse_ll(argv[0], 1, 3600, &seconds) != 0 ||
        parse_ll(argv[1], 1, 1024, &threads) != 0 ||
        parse_ll(argv[2], 1, 100, &ops) != 0 ||
        parse_ll(argv[3], 1, 4096, &mib) != 0) {
        return 2;
    }
    if (mv_password_hash(VERIFY_PASSWORD, strlen(VERIFY_PASSWORD),
                         (unsigned long long)ops, (size_t)mib << 20,
                         hash) != 0) {
        fprintf(stderr, "mv_password_hash failed\n");
        return 1;
    }
    v = calloc((size_t)threads, sizeof *v);
    tid = calloc((size_t)threads, sizeof *tid);
    all = calloc(SAMPLES_MAX, sizeof *all);
    if (v == NULL || tid == NULL || all == NULL) {
        return 1;
    }
    start = now_sec();
    for (i = 0; i < threads; i++) {
        v[i].hash = hash;
        v[i].deadline = start + (double)seconds;
        v[i].maxsamples = SAMPLES_MAX / threads;
        v[i].samples = all + i * v[i].maxsamples;
        if (pthread_create(&tid[i], NULL, verify_loop, &v[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += v[i].verifies;
        fails += v[i].failures;
        memmove(all + n, v[i].samples, (size_t)v[i].nsamples * sizeof *all);
        n += v[i].nsamples;
    }
    elapsed = now_sec() - start;
    qsort(all, (size_t)n, sizeof *all, cmp_double);
    printf("verifies=%lld failures=%lld seconds=%.3f rate=%.2f "
           "p50_ms=%.3f p99_ms=%.3f\n",
           total, fails, elapsed, (double)total / elapsed,
           n ? all[n / 2] * 1e3 : 0.0, n ? all[(n * 99) / 100] * 1e3 : 0.0);
    free(all);
    free(tid);
    free(v);
    return fails ? 1 : 0;
}

/* jwt-verify: nanoseconds per verification, prepared and raw key. */
static int cmd_jwt_verify(char **argv)
{
    static const unsigned char key[] =
        "mvbench-jwt-secret-0123456789abcdef0123456789";
    const long long now = (long long)time(NULL);
    char jti[MV_UUID_LEN + 1];
    long long count, i, uid;
    double t0, t1, t2;
    mv_jwt_key k;
    char *tok;
    int fails = 0;

    if (parse_ll(argv[0], 1, 1000000000LL, &count) != 0) {
        return 2;
    }
    mv_uuid_v4(jti);
    tok = mv_jwt_sign(key, sizeof key - 1, MV_BENCH_ISSUER, 123456, now, 900,
                      jti);
    if (tok == NULL || mv_jwt_key_init(&k, key, sizeof key - 1) != 0) {
        fprintf(stderr, "mv_jwt_sign or mv_jwt_key_init failed\n");
        free(tok);
        return 1;
    }
    t0 = now_sec();
    for (i = 0; i < count; i++) {
        fails |= mv_jwt_verify_with(&k, MV_BENCH_ISSUER, tok, now, &uid) !=
                 MV_JWT_OK;
    }
    t1 = now_sec();
    for (i = 0; i < count; i++) {
        fails |= mv_jwt_verify(key, sizeof key - 1, MV_BENCH_ISSUER, tok, now,
                               &uid) != MV_JWT_OK;
    }
    t2 = now_sec();
    mv_jwt_key_clear(&k);
    free(tok);
    if (fails) {
        fprintf(stderr, "a verification failed\n");
        return 1;
    }
    printf("verifies=%lld prepared_ns=%.0f raw_ns=%.0f\n", count,
           (t1 - t0) * 1e9 / (double)count, (t2 - t1) * 1e9 / (double)count);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mvbench tokens SECRET_FILE ISSUER FIRST LAST TTL\n"
                    "       mvbench pwhash OPS MEM_MIB < password\n"
                    "       mvbench verify-rate SECONDS THREADS OPS MEM_MIB\n"
                    "       mvbench jwt-verify COUNT\n");
    return 2;
}

int main(int argc, char **argv)
{
    int rc = 2;

    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    if (argc == 7 && strcmp(argv[1], "tokens") == 0) {
        rc = cmd_tokens(argv + 2);
    } else if (argc == 4 && strcmp(argv[1], "pwhash") == 0) {
        rc = cmd_pwhash(argv + 2);
    } else if (argc == 6 && strcmp(argv[1], "verify-rate") == 0) {
        rc = cmd_verify_rate(argv + 2);
    } else if (argc == 3 && strcmp(argv[1], "jwt-verify") == 0) {
        rc = cmd_jwt_verify(argv + 2);
    }
    return rc == 2 ? usage() : rc;
}
