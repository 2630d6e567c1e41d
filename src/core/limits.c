/*
 * limits.c - defaults, flag parsing and per-account counters; see limits.h.
 */
#include "core/limits.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static const limits defaults = {
#define LIMITS_DEFAULT(field, flag, def, help) .field = def,
    SLUICE_LIMITS(LIMITS_DEFAULT)
#undef LIMITS_DEFAULT
};

const limits *limits_default(void)
{
    return &defaults;
}

void limits_init(limits *l)
{
    *l = defaults;
}

int limits_set(limits *l, const char *name, const char *text, char *err, size_t errlen)
{
    size_t *slot = NULL;
    char *end;

#define LIMITS_FIND(field, flag, def, help)                                                 \
    if (strcmp(name, flag) == 0)                                                           \
        slot = &l->field;
    SLUICE_LIMITS(LIMITS_FIND)
#undef LIMITS_FIND
    if (!slot) {
        snprintf(err, errlen, "unknown limit --%s", name);
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || v < 1 || v > (unsigned long long)SIZE_MAX ||
        text[0] == '-' || text[0] == '+') {
        snprintf(err, errlen, "--%s must be a whole number from 1 up, not '%s'", name, text);
        return -1;
    }
    *slot = (size_t)v;
    return 0;
}

void limits_usage(FILE *out)
{
    fprintf(out, "limits (AWS's defaults where AWS has one; see docs/security.md):\n");
#define LIMITS_HELP(field, flag, def, help)                                                 \
    fprintf(out, "  --%s N\n                     %s (default %d)\n", flag, help, def);
    SLUICE_LIMITS(LIMITS_HELP)
#undef LIMITS_HELP
}

void account_counts_init(account_counts *c)
{
    map_str_init(&c->by_account);
}

void account_counts_free(account_counts *c)
{
    for (size_t i = 0; i < c->by_account.cap; i++)
        if (c->by_account.keys[i])
            free(c->by_account.vals[i]);
    map_str_free(&c->by_account);
}

size_t account_counts_get(const account_counts *c, const char *account)
{
    const size_t *n = map_str_get(&c->by_account, account);
    return n ? *n : 0;
}

void account_counts_add(account_counts *c, const char *account, int delta)
{
    size_t *n = map_str_get(&c->by_account, account);

    if (!n) {
        if (delta <= 0)
            return;
        n = xcalloc(1, sizeof *n);
        map_str_put(&c->by_account, account, n);
    }
    if (delta < 0)
        *n = *n > (size_t)-delta ? *n - (size_t)-delta : 0;
    else
        *n += (size_t)delta;
    if (*n == 0)
        free(map_str_del(&c->by_account, account));
}
