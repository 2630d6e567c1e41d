/*
 * compile.c - turns an event pattern / filter policy (JSON text) into a
 * match_pattern, validating it with AWS's error texts.
 *
 * The walk follows event-ruler's JSON rule compiler: fields are collected
 * into a list of alternatives ("branches"); a "$or" array replaces the list
 * by one copy per element, so the result is the disjunctive normal form of
 * the pattern.  Within one branch a path named twice keeps its last value
 * array (duplicate JSON keys: the last one wins, as jansson also does).
 * Fields are shared between branches; everything lives in the pattern's
 * arena.  Dialect rules (SNS limits and operator subsets) are applied here,
 * so evaluation only has to know the dialect for exists semantics.
 */
#include "match/match_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EB_MAX_BRANCHES 1000       /* AWS: $or combinations per pattern */
#define SNS_MAX_KEYS 5
#define SNS_MAX_COMBINATIONS 150
#define WILD_MAX_LIVE 12           /* see match__wild_complexity */

typedef struct {
    match_field **f;
    size_t n, cap;
} bvec;

typedef struct {
    bvec *b;
    size_t n, cap;
} rvec;

typedef struct {
    match_pattern *p;
    match_dialect d;
    char *err;
    size_t errlen;
    bool nested;        /* some field sits below the top level */
} cctx;

static const char *const reserved_in_or[] = {
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but",
    "exists", "wildcard", "numeric", "cidr", "html", "=", "<", "<=", ">",
    ">=", "regex", "not-wildcard", "not-equals-ignore-case", "date-after",
    "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
    "ip-address-in-range", "ip-address-not-in-range", NULL
};

static const char TOO_COMPLEX_WILDCARD[] =
    "Rule is too complex - try using fewer wildcard characters or fewer "
    "repeating character sequences after a wildcard character";
static const char NUMERIC_TOO_MANY[] =
    "Too many elements in numeric expression";
static const char ONE_KEY[] = "Only one key allowed in match expression";
static const char AB_VALUE[] = "Value of anything-but must be an array or "
                               "single string/number value.";

static int fail(cctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(cctx *c, const char *fmt, ...)
{
    va_list ap;
    if (c->err && c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int oom(cctx *c)
{
    return fail(c, "Out of memory");
}

/* ------------------------------------------------------------------ */
/* Branch lists                                                        */

static int bvec_put(bvec *b, match_field *f)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->f[i]->plen == f->plen &&
            memcmp(b->f[i]->path, f->path, f->plen) == 0) {
            b->f[i] = f;                  /* the later value array wins */
            return 0;
        }
    }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        match_field **nf = realloc(b->f, cap * sizeof *nf);
        if (!nf)
            return -1;
        b->f = nf;
        b->cap = cap;
    }
    b->f[b->n++] = f;
    return 0;
}

static int bvec_copy(bvec *dst, const bvec *src)
{
    dst->n = dst->cap = 0;
    dst->f = NULL;
    if (src->n == 0)
        return 0;
    dst->f = malloc(src->n * sizeof *dst->f);
    if (!dst->f)
        return -1;
    memcpy(dst->f, src->f, src->n * sizeof *dst->f);
    dst->n = dst->cap = src->n;
    return 0;
}

static void rvec_clear(rvec *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->b[i].f);
    free(r->b);
    r->b = NULL;
    r->n = r->cap = 0;
}

static int rvec_push(rvec *r, bvec b)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        bvec *nb = realloc(r->b, cap * sizeof *nb);
        if (!nb)
            return -1;
        r->b = nb;
        r->cap = cap;
    }
    r->b[r->n++] = b;
    return 0;
}

static int rvec_copy(rvec *dst, const rvec *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++) {
        bvec b;
        if (bvec_copy(&b, &src->b[i]) < 0 || rvec_push(dst, b) < 0) {
            rvec_clear(dst);
            return -1;
        }
    }
    return 0;
}

