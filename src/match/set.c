/*
 * set.c - many patterns against one event, without testing them all.
 *
 * Every branch (one $or alternative of one pattern) is filed under keys
 * for one "anchor" field it cannot match without, chosen in this order:
 *   - a field whose values are all exact (strings, numbers by value,
 *     true/false/null) and has no exists:false: one key (path, value) per
 *     value, so the event must carry that very leaf;
 *   - a field whose values are all exact, prefix, suffix or
 *     equals-ignore-case (plain or case-folded): keys (path, kind, text);
 *   - a field whose values are all numeric ranges or exact numbers: the
 *     path's numeric index (sorted interval lists);
 *   - a field that needs some leaf: a key on the path alone;
 *   - otherwise the short "always" list (alternatives made only of
 *     exists:false fields).
 * A run looks up, for each leaf, its (path, value); for paths that carry
 * prefix/suffix keys it also looks up every prefix/suffix of the leaf up
 * to the longest key (the hash is extended one byte at a time); and for
 * each path the path-only key.  Only the branches found are evaluated, so
 * the cost follows the event's size and the plausible candidates, not the
 * number of rules.  Wildcard, cidr and anything-but anchors fall back to
 * the path key.
 *
 * The index is rebuilt lazily after the set changes.  Scratch stamps
 * (epochs) deduplicate branches and patterns within a run; they make a
 * run a writer of the set.
 */
#include "match/match_int.h"

#include <stdlib.h>
#include <string.h>

/* Key kinds besides the MV_* exact kinds. */
enum {
    KEY_PREFIX = 0xF0,
    KEY_PREFIX_IC,
    KEY_SUFFIX,             /* hashed over the reversed text */
    KEY_SUFFIX_IC,
    KEY_EQ_IC,
    KEY_INFO,               /* per path: which affix keys exist (no refs) */
    KEY_NUMERIC,            /* per path: its numeric index (no refs) */
    KEY_PATH = 0xFF         /* path-only key */
};

/* KEY_INFO flags */
#define INFO_PREFIX 1u
#define INFO_SUFFIX 2u
#define INFO_FOLD 4u        /* some *_IC key: fold the leaf */

typedef struct {
    uint64_t id;
    match_pattern *p;
} set_entry;

/* One numeric interval of an anchor field, pointing at its branch. */
typedef struct {
    double lo, hi;
    bool lo_open, hi_open;
    uint32_t ref;
} num_entry;

typedef struct {
    num_entry *e;
    size_t n, cap;
} num_list;

/*
 * The numeric anchors of one path, in three lists so that a lookup only
 * walks entries that can contain the value: lower bound only (sorted by
 * lo ascending: every entry before the first lo > x matches), upper bound
 * only (hi descending), and two-sided (lo ascending, hi checked).
 */
typedef struct {
    num_list lower, upper, both;
} num_index;

typedef struct {
    uint32_t entry;
    const match_branch *br;
} set_branch;

typedef struct {
    bool used;
    uint8_t vtype;             /* MV_* or KEY_* */
    uint8_t flags;             /* KEY_INFO */
    uint64_t hash;
    const char *path;
    size_t plen;
    const char *s;             /* string keys (affixes stored forward) */
    size_t len;
    double num;
    size_t maxlen;             /* KEY_INFO: longest prefix/suffix key */
    uint32_t numidx;           /* KEY_NUMERIC: index into set->nums */
    uint32_t *refs;            /* indices into set->gb */
    size_t n, cap;
} set_slot;

struct match_set {
    set_entry *e;
    size_t n, cap;
    bool dirty;

    set_branch *gb;
    size_t ngb;
    set_slot *tab;
    size_t tabcap;
    uint32_t *always;
    size_t nalways, capalways;
    num_index *nums;
    size_t nnums, capnums;

    uint32_t epoch;
    uint32_t *gb_seen;
    uint32_t *e_seen;

    /* While building: how many branches could be filed under each hash key,
     * so that each branch picks its most selective field (open addressing,
     * hash 0 marks a free slot). */
    uint64_t *kc_hash;
    uint32_t *kc_count;
    size_t kc_cap;
};

/* ------------------------------------------------------------------ */
/* Keys                                                                */

#define FNV_PRIME 0x100000001b3ULL

static uint64_t key_seed(uint64_t path_hash, uint8_t vtype)
{
    return path_hash ^ ((uint64_t)vtype * 0x9E3779B97F4A7C15ULL);
}

