/*
 * doc.c - events flattened for matching.
 *
 * An event (or SNS message body) becomes a list of leaves: (path, value,
 * array trail).  Path is the object keys joined with '.', array levels
 * dropped; the trail records, for every array the leaf sits in, that
 * array's id and the element index, which is what array consistency needs.
 * Empty arrays and objects contribute no leaf.  Leaves with the same path
 * are chained, and paths are found through a small open-addressing table,
 * so a pattern field finds its leaves in O(1).
 *
 * SNS message attributes become one leaf per attribute (String, Number) or
 * one per element (String.Array); Binary attributes only count as present.
 */
#include "match/match_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Building                                                            */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

static int ptab_rehash(match_doc *d)
{
    size_t cap = d->ptabcap ? d->ptabcap * 2 : 32;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < d->npaths; i++) {
        size_t s = d->paths[i].hash & (cap - 1);
        while (t[s])
            s = (s + 1) & (cap - 1);
        t[s] = (uint32_t)i + 1;
    }
    free(d->ptab);
    d->ptab = t;
    d->ptabcap = cap;
    return 0;
}

uint32_t match__doc_path(const match_doc *d, const char *s, size_t len,
                         uint64_t hash)
{
    if (!d->ptabcap)
        return MATCH_NONE;
    size_t slot = hash & (d->ptabcap - 1);
    while (d->ptab[slot]) {
        const match_dpath *p = &d->paths[d->ptab[slot] - 1];
        if (p->hash == hash && p->len == len && memcmp(p->s, s, len) == 0)
            return d->ptab[slot] - 1;
        slot = (slot + 1) & (d->ptabcap - 1);
    }
    return MATCH_NONE;
}

/* Find or create the path; returns its index or MATCH_NONE (no memory). */
static uint32_t intern_path(match_doc *d, const char *s, size_t len)
{
    uint64_t h = match__hash(s, len, MATCH_HASH_SEED);
    uint32_t idx = match__doc_path(d, s, len, h);
    if (idx != MATCH_NONE)
        return idx;

    if ((d->npaths + 1) * 2 > d->ptabcap && ptab_rehash(d) < 0)
        return MATCH_NONE;
    if (grow((void **)&d->paths, &d->cappaths, d->npaths + 1,
             sizeof *d->paths) < 0)
        return MATCH_NONE;
    char *copy = match__dup(&d->arena, s, len);
    if (!copy)
        return MATCH_NONE;
    idx = (uint32_t)d->npaths++;
    d->paths[idx] = (match_dpath){ .s = copy, .len = len, .hash = h,
                                   .first = MATCH_NONE };
    size_t slot = h & (d->ptabcap - 1);
    while (d->ptab[slot])
        slot = (slot + 1) & (d->ptabcap - 1);
    d->ptab[slot] = idx + 1;
    return idx;
}

/* Append a leaf at path with the current trail (trail[0..ntrail)). */
static match_leaf *add_leaf(match_doc *d, const char *path, size_t plen,
                            const match_step *trail, size_t ntrail)
{
    uint32_t pi = intern_path(d, path, plen);
    if (pi == MATCH_NONE)
        return NULL;
    if (grow((void **)&d->leaves, &d->capleaves, d->nleaves + 1,
             sizeof *d->leaves) < 0 ||
        grow((void **)&d->trail, &d->captrail, d->ntrail + ntrail,
             sizeof *d->trail) < 0)
        return NULL;

    uint32_t li = (uint32_t)d->nleaves++;
    match_leaf *l = &d->leaves[li];
    memset(l, 0, sizeof *l);
    l->path = pi;
    l->next = MATCH_NONE;
    l->trail = (uint32_t)d->ntrail;
    l->ntrail = (uint32_t)ntrail;
    if (ntrail)
        memcpy(d->trail + d->ntrail, trail, ntrail * sizeof *trail);
    d->ntrail += ntrail;

    /* Chain in document order: walk to the tail is avoided by keeping
     * first as the most recent and fixing order at the end. */
    match_dpath *p = &d->paths[pi];
    l->next = p->first;
    p->first = li;
    p->count++;
    return l;
}

/* Reverse each path's chain so leaves come in document order. */
static void order_chains(match_doc *d)
{
    for (size_t i = 0; i < d->npaths; i++) {
        uint32_t prev = MATCH_NONE, cur = d->paths[i].first;
        while (cur != MATCH_NONE) {
            uint32_t next = d->leaves[cur].next;
            d->leaves[cur].next = prev;
            prev = cur;
            cur = next;
        }
        d->paths[i].first = prev;
    }
}

