/*
 * fuzz_json.c - the AWS JSON request decoder and the response encoder
 * (wire/json_decode.h), which every JSON-protocol request body and every
 * JSON response passes through.
 *
 * Input: the raw request body.
 *
 * Properties checked:
 *  - json_decode never accepts text that is not UTF-8;
 *  - whatever it accepts, json_encode writes as text that is UTF-8, that
 *    jansson's strict parser reads back to an equivalent value, and that
 *    json_decode itself reads back to an equivalent value (the round trip);
 *  - encoding is deterministic (the same text twice).
 * With FUZZ_JSON_DIFF=1 in the environment it also requires json_decode and
 * jansson's strict parser to agree on acceptance and on the value (an
 * exploration mode: the two are known to differ, see the fuzz report).
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "wire/json_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Read once at start (owned by this file, never written afterwards). */
static bool diff_mode;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *e = getenv("FUZZ_JSON_DIFF");
    diff_mode = e && *e == '1';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *v = json_decode(text, size);

    if (diff_mode) {
        json_error_t err;
        json_t *ref = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        FUZZ_CHECK(!v == !ref, "json_decode %s what jansson %s (%s)",
                   v ? "accepts" : "rejects", ref ? "accepts" : "rejects",
                   ref ? "" : err.text);
        if (v)
            FUZZ_CHECK(fuzz_json_equiv(v, ref, 0), "json_decode and jansson disagree on value");
        json_decref(ref);
    }
    if (!v)
        return 0;
    FUZZ_CHECK(fuzz_utf8_ok(text, size), "json_decode accepted text that is not UTF-8");

    char *enc = json_encode(v);
    FUZZ_CHECK(enc != NULL, "json_encode failed on a decoded value");
    size_t elen = strlen(enc);
    FUZZ_CHECK(fuzz_utf8_ok(enc, elen), "json_encode wrote text that is not UTF-8");

    json_error_t err;
    json_t *strict = json_loads(enc, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    FUZZ_CHECK(strict != NULL, "json_encode wrote invalid JSON (%s): %.200s", err.text, enc);
    FUZZ_CHECK(fuzz_json_equiv(v, strict, 0), "json_encode text means another value: %.200s",
               enc);
    json_decref(strict);

    json_t *back = json_decode(enc, elen);
    FUZZ_CHECK(back != NULL, "json_decode rejects json_encode's output: %.200s", enc);
    FUZZ_CHECK(fuzz_json_equiv(v, back, 0), "round trip changed the value: %.200s", enc);

    char *enc2 = json_encode(back);
    FUZZ_CHECK(enc2 && strcmp(enc, enc2) == 0, "encoding is not stable: %.200s", enc);
    free(enc2);
    json_decref(back);
    free(enc);
    json_decref(v);
    return 0;
}
