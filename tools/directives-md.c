/*
 * directives-md — prints the README's table of directives from
 * MV_DIRECTIVES (include/mv_config.h), the list the module itself is made
 * from.  `make directives-readme` writes it into README.md and
 * `make directives-check` (part of `make test`) fails when they differ.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mv_config.h"

typedef struct {
    int64_t min, max, dflt;
} second_value;

typedef struct {
    const char *name, *args, *help, *doc;
    mv_directive_kind kind;
    int64_t min, max, dflt;
    second_value second;
} row;

/* The tool knows no mv_config offsets: only the second value's numbers. */
#undef MV_SECOND
#undef MV_NO_SECOND
#define MV_SECOND(field, min, max, dflt)                                       \
    {                                                                          \
        (min), (max), (dflt)                                                   \
    }
#define MV_NO_SECOND                                                           \
    {                                                                          \
        0, 0, 0                                                                \
    }

#define ROW(name, kind, args, field, min, max, dflt, second, help, doc)        \
    {name, args, help, doc, kind, min, max, dflt, second},
static const row rows[] = {MV_DIRECTIVES(ROW)};

/* Prints word number i of "a|b|c ...". */
static void print_word(const char *args, int64_t i)
{
    while (i-- > 0 && strchr(args, '|')) {
        args = strchr(args, '|') + 1;
    }
    printf("%.*s", (int)strcspn(args, "| "), args);
}

/* Writes s with the table's '|' escaped. */
static void cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|') {
            putchar('\\');
        }
        putchar(*s);
    }
}

int main(void)
{
    printf("| directive | meaning | range | default |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        const row *r = &rows[i];

        printf("| `%s ", r->name);
        cell(r->args);
        printf("` | ");
        cell(r->help);
        printf(" | ");
        switch (r->kind) {
        case MV_DK_SECRET:
        case MV_DK_SECRET_FILE:
            printf("at least %" PRId64 " bytes", r->min);
            break;
        case MV_DK_STRING:
            printf("%" PRId64 "–%" PRId64 " characters", r->min, r->max);
            break;
        case MV_DK_INT:
        case MV_DK_INT64:
            printf("%" PRId64 "–%" PRId64, r->min, r->max);
            break;
        case MV_DK_PAIR:
        case MV_DK_RATE:
            printf("%" PRId64 "–%" PRId64 ", %" PRId64 "–%" PRId64, r->min,
                   r->max, r->second.min, r->second.max);
            break;
        default:
            break;
        }
        printf(" | ");
        if (r->doc) {
            cell(r->doc);
        } else if (r->kind == MV_DK_FLAG) {
            printf("%s", r->dflt ? "On" : "Off");
        } else if (r->kind == MV_DK_ENUM || r->kind == MV_DK_OTP) {
            print_word(r->args, r->dflt);
        } else if (r->kind == MV_DK_PAIR) {
            printf("%" PRId64 " %" PRId64, r->dflt, r->second.dflt);
        } else if (r->kind == MV_DK_RATE) {
            for (int g = 0; g < MV_RL_GROUPS; g++) {
                printf("%s%s %d %d", g ? ", " : "", mv_rl_groups[g].name,
                       mv_rl_groups[g].requests, mv_rl_groups[g].seconds);
            }
        } else {
            printf("%" PRId64, r->dflt);
        }
        printf(" |\n");
    }
    return 0;
}