static uint64_t step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* Hash of a key; suffix kinds hash their text back to front. */
static uint64_t key_hash(uint64_t path_hash, uint8_t vtype, const char *s,
                         size_t len, double num)
{
    uint64_t h = key_seed(path_hash, vtype);
    switch (vtype) {
    case MV_NUMBER:
        if (num == 0)
            num = 0;           /* -0 and 0 are one value */
        return match__hash(&num, sizeof num, h);
    case MV_STRING:
    case KEY_PREFIX:
    case KEY_PREFIX_IC:
    case KEY_EQ_IC:
        return match__hash(s, len, h);
    case KEY_SUFFIX:
    case KEY_SUFFIX_IC:
        for (size_t i = len; i > 0; i--)
            h = step(h, (unsigned char)s[i - 1]);
        return h;
    default:
        return h;
    }
}

static bool slot_is(const set_slot *t, uint64_t h, const char *path,
                    size_t plen, uint8_t vtype, const char *s, size_t len,
                    double num)
{
    if (t->hash != h || t->vtype != vtype || t->plen != plen ||
        memcmp(t->path, path, plen) != 0)
        return false;
    if (vtype == MV_NUMBER)
        return t->num == num;
    if (vtype == MV_STRING || (vtype >= KEY_PREFIX && vtype <= KEY_EQ_IC))
        return t->len == len && memcmp(t->s, s, len) == 0;
    return true;
}

static set_slot *find(const match_set *set, uint64_t h, const char *path,
                      size_t plen, uint8_t vtype, const char *s, size_t len,
                      double num)
{
    if (!set->tabcap)
        return NULL;
    size_t i = h & (set->tabcap - 1);
    while (set->tab[i].used) {
        if (slot_is(&set->tab[i], h, path, plen, vtype, s, len, num))
            return &set->tab[i];
        i = (i + 1) & (set->tabcap - 1);
    }
    return NULL;
}

static int push_ref(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 2;
        uint32_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return 0;
}

/* Find or create the slot of a key. */
static set_slot *slot_for(match_set *set, uint64_t h, const char *path,
                          size_t plen, uint8_t vtype, const char *s,
                          size_t len, double num)
{
    size_t i = h & (set->tabcap - 1);
    while (set->tab[i].used) {
        if (slot_is(&set->tab[i], h, path, plen, vtype, s, len, num))
            return &set->tab[i];
        i = (i + 1) & (set->tabcap - 1);
    }
    set->tab[i] = (set_slot){ .used = true, .hash = h, .path = path,
                              .plen = plen, .vtype = vtype, .s = s,
                              .len = len, .num = num };
    return &set->tab[i];
}

/* ------------------------------------------------------------------ */
/* Index                                                               */

/* The key kind a predicate can be filed under, or 0 when none. */
static uint8_t pred_key(const match_pred *p)
{
    switch (p->kind) {
    case PK_EXACT_STR:
        return MV_STRING;
    case PK_EXACT_NUM:
        return MV_NUMBER;
    case PK_TRUE:
        return MV_TRUE;
    case PK_FALSE:
        return MV_FALSE;
    case PK_NULL:
        return MV_NULL;
    case PK_PREFIX:
        return KEY_PREFIX;
    case PK_PREFIX_IC:
        return KEY_PREFIX_IC;
    case PK_SUFFIX:
        return KEY_SUFFIX;
    case PK_SUFFIX_IC:
        return KEY_SUFFIX_IC;
    case PK_EQ_IC:
        return KEY_EQ_IC;
    default:
        return 0xFF;
    }
}

/* 3: every value is exact; 2: every value has a hash key (exact, affix,
 * equals-ignore-case); 1: every value is numeric or an exact number;
 * 0: no index for this field. */
static int field_keyable(const match_field *f)
{
    int level = 3;
    bool numeric = true;
    if (f->absent_ok || f->npreds == 0)
        return 0;
    for (size_t i = 0; i < f->npreds; i++) {
        uint8_t kind = f->preds[i].kind;
        uint8_t k = pred_key(&f->preds[i]);
        if (kind != PK_NUMERIC && kind != PK_EXACT_NUM)
            numeric = false;
        if (k == 0xFF)
            level = 0;
        else if (k >= KEY_PREFIX && level > 2)
            level = 2;
    }
    return level ? level : numeric ? 1 : 0;
}

static int num_push(num_list *l, num_entry e)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        num_entry *ne = realloc(l->e, nc * sizeof *ne);
        if (!ne)
            return -1;
        l->e = ne;
        l->cap = nc;
    }
    l->e[l->n++] = e;
    return 0;
}

