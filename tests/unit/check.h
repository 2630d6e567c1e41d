/*
 * check.h - the unit-test harness: a handful of macros, one binary per
 * test file, a closing line "N passed, N failed" that CI reads.
 *
 *   TEST(name) { CHECK(cond); CHECK_STR(a, b); CHECK_INT(a, b); }
 *   int main(void) { RUN(name); ...; return check_report(); }
 */
#ifndef SLUICE_CHECK_H
#define SLUICE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures_in_test;
static int check_passed, check_failed;

#define TEST(name) static void name(void)

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,        \
                    __LINE__, #cond);                                        \
            check_failures_in_test++;                                        \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *ca_ = (a), *cb_ = (b);                                   \
        if (!ca_ || !cb_ || strcmp(ca_, cb_) != 0) {                         \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n",     \
                    __FILE__, __LINE__, #a, ca_ ? ca_ : "(null)",            \
                    cb_ ? cb_ : "(null)");                                   \
            check_failures_in_test++;                                        \
        }                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long ca_ = (long long)(a), cb_ = (long long)(b);                \
        if (ca_ != cb_) {                                                    \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n",         \
                    __FILE__, __LINE__, #a, ca_, cb_);                       \
            check_failures_in_test++;                                        \
        }                                                                    \
    } while (0)

#define RUN(name)                                                            \
    do {                                                                     \
        check_failures_in_test = 0;                                          \
        name();                                                              \
        if (check_failures_in_test) {                                        \
            check_failed++;                                                  \
            fprintf(stderr, "FAIL %s\n", #name);                            \
        } else {                                                             \
            check_passed++;                                                  \
        }                                                                    \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
