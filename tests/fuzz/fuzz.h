/*
 * fuzz.h - what every libFuzzer harness of tests/fuzz/ shares: the input as
 * a C string, and a check that stops the run with a message when a
 * property fails (libFuzzer then saves the input as a crash).
 */
#ifndef MV_FUZZ_H
#define MV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A malloc'd copy of data[0..size) + NUL, exactly that big so that a read
 * past the NUL is an AddressSanitizer report. Never NULL. */
static inline char *mv_fuzz_cstring(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL) {
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* data[0..size) split at its first '\n': the part before it into *first
 * and after it into *second (both mv_fuzz_cstring copies; *second is ""
 * without a '\n'). */
static inline void mv_fuzz_split(const uint8_t *data, size_t size, char **first,
                                 char **second)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;

    *first = mv_fuzz_cstring(data, n);
    *second =
        nl ? mv_fuzz_cstring(nl + 1, size - n - 1) : mv_fuzz_cstring(data, 0);
}

/* Aborts with what failed and where when cond is false. */
#define MV_FUZZ_CHECK(cond)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,          \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif /* MV_FUZZ_H */