/* File a numeric/exact-number field under its path's numeric index. */
static int file_numeric(match_set *set, const match_field *f, uint32_t g)
{
    set_slot *t = slot_for(set, key_hash(f->phash, KEY_NUMERIC, NULL, 0, 0),
                           f->path, f->plen, KEY_NUMERIC, NULL, 0, 0);
    if (!t->flags) {
        if (set->nnums == set->capnums) {
            size_t nc = set->capnums ? set->capnums * 2 : 4;
            num_index *ni = realloc(set->nums, nc * sizeof *ni);
            if (!ni)
                return -1;
            set->nums = ni;
            set->capnums = nc;
        }
        memset(&set->nums[set->nnums], 0, sizeof set->nums[0]);
        t->numidx = (uint32_t)set->nnums++;
        t->flags = 1;
    }
    num_index *ix = &set->nums[t->numidx];
    for (size_t i = 0; i < f->npreds; i++) {
        const match_pred *p = &f->preds[i];
        num_entry e = { p->lo, p->hi, p->lo_open, p->hi_open, g };
        num_list *l = &ix->both;
        if (p->kind == PK_EXACT_NUM) {
            e.lo = e.hi = p->num;
            e.lo_open = e.hi_open = false;
        } else if (!p->has_hi) {
            l = &ix->lower;
        } else if (!p->has_lo) {
            l = &ix->upper;
        }
        if (num_push(l, e) < 0)
            return -1;
    }
    return 0;
}

static int by_lo(const void *a, const void *b)
{
    double x = ((const num_entry *)a)->lo, y = ((const num_entry *)b)->lo;
    return (x > y) - (x < y);
}

static int by_hi_desc(const void *a, const void *b)
{
    double x = ((const num_entry *)a)->hi, y = ((const num_entry *)b)->hi;
    return (x < y) - (x > y);
}

static void sort_numeric(match_set *set)
{
    for (size_t i = 0; i < set->nnums; i++) {
        num_index *ix = &set->nums[i];
        if (ix->lower.n > 1)
            qsort(ix->lower.e, ix->lower.n, sizeof(num_entry), by_lo);
        if (ix->both.n > 1)
            qsort(ix->both.e, ix->both.n, sizeof(num_entry), by_lo);
        if (ix->upper.n > 1)
            qsort(ix->upper.e, ix->upper.n, sizeof(num_entry), by_hi_desc);
    }
}

static int file_field(match_set *set, const match_field *f, uint32_t g)
{
    for (size_t i = 0; i < f->npreds; i++) {
        const match_pred *p = &f->preds[i];
        uint8_t vt = pred_key(p);
        double num = p->num == 0 ? 0 : p->num;
        uint64_t h = key_hash(f->phash, vt, p->str.s, p->str.len, num);
        set_slot *t = slot_for(set, h, f->path, f->plen, vt, p->str.s,
                               p->str.len, num);
        if (push_ref(&t->refs, &t->n, &t->cap, g) < 0)
            return -1;
        if (vt < KEY_PREFIX)
            continue;

        /* Tell the run which enumerations this path needs. */
        set_slot *info = slot_for(set, key_hash(f->phash, KEY_INFO, NULL, 0,
                                                0),
                                  f->path, f->plen, KEY_INFO, NULL, 0, 0);
        if (vt == KEY_PREFIX || vt == KEY_PREFIX_IC)
            info->flags |= INFO_PREFIX;
        if (vt == KEY_SUFFIX || vt == KEY_SUFFIX_IC)
            info->flags |= INFO_SUFFIX;
        if (vt == KEY_PREFIX_IC || vt == KEY_SUFFIX_IC || vt == KEY_EQ_IC)
            info->flags |= INFO_FOLD;
        if (p->str.len > info->maxlen)
            info->maxlen = p->str.len;
    }
    return 0;
}

/* The hash key a predicate of a hash-keyed field is filed under. */
static uint64_t pred_hash(const match_field *f, const match_pred *p)
{
    double num = p->num == 0 ? 0 : p->num;
    uint64_t h = key_hash(f->phash, pred_key(p), p->str.s, p->str.len, num);
    return h ? h : 1;
}

static uint32_t *kc_slot(match_set *set, uint64_t h)
{
    size_t mask = set->kc_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (set->kc_hash[i] == h || set->kc_hash[i] == 0) {
            set->kc_hash[i] = h;
            return &set->kc_count[i];
        }
    }
}