/* Put field f into every branch (creating the first one if none). */
static int rvec_put(rvec *r, match_field *f)
{
    if (r->n == 0) {
        bvec empty = { 0 };
        if (rvec_push(r, empty) < 0)
            return -1;
    }
    for (size_t i = 0; i < r->n; i++)
        if (bvec_put(&r->b[i], f) < 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Values                                                              */

/* The token text ruler's messages quote for a JSON value. */
static void token_text(const json_t *v, char *buf, size_t n)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        snprintf(buf, n, "%s", json_string_value(v));
        break;
    case JSON_INTEGER:
    case JSON_REAL: {
        double x = json_number_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(buf, n, "%.*g", prec, x);
            if (strtod(buf, NULL) == x)
                break;
        }
        break;
    }
    case JSON_TRUE:
        snprintf(buf, n, "true");
        break;
    case JSON_FALSE:
        snprintf(buf, n, "false");
        break;
    case JSON_NULL:
        snprintf(buf, n, "null");
        break;
    case JSON_OBJECT:
        snprintf(buf, n, "{");
        break;
    case JSON_ARRAY:
        snprintf(buf, n, "[");
        break;
    }
}

static int set_str(cctx *c, match_str *dst, const json_t *v, bool fold)
{
    size_t len = json_string_length(v);
    dst->s = match__dup(&c->p->arena, json_string_value(v), len);
    if (!dst->s)
        return oom(c);
    dst->len = len;
    if (fold)
        match__fold(dst->s, len, dst->s);
    return 0;
}

static int compile_wild(cctx *c, const json_t *v, match_wild *w)
{
    if (match__wild_parse(&c->p->arena, json_string_value(v),
                          json_string_length(v), w, c->err, c->errlen) < 0)
        return -1;
    size_t live = match__wild_complexity(w, WILD_MAX_LIVE);
    if (live > WILD_MAX_LIVE)
        return fail(c, "%s", TOO_COMPLEX_WILDCARD);
    return 0;
}

/* Key and value of an object's first member; NULL key when empty. */
static const char *first_member(json_t *obj, json_t **val)
{
    void *it = json_object_iter(obj);
    if (!it)
        return NULL;
    *val = json_object_iter_value(it);
    return json_object_iter_key(it);
}

/* ------------------------------------------------------------------ */
/* Operators                                                           */

/* {"prefix": {"equals-ignore-case": "x"}} and the suffix twin. */
static int compile_affix_ic(cctx *c, json_t *inner, const char *what,
                            const char *What, match_pred *p)
{
    json_t *v;
    const char *op = first_member(inner, &v);

    if (!op)
        return fail(c, "%s expression name not found", What);
    if (strcmp(op, "equals-ignore-case") != 0)
        return fail(c, "Unsupported %s pattern: %s", what, op);
    if (!json_is_string(v))
        return fail(c, "equals-ignore-case match pattern must be a string");
    if (json_object_size(inner) > 1)
        return fail(c, "%s", ONE_KEY);
    return set_str(c, &p->str, v, true);
}

static int numeric_value(cctx *c, const json_t *v, const char *opname,
                         double *out)
{
    if (!json_is_number(v))
        return fail(c, "Value of %s must be numeric", opname);
    *out = json_number_value(v);
    return 0;
}