static void set_scalar(match_leaf *l, uint8_t type, const char *s,
                       size_t len, double num)
{
    l->type = type;
    l->s = s;
    l->len = len;
    l->num = num;
}

typedef struct {
    match_doc *d;
    char *path;
    size_t plen, pcap;
    match_step *trail;
    size_t ntrail, tcap;
    uint32_t arrays;
} walker;

static int walk(walker *w, json_t *v);

static int walk_leaf(walker *w, json_t *v)
{
    match_leaf *l = add_leaf(w->d, w->path, w->plen, w->trail, w->ntrail);
    if (!l)
        return -1;
    switch (json_typeof(v)) {
    case JSON_STRING:
        set_scalar(l, MV_STRING, json_string_value(v), json_string_length(v),
                   0);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        set_scalar(l, MV_NUMBER, NULL, 0, json_number_value(v));
        break;
    case JSON_TRUE:
        set_scalar(l, MV_TRUE, NULL, 0, 0);
        break;
    case JSON_FALSE:
        set_scalar(l, MV_FALSE, NULL, 0, 0);
        break;
    default:
        set_scalar(l, MV_NULL, NULL, 0, 0);
        break;
    }
    return 0;
}

static int walk(walker *w, json_t *v)
{
    if (json_is_object(v)) {
        size_t base = w->plen;
        for (void *it = json_object_iter(v); it;
             it = json_object_iter_next(v, it)) {
            const char *key = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            size_t need = base + 1 + klen + 1;
            if (grow((void **)&w->path, &w->pcap, need, 1) < 0)
                return -1;
            size_t at = base;
            if (base)
                w->path[at++] = '.';
            memcpy(w->path + at, key, klen);
            w->plen = at + klen;
            if (walk(w, json_object_iter_value(it)) < 0)
                return -1;
            w->plen = base;
        }
        return 0;
    }
    if (json_is_array(v)) {
        uint32_t id = w->arrays++;
        w->d->has_arrays = true;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (grow((void **)&w->trail, &w->tcap, w->ntrail + 1,
                     sizeof *w->trail) < 0)
                return -1;
            w->trail[w->ntrail++] = (match_step){ id, (uint32_t)i };
            int rc = walk(w, json_array_get(v, i));
            w->ntrail--;
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    return walk_leaf(w, v);
}

/* ------------------------------------------------------------------ */
/* Public constructors                                                 */

#define LOAD_FLAGS (JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL)
#define MAX_OVERFLOW_FIXES 32

/*
 * Parse an event.  jansson refuses numbers beyond the double range
 * (1e400); rather than losing the whole event, each such number is
 * replaced by the largest double of the same sign, which keeps every
 * ordering comparison right, and the text is parsed again.
 */
static json_t *load_event(const char *json, size_t len)
{
    json_error_t e;
    char *copy = NULL;
    const char *text = json;
    json_t *root = json_loadb(text, len, LOAD_FLAGS, &e);

    for (int fix = 0; !root && fix < MAX_OVERFLOW_FIXES; fix++) {
        size_t end = (size_t)e.position, start;
        if (strncmp(e.text, "real number overflow", 20) != 0 || end > len)
            break;
        for (start = end; start > 0 &&
             strchr("0123456789+-.eE", text[start - 1]) && text[start - 1];
             start--)
            ;
        const char *big = text[start] == '-' ? "-1.7976931348623157e308"
                                             : "1.7976931348623157e308";
        size_t blen = strlen(big), nlen = start + blen + (len - end);
        char *next = malloc(nlen ? nlen : 1);
        if (!next)
            break;
        memcpy(next, text, start);
        memcpy(next + start, big, blen);
        memcpy(next + start + blen, text + end, len - end);
        free(copy);
        copy = next;
        text = copy;
        len = nlen;
        root = json_loadb(text, len, LOAD_FLAGS, &e);
    }
    free(copy);
    return root;
}

match_doc *match_doc_parse(const char *json, size_t len)
{
    json_t *root = load_event(json ? json : "", len);
    if (!root)
        return NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }

    /* Leaf strings point into the jansson tree, which the doc keeps. */
    match_doc *d = calloc(1, sizeof *d);
    if (!d) {
        json_decref(root);
        return NULL;
    }
    d->root = root;

    walker w = { .d = d };
    int rc = walk(&w, root);
    free(w.path);
    free(w.trail);
    if (rc < 0) {
        match_doc_free(d);
        return NULL;
    }
    order_chains(d);
    return d;
}

static bool type_is(const match_attr *a, const char *t)
{
    size_t n = strlen(t);
    return a->type_len >= n && memcmp(a->type, t, n) == 0 &&
           (a->type_len == n || a->type[n] == '.');
}