/* How many branches share field f's keys: the candidates an event with one
 * of its values would bring. */
static uint64_t field_cost(match_set *set, const match_field *f)
{
    uint64_t cost = 0;
    for (size_t i = 0; i < f->npreds; i++)
        cost += set->kc_hash ? *kc_slot(set, pred_hash(f, &f->preds[i])) : 1;
    return cost;
}

/* Counts, over every branch, each key of every hash-keyed field. */
static int count_keys(match_set *set, size_t keys)
{
    set->kc_cap = 16;
    while (set->kc_cap < keys * 2)
        set->kc_cap *= 2;
    set->kc_hash = calloc(set->kc_cap, sizeof *set->kc_hash);
    set->kc_count = calloc(set->kc_cap, sizeof *set->kc_count);
    if (!set->kc_hash || !set->kc_count)
        return -1;
    for (size_t g = 0; g < set->ngb; g++) {
        const match_branch *b = set->gb[g].br;
        for (size_t i = 0; i < b->n; i++) {
            const match_field *f = b->f[i];
            if (field_keyable(f) < 2)
                continue;
            for (size_t k = 0; k < f->npreds; k++)
                (*kc_slot(set, pred_hash(f, &f->preds[k])))++;
        }
    }
    return 0;
}

static void drop_counts(match_set *set)
{
    free(set->kc_hash);
    free(set->kc_count);
    set->kc_hash = NULL;
    set->kc_count = NULL;
    set->kc_cap = 0;
}

