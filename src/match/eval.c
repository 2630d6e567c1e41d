/*
 * eval.c - deciding whether a compiled pattern matches a flattened doc.
 *
 * A branch (one $or alternative) matches when every field is satisfied:
 * some leaf at the field's path passes one of its predicates, or the field
 * allows absence ({"exists": false}) and the path has no leaf at all.
 * Array consistency: the leaves chosen for different fields must not sit
 * in different elements of the same array (they would describe different
 * objects).  Most events need no search: a leaf outside every array is
 * consistent with anything, and without arrays every choice is.  Otherwise
 * a small backtracking search over the candidate leaves runs, bounded by a
 * step budget.
 */
#include "match/match_int.h"

#include <stdlib.h>
#include <string.h>

#define SEARCH_BUDGET 1000000   /* consistency checks per branch test */
#define FOLD_STACK 256

/* ------------------------------------------------------------------ */
/* Predicates                                                          */

static bool str_in(const match_str *list, size_t n, const char *s,
                   size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].len == len && memcmp(list[i].s, s, len) == 0)
            return true;
    return false;
}

static bool has_prefix(const char *s, size_t len, const char *p, size_t n)
{
    return len >= n && memcmp(s, p, n) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *p, size_t n)
{
    return len >= n && memcmp(s + len - n, p, n) == 0;
}

/* Case-insensitive predicates: fold the leaf, then compare bytes. */
static bool pred_folded(const match_pred *p, const char *s, size_t len)
{
    char stack[FOLD_STACK];
    char *buf = len <= sizeof stack ? stack : malloc(len);
    bool hit = false;

    if (!buf)
        return false;
    match__fold(s, len, buf);
    switch (p->kind) {
    case PK_PREFIX_IC:
        hit = has_prefix(buf, len, p->str.s, p->str.len);
        break;
    case PK_SUFFIX_IC:
        hit = has_suffix(buf, len, p->str.s, p->str.len);
        break;
    case PK_EQ_IC:
        hit = p->str.len == len && memcmp(buf, p->str.s, len) == 0;
        break;
    case PK_AB_EQ_IC:
        hit = !str_in(p->list, p->nlist, buf, len);
        break;
    }
    if (buf != stack)
        free(buf);
    return hit;
}

static bool in_range(const match_pred *p, double x)
{
    if (p->has_lo && (p->lo_open ? !(x > p->lo) : !(x >= p->lo)))
        return false;
    if (p->has_hi && (p->hi_open ? !(x < p->hi) : !(x <= p->hi)))
        return false;
    return true;
}

/* The leaf string is parsed here rather than when the doc is built: IP
 * predicates are rare and the parse is a few dozen bytes at most. */
static bool ip_in(const match_pred *p, const match_leaf *l)
{
    match_ip ip;
    if (!match__parse_ip(l->s, l->len, &ip) || ip.fam != p->iplo.fam)
        return false;
    size_t n = ip.fam == 4 ? 4 : 16;
    return memcmp(ip.b, p->iplo.b, n) >= 0 && memcmp(ip.b, p->iphi.b, n) <= 0;
}

