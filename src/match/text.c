/*
 * text.c - the byte-level helpers of the matching engine: a bump arena,
 * hashing, case folding for equals-ignore-case, IP literal parsing for cidr
 * and IP exact matches, and wildcards (parsing with AWS's error texts,
 * matching, and the complexity measure that rejects patterns whose
 * automaton would keep too many states alive at once).
 */
#include "match/match_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Arena                                                               */

struct match_chunk {
    match_chunk *next;
    max_align_t data[];
};

#define CHUNK_MIN 4096

/* Returns n zeroed bytes that live until match__arena_free, or NULL. */
void *match__alloc(match_arena *a, size_t n)
{
    size_t al = sizeof(max_align_t);

    n = (n + al - 1) / al * al;
    if (!a->head || a->used + n > a->size) {
        size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
        match_chunk *c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->next = a->head;
        a->head = c;
        a->used = 0;
        a->size = size;
    }
    char *p = (char *)a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

/* Copy n bytes into the arena and NUL-terminate them. */
char *match__dup(match_arena *a, const char *s, size_t n)
{
    char *p = match__alloc(a, n + 1);
    if (p && n)
        memcpy(p, s, n);
    return p;
}

void match__arena_free(match_arena *a)
{
    match_chunk *c = a->head;
    while (c) {
        match_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used = a->size = 0;
}

/* FNV-1a, 64 bits. */
uint64_t match__hash(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ------------------------------------------------------------------ */
/* Case folding                                                        */

/* Lower-case one code point, keeping its UTF-8 length. */
static uint32_t fold_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0xC0)
        return c;
    if (c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c <= 0x12F) || (c >= 0x132 && c <= 0x137) ||
            (c >= 0x14A && c <= 0x177))
            return c | 1;
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        if (c == 0x178)
            return 0xFF;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

void match__fold(const char *s, size_t len, char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char b = u[i];
        if (b < 0x80) {
            out[i] = (char)((b >= 'A' && b <= 'Z') ? b + 32 : b);
            i++;
        } else if ((b & 0xE0) == 0xC0 && i + 1 < len &&
                   (u[i + 1] & 0xC0) == 0x80) {
            uint32_t c = ((uint32_t)(b & 0x1F) << 6) | (u[i + 1] & 0x3F);
            c = fold_cp(c);
            if (c < 0x80 || c > 0x7FF) {   /* never happens; keep bytes */
                out[i] = (char)b;
                out[i + 1] = (char)u[i + 1];
            } else {
                out[i] = (char)(0xC0 | (c >> 6));
                out[i + 1] = (char)(0x80 | (c & 0x3F));
            }
            i += 2;
        } else {
            out[i] = (char)b;
            i++;
        }
    }
}

/* ------------------------------------------------------------------ */
/* IP addresses                                                        */

/* Dotted quad, 1-3 decimal digits per part, each <= 255. */
static bool parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (++digits > 3)
                return false;
            i++;
        }
        if (digits == 0 || v > 255)
            return false;
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == len;
}

bool match__parse_ip(const char *s, size_t len, match_ip *ip)
{
    char buf[64];
    bool colon = false;

    ip->fam = 0;
    if (len == 0 || len >= sizeof buf)
        return false;
    if (s[0] >= '0' && s[0] <= '9' && memchr(s, '.', len)) {
        if (!parse_ipv4(s, len, ip->b))
            return false;
        ip->fam = 4;
        return true;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ':')
            colon = true;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                   (c >= 'A' && c <= 'F')))
            return false;
    }
    if (!colon)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, ip->b) != 1)
        return false;
    ip->fam = 6;
    return true;
}

/* ------------------------------------------------------------------ */
/* Wildcards                                                           */

/*
 * "*" matches any run of bytes, "\*" is a literal star, "\\" a literal
 * backslash; any other escape and "**" are errors.  Positions in the error
 * texts count the opening quote ruler adds, hence the +1.
 */
