/*
 * query.h - the AWS Query protocol: form parameters in, XML out.
 *
 * Decoding turns `Attribute.1.Name=a&Attribute.1.Value=b` style parameters
 * into the JSON protocol's shape (`{"Attributes": {"a": "b"}}`) following a
 * service's rename rules, so a handler is written once for both protocols.
 * Encoding walks the handler's JSON output and writes the XML AWS writes,
 * again following the service's rules for lists and maps.
 */
#ifndef SLUICE_QUERY_H
#define SLUICE_QUERY_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "wire/api.h"
#include "wire/form.h"

typedef enum query_shape { QUERY_LIST, QUERY_MAP } query_shape;

/* Input: a parameter prefix and what it becomes in the JSON shape. */
typedef struct query_in_rule {
    const char *query_name;  /* "Attribute" */
    const char *json_name;   /* "Attributes" */
    query_shape shape;
    const char *key_name;    /* maps: the entry's key member ("Name") */
    const char *value_name;  /* maps: the entry's value member ("Value") */
} query_in_rule;

/* Output: a JSON member and the XML elements it becomes. */
typedef struct query_out_rule {
    const char *json_name;   /* "Attributes" */
    const char *action;      /* only for this action, or NULL for any */
    const char *element;     /* "Attribute" */
    query_shape shape;
    const char *key_name;
    const char *value_name;
} query_out_rule;

typedef struct query_rules {
    const query_in_rule *in;    /* terminated by a zeroed row */
    const query_out_rule *out;  /* terminated by a zeroed row */
    bool flattened;             /* lists as repeated elements (SQS) or <member> (SNS) */
} query_rules;

/* Builds the JSON-shaped input from decoded form pairs (Action and Version
 * are left out).  Returns a new object. */
json_t *query_to_json(const form *f, const query_rules *rules);

/* Writes <ActionResponse><ActionResult>...</ActionResult>
 * <ResponseMetadata>...</ResponseMetadata></ActionResponse>. */
void query_render_result(buf *out, const api_service *svc, const char *action, json_t *output,
                         const char *request_id);
/* Writes <ErrorResponse>. */
void query_render_error(buf *out, const char *xml_namespace, const aws_error *e,
                        const char *message, const char *request_id);

/* XML text escaping (also \r as &#xD; so it survives parsing). */
void xml_escape(buf *out, const char *s, size_t n);

#endif
