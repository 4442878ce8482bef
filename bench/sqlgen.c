/*
 * sqlgen.c - writes the pgbench scripts of the database ceilings from the
 * very strings the module prepares (include/mv_rewards_sql.h), so the module
 * and its yardstick cannot drift apart.
 *
 *   sqlgen scan   > scan.pgbench     one redemption (MV_SQL_SCAN_REDEEM)
 *   sqlgen wallet > wallet.pgbench   one wallet page (MV_SQL_WALLET_PAGE)
 *   sqlgen sql scan|scan_status|wallet   the statement's text alone, for
 *                                    the Node comparison (bench/node)
 *
 * The statement text is printed unchanged, $1..$n included, followed by a
 * comment naming pgbench variables in parameter order: pgbench turns the
 * i-th ":name" of a command into "$i" and binds that variable to it, so
 * under -M prepared the server prepares the module's text (plus the
 * comment) and receives the same text parameters the module sends.  One
 * deviation, because pgbench has no string variables: the coupon token (a
 * random UUIDv4 that POST /coupons/generate made) is looked up by number
 * in bench_tokens (bench/seed.sql) by a one-row subquery, instead of
 * arriving as UUID text.
 *
 * Variables the scripts expect from pgbench -D: clients, users, base
 * (first coupon number), i=0 (the per-client counter), device, gps,
 * before, limit.  Exit status 0, 1 when a statement uses a parameter the
 * table below does not bind, 2 on bad usage.
 */
#include "mv_rewards_sql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS_MAX 16

typedef struct {
    const char *name;  /* command-line name */
    const char *macro; /* for the header comment */
    const char *sql;
    int nparams;
    const char *prelude;          /* pgbench meta-commands */
    const char *var[PARAMS_MAX];  /* variable of $1, $2, ... */
    const char *wrap[PARAMS_MAX]; /* replacement of $i, or NULL */
} script;

/* If a statement's parameters change, the table below must change too. */
_Static_assert(MV_SQL_SCAN_REDEEM_NPARAMS == 4,
               "MV_SQL_SCAN_REDEEM parameters changed: update bench/sqlgen.c");
_Static_assert(MV_SQL_WALLET_PAGE_NPARAMS == 3,
               "MV_SQL_WALLET_PAGE parameters changed: update bench/sqlgen.c");

static const script scripts[] = {
    {"scan",
     "MV_SQL_SCAN_REDEEM",
     MV_SQL_SCAN_REDEEM,
     MV_SQL_SCAN_REDEEM_NPARAMS,
     /* Each client redeems coupons base + client_id + n * clients for
      * n = 0, 1, ...: every coupon once, as wrk does with its threads. */
     "\\set k :base + :client_id + :i * :clients\n"
     "\\set i :i + 1\n"
     "\\set uid random(1, :users)\n",
     {"k", "uid", "device", "gps"},
     {"(SELECT token FROM bench_tokens WHERE n = $1)", NULL, NULL, NULL}},
    {"wallet",
     "MV_SQL_WALLET_PAGE",
     MV_SQL_WALLET_PAGE,
     MV_SQL_WALLET_PAGE_NPARAMS,
     "\\set uid random(1, :users)\n",
     {"uid", "before", "limit"},
     {NULL, NULL, NULL}},
};

/* 1 if the SQL holds a ':' that pgbench would read as a variable (one not
 * part of "::" and followed by a name character). */
static int has_pgbench_variable(const char *sql)
{
    const char *p;

    for (p = sql; (p = strchr(p, ':')) != NULL;) {
        if (p[1] == ':') {
            p += 2;
            continue;
        }
        if (isalnum((unsigned char)p[1]) || p[1] == '_') {
            return 1;
        }
        p++;
    }
    return 0;
}

/* Prints s with every "$i" whose script->wrap[i-1] is set replaced by it;
 * returns the highest parameter number seen, or -1 for a "$0". */
static int print_sql(const script *sc)
{
    const char *p = sc->sql;
    int highest = 0;

    while (*p) {
        if (*p == '$' && isdigit((unsigned char)p[1])) {
            char *end;
            long n = strtol(p + 1, &end, 10);

            if (n < 1 || n > PARAMS_MAX) {
                return -1;
            }
            if (n > highest) {
                highest = (int)n;
            }
            if (sc->wrap[n - 1]) {
                fputs(sc->wrap[n - 1], stdout);
            } else {
                fwrite(p, 1, (size_t)(end - p), stdout);
            }
            p = end;
        } else {
            putchar(*p++);
        }
    }
    return highest;
}

/* The statements the Node comparison runs, by name. */
static const struct {
    const char *name, *sql;
} plain[] = {
    {"scan", MV_SQL_SCAN_REDEEM},
    {"scan_status", MV_SQL_SCAN_STATUS},
    {"wallet", MV_SQL_WALLET_PAGE},
};

int main(int argc, char **argv)
{
    size_t i;
    int j, highest;

    if (argc == 3 && strcmp(argv[1], "sql") == 0) {
        for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
            if (strcmp(argv[2], plain[i].name) == 0) {
                printf("%s\n", plain[i].sql);
                return 0;
            }
        }
        fprintf(stderr, "sqlgen: unknown statement %s\n", argv[2]);
        return 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: sqlgen scan|wallet|sql NAME\n");
        return 2;
    }
    for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        const script *sc = &scripts[i];

        if (strcmp(argv[1], sc->name) != 0) {
            continue;
        }
        if (has_pgbench_variable(sc->sql)) {
            fprintf(stderr,
                    "sqlgen: %s holds a ':name' that pgbench would "
                    "substitute\n",
                    sc->macro);
            return 1;
        }
        printf("-- %s.pgbench: written by bench/sqlgen.c from %s\n"
               "-- (include/mv_rewards_sql.h); do not edit.\n%s",
               sc->name, sc->macro, sc->prelude);
        highest = print_sql(sc);
        if (highest != sc->nparams) {
            fprintf(stderr,
                    "sqlgen: %s uses $%d but declares %d "
                    "parameters\n",
                    sc->macro, highest, sc->nparams);
            return 1;
        }
        printf("\n/*");
        for (j = 0; j < sc->nparams; j++) {
            printf(" :%s", sc->var[j]);
        }
        printf(" */;\n");
        return 0;
    }
    fprintf(stderr, "sqlgen: unknown script %s\n", argv[1]);
    return 2;
}