int match__wild_parse(match_arena *a, const char *s, size_t len,
                      match_wild *w, char *err, size_t errlen)
{
    size_t stars = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            if (i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '\\')) {
                i++;
                continue;
            }
            snprintf(err, errlen, "Invalid escape character at pos %zu",
                     i + 1);
            return -1;
        }
        if (s[i] == '*') {
            if (i + 1 < len && s[i + 1] == '*') {
                snprintf(err, errlen,
                         "Consecutive wildcard characters at pos %zu", i + 1);
                return -1;
            }
            stars++;
        }
    }

    w->npieces = stars + 1;
    w->piece = match__alloc(a, w->npieces * sizeof *w->piece);
    w->plen = match__alloc(a, w->npieces * sizeof *w->plen);
    char *buf = match__alloc(a, len + 1);
    if (!w->piece || !w->plen || !buf) {
        snprintf(err, errlen, "Out of memory");
        return -1;
    }

    size_t k = 0, o = 0;
    w->piece[0] = buf;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\') {
            buf[o++] = s[++i];
        } else if (s[i] == '*') {
            w->plen[k] = (size_t)(buf + o - w->piece[k]);
            w->piece[++k] = buf + o;
        } else {
            buf[o++] = s[i];
        }
    }
    w->plen[k] = (size_t)(buf + o - w->piece[k]);
    return 0;
}

/*
 * Greedy glob matching: the first piece anchors the start, the last the
 * end, the middle ones are found leftmost in order.  With '*' as the only
 * metacharacter this is exact.
 */
bool match__wild_match(const match_wild *w, const char *s, size_t len)
{
    size_t n = w->npieces;

    if (n == 1)
        return len == w->plen[0] && memcmp(s, w->piece[0], len) == 0;
    if (w->plen[0] + w->plen[n - 1] > len)
        return false;
    if (memcmp(s, w->piece[0], w->plen[0]) != 0)
        return false;
    if (memcmp(s + len - w->plen[n - 1], w->piece[n - 1],
               w->plen[n - 1]) != 0)
        return false;

    size_t pos = w->plen[0], end = len - w->plen[n - 1];
    for (size_t k = 1; k + 1 < n; k++) {
        if (w->plen[k] == 0)
            continue;
        if (end - pos < w->plen[k])
            return false;
        const char *hit = memmem(s + pos, end - pos, w->piece[k], w->plen[k]);
        if (!hit)
            return false;
        pos = (size_t)(hit - s) + w->plen[k];
    }
    return true;
}

/*
 * The complexity of a wildcard is the largest number of automaton states
 * that some input keeps alive at once.  States are positions in the
 * pattern (stars loop on every byte); the subsets reachable over the bytes
 * the pattern uses (plus one "other" byte) are explored breadth first.
 * Returns SIZE_MAX when the exploration itself grows too large; stops
 * early once the count exceeds limit (the caller's threshold).
 */
#define WILD_MAX_SUBSETS 4096
#define WILD_TABLE 8192

typedef struct {
    size_t ntok;       /* tokens; state ntok is "matched everything" */
    int *tok;          /* byte, or -1 for a star */
    size_t words;      /* bitset words per subset */
    int alpha[257];    /* bytes the pattern names, then one "other" */
    size_t nalpha;
} wild_nfa;

/* Flatten the pieces into tokens and collect the alphabet. */
static int wild_tokens(const match_wild *w, wild_nfa *m)
{
    bool seen[256] = { false };
    size_t total = 0;

    for (size_t k = 0; k < w->npieces; k++)
        total += w->plen[k] + 1;
    m->tok = malloc(total * sizeof *m->tok);
    if (!m->tok)
        return -1;
    for (size_t k = 0; k < w->npieces; k++) {
        for (size_t i = 0; i < w->plen[k]; i++) {
            unsigned char c = (unsigned char)w->piece[k][i];
            m->tok[m->ntok++] = c;
            if (!seen[c]) {
                seen[c] = true;
                m->alpha[m->nalpha++] = c;
            }
        }
        if (k + 1 < w->npieces)
            m->tok[m->ntok++] = -1;
    }
    m->alpha[m->nalpha++] = 256;
    m->words = m->ntok / 64 + 1;
    return 0;
}

