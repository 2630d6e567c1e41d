/*
 * fuzz_sigv4.c - SigV4 parsing: the Authorization header, credential
 * scopes, dates, presigned query strings, and the canonical request built
 * from whatever the client sent (wire/sigv4.h).
 *
 * Input, line by line ('\n'):
 *   method
 *   path
 *   query            (an empty line means no query string)
 *   Name: value      (headers, up to 32, until an empty line)
 *   body             (everything after the empty line)
 * Each line is also fed alone to the small parsers (credential, header
 * scope, both date formats).
 *
 * Properties checked: the parsed scope's fields are NUL-terminated within
 * their arrays and non-empty; a request that parses has a 64-hex-digit
 * signature and signs host; verification at the request's own time ends in
 * OK or MISMATCH (never EXPIRED, never a crash); signing the canonical
 * request with the test secret and verifying that signature succeeds
 * whenever the payload hash and scope date are consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "fuzz_util.h"
#include "wire/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 32
#define SECRET "fuzz/secret+key=0001"

static void check_scope(const sigv4_scope *s)
{
    FUZZ_CHECK(memchr(s->access_key, '\0', sizeof s->access_key) && s->access_key[0],
               "bad access key");
    FUZZ_CHECK(memchr(s->date, '\0', sizeof s->date) && s->date[0], "bad date");
    FUZZ_CHECK(memchr(s->region, '\0', sizeof s->region) && s->region[0], "bad region");
    FUZZ_CHECK(memchr(s->service, '\0', sizeof s->service) && s->service[0], "bad service");
}

static void small_parsers(const char *line)
{
    sigv4_scope scope;
    int64_t t;

    if (sigv4_parse_credential(line, &scope))
        check_scope(&scope);
    if (sigv4_parse_authorization(line, &scope))
        check_scope(&scope);
    (void)sigv4_parse_date(line, false, &t);
    (void)sigv4_parse_date(line, true, &t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_strndup((const char *)data, size);
    const char *lines[3] = {"", "", NULL};
    char *p = copy, *end = copy + size;
    sigv4_header headers[MAX_HEADERS];
    size_t nh = 0;

    /* The C strings stop at an embedded NUL, as evhttp's would. */
    for (int i = 0; i < 3 && p <= end; i++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl)
            *nl = '\0';
        lines[i] = p;
        p = nl ? nl + 1 : end + 1;
    }
    if (lines[2] && !*lines[2])
        lines[2] = NULL;
    while (p < end && nh < MAX_HEADERS) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl)
            *nl = '\0';
        if (!*p) {
            p++;
            break;
        }
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            headers[nh++] = (sigv4_header){p, v};
        } else {
            headers[nh++] = (sigv4_header){p, ""};
        }
        p = nl ? nl + 1 : end;
    }
    const char *body = p < end ? p : "";
    size_t body_len = p < end ? (size_t)(end - p) : 0;

    for (int i = 0; i < 3; i++)
        if (lines[i])
            small_parsers(lines[i]);
    for (size_t i = 0; i < nh; i++)
        small_parsers(headers[i].value);

    sigv4_request req = {lines[0], lines[1], lines[2], headers, nh, body, body_len};
    sigv4_auth auth;
    char msg[512];
    sigv4_status st = sigv4_parse_request(&req, &auth, msg, sizeof msg);
    FUZZ_CHECK(memchr(msg, '\0', sizeof msg), "message not terminated");
    FUZZ_CHECK(st == SIGV4_OK || st == SIGV4_MISSING || st == SIGV4_INCOMPLETE,
               "parse returned %d", (int)st);
    if (st == SIGV4_OK) {
        check_scope(&auth.scope);
        FUZZ_CHECK(strlen(auth.signature) == 64, "signature not 64 characters");
        FUZZ_CHECK(strlen(auth.amz_date) <= 16, "amz_date too long");
        FUZZ_CHECK(memchr(auth.signed_headers, '\0', sizeof auth.signed_headers),
                   "signed headers not terminated");

        /* At the request's own time the clock never refuses it. */
        st = sigv4_verify(&req, &auth, SECRET, auth.when, msg, sizeof msg);
        FUZZ_CHECK(st == SIGV4_OK || st == SIGV4_MISMATCH, "verify at own time returned %d",
                   (int)st);

        /* Sign it properly and it must verify, when it can at all. */
        buf canon, sts;
        buf_init(&canon);
        buf_init(&sts);
        if (sigv4_canonical_request(&req, &auth, &canon) == 0) {
            sigv4_string_to_sign(&auth, canon.data, canon.len, &sts);
            sigv4_sign(SECRET, &auth.scope, sts.data, sts.len, auth.signature);
            st = sigv4_verify(&req, &auth, SECRET, auth.when, msg, sizeof msg);
            bool dates_agree = strncmp(auth.scope.date, auth.amz_date, 8) == 0;
            if (dates_agree && !strstr(msg, "x-amz-content-sha256"))
                FUZZ_CHECK(st == SIGV4_OK, "a correctly signed request fails: %s", msg);
        }
        buf_free(&canon);
        buf_free(&sts);
    }
    free(copy);
    return 0;
}