static int compile_numeric(cctx *c, json_t *arr, match_pred *p)
{
    size_t n = json_array_size(arr);
    json_t *e0 = json_array_get(arr, 0);
    char tok[128];

    p->kind = PK_NUMERIC;
    if (!e0)
        return fail(c, "Invalid member in numeric match: ]");
    if (!json_is_string(e0)) {
        token_text(e0, tok, sizeof tok);
        return fail(c, "Invalid member in numeric match: %s", tok);
    }

    const char *op = json_string_value(e0);
    json_t *e1 = json_array_get(arr, 1);
    if (strcmp(op, "=") == 0) {
        if (numeric_value(c, e1, "equals", &p->lo) < 0)
            return -1;
        if (n > 2)
            return fail(c, "%s", NUMERIC_TOO_MANY);
        p->hi = p->lo;
        p->has_lo = p->has_hi = true;
        return 0;
    }
    if (strcmp(op, "<") == 0 || strcmp(op, "<=") == 0) {
        if (numeric_value(c, e1, op, &p->hi) < 0)
            return -1;
        if (n > 2)
            return fail(c, "%s", NUMERIC_TOO_MANY);
        p->has_hi = true;
        p->hi_open = op[1] == '\0';
        return 0;
    }
    if (strcmp(op, ">") != 0 && strcmp(op, ">=") != 0)
        return fail(c, "Unrecognized numeric range operator: %s", op);

    if (numeric_value(c, e1, op, &p->lo) < 0)
        return -1;
    p->has_lo = true;
    p->lo_open = op[1] == '\0';
    if (n == 2)
        return 0;

    json_t *e2 = json_array_get(arr, 2);
    if (!json_is_string(e2)) {
        token_text(e2, tok, sizeof tok);
        return fail(c, "Bad value in numeric range: %s", tok);
    }
    const char *op2 = json_string_value(e2);
    if (strcmp(op2, "<") != 0 && strcmp(op2, "<=") != 0)
        return fail(c, "Bad numeric range operator: %s", op2);
    if (numeric_value(c, json_array_get(arr, 3), op2, &p->hi) < 0)
        return -1;
    if (n > 4)
        return fail(c, "Too many terms in numeric range expression");
    p->has_hi = true;
    p->hi_open = op2[1] == '\0';
    if (!(p->lo < p->hi))
        return fail(c, "Bottom must be less than top");
    return 0;
}

/* Split on '/', dropping trailing empty parts as Java's split does. */
static int compile_cidr(cctx *c, const json_t *v, match_pred *p)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    const char *slash = memchr(s, '/', len);
    size_t end = len;

    while (end > 0 && s[end - 1] == '/')
        end--;
    if (!slash || slash >= s + end || memchr(slash + 1, '/',
                                             end - (size_t)(slash + 1 - s)))
        return fail(c, "Malformed CIDR, one '/' required");

    /* Integer.parseInt: optional sign, then decimal digits only. */
    const char *m = slash + 1;
    size_t mlen = end - (size_t)(m - s), i = 0;
    bool neg = false;
    long bits = 0;
    if (mlen && (m[0] == '-' || m[0] == '+')) {
        neg = m[0] == '-';
        i = 1;
    }
    if (i == mlen)
        return fail(c, "Malformed CIDR, mask bits must be an integer");
    for (; i < mlen; i++) {
        if (m[i] < '0' || m[i] > '9')
            return fail(c, "Malformed CIDR, mask bits must be an integer");
        if (bits < 100000)
            bits = bits * 10 + (m[i] - '0');
    }
    if (neg && bits > 0)
        return fail(c, "Malformed CIDR, mask bits must not be negative");

    match_ip ip;
    size_t blen = (size_t)(slash - s);
    if (!match__parse_ip(s, blen, &ip))
        return fail(c, "Nonstandard IP address: %.*s", (int)blen, s);
    size_t nbytes = ip.fam == 4 ? 4 : 16;
    if (ip.fam == 4 && bits > 32)
        return fail(c, "IPv4 mask bits must be < 32");
    if (ip.fam == 6 && bits > 128)
        return fail(c, "IPv6 mask bits must be < 128");

    /* Host bits of the base are ignored: lo clears them, hi sets them. */
    p->kind = PK_IP_RANGE;
    p->iplo = p->iphi = ip;
    for (size_t b = 0; b < nbytes; b++) {
        long keep = bits - (long)b * 8;
        uint8_t mask = keep >= 8 ? 0xFF
                     : keep <= 0 ? 0x00
                     : (uint8_t)(0xFF << (8 - keep));
        p->iplo.b[b] = ip.b[b] & mask;
        p->iphi.b[b] = ip.b[b] | (uint8_t)~mask;
    }
    return 0;
}

typedef enum { AB_EQ_IC, AB_PREFIX, AB_SUFFIX, AB_WILDCARD } ab_kind;

