/*
 * match.h - the event-pattern engine shared by EventBridge event patterns
 * and SNS subscription filter policies ("one engine, two dialects").
 *
 * Pure: JSON bytes in, verdicts out.  No I/O, no logging, no globals.
 * A compiled pattern is immutable and may be read by many threads at once;
 * a match_set and a match_doc are single-threaded objects (one thread at a
 * time per object).  The design note is docs/match.md.
 *
 * Typical use:
 *   char err[MATCH_ERR_MAX];
 *   match_pattern *p = match_compile(json, len, MATCH_EVENTBRIDGE,
 *                                    err, sizeof err);
 *   if (!p) -> InvalidEventPatternException "Event pattern is not valid.
 *              Reason: " + err
 *   bool hit = match_event(p, event, event_len);
 *
 * Many rules against one event: add them to a match_set and call
 * match_set_run(), which indexes the rules so that an event costs time
 * close to its own size rather than to the number of rules.
 */
#ifndef SLUICE_MATCH_H
#define SLUICE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which rules apply at compile and match time. */
typedef enum {
    MATCH_EVENTBRIDGE = 0,  /* EventBridge event pattern */
    MATCH_SNS_ATTRIBUTES,   /* SNS filter policy, FilterPolicyScope
                               MessageAttributes (the default scope) */
    MATCH_SNS_BODY          /* SNS filter policy, scope MessageBody */
} match_dialect;

typedef struct match_pattern match_pattern;
typedef struct match_doc match_doc;
typedef struct match_set match_set;

/* One SNS message attribute as the publisher sent it.  `type` is the
 * DataType ("String", "Number", "String.Array", "Binary", optionally with a
 * custom ".suffix"); `value` is the StringValue (for Binary anything, it is
 * ignored).  Strings need not be NUL-terminated: lengths are explicit. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *type;
    size_t type_len;
    const char *value;
    size_t value_len;
} match_attr;

/* Largest error text match_compile writes (including the NUL). */
#define MATCH_ERR_MAX 1024

/*
 * Compile the pattern `json` (len bytes, need not be NUL-terminated) for
 * dialect d.  Returns a new pattern owned by the caller (free with
 * match_free), or NULL when the pattern is invalid; then err (if not NULL)
 * receives AWS's reason text, truncated to errlen, e.g. "Empty arrays are
 * not allowed".  The caller adds AWS's envelope around it
 * ("Event pattern is not valid. Reason: ..." or
 * "Invalid parameter: FilterPolicy: ...").  One SNS text is enveloped
 * differently by AWS: "Filter policy scope MessageAttributes does not
 * support nested filter policy" comes as "Invalid parameter: <text>".
 * Invalid JSON yields the JSON parser's message, which for the common
 * cases carries Jackson's wording and a "\n at [Source: ...]" line.
 * Out of memory also returns NULL, with err "Out of memory".
 */
match_pattern *match_compile(const char *json, size_t len, match_dialect d,
                             char *err, size_t errlen);

/* Free a pattern (NULL is fine).  Not for a pattern handed to a set. */
void match_free(match_pattern *p);

/* The dialect a pattern was compiled for. */
match_dialect match_pattern_dialect(const match_pattern *p);

/* Number of alternatives after $or expansion (1 without $or). */
size_t match_pattern_branches(const match_pattern *p);

/*
 * Match an EventBridge event, or an SNS message body (MATCH_SNS_BODY), given
 * as JSON text.  Returns false when the text is not a JSON object (invalid
 * JSON, a JSON string, an array, plain text never match).  A pattern of
 * dialect MATCH_SNS_ATTRIBUTES returns false here: use match_attributes.
 */
bool match_event(const match_pattern *p, const char *json, size_t len);

/*
 * Match SNS message attributes (MATCH_SNS_ATTRIBUTES patterns).  attrs may
 * be NULL when n is 0.  Returns false for a pattern of another dialect.
 */
bool match_attributes(const match_pattern *p, const match_attr *attrs,
                      size_t n);

/*
 * A parsed, flattened event: parse once, test against many patterns.
 * match_doc_parse returns NULL when json is not a JSON object (or out of
 * memory).  match_doc_from_attributes never fails except out of memory.
 * The doc copies what it needs; the caller's buffers may go away after the
 * call.  Free with match_doc_free.
 */
match_doc *match_doc_parse(const char *json, size_t len);
match_doc *match_doc_from_attributes(const match_attr *attrs, size_t n);
void match_doc_free(match_doc *doc);

/* Test one pattern against a doc.  A doc made from attributes only matches
 * MATCH_SNS_ATTRIBUTES patterns, a parsed doc only the other two. */
bool match_doc_test(const match_pattern *p, const match_doc *doc);

/*
 * Call fn(ctx, path, value_json) for every flattened (path, leaf) pair of
 * the doc in document order; value_json is the leaf as JSON text (strings
 * quoted and escaped, numbers in their shortest round-trip form, which may
 * differ from the event's spelling).  For debugging and tooling.
 * Returns the number of pairs.
 */
size_t match_doc_leaves(const match_doc *doc,
                        void (*fn)(void *ctx, const char *path,
                                   const char *value_json),
                        void *ctx);

/* ------------------------------------------------------------------ */
/* Rule sets                                                           */

/* Called once per matching pattern id, in no particular order. */
typedef void (*match_set_fn)(void *ctx, uint64_t id);

/* A new empty set, or NULL when out of memory.  Free with match_set_free. */
match_set *match_set_new(void);

/* Free the set and every pattern it owns (NULL is fine). */
void match_set_free(match_set *set);

/*
 * Add pattern p under the caller's id.  The set takes ownership of p on
 * success (return 0); on failure (-1, out of memory) the caller keeps it.
 * Ids need not be unique: each added pattern reports its own id.  Patterns
 * of different dialects may share a set; each only matches docs of its kind.
 * Adding or removing marks the index stale; the next run rebuilds it (cost
 * linear in the total size of the set).
 */
int match_set_add(match_set *set, uint64_t id, match_pattern *p);

/* Remove (and free) every pattern added under id; returns how many. */
size_t match_set_remove(match_set *set, uint64_t id);

/* Number of patterns in the set. */
size_t match_set_count(const match_set *set);

/*
 * Report through fn every pattern of the set that matches doc, each once.
 * Returns the number of matches, or -1 when the index could not be built
 * (out of memory).  Not reentrant on one set: the run uses scratch space
 * kept in the set.
 */
int match_set_run_doc(match_set *set, const match_doc *doc, match_set_fn fn,
                      void *ctx);

/* Same for an event given as JSON text; returns -1 also when the text is
 * not a JSON object. */
int match_set_run(match_set *set, const char *json, size_t len,
                  match_set_fn fn, void *ctx);

#endif
