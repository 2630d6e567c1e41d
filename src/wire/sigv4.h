/*
 * sigv4.h - AWS Signature Version 4: parsing the credential scope.
 *
 * Every SDK signs its requests.  The credential scope names the access key,
 * the date, the region and the service; the router uses the service to
 * route Query requests.  (Verifying signatures is a separate step.)
 */
#ifndef SLUICE_SIGV4_H
#define SLUICE_SIGV4_H

#include <stdbool.h>

typedef struct sigv4_scope {
    char access_key[129];
    char date[9];
    char region[33];
    char service[33];
} sigv4_scope;

/* Parses an Authorization header ("AWS4-HMAC-SHA256 Credential=AK/date/
 * region/service/aws4_request, SignedHeaders=..., Signature=...") or the
 * value of a presigned X-Amz-Credential parameter ("AK/date/region/service/
 * aws4_request").  Returns true and fills scope if it is well-formed. */
bool sigv4_parse_authorization(const char *header, sigv4_scope *scope);
bool sigv4_parse_credential(const char *credential, sigv4_scope *scope);

#endif