/* One string of {"anything-but": {"<op>": ...}}. */
static int ab_set_item(cctx *c, ab_kind k, const json_t *v, match_pred *p)
{
    if (!json_is_string(v)) {
        if (k == AB_EQ_IC)
            return fail(c, "Inside anything-but/equals-ignore-case list, "
                           "number|start|null|boolean is not supported.");
        if (k == AB_WILDCARD)
            return fail(c, "wildcard match pattern must be a string");
        return fail(c, "prefix/suffix match pattern must be a string");
    }
    if ((k == AB_PREFIX || k == AB_SUFFIX) && json_string_length(v) == 0)
        return fail(c, "Null prefix/suffix not allowed");
    if (k == AB_WILDCARD)
        return compile_wild(c, v, &p->wild[p->nwild++]);
    return set_str(c, &p->list[p->nlist++], v, k == AB_EQ_IC);
}

static int compile_ab_set(cctx *c, json_t *obj, match_pred *p)
{
    json_t *inner;
    const char *op = first_member(obj, &inner);
    ab_kind k;

    if (!op)
        return fail(c, "Anything-But expression name not found");
    if (strcmp(op, "equals-ignore-case") == 0)
        k = AB_EQ_IC;
    else if (strcmp(op, "prefix") == 0)
        k = AB_PREFIX;
    else if (strcmp(op, "suffix") == 0 && c->d == MATCH_EVENTBRIDGE)
        k = AB_SUFFIX;
    else if (strcmp(op, "wildcard") == 0 && c->d == MATCH_EVENTBRIDGE)
        k = AB_WILDCARD;
    else
        return fail(c, "Unsupported anything-but pattern: %s", op);

    static const uint8_t kinds[] = { PK_AB_EQ_IC, PK_AB_PREFIX, PK_AB_SUFFIX,
                                     PK_AB_WILDCARD };
    p->kind = kinds[k];
    if (!json_is_array(inner) && !json_is_string(inner) &&
        !json_is_number(inner))
        return fail(c, "%s", AB_VALUE);

    size_t n = json_is_array(inner) ? json_array_size(inner) : 1;
    size_t want = n ? n : 1;
    if (k == AB_WILDCARD)
        p->wild = match__alloc(&c->p->arena, want * sizeof *p->wild);
    else
        p->list = match__alloc(&c->p->arena, want * sizeof *p->list);
    if (!p->wild && !p->list)
        return oom(c);

    if (json_is_array(inner)) {
        for (size_t i = 0; i < n; i++)
            if (ab_set_item(c, k, json_array_get(inner, i), p) < 0)
                return -1;
    } else if (ab_set_item(c, k, inner, p) < 0) {
        return -1;
    }
    if (json_object_size(obj) > 1)
        return fail(c, "%s", NUMERIC_TOO_MANY);
    return 0;
}

static int compile_anything_but(cctx *c, json_t *v, match_pred *p)
{
    if (json_is_object(v))
        return compile_ab_set(c, v, p);
    if (json_is_string(v)) {
        p->kind = PK_AB_STR;
        p->list = match__alloc(&c->p->arena, sizeof *p->list);
        if (!p->list)
            return oom(c);
        p->nlist = 1;
        return set_str(c, &p->list[0], v, false);
    }
    if (json_is_number(v)) {
        p->kind = PK_AB_NUM;
        p->nums = match__alloc(&c->p->arena, sizeof *p->nums);
        if (!p->nums)
            return oom(c);
        p->nums[0] = json_number_value(v);
        p->nnums = 1;
        return 0;
    }
    if (!json_is_array(v))
        return fail(c, "%s", AB_VALUE);

    size_t n = json_array_size(v);
    bool strings = false, numbers = false;
    p->list = match__alloc(&c->p->arena, (n ? n : 1) * sizeof *p->list);
    p->nums = match__alloc(&c->p->arena, (n ? n : 1) * sizeof *p->nums);
    if (!p->list || !p->nums)
        return oom(c);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(v, i);
        if (json_is_string(e)) {
            strings = true;
            if (set_str(c, &p->list[p->nlist++], e, false) < 0)
                return -1;
        } else if (json_is_number(e)) {
            numbers = true;
            p->nums[p->nnums++] = json_number_value(e);
        } else {
            return fail(c, "Inside anything but list, start|null|boolean "
                           "is not supported.");
        }
    }
    if (strings == numbers)
        return fail(c, "Inside anything but list, either all values are "
                       "number or string, mixed type is not supported");
    p->kind = strings ? PK_AB_STR : PK_AB_NUM;
    return 0;
}

