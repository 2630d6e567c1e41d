/*
 * match_helpers.h - shorthands for the match engine's unit tests:
 * compile-and-match in one call, and the error text of a bad pattern.
 */
#ifndef SLUICE_TEST_MATCH_HELPERS_H
#define SLUICE_TEST_MATCH_HELPERS_H

#include "match/match.h"

#include <stdio.h>
#include <string.h>

static char helper_err[MATCH_ERR_MAX];

/* Compile pat in dialect d and match it against the JSON event ev. */
static inline bool matches_d(match_dialect d, const char *pat, const char *ev)
{
    match_pattern *p = match_compile(pat, strlen(pat), d, helper_err,
                                     sizeof helper_err);
    if (!p) {
        fprintf(stderr, "  pattern %s did not compile: %s\n", pat,
                helper_err);
        return false;
    }
    bool hit = match_event(p, ev, strlen(ev));
    match_free(p);
    return hit;
}

static inline bool matches(const char *pat, const char *ev)
{
    return matches_d(MATCH_EVENTBRIDGE, pat, ev);
}

/* The reason text of an invalid pattern, or "(valid)". */
static inline const char *error_d(match_dialect d, const char *pat)
{
    match_pattern *p = match_compile(pat, strlen(pat), d, helper_err,
                                     sizeof helper_err);
    if (p) {
        match_free(p);
        return "(valid)";
    }
    return helper_err;
}

static inline const char *error_of(const char *pat)
{
    return error_d(MATCH_EVENTBRIDGE, pat);
}

#endif