bool match__pred_leaf(const match_pred *p, const match_leaf *l,
                      match_dialect d)
{
    bool str = l->type == MV_STRING;

    switch (p->kind) {
    case PK_EXACT_STR:
        return str && l->len == p->str.len &&
               memcmp(l->s, p->str.s, l->len) == 0;
    case PK_EXACT_NUM:
        return l->type == MV_NUMBER && l->num == p->num;
    case PK_TRUE:
        return l->type == MV_TRUE;
    case PK_FALSE:
        return l->type == MV_FALSE;
    case PK_NULL:
        return l->type == MV_NULL;
    case PK_IP_RANGE:
        return str && ip_in(p, l);
    case PK_PREFIX:
        return str && has_prefix(l->s, l->len, p->str.s, p->str.len);
    case PK_SUFFIX:
        return str && has_suffix(l->s, l->len, p->str.s, p->str.len);
    case PK_PREFIX_IC:
    case PK_SUFFIX_IC:
    case PK_EQ_IC:
        return str && pred_folded(p, l->s, l->len);
    case PK_WILDCARD:
        return str && match__wild_match(p->wild, l->s, l->len);
    case PK_NUMERIC:
        return l->type == MV_NUMBER && in_range(p, l->num);
    case PK_EXISTS:
        /* SNS: "exists": true wants a non-null, non-empty value. */
        return d == MATCH_EVENTBRIDGE ||
               !(l->type == MV_NULL || (str && l->len == 0));
    case PK_AB_STR:
        return !(str && str_in(p->list, p->nlist, l->s, l->len));
    case PK_AB_NUM:
        if (l->type == MV_NUMBER)
            for (size_t i = 0; i < p->nnums; i++)
                if (p->nums[i] == l->num)
                    return false;
        return true;
    case PK_AB_PREFIX:
        if (str)
            for (size_t i = 0; i < p->nlist; i++)
                if (has_prefix(l->s, l->len, p->list[i].s, p->list[i].len))
                    return false;
        return true;
    case PK_AB_SUFFIX:
        if (str)
            for (size_t i = 0; i < p->nlist; i++)
                if (has_suffix(l->s, l->len, p->list[i].s, p->list[i].len))
                    return false;
        return true;
    case PK_AB_EQ_IC:
        return !str || pred_folded(p, l->s, l->len);
    case PK_AB_WILDCARD:
        if (str)
            for (size_t i = 0; i < p->nwild; i++)
                if (match__wild_match(&p->wild[i], l->s, l->len))
                    return false;
        return true;
    }
    return false;
}

