/*
 * directives-md — prints the README's table of directives from
 * MV_DIRECTIVES (include/mv_config.h), the list the module itself is made
 * from.  `make directives-readme` writes it into README.md and
 * `make directives-check` (part of `make test`) fails when they differ.
 * `directives-md conf` prints them as commented httpd configuration with
 * their defaults: the body of the Debian package's mocaverse.conf.
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

/* Writes word number i of "a|b|c ..." into buf. */
static void word(char *buf, size_t n, const char *args, int64_t i)
{
    while (i-- > 0 && strchr(args, '|')) {
        args = strchr(args, '|') + 1;
    }
    snprintf(buf, n, "%.*s", (int)strcspn(args, "| "), args);
}

/* Writes the directive's range into buf ("" when it has none). */
static void range(char *buf, size_t n, const row *r)
{
    buf[0] = '\0';
    switch (r->kind) {
    case MV_DK_SECRET:
    case MV_DK_SECRET_FILE:
        snprintf(buf, n, "at least %" PRId64 " bytes", r->min);
        break;
    case MV_DK_STRING:
        snprintf(buf, n, "%" PRId64 "–%" PRId64 " characters", r->min, r->max);
        break;
    case MV_DK_INT:
    case MV_DK_INT64:
        snprintf(buf, n, "%" PRId64 "–%" PRId64, r->min, r->max);
        break;
    case MV_DK_PAIR:
    case MV_DK_RATE:
        snprintf(buf, n, "%" PRId64 "–%" PRId64 ", %" PRId64 "–%" PRId64,
                 r->min, r->max, r->second.min, r->second.max);
        break;
    default:
        break;
    }
}

/* Writes the default of group g of a RATE directive into buf. */
static void rate_default(char *buf, size_t n, int g)
{
    snprintf(buf, n, "%s %d %d", mv_rl_groups[g].name, mv_rl_groups[g].requests,
             mv_rl_groups[g].seconds);
}

/* Writes the directive's default value into buf (not for RATE, SECRET*). */
static void value(char *buf, size_t n, const row *r)
{
    if (r->kind == MV_DK_FLAG) {
        snprintf(buf, n, "%s", r->dflt ? "On" : "Off");
    } else if (r->kind == MV_DK_ENUM || r->kind == MV_DK_OTP) {
        word(buf, n, r->args, r->dflt);
    } else if (r->kind == MV_DK_PAIR) {
        snprintf(buf, n, "%" PRId64 " %" PRId64, r->dflt, r->second.dflt);
    } else if (r->kind == MV_DK_STRING && r->doc) {
        /* A string's default is its doc text, a literal in backquotes. */
        snprintf(buf, n, "%.*s", (int)strcspn(r->doc + 1, "`"), r->doc + 1);
    } else {
        snprintf(buf, n, "%" PRId64, r->dflt);
    }
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

/*
 * Writes text as "# " comment lines of at most 76 columns, without
 * Markdown's backquotes.
 */
static void comment(const char *text)
{
    char line[80];
    size_t len = 0;

    while (*text) {
        size_t w = strcspn(text, " ");
        char word_[256];
        size_t k = 0;

        for (size_t j = 0; j < w && k + 1 < sizeof(word_); j++) {
            if (text[j] != '`') {
                word_[k++] = text[j];
            }
        }
        word_[k] = '\0';
        if (len && len + 1 + k > 74) {
            printf("# %s\n", line);
            len = 0;
        }
        len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s",
                                len ? " " : "", word_);
        text += w;
        text += strspn(text, " ");
    }
    if (len) {
        printf("# %s\n", line);
    }
}

/* The README's table. */
static void markdown(void)
{
    char buf[256];

    printf("| directive | meaning | range | default |\n|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        const row *r = &rows[i];

        printf("| `%s ", r->name);
        cell(r->args);
        printf("` | ");
        cell(r->help);
        range(buf, sizeof(buf), r);
        printf(" | %s | ", buf);
        if (r->doc) {
            cell(r->doc);
        } else if (r->kind == MV_DK_RATE) {
            for (int g = 0; g < MV_RL_GROUPS; g++) {
                rate_default(buf, sizeof(buf), g);
                printf("%s%s", g ? ", " : "", buf);
            }
        } else {
            value(buf, sizeof(buf), r);
            cell(buf);
        }
        printf(" |\n");
    }
}

/*
 * The directives with defaults as httpd configuration, each commented out
 * under a comment saying what it does: the body of the Debian package's
 * mods-available/mocaverse.conf.  Secrets have no default: the template
 * (debian/mocaverse.conf.in) names them.
 */
static void apache_conf(void)
{
    char buf[256], text[1024];
    int first = 1;

    for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        const row *r = &rows[i];

        if (r->kind == MV_DK_SECRET || r->kind == MV_DK_SECRET_FILE) {
            continue;
        }
        range(buf, sizeof(buf), r);
        snprintf(text, sizeof(text), "%s %s: %s%s%s%s", r->name, r->args,
                 r->help, *buf ? " (" : "", buf, *buf ? ")" : "");
        printf("%s", first ? "" : "\n");
        first = 0;
        comment(text);
        if (r->kind == MV_DK_RATE) {
            for (int g = 0; g < MV_RL_GROUPS; g++) {
                rate_default(buf, sizeof(buf), g);
                printf("#%s %s\n", r->name, buf);
            }
            continue;
        }
        value(buf, sizeof(buf), r);
        printf("#%s %s\n", r->name, buf);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "conf")) {
        apache_conf();
    } else if (argc == 1) {
        markdown();
    } else {
        fprintf(stderr, "usage: directives-md [conf]\n");
        return 2;
    }
    return 0;
}