static int index_branch(match_set *set, uint32_t g)
{
    const match_branch *b = set->gb[g].br;
    const match_field *best = NULL, *present = NULL;
    int best_level = 0;
    uint64_t best_cost = 0;

    /* Among hash-keyed fields, the one whose keys the fewest branches
     * share (a shared "source" must not pull every event to every rule). */
    for (size_t i = 0; i < b->n; i++) {
        const match_field *f = b->f[i];
        int level = field_keyable(f);
        if (level < 2)
            continue;
        uint64_t cost = field_cost(set, f);
        if (!best || cost < best_cost || (cost == best_cost && level > best_level)) {
            best = f;
            best_level = level;
            best_cost = cost;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        const match_field *f = b->f[i];
        int level = field_keyable(f);
        if (!best && level == 1) {
            best = f;
            best_level = level;
        }
        if (!f->absent_ok && !present)
            present = f;
    }
    if (best)
        return best_level == 1 ? file_numeric(set, best, g)
                               : file_field(set, best, g);
    if (present) {
        uint64_t h = key_hash(present->phash, KEY_PATH, NULL, 0, 0);
        set_slot *t = slot_for(set, h, present->path, present->plen,
                               KEY_PATH, NULL, 0, 0);
        return push_ref(&t->refs, &t->n, &t->cap, g);
    }
    return push_ref(&set->always, &set->nalways, &set->capalways, g);
}

static void drop_index(match_set *set)
{
    for (size_t i = 0; i < set->tabcap; i++)
        free(set->tab[i].refs);
    for (size_t i = 0; i < set->nnums; i++) {
        free(set->nums[i].lower.e);
        free(set->nums[i].upper.e);
        free(set->nums[i].both.e);
    }
    free(set->nums);
    set->nums = NULL;
    set->nnums = set->capnums = 0;
    free(set->tab);
    free(set->gb);
    free(set->always);
    free(set->gb_seen);
    free(set->e_seen);
    set->tab = NULL;
    set->gb = NULL;
    set->always = NULL;
    set->gb_seen = set->e_seen = NULL;
    set->tabcap = set->ngb = 0;
    set->nalways = set->capalways = 0;
    set->epoch = 0;
}

static int build_index(match_set *set)
{
    size_t ngb = 0, keys = 0;

    drop_index(set);
    for (size_t i = 0; i < set->n; i++)
        ngb += set->e[i].p->nbr;
    /* Upper bound of keys: every predicate of every branch, twice (an
     * affix key also brings its path's info slot). */
    for (size_t i = 0; i < set->n; i++) {
        const match_pattern *p = set->e[i].p;
        for (size_t b = 0; b < p->nbr; b++) {
            keys++;
            for (size_t f = 0; f < p->br[b].n; f++)
                keys += 2 * p->br[b].f[f]->npreds;
        }
    }

    set->tabcap = 16;
    while (set->tabcap < (keys + ngb) * 2)
        set->tabcap *= 2;
    set->tab = calloc(set->tabcap, sizeof *set->tab);
    set->gb = malloc((ngb ? ngb : 1) * sizeof *set->gb);
    set->gb_seen = calloc(ngb ? ngb : 1, sizeof *set->gb_seen);
    set->e_seen = calloc(set->n ? set->n : 1, sizeof *set->e_seen);
    if (!set->tab || !set->gb || !set->gb_seen || !set->e_seen)
        goto fail;

    for (size_t i = 0; i < set->n; i++)
        for (size_t b = 0; b < set->e[i].p->nbr; b++)
            set->gb[set->ngb++] = (set_branch){ (uint32_t)i, &set->e[i].p->br[b] };
    if (count_keys(set, keys) < 0)
        goto fail;
    for (size_t g = 0; g < set->ngb; g++)
        if (index_branch(set, (uint32_t)g) < 0)
            goto fail;
    drop_counts(set);
    sort_numeric(set);
    set->dirty = false;
    return 0;
fail:
    drop_counts(set);
    drop_index(set);
    return -1;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

match_set *match_set_new(void)
{
    return calloc(1, sizeof(match_set));
}

void match_set_free(match_set *set)
{
    if (!set)
        return;
    drop_index(set);
    for (size_t i = 0; i < set->n; i++)
        match_free(set->e[i].p);
    free(set->e);
    free(set);
}

int match_set_add(match_set *set, uint64_t id, match_pattern *p)
{
    if (!set || !p)
        return -1;
    if (set->n == set->cap) {
        size_t nc = set->cap ? set->cap * 2 : 16;
        set_entry *ne = realloc(set->e, nc * sizeof *ne);
        if (!ne)
            return -1;
        set->e = ne;
        set->cap = nc;
    }
    set->e[set->n++] = (set_entry){ id, p };
    set->dirty = true;
    return 0;
}

size_t match_set_remove(match_set *set, uint64_t id)
{
    size_t kept = 0, removed = 0;

    for (size_t i = 0; i < set->n; i++) {
        if (set->e[i].id == id) {
            match_free(set->e[i].p);
            removed++;
        } else {
            set->e[kept++] = set->e[i];
        }
    }
    set->n = kept;
    if (removed) {
        set->dirty = true;
        drop_index(set);     /* branch pointers of freed patterns */
    }
    return removed;
}

size_t match_set_count(const match_set *set)
{
    return set ? set->n : 0;
}

typedef struct {
    match_set *set;
    const match_doc *doc;
    match_set_fn fn;
    void *ctx;
    int matches;
} run_ctx;

static void consider(run_ctx *r, uint32_t g)
{
    match_set *set = r->set;
    if (set->gb_seen[g] == set->epoch)
        return;
    set->gb_seen[g] = set->epoch;

    uint32_t e = set->gb[g].entry;
    const match_pattern *p = set->e[e].p;
    if (set->e_seen[e] == set->epoch || !match__doc_kind_ok(p, r->doc))
        return;
    if (match__branch(p, set->gb[g].br, r->doc)) {
        set->e_seen[e] = set->epoch;
        r->matches++;
        if (r->fn)
            r->fn(r->ctx, set->e[e].id);
    }
}

static void consider_slot(run_ctx *r, const set_slot *t)
{
    if (t)
        for (size_t i = 0; i < t->n; i++)
            consider(r, t->refs[i]);
}

/* Look up every prefix (or suffix) of text up to maxlen bytes. */
static void affixes(run_ctx *r, const match_dpath *dp, uint8_t vt,
                    const char *text, size_t len, size_t maxlen)
{
    bool suffix = vt == KEY_SUFFIX || vt == KEY_SUFFIX_IC;
    uint64_t h = key_seed(dp->hash, vt);
    size_t top = len < maxlen ? len : maxlen;

    for (size_t k = 0;; k++) {
        const char *at = suffix ? text + len - k : text;
        consider_slot(r, find(r->set, h, dp->s, dp->len, vt, at, k, 0));
        if (k == top)
            break;
        h = step(h, (unsigned char)(suffix ? text[len - 1 - k] : text[k]));
    }
}

/* The keyed lookups of one string leaf at a path with affix keys. */
static void leaf_affixes(run_ctx *r, const match_dpath *dp,
                         const set_slot *info, const match_leaf *lf)
{
    char stack[256];
    char *folded = NULL;

    if (info->flags & INFO_PREFIX)
        affixes(r, dp, KEY_PREFIX, lf->s, lf->len, info->maxlen);
    if (info->flags & INFO_SUFFIX)
        affixes(r, dp, KEY_SUFFIX, lf->s, lf->len, info->maxlen);
    if (!(info->flags & INFO_FOLD))
        return;

    folded = lf->len <= sizeof stack ? stack : malloc(lf->len);
    if (!folded)
        return;
    match__fold(lf->s, lf->len, folded);
    uint64_t h = key_hash(dp->hash, KEY_EQ_IC, folded, lf->len, 0);
    consider_slot(r, find(r->set, h, dp->s, dp->len, KEY_EQ_IC, folded,
                          lf->len, 0));
    if (info->flags & INFO_PREFIX)
        affixes(r, dp, KEY_PREFIX_IC, folded, lf->len, info->maxlen);
    if (info->flags & INFO_SUFFIX)
        affixes(r, dp, KEY_SUFFIX_IC, folded, lf->len, info->maxlen);
    if (folded != stack)
        free(folded);
}

static bool num_hit(const num_entry *e, double x)
{
    return (e->lo_open ? x > e->lo : x >= e->lo) &&
           (e->hi_open ? x < e->hi : x <= e->hi);
}

/* The numeric anchors of a path that can contain x. */
static void numeric_lookup(run_ctx *r, const num_index *ix, double x)
{
    for (size_t i = 0; i < ix->lower.n && ix->lower.e[i].lo <= x; i++)
        if (ix->lower.e[i].lo_open ? x > ix->lower.e[i].lo : true)
            consider(r, ix->lower.e[i].ref);
    for (size_t i = 0; i < ix->upper.n && ix->upper.e[i].hi >= x; i++)
        if (ix->upper.e[i].hi_open ? x < ix->upper.e[i].hi : true)
            consider(r, ix->upper.e[i].ref);
    for (size_t i = 0; i < ix->both.n && ix->both.e[i].lo <= x; i++)
        if (num_hit(&ix->both.e[i], x))
            consider(r, ix->both.e[i].ref);
}

int match_set_run_doc(match_set *set, const match_doc *doc, match_set_fn fn,
                      void *ctx)
{
    if (!set || !doc)
        return -1;
    if ((set->dirty || !set->tab) && build_index(set) < 0)
        return -1;
    if (++set->epoch == 0) {
        memset(set->gb_seen, 0, (set->ngb ? set->ngb : 1) * sizeof(uint32_t));
        memset(set->e_seen, 0, (set->n ? set->n : 1) * sizeof(uint32_t));
        set->epoch = 1;
    }

    run_ctx r = { set, doc, fn, ctx, 0 };
    for (size_t pi = 0; pi < doc->npaths; pi++) {
        const match_dpath *dp = &doc->paths[pi];
        consider_slot(&r, find(set, key_hash(dp->hash, KEY_PATH, NULL, 0, 0),
                               dp->s, dp->len, KEY_PATH, NULL, 0, 0));
        const set_slot *info = find(set, key_hash(dp->hash, KEY_INFO, NULL,
                                                  0, 0),
                                    dp->s, dp->len, KEY_INFO, NULL, 0, 0);
        const set_slot *nslot = find(set, key_hash(dp->hash, KEY_NUMERIC,
                                                   NULL, 0, 0),
                                     dp->s, dp->len, KEY_NUMERIC, NULL, 0, 0);
        for (uint32_t l = dp->first; l != MATCH_NONE;
             l = doc->leaves[l].next) {
            const match_leaf *lf = &doc->leaves[l];
            double num = lf->num == 0 ? 0 : lf->num;
            uint64_t h = key_hash(dp->hash, lf->type, lf->s, lf->len, num);
            consider_slot(&r, find(set, h, dp->s, dp->len, lf->type, lf->s,
                                   lf->len, num));
            if (info && lf->type == MV_STRING)
                leaf_affixes(&r, dp, info, lf);
            if (nslot && lf->type == MV_NUMBER)
                numeric_lookup(&r, &set->nums[nslot->numidx], lf->num);
        }
    }
    for (size_t i = 0; i < set->nalways; i++)
        consider(&r, set->always[i]);
    return r.matches;
}

int match_set_run(match_set *set, const char *json, size_t len,
                  match_set_fn fn, void *ctx)
{
    match_doc *doc = match_doc_parse(json, len);
    if (!doc)
        return -1;
    int n = match_set_run_doc(set, doc, fn, ctx);
    match_doc_free(doc);
    return n;
}
