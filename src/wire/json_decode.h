/*
 * json_decode.h - parsing the body of an AWS JSON request into jansson.
 *
 * jansson is the project's JSON model, but its parser costs about 150
 * instructions a byte (measured with callgrind on 1 KB SendMessage bodies:
 * 46 % of the server's work).  cJSON's parser, also from Debian, is several
 * times cheaper, so request bodies are parsed with cJSON and the tree is
 * copied into jansson values.  Bodies cJSON cannot represent faithfully
 * (an escaped NUL, which it would truncate) go through jansson's parser.
 * Responses are written the same way round: jansson tree, copied into cJSON,
 * printed by cJSON (jansson's printer cost 30 % of the batch path).
 */
#ifndef SLUICE_JSON_DECODE_H
#define SLUICE_JSON_DECODE_H

#include <jansson.h>
#include <stddef.h>

/* Parses text[0..len) (must be valid UTF-8 JSON).  Returns a new value, or
 * NULL if the text is not valid JSON or not valid UTF-8. */
json_t *json_decode(const char *text, size_t len);

/* Makes jansson and cJSON allocate through mem_malloc (core/buf.h), so
 * their allocation failures are counted.  Call once, before other threads
 * use either library. */
void json_count_allocations(void);

/* Writes v as compact JSON, the same text json_dumps would write, through
 * cJSON's printer (several times cheaper than jansson's on long strings).
 * Returns malloc'd text the caller frees. */
char *json_encode(const json_t *v);

#endif