/* One operator's value -> predicate.  *absent is set for exists:false. */
typedef int (*op_fn)(cctx *c, json_t *v, match_pred *p, bool *absent);

static int op_affix(cctx *c, json_t *v, match_pred *p, bool pre)
{
    const char *name = pre ? "prefix" : "suffix";
    if (json_is_object(v)) {
        p->kind = pre ? PK_PREFIX_IC : PK_SUFFIX_IC;
        return compile_affix_ic(c, v, name, pre ? "Prefix" : "Suffix", p);
    }
    if (!json_is_string(v))
        return fail(c, "%s match pattern must be a string", name);
    p->kind = pre ? PK_PREFIX : PK_SUFFIX;
    return set_str(c, &p->str, v, false);
}

static int op_prefix(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    return op_affix(c, v, p, true);
}

static int op_suffix(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    return op_affix(c, v, p, false);
}

static int op_eq_ic(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    if (!json_is_string(v))
        return fail(c, "equals-ignore-case match pattern must be a string");
    p->kind = PK_EQ_IC;
    return set_str(c, &p->str, v, true);
}

static int op_wildcard(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    if (!json_is_string(v))
        return fail(c, "wildcard match pattern must be a string");
    p->kind = PK_WILDCARD;
    p->wild = match__alloc(&c->p->arena, sizeof *p->wild);
    if (!p->wild)
        return oom(c);
    p->nwild = 1;
    return compile_wild(c, v, p->wild);
}

static int op_numeric(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    if (!json_is_array(v))
        return fail(c, "Value of numeric must be an array.");
    return compile_numeric(c, v, p);
}

static int op_anything_but(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    return compile_anything_but(c, v, p);
}

static int op_exists(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    if (!json_is_boolean(v))
        return fail(c, "exists match pattern must be either true or false.");
    p->kind = PK_EXISTS;
    *absent = json_is_false(v);
    return 0;
}

static int op_cidr(cctx *c, json_t *v, match_pred *p, bool *absent)
{
    (void)absent;
    if (!json_is_string(v))
        return fail(c, "prefix match pattern must be a string");
    return compile_cidr(c, v, p);
}

/* The operators, the text for a second key in the expression, and
 * whether SNS accepts them. */
static const struct {
    const char *name;
    op_fn fn;
    const char *extra_key;
    bool sns;
} OPERATORS[] = {
    { "prefix", op_prefix, ONE_KEY, true },
    { "suffix", op_suffix, ONE_KEY, true },
    { "equals-ignore-case", op_eq_ic, ONE_KEY, true },
    { "wildcard", op_wildcard, ONE_KEY, false },
    { "numeric", op_numeric, NUMERIC_TOO_MANY, true },
    { "anything-but", op_anything_but, NUMERIC_TOO_MANY, true },
    { "exists", op_exists, ONE_KEY, true },
    { "cidr", op_cidr, ONE_KEY, true },
};

/* {"<operator>": ...} inside a value array.  *absent is set for
 * {"exists": false}, which adds no predicate. */
static int compile_match_expr(cctx *c, json_t *obj, match_pred *p,
                              bool *absent)
{
    json_t *v;
    const char *name = first_member(obj, &v);

    if (!name)
        return fail(c, "Match expression name not found");
    for (size_t i = 0; i < sizeof OPERATORS / sizeof OPERATORS[0]; i++) {
        if (strcmp(name, OPERATORS[i].name) != 0)
            continue;
        if (!OPERATORS[i].sns && c->d != MATCH_EVENTBRIDGE)
            break;
        if (OPERATORS[i].fn(c, v, p, absent) < 0)
            return -1;
        if (json_object_size(obj) > 1)
            return fail(c, "%s", OPERATORS[i].extra_key);
        return 0;
    }
    return fail(c, "Unrecognized match type %s", name);
}