/* One element of a String.Array value. */
static int attr_array_elem(match_doc *d, const match_attr *a, json_t *e,
                           uint32_t array, uint32_t index)
{
    match_step step = { array, index };
    match_leaf *l;

    if (json_is_object(e) || json_is_array(e))
        return 0;                       /* not a scalar: ignored */
    l = add_leaf(d, a->name, a->name_len, &step, 1);
    if (!l)
        return -1;
    if (json_is_string(e)) {
        char *s = match__dup(&d->arena, json_string_value(e),
                             json_string_length(e));
        if (!s)
            return -1;
        set_scalar(l, MV_STRING, s, json_string_length(e), 0);
    } else if (json_is_number(e)) {
        set_scalar(l, MV_NUMBER, NULL, 0, json_number_value(e));
    } else {
        set_scalar(l, json_is_true(e) ? MV_TRUE
                      : json_is_false(e) ? MV_FALSE : MV_NULL, NULL, 0, 0);
    }
    return 0;
}

static int attr_string(match_doc *d, const match_attr *a)
{
    match_leaf *l = add_leaf(d, a->name, a->name_len, NULL, 0);
    char *s = l ? match__dup(&d->arena, a->value, a->value_len) : NULL;
    if (!s)
        return -1;
    set_scalar(l, MV_STRING, s, a->value_len, 0);
    return 0;
}

/* A Number attribute: strtod over the whole text, else a string. */
static int attr_number(match_doc *d, const match_attr *a)
{
    char buf[128], *end;
    if (a->value_len == 0 || a->value_len >= sizeof buf)
        return attr_string(d, a);
    memcpy(buf, a->value, a->value_len);
    buf[a->value_len] = '\0';
    double x = strtod(buf, &end);
    if (*end != '\0' || x != x || x - x != 0)
        return attr_string(d, a);
    match_leaf *l = add_leaf(d, a->name, a->name_len, NULL, 0);
    if (!l)
        return -1;
    set_scalar(l, MV_NUMBER, NULL, 0, x);
    return 0;
}

static int attr_array(match_doc *d, const match_attr *a, uint32_t id)
{
    json_error_t jerr;
    json_t *arr = json_loadb(a->value ? a->value : "", a->value_len,
                             JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL |
                             JSON_ALLOW_NUL, &jerr);
    if (!arr || !json_is_array(arr)) {
        json_decref(arr);
        return attr_string(d, a);
    }
    d->has_arrays = true;
    int rc = 0;
    for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++)
        rc = attr_array_elem(d, a, json_array_get(arr, i), id, (uint32_t)i);
    json_decref(arr);
    return rc;
}

match_doc *match_doc_from_attributes(const match_attr *attrs, size_t n)
{
    match_doc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->attrs = true;
    d->nattrs = n;

    for (size_t i = 0; i < n; i++) {
        const match_attr *a = &attrs[i];
        int rc = 0;
        if (type_is(a, "String.Array"))
            rc = attr_array(d, a, (uint32_t)i);
        else if (type_is(a, "String"))
            rc = attr_string(d, a);
        else if (type_is(a, "Number"))
            rc = attr_number(d, a);
        /* Binary (and unknown types) carry no matchable value. */
        if (rc < 0) {
            match_doc_free(d);
            return NULL;
        }
    }
    order_chains(d);
    return d;
}

void match_doc_free(match_doc *d)
{
    if (!d)
        return;
    json_decref(d->root);
    match__arena_free(&d->arena);
    free(d->leaves);
    free(d->trail);
    free(d->paths);
    free(d->ptab);
    free(d);
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static void render_value(const match_leaf *l, char *buf, size_t n)
{
    switch (l->type) {
    case MV_NUMBER:
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, l->num);
            if (strtod(buf, NULL) == l->num)
                break;
        }
        return;
    case MV_TRUE:
        snprintf(buf, n, "true");
        return;
    case MV_FALSE:
        snprintf(buf, n, "false");
        return;
    case MV_NULL:
        snprintf(buf, n, "null");
        return;
    }
}

size_t match_doc_leaves(const match_doc *d,
                        void (*fn)(void *ctx, const char *path,
                                   const char *value_json),
                        void *ctx)
{
    for (size_t i = 0; i < d->nleaves; i++) {
        const match_leaf *l = &d->leaves[i];
        const match_dpath *p = &d->paths[l->path];
        char small[64];
        char *val = small;
        if (l->type == MV_STRING) {
            json_t *s = json_stringn_nocheck(l->s, l->len);
            val = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
            json_decref(s);
            if (!val)
                continue;
        } else {
            render_value(l, small, sizeof small);
        }
        fn(ctx, p->s, val);
        if (val != small)
            free(val);
    }
    return d->nleaves;
}
