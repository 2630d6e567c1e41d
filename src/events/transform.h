/*
 * transform.h - the pure parts of EventBridge delivery: the event envelope,
 * JSONPath lookups, and what a target receives (Input, InputPath,
 * InputTransformer), following docs/events.md and the semantics reference.
 *
 * No I/O and no service state, so the unit tests drive these directly.
 */
#ifndef SLUICE_EVENTS_TRANSFORM_H
#define SLUICE_EVENTS_TRANSFORM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The fields of a PutEvents entry an envelope is made from. */
typedef struct events_entry {
    const char *id;           /* event id (UUID text) */
    const char *source;
    const char *detail_type;
    json_t *detail;           /* parsed Detail object (borrowed) */
    json_t *resources;        /* array of strings, or NULL */
    int64_t time_s;           /* event time, seconds since the epoch */
    const char *account;
    const char *region;
} events_entry;

/* A new envelope object in AWS's field order: version, id, detail-type,
 * source, account, time, region, resources, detail.  Caller owns it. */
json_t *events_envelope(const events_entry *e);

/* Writes "yyyy-mm-ddThh:mm:ssZ" for time_s into out (>= 21 bytes). */
void events_format_time(int64_t time_s, char *out, size_t outlen);

/* Looks up a JSONPath ("$", "$.a.b", "$.a[0]", "$['a-b'].c") in doc.
 * Returns the value (borrowed) or NULL when the path does not resolve or is
 * malformed. */
json_t *events_jsonpath(json_t *doc, const char *path);
/* True if path is a syntactically valid JSONPath of the forms above. */
int events_jsonpath_valid(const char *path);

/* What a transformer's reserved variables expand to. */
typedef struct events_context {
    const char *rule_arn;
    const char *rule_name;
    const char *ingestion_time;  /* ISO-8601 */
} events_context;

/*
 * Validates an InputTransformer object (InputPathsMap, InputTemplate) for
 * target_id.  Returns 0, or -1 with AWS's ValidationException message in
 * err.
 */
int events_transformer_validate(json_t *transformer, const char *target_id, char *err,
                                size_t errlen);

/*
 * Renders what a target receives for event (the envelope object; event_text
 * its JSON text): the Input constant, the InputPath selection, the
 * InputTransformer output, or else the whole event.  Returns a malloc'd
 * string in *out and 0, or 1 when AWS would silently not deliver (the
 * transformer produced invalid JSON, or InputPath selects nothing).
 */
int events_render_input(json_t *target, json_t *event, const char *event_text,
                        const events_context *ctx, char **out);

/* The PutEvents size of an entry as AWS counts it (Time 14 bytes if set,
 * then the UTF-8 bytes of Source, DetailType, Detail and each resource). */
size_t events_entry_size(json_t *entry);

#endif