/* A field's value array -> a match_field. */
static match_field *compile_field(cctx *c, const char *path, size_t plen,
                                  json_t *arr)
{
    size_t n = json_array_size(arr);
    match_field *f = match__alloc(&c->p->arena, sizeof *f);
    if (!f || !(f->path = match__dup(&c->p->arena, path, plen)) ||
        !(f->preds = match__alloc(&c->p->arena,
                                  (n ? n : 1) * sizeof *f->preds))) {
        oom(c);
        return NULL;
    }
    f->plen = plen;
    f->phash = match__hash(path, plen, MATCH_HASH_SEED);
    f->nvalues = n;

    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(arr, i);
        match_pred *p = &f->preds[f->npreds];
        bool absent = false;

        switch (json_typeof(e)) {
        case JSON_OBJECT:
            if (compile_match_expr(c, e, p, &absent) < 0)
                return NULL;
            if (absent)
                f->absent_ok = true;
            else
                f->npreds++;
            break;
        case JSON_STRING: {
            match_ip ip;
            if (match__parse_ip(json_string_value(e), json_string_length(e),
                                &ip)) {
                p->kind = PK_IP_RANGE;
                p->iplo = p->iphi = ip;
            } else {
                p->kind = PK_EXACT_STR;
                if (set_str(c, &p->str, e, false) < 0)
                    return NULL;
            }
            f->npreds++;
            break;
        }
        case JSON_INTEGER:
        case JSON_REAL:
            p->kind = PK_EXACT_NUM;
            p->num = json_number_value(e);
            f->npreds++;
            break;
        case JSON_TRUE:
            p->kind = PK_TRUE;
            f->npreds++;
            break;
        case JSON_FALSE:
            p->kind = PK_FALSE;
            f->npreds++;
            break;
        case JSON_NULL:
            p->kind = PK_NULL;
            f->npreds++;
            break;
        case JSON_ARRAY:
            fail(c, "Match value must be String, number, true, false, or "
                    "null");
            return NULL;
        }
    }
    if (n == 0) {
        fail(c, "Empty arrays are not allowed");
        return NULL;
    }
    return f;
}

/* ------------------------------------------------------------------ */
/* Structure                                                           */

static int compile_object(cctx *c, json_t *obj, const char *prefix,
                          size_t plen, rvec *rules, bool in_or);

static int branch_limit(cctx *c, size_t n)
{
    if (c->d == MATCH_EVENTBRIDGE && n > EB_MAX_BRANCHES)
        return fail(c, "Event pattern is too complex: more than %d $or "
                       "combinations", EB_MAX_BRANCHES);
    /* Every SNS branch adds at least 1 to the combination count. */
    if (c->d != MATCH_EVENTBRIDGE && n > SNS_MAX_COMBINATIONS)
        return fail(c, "Filter policy is too complex");
    return 0;
}

static int compile_or(cctx *c, json_t *arr, const char *prefix, size_t plen,
                      rvec *rules)
{
    rvec cur;
    size_t count = 0;

    if (!json_is_array(arr))
        return fail(c, "It must be an Array followed with $or.");
    if (rvec_copy(&cur, rules) < 0)
        return oom(c);
    rvec_clear(rules);

    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        rvec alt;
        count++;
        if (!json_is_object(e)) {
            rvec_clear(&cur);
            return fail(c, "Only JSON object is allowed in array of $or "
                           "relationship.");
        }
        if (rvec_copy(&alt, &cur) < 0) {
            rvec_clear(&cur);
            return oom(c);
        }
        if (compile_object(c, e, prefix, plen, &alt, true) < 0) {
            rvec_clear(&alt);
            rvec_clear(&cur);
            return -1;
        }
        for (size_t k = 0; k < alt.n; k++) {
            if (rvec_push(rules, alt.b[k]) < 0) {
                for (size_t j = k; j < alt.n; j++)
                    free(alt.b[j].f);
                free(alt.b);
                rvec_clear(&cur);
                return oom(c);
            }
        }
        free(alt.b);
        if (branch_limit(c, rules->n) < 0) {
            rvec_clear(&cur);
            return -1;
        }
    }
    rvec_clear(&cur);
    if (count < 2)
        return fail(c, "There must have at least 2 Objects in $or "
                       "relationship.");
    return 0;
}