static bool field_leaf(const match_field *f, const match_leaf *l,
                       match_dialect d)
{
    for (size_t i = 0; i < f->npreds; i++)
        if (match__pred_leaf(&f->preds[i], l, d))
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Array consistency                                                   */

static bool consistent(const match_doc *doc, uint32_t a, uint32_t b)
{
    const match_leaf *la = &doc->leaves[a], *lb = &doc->leaves[b];
    const match_step *ta = doc->trail + la->trail;
    const match_step *tb = doc->trail + lb->trail;
    size_t n = la->ntrail < lb->ntrail ? la->ntrail : lb->ntrail;

    for (size_t k = 0; k < n && ta[k].array == tb[k].array; k++)
        if (ta[k].index != tb[k].index)
            return false;
    return true;
}

typedef struct {
    const match_doc *doc;
    uint32_t **cand;    /* per constrained field, its candidate leaves */
    size_t *ncand;
    uint32_t *chosen;
    size_t nf;
    long budget;
} search_ctx;

static bool search(search_ctx *s, size_t k)
{
    if (k == s->nf)
        return true;
    for (size_t i = 0; i < s->ncand[k]; i++) {
        uint32_t c = s->cand[k][i];
        bool ok = true;
        for (size_t j = 0; j < k && ok; j++) {
            if (--s->budget < 0)
                return false;
            ok = consistent(s->doc, s->chosen[j], c);
        }
        if (!ok)
            continue;
        s->chosen[k] = c;
        if (search(s, k + 1))
            return true;
        if (s->budget < 0)
            return false;
    }
    return false;
}

/*
 * Fields whose every candidate lies inside some array are "constrained";
 * collect their candidates and search for a consistent choice.
 */
static bool consistent_choice(const match_pattern *p, const match_branch *b,
                              const match_doc *doc)
{
    size_t total = 0, nf = 0;
    bool ok = false;

    for (size_t i = 0; i < b->n; i++) {
        const match_field *f = b->f[i];
        uint32_t pi = match__doc_path(doc, f->path, f->plen, f->phash);
        if (pi != MATCH_NONE)
            total += doc->paths[pi].count;
    }

    uint32_t *pool = malloc((total ? total : 1) * sizeof *pool);
    uint32_t **cand = malloc(b->n * sizeof *cand);
    size_t *ncand = malloc(b->n * sizeof *ncand);
    uint32_t *chosen = malloc(b->n * sizeof *chosen);
    if (!pool || !cand || !ncand || !chosen)
        goto out;

    size_t used = 0;
    for (size_t i = 0; i < b->n; i++) {
        const match_field *f = b->f[i];
        uint32_t pi = match__doc_path(doc, f->path, f->plen, f->phash);
        bool free_leaf = false;
        size_t start = used;
        if (pi == MATCH_NONE)
            continue;                   /* satisfied by absence */
        for (uint32_t l = doc->paths[pi].first; l != MATCH_NONE;
             l = doc->leaves[l].next) {
            if (!field_leaf(f, &doc->leaves[l], p->dialect))
                continue;
            if (doc->leaves[l].ntrail == 0) {
                free_leaf = true;
                break;
            }
            pool[used++] = l;
        }
        if (free_leaf) {
            used = start;
            continue;
        }
        cand[nf] = pool + start;
        ncand[nf] = used - start;
        nf++;
    }

    /* Fewest candidates first prunes the search best. */
    for (size_t i = 1; i < nf; i++) {
        for (size_t j = i; j > 0 && ncand[j] < ncand[j - 1]; j--) {
            uint32_t *tc = cand[j];
            size_t tn = ncand[j];
            cand[j] = cand[j - 1];
            ncand[j] = ncand[j - 1];
            cand[j - 1] = tc;
            ncand[j - 1] = tn;
        }
    }
    search_ctx s = { doc, cand, ncand, chosen, nf, SEARCH_BUDGET };
    ok = nf < 2 || search(&s, 0);
out:
    free(pool);
    free(cand);
    free(ncand);
    free(chosen);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Branches                                                            */

bool match__branch(const match_pattern *p, const match_branch *b,
                   const match_doc *doc)
{
    size_t in_arrays = 0;

    for (size_t i = 0; i < b->n; i++) {
        const match_field *f = b->f[i];
        uint32_t pi = match__doc_path(doc, f->path, f->plen, f->phash);
        bool any = false, outside = false;

        if (pi == MATCH_NONE) {
            /* SNS: exists:false never matches an empty attribute set. */
            if (!f->absent_ok ||
                (p->dialect == MATCH_SNS_ATTRIBUTES && doc->nattrs == 0))
                return false;
            continue;
        }
        for (uint32_t l = doc->paths[pi].first; l != MATCH_NONE;
             l = doc->leaves[l].next) {
            if (field_leaf(f, &doc->leaves[l], p->dialect)) {
                any = true;
                if (doc->leaves[l].ntrail == 0) {
                    outside = true;
                    break;
                }
                if (!doc->has_arrays)
                    break;
            }
        }
        if (!any)
            return false;
        if (!outside)
            in_arrays++;
    }
    return in_arrays < 2 || consistent_choice(p, b, doc);
}

bool match__doc_kind_ok(const match_pattern *p, const match_doc *doc)
{
    return (p->dialect == MATCH_SNS_ATTRIBUTES) == doc->attrs;
}

bool match_doc_test(const match_pattern *p, const match_doc *doc)
{
    if (!p || !doc || !match__doc_kind_ok(p, doc))
        return false;
    for (size_t i = 0; i < p->nbr; i++)
        if (match__branch(p, &p->br[i], doc))
            return true;
    return false;
}

bool match_event(const match_pattern *p, const char *json, size_t len)
{
    if (!p || p->dialect == MATCH_SNS_ATTRIBUTES)
        return false;
    match_doc *doc = match_doc_parse(json, len);
    bool hit = match_doc_test(p, doc);
    match_doc_free(doc);
    return hit;
}

bool match_attributes(const match_pattern *p, const match_attr *attrs,
                      size_t n)
{
    if (!p || p->dialect != MATCH_SNS_ATTRIBUTES)
        return false;
    match_doc *doc = match_doc_from_attributes(attrs, n);
    bool hit = match_doc_test(p, doc);
    match_doc_free(doc);
    return hit;
}
