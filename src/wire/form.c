/* form.c - strict form decoding; see form.h. */
#include "wire/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void form_init(form *f)
{
    memset(f, 0, sizeof *f);
}

void form_free(form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->pairs[i].key);
        free(f->pairs[i].value);
    }
    free(f->pairs);
    form_init(f);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into a new NUL-terminated buffer; -1 on a bad escape. */
static int decode(const char *s, size_t n, char **out, size_t *out_len)
{
    char *d = xmalloc(n + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(d);
                return -1;
            }
            d[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    *out = d;
    *out_len = o;
    return 0;
}

int form_parse(form *f, const char *text, size_t len)
{
    size_t i = 0;

    while (i < len) {
        const char *start = text + i;
        const char *amp = memchr(start, '&', len - i);
        size_t seg = amp ? (size_t)(amp - start) : len - i;
        i += seg + 1;
        if (seg == 0)
            continue;
        const char *eq = memchr(start, '=', seg);
        size_t klen = eq ? (size_t)(eq - start) : seg;
        form_pair p;
        if (decode(start, klen, &p.key, &p.key_len) < 0)
            return -1;
        if (eq) {
            if (decode(eq + 1, seg - klen - 1, &p.value, &p.value_len) < 0) {
                free(p.key);
                return -1;
            }
        } else {
            p.value = xstrdup("");
            p.value_len = 0;
        }
        if (f->n == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 16;
            f->pairs = xrealloc(f->pairs, f->cap * sizeof *f->pairs);
        }
        f->pairs[f->n++] = p;
    }
    return 0;
}

const char *form_get(const form *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->pairs[i].key, key) == 0)
            return f->pairs[i].value;
    return NULL;
}
