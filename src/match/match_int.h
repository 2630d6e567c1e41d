/*
 * match_int.h - the engine's internal data structures, shared by the files
 * of src/match/ and by nothing else.  Names with the match__ prefix are
 * internal to the module.
 *
 *   compile.c  JSON pattern -> match_pattern (validation, $or expansion)
 *   doc.c      JSON event / SNS attributes -> match_doc (flattened leaves)
 *   eval.c     predicates, branches, array consistency
 *   set.c      match_set: rule index and run
 *   text.c     case folding, wildcards, IP addresses, hashing, arenas
 */
#ifndef SLUICE_MATCH_INT_H
#define SLUICE_MATCH_INT_H

#include "match/match.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Leaf types: JSON types never cross. */
enum { MV_STRING, MV_NUMBER, MV_TRUE, MV_FALSE, MV_NULL };

#define MATCH_NONE UINT32_MAX

/* An IP address: fam 0 (not an address), 4 or 6; bytes in network order. */
typedef struct {
    uint8_t fam;
    uint8_t b[16];
} match_ip;

/* ------------------------------------------------------------------ */
/* Arena: bump allocation, freed in one call.                          */

typedef struct match_chunk match_chunk;
typedef struct {
    match_chunk *head;
    size_t used, size;
} match_arena;

void *match__alloc(match_arena *a, size_t n);
char *match__dup(match_arena *a, const char *s, size_t n);
void match__arena_free(match_arena *a);

/* ------------------------------------------------------------------ */
/* Text helpers (text.c).                                              */

uint64_t match__hash(const void *p, size_t n, uint64_t seed);
#define MATCH_HASH_SEED 0xcbf29ce484222325ULL

/* Simple case folding of UTF-8: out gets len bytes (the mapping keeps
 * every byte length).  ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic. */
void match__fold(const char *s, size_t len, char *out);

/* Parse an IP literal the way ruler recognises one (dotted quad, or hex
 * digits and colons).  Returns true and fills ip. */
bool match__parse_ip(const char *s, size_t len, match_ip *ip);

/* A compiled wildcard: pieces between unescaped stars (npieces = stars+1). */
typedef struct {
    char **piece;
    size_t *plen;
    size_t npieces;
} match_wild;

/* Parse a wildcard text.  Returns 0, or -1 with the AWS error in err. */
int match__wild_parse(match_arena *a, const char *s, size_t len,
                      match_wild *w, char *err, size_t errlen);
/* Worst-case number of simultaneously live automaton states; exploration
 * stops as soon as the count exceeds limit. */
size_t match__wild_complexity(const match_wild *w, size_t limit);
bool match__wild_match(const match_wild *w, const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* Compiled patterns.                                                  */

typedef enum {
    PK_EXACT_STR,   /* str */
    PK_EXACT_NUM,   /* num */
    PK_TRUE,
    PK_FALSE,
    PK_NULL,
    PK_IP_RANGE,    /* iplo..iphi, from an IP literal or a cidr */
    PK_PREFIX,      /* str */
    PK_PREFIX_IC,   /* str, folded */
    PK_SUFFIX,
    PK_SUFFIX_IC,
    PK_EQ_IC,       /* str, folded */
    PK_WILDCARD,    /* wild[0] */
    PK_NUMERIC,     /* lo/hi */
    PK_EXISTS,      /* exists:true (exists:false is field->absent_ok) */
    PK_AB_STR,      /* anything-but strings: list */
    PK_AB_NUM,      /* anything-but numbers: nums */
    PK_AB_PREFIX,   /* list */
    PK_AB_SUFFIX,   /* list */
    PK_AB_EQ_IC,    /* list, folded */
    PK_AB_WILDCARD  /* wild[] */
} match_pk;

typedef struct {
    char *s;
    size_t len;
} match_str;

typedef struct {
    uint8_t kind;
    bool has_lo, has_hi, lo_open, hi_open;
    match_str str;
    double num, lo, hi;
    match_ip iplo, iphi;
    match_str *list;
    size_t nlist;
    double *nums;
    size_t nnums;
    match_wild *wild;
    size_t nwild;
} match_pred;

/* One field of a branch: a path and the OR of its predicates. */
typedef struct {
    char *path;
    size_t plen;
    uint64_t phash;
    match_pred *preds;
    size_t npreds;
    size_t nvalues;   /* elements in the pattern's value array */
    bool absent_ok;   /* the array holds {"exists": false} */
} match_field;

/* One alternative after $or expansion: the AND of its fields. */
typedef struct {
    match_field **f;
    size_t n;
} match_branch;

struct match_pattern {
    match_dialect dialect;
    match_arena arena;     /* owns fields, predicates, strings */
    match_branch *br;      /* arena */
    size_t nbr;
};

/* ------------------------------------------------------------------ */
/* Flattened documents.                                                */

typedef struct {
    uint32_t array;   /* id of the array node in the doc */
    uint32_t index;   /* element index within it */
} match_step;

typedef struct {
    uint32_t path;    /* index into doc->paths */
    uint32_t next;    /* next leaf with the same path, or MATCH_NONE */
    uint32_t trail;   /* offset of the array trail in doc->trail */
    uint32_t ntrail;
    uint8_t type;     /* MV_* */
    const char *s;    /* string bytes or number literal text */
    size_t len;
    double num;
} match_leaf;

typedef struct {
    const char *s;
    size_t len;
    uint64_t hash;
    uint32_t first;   /* first leaf, chain through leaf.next */
    uint32_t count;
} match_dpath;

struct match_doc {
    bool attrs;        /* made from SNS message attributes */
    size_t nattrs;     /* attributes of any type, Binary included */
    bool has_arrays;
    json_t *root;      /* parsed docs: the tree leaf strings point into */
    match_arena arena;
    match_leaf *leaves;
    size_t nleaves, capleaves;
    match_step *trail;
    size_t ntrail, captrail;
    match_dpath *paths;
    size_t npaths, cappaths;
    uint32_t *ptab;    /* open addressing over paths: index + 1, 0 empty */
    size_t ptabcap;
};

/* Path lookup in a doc: returns the path index or MATCH_NONE. */
uint32_t match__doc_path(const match_doc *d, const char *s, size_t len,
                         uint64_t hash);

/* ------------------------------------------------------------------ */
/* Evaluation (eval.c).                                                */

bool match__pred_leaf(const match_pred *p, const match_leaf *l,
                      match_dialect d);
bool match__branch(const match_pattern *p, const match_branch *b,
                   const match_doc *doc);
bool match__doc_kind_ok(const match_pattern *p, const match_doc *doc);

#endif