static int compile_object(cctx *c, json_t *obj, const char *prefix,
                          size_t plen, rvec *rules, bool in_or)
{
    if (json_object_size(obj) == 0)
        return fail(c, "Empty objects are not allowed");

    for (void *it = json_object_iter(obj); it;
         it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        json_t *v = json_object_iter_value(it);

        if (klen == 3 && memcmp(key, "$or", 3) == 0) {
            if (compile_or(c, v, prefix, plen, rules) < 0)
                return -1;
            continue;
        }
        if (in_or) {
            for (size_t r = 0; reserved_in_or[r]; r++)
                if (strcmp(key, reserved_in_or[r]) == 0)
                    return fail(c, "%s is Ruler reserved fieldName which "
                                   "cannot be used inside $or.", key);
        }

        /* path = prefix "." key */
        size_t len = plen ? plen + 1 + klen : klen;
        char *path = malloc(len + 1);
        if (!path)
            return oom(c);
        if (plen) {
            memcpy(path, prefix, plen);
            path[plen] = '.';
        }
        memcpy(path + (plen ? plen + 1 : 0), key, klen);
        path[len] = '\0';

        int rc = 0;
        if (json_is_object(v)) {
            /* SNS reports nesting in the attributes scope only after the
             * policy passed the common syntax checks. */
            c->nested = true;
            rc = compile_object(c, v, path, len, rules, in_or);
        } else if (json_is_array(v)) {
            match_field *f = compile_field(c, path, len, v);
            if (!f)
                rc = -1;
            else if (rvec_put(rules, f) < 0)
                rc = oom(c);
        } else {
            rc = fail(c, "\"%s\" must be an object or an array", key);
        }
        free(path);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Number of segments of a path: 1 for "a", 3 for "a.b.c". */
static size_t path_depth(const match_field *f)
{
    size_t depth = 1;
    for (size_t i = 0; i < f->plen; i++)
        depth += f->path[i] == '.';
    return depth;
}

/* Length of the first segment (the top-level key) of a path. */
static size_t top_key_len(const match_field *f)
{
    const char *dot = memchr(f->path, '.', f->plen);
    return dot ? (size_t)(dot - f->path) : f->plen;
}

/*
 * SNS limits.  Keys: at most 5 distinct top-level keys (for a nested
 * policy only parent keys count).  Combinations: for each $or branch the
 * product, over its fields, of (nesting depth x number of values); the
 * branches are summed and the total must not exceed 150.
 */
static int sns_limits(cctx *c, const rvec *rules)
{
    const match_field *keys[SNS_MAX_KEYS + 1];
    size_t nkeys = 0;
    double combos = 0;

    for (size_t i = 0; i < rules->n; i++) {
        double prod = 1;
        for (size_t j = 0; j < rules->b[i].n; j++) {
            const match_field *f = rules->b[i].f[j];
            size_t tl = top_key_len(f);
            bool seen = false;
            for (size_t k = 0; k < nkeys && !seen; k++)
                seen = top_key_len(keys[k]) == tl &&
                       memcmp(keys[k]->path, f->path, tl) == 0;
            if (!seen) {
                if (nkeys == SNS_MAX_KEYS)
                    return fail(c, "Filter policy can not have more than "
                                   "5 keys");
                keys[nkeys++] = f;
            }
            prod *= (double)(path_depth(f) * f->nvalues);
        }
        combos += prod;
    }
    if (combos > SNS_MAX_COMBINATIONS)
        return fail(c, "Filter policy is too complex");
    return 0;
}

/* Move the branch lists into the pattern's arena. */
static int finish(cctx *c, const rvec *rules)
{
    match_pattern *p = c->p;
    p->nbr = rules->n;
    p->br = match__alloc(&p->arena, (rules->n ? rules->n : 1) * sizeof *p->br);
    if (!p->br)
        return oom(c);
    for (size_t i = 0; i < rules->n; i++) {
        size_t n = rules->b[i].n;
        p->br[i].f = match__alloc(&p->arena, (n ? n : 1) * sizeof(void *));
        if (!p->br[i].f)
            return oom(c);
        memcpy(p->br[i].f, rules->b[i].f, n * sizeof(void *));
        p->br[i].n = n;
    }
    return 0;
}

/*
 * Invalid JSON.  AWS reports the parser's (Jackson's) message and the
 * location; the two most common ones are rebuilt from jansson's report,
 * anything else keeps jansson's wording.
 */
#define SOURCE_SHOWN 500

static void json_syntax_error(cctx *c, const char *json, size_t len,
                              const json_error_t *e)
{
    char near[64] = "";
    const char *q = strstr(e->text, "near '");
    int column = e->column;

    /* jansson quotes the offending token: near 'this', or near ''' */
    if (q) {
        q += 6;
        size_t n = strlen(q);
        if (n > 0 && q[n - 1] == '\'')
            n--;
        if (n >= sizeof near)
            n = sizeof near - 1;
        memcpy(near, q, n);
        near[n] = '\0';
    }

    char reason[256];
    if (strncmp(e->text, "invalid token", 13) == 0 && near[0]) {
        snprintf(reason, sizeof reason, "Unrecognized token '%s': was "
                 "expecting (JSON String, Number, Array, Object or token "
                 "'null', 'true' or 'false')", near);
        column++;
    } else if (strncmp(e->text, "string or '}' expected", 22) == 0 &&
               strlen(near) == 1) {
        snprintf(reason, sizeof reason, "Unexpected character ('%c' (code "
                 "%d)): was expecting double-quote to start field name",
                 near[0], (unsigned char)near[0]);
    } else {
        fail(c, "%s", e->text);
        return;
    }

    size_t shown = len > SOURCE_SHOWN ? SOURCE_SHOWN : len;
    char more[48] = "";
    if (len > shown)
        snprintf(more, sizeof more, "[truncated %zu chars]", len - shown);
    fail(c, "%s\n at [Source: (String)\"%.*s\"%s; line: %d, column: %d]",
         reason, (int)shown, json, more, e->line, column);
}

match_pattern *match_compile(const char *json, size_t len, match_dialect d,
                             char *err, size_t errlen)
{
    json_error_t jerr;
    cctx c = { .d = d, .err = err, .errlen = errlen };
    rvec rules = { 0 };
    int rc = -1;

    if (err && errlen)
        err[0] = '\0';
    json_t *root = json_loadb(json ? json : "", len,
                              JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL |
                              JSON_ALLOW_NUL, &jerr);
    if (!root) {
        json_syntax_error(&c, json ? json : "", len, &jerr);
        return NULL;
    }
    if (!json_is_object(root)) {
        fail(&c, "Filter is not an object");
        json_decref(root);
        return NULL;
    }
    c.p = calloc(1, sizeof *c.p);
    if (!c.p) {
        oom(&c);
        json_decref(root);
        return NULL;
    }
    c.p->dialect = d;

    if (compile_object(&c, root, "", 0, &rules, false) < 0)
        goto out;
    if (branch_limit(&c, rules.n) < 0)
        goto out;
    if (d == MATCH_SNS_ATTRIBUTES && c.nested) {
        fail(&c, "Filter policy scope MessageAttributes does not support "
                 "nested filter policy");
        goto out;
    }
    if (d != MATCH_EVENTBRIDGE && sns_limits(&c, &rules) < 0)
        goto out;
    rc = finish(&c, &rules);
out:
    rvec_clear(&rules);
    json_decref(root);
    if (rc < 0) {
        match_free(c.p);
        return NULL;
    }
    return c.p;
}

void match_free(match_pattern *p)
{
    if (!p)
        return;
    match__arena_free(&p->arena);
    free(p);
}

match_dialect match_pattern_dialect(const match_pattern *p)
{
    return p->dialect;
}

size_t match_pattern_branches(const match_pattern *p)
{
    return p->nbr;
}