static void set_bit(uint64_t *set, size_t i)
{
    set[i / 64] |= 1ULL << (i % 64);
}

/*
 * next = the states reachable from cur on byte c, closed under the empty
 * match of a star (a star at i also makes i+1 live; stars never follow
 * each other).  Returns the number of live states.
 */
static size_t wild_step(const wild_nfa *m, const uint64_t *cur, int c,
                        uint64_t *next)
{
    size_t live = 0;

    memset(next, 0, m->words * 8);
    for (size_t w = 0; w < m->words; w++) {
        for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            if (i >= m->ntok)
                continue;
            if (m->tok[i] < 0) {
                set_bit(next, i);
                set_bit(next, i + 1);
            } else if (m->tok[i] == c) {
                set_bit(next, i + 1);
                if (i + 1 < m->ntok && m->tok[i + 1] < 0)
                    set_bit(next, i + 2);
            }
        }
    }
    for (size_t w = 0; w < m->words; w++)
        live += (size_t)__builtin_popcountll(next[w]);
    return live;
}

/* Find next among the stored subsets; store it when new.  Returns 1 when
 * stored, 0 when known, -1 when the store is full. */
static int wild_store(uint64_t *sets, size_t *nsets, uint32_t *table,
                      const uint64_t *next, size_t words)
{
    size_t slot = match__hash(next, words * 8, MATCH_HASH_SEED) &
                  (WILD_TABLE - 1);
    while (table[slot]) {
        if (memcmp(sets + (table[slot] - 1) * words, next, words * 8) == 0)
            return 0;
        slot = (slot + 1) & (WILD_TABLE - 1);
    }
    if (*nsets == WILD_MAX_SUBSETS)
        return -1;
    memcpy(sets + *nsets * words, next, words * 8);
    table[slot] = (uint32_t)++*nsets;
    return 1;
}

size_t match__wild_complexity(const match_wild *w, size_t limit)
{
    wild_nfa m = { 0 };
    size_t best = 0, nsets = 0;
    uint64_t *sets = NULL, *next = NULL, *start = NULL;
    uint32_t *table = NULL;

    if (wild_tokens(w, &m) < 0)
        return SIZE_MAX;
    sets = calloc((size_t)WILD_MAX_SUBSETS * m.words, 8);
    next = calloc(m.words, 8);
    start = calloc(m.words, 8);
    table = calloc(WILD_TABLE, sizeof *table);
    if (!sets || !next || !start || !table) {
        best = SIZE_MAX;
        goto out;
    }

    /* The start state, closed: position 0, and 1 if token 0 is a star. */
    set_bit(start, 0);
    if (m.ntok > 0 && m.tok[0] < 0)
        set_bit(start, 1);
    wild_store(sets, &nsets, table, start, m.words);

    for (size_t head = 0; head < nsets; head++) {
        for (size_t a = 0; a < m.nalpha; a++) {
            size_t live = wild_step(&m, sets + head * m.words, m.alpha[a],
                                    next);
            if (live == 0)
                continue;
            if (live > best)
                best = live;
            if (best > limit)
                goto out;
            if (wild_store(sets, &nsets, table, next, m.words) < 0) {
                best = SIZE_MAX;
                goto out;
            }
        }
    }
    {
        size_t live0 = 0;
        for (size_t i = 0; i < m.words; i++)
            live0 += (size_t)__builtin_popcountll(start[i]);
        if (live0 > best)
            best = live0;
    }
out:
    free(table);
    free(sets);
    free(next);
    free(start);
    free(m.tok);
    return best;
}
